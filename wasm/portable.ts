// The `js` engine's kernel: wasm/assembly/index.ts, the same rules source that asc
// compiles to WebAssembly, compiled as TypeScript to a CommonJS module. The rules
// import their memory access from "./memory"; lib/engines/portable.ts supplies an
// Int32Array-backed one when it instantiates this module for a room.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const root = path.resolve(import.meta.dirname, '..');
const source = readFileSync(path.join(root, 'wasm/assembly/index.ts'), 'utf8');
const out = ts.transpileModule(source, {
  fileName: 'index.ts',
  reportDiagnostics: true,
  compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, isolatedModules: true },
});
if (out.diagnostics && out.diagnostics.length > 0) {
  for (const d of out.diagnostics) console.error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
  process.exit(1);
}
mkdirSync(path.join(root, 'build'), { recursive: true });
writeFileSync(path.join(root, 'build/flux-kernel.cjs'), out.outputText);
