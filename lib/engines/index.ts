export type { Engine, BatchOutput, CharacterTables, WorldMap } from './engine.ts';
export { WasmEngine, compileKernel, WASM_FILE } from './wasm.ts';
export { JsEngine } from './js.ts';
export * from './protocol.ts';
import type { CharacterTables } from './engine.ts';
import { FLAG_CREATED, FLAG_PRESENT } from './protocol.ts';

/** The engine's tables for characters as the projection has them (committed state). */
export function tablesOf(characters: readonly { location: number; present: boolean }[], slots = characters.length): CharacterTables {
  const location = new Int32Array(slots);
  const flags = new Int32Array(slots);
  characters.forEach((c, i) => {
    location[i] = c.location;
    flags[i] = FLAG_CREATED | (c.present ? FLAG_PRESENT : 0);
  });
  return { location, flags };
}

import type { Logger } from 'pino';
import type { Engine, WorldMap } from './engine.ts';
import { compileKernel, WasmEngine } from './wasm.ts';
import { JsEngine } from './js.ts';

/**
 * The engine for each room, as configured: `wasm` unless WebAssembly cannot load,
 * then `js` with a warning (DESIGN §3).
 */
export function engineFactory(name: 'wasm' | 'js', commandsMax: number, log: Logger): (map: WorldMap) => Engine {
  if (name === 'js') return (map) => new JsEngine(map);
  try {
    const kernel = compileKernel();
    return (map) => new WasmEngine(kernel, map, commandsMax);
  } catch (err) {
    log.warn({ err: (err as Error).message }, 'WASM engine unavailable, falling back to the js engine');
    return (map) => new JsEngine(map);
  }
}
