export type { Engine, BatchOutput, CharacterTables, WorldMap } from './engine.ts';
export { WasmEngine, compileKernel, WASM_FILE } from './wasm.ts';
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
