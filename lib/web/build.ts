// Builds the console page into build/web (npm run build:web; `npm run build` and
// `make build` run it): console.ts compiled by TypeScript as one classic script in
// its own scope, the HTML and CSS as they are, and xmpp.js's browser build from
// node_modules. No network, no bundler: the page is one script beside xmpp.js.
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const SOURCE_DIR = path.dirname(fileURLToPath(import.meta.url));
export const PAGE_DIR = path.resolve(SOURCE_DIR, '../../build/web');
/** The files of the page, each served as it is. */
export const PAGE_FILES = ['index.html', 'console.css', 'console.js', 'xmpp.min.js'] as const;

/** Compiles and copies the page into `outDir`; returns the folder. */
export async function buildPage(outDir: string = PAGE_DIR): Promise<string> {
  const { default: ts } = await import('typescript');
  await mkdir(outDir, { recursive: true });
  const source = await readFile(path.join(SOURCE_DIR, 'console.ts'), 'utf8');
  const { outputText } = ts.transpileModule(source, {
    compilerOptions: { target: ts.ScriptTarget.ES2020, module: ts.ModuleKind.ESNext, removeComments: false },
    fileName: 'console.ts',
  });
  const script = outputText.replace(/^export \{\};\s*$/m, '');
  await writeFile(path.join(outDir, 'console.js'), `"use strict";\n(() => {\n${script}})();\n`);
  for (const file of ['index.html', 'console.css']) await copyFile(path.join(SOURCE_DIR, file), path.join(outDir, file));
  const xmppBrowserBuild = createRequire(import.meta.url).resolve('@xmpp/client/dist/xmpp.min.js');
  await copyFile(xmppBrowserBuild, path.join(outDir, 'xmpp.min.js'));
  return outDir;
}

/** Copies a built page into `dir` with the config.json that tells it where to connect (README "Playing in a browser"). */
export async function installPage(dir: string, config: PageConfigFile, from: string = PAGE_DIR): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const file of PAGE_FILES) await copyFile(path.join(from, file), path.join(dir, file));
  await writeFile(path.join(dir, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
}

/** config.json beside the page; the query string may override each key (`?world=realm`). */
export interface PageConfigFile {
  /** The websocket endpoint: a path on the page's own host, or a ws:// or wss:// URL. */
  readonly websocket: string;
  /** The XMPP host guests log in to. */
  readonly domain: string;
  /** Flux's component domain. */
  readonly mucDomain: string;
  /** The world the page opens without ?world=. */
  readonly world?: string;
  /** 'register': an account made in-band (XEP-0077), kept in the browser; 'anonymous': SASL ANONYMOUS. */
  readonly login: 'register' | 'anonymous';
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = await buildPage(process.argv[2] ?? PAGE_DIR);
  process.stdout.write(`console page built in ${path.relative(process.cwd(), out) || '.'}\n`);
}
