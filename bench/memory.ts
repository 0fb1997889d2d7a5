// Memory per character: a room with 10,000 characters resident, as the
// server holds it: the projection (JS objects), the engine's tables (WASM linear
// memory) and the name index. Measured as heap growth after a GC plus the WASM
// memory, divided by the characters. Needs node --expose-gc for a clean reading.
import { compileKernel, KernelEngine } from '../lib/engines/index.ts';
import { engineStateOf, type Projection, type RoomWorld } from '../lib/contextualization/index.ts';
import { Names } from '../lib/rooms/encode.ts';
import { PLAYER_HP } from '../lib/engines/protocol.ts';

export const MEMORY_CHARACTERS = 10_000;

export interface MemoryFigures {
  readonly characters: number;
  readonly heapBytes: number;
  readonly wasmBytes: number;
  readonly bytesPerCharacter: number;
  readonly gc: boolean;
}

export function benchMemory(world: RoomWorld): MemoryFigures {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const before = process.memoryUsage().heapUsed;
  const projection: Projection = {
    version: 1, seed: 1, items: world.items.map(() => ({ place: 0 })),
    characters: Array.from({ length: MEMORY_CHARACTERS }, (_, id) => ({
      id, nick: `player-${id}`, jid: `player-${id}@example.org`, location: id % world.locationCount, present: true, hp: PLAYER_HP, quest: false,
    })),
  };
  const names = new Names(world, projection.characters);
  const engine = KernelEngine.wasm(compileKernel(), world, 1000);
  engine.load(engineStateOf(world, projection));
  gc?.();
  const heapBytes = process.memoryUsage().heapUsed - before;
  const wasmBytes = engine.memoryBytes();
  void [names, projection]; // alive until measured
  return { characters: MEMORY_CHARACTERS, heapBytes, wasmBytes, bytesPerCharacter: Math.round((heapBytes + wasmBytes) / MEMORY_CHARACTERS), gc: gc !== undefined };
}

export function printMemory(r: MemoryFigures): void {
  process.stdout.write(`\nmemory for ${r.characters.toLocaleString('en')} resident characters: heap ${(r.heapBytes / 1e6).toFixed(1)} MB + WASM ${(r.wasmBytes / 1e6).toFixed(1)} MB`
    + ` = ${r.bytesPerCharacter} bytes per character (${((r.bytesPerCharacter * 10_000) / 1e6).toFixed(1)} MB per 10,000)${r.gc ? '' : ' (no --expose-gc: rough)'}\n`);
}
