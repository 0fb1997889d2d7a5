export type { Engine, BatchInput, BatchOutput, EngineState, Spare, WorldMap } from './engine.ts';
export { KernelEngine, compileKernel, portableKernel, WASM_FILE, PORTABLE_FILE } from './kernel.ts';
export { ModelEngine } from './model.ts';
export * from './protocol.ts';
import type { Logger } from 'pino';
import type { Engine, WorldMap } from './engine.ts';
import { compileKernel, KernelEngine, portableKernel } from './kernel.ts';
import { ModelEngine } from './model.ts';
import type { EngineName } from '../config/index.ts';


/**
 * The engine for each room, as configured: `wasm` unless WebAssembly cannot load,
 * then `js` with a warning (DESIGN §3). `model` is the readable oracle: slow, but
 * the same rules, for debugging a divergence in play.
 */
export function engineFactory(name: EngineName, commandsMax: number, log: Logger): (map: WorldMap) => Engine {
  if (name === 'model') return (map) => new ModelEngine(map);
  if (name === 'wasm') {
    try {
      const kernel = compileKernel();
      return (map) => KernelEngine.wasm(kernel, map, commandsMax);
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'WASM engine unavailable, falling back to the js engine');
    }
  }
  const code = portableKernel();
  return (map) => KernelEngine.js(code, map, commandsMax);
}
