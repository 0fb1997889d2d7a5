// Replays a served room's command log in each engine (wasm, js, model) after its
// queued batches are saved: the end-to-end specs' check that the log alone rebuilds
// the stored state.
import { pino } from 'pino';
import { compileKernel, KernelEngine, ModelEngine, portableKernel, type WorldMap } from '../../lib/engines/index.ts';
import { replayRoom, type ReplayResult } from '../../lib/rooms/index.ts';
import type { World } from './flux.ts';

export async function replayInEveryEngine(world: World, roomId: string): Promise<[string, ReplayResult][]> {
  await world.service.rooms.get(roomId)!.drain();
  const kernel = compileKernel();
  const code = portableKernel();
  const log = pino({ level: 'silent' });
  const engines: [string, (map: WorldMap) => KernelEngine | ModelEngine][] = [
    ['wasm', (map) => KernelEngine.wasm(kernel, map, 4096)],
    ['js', (map) => KernelEngine.js(code, map, 4096)],
    ['model', (map) => new ModelEngine(map)],
  ];
  const results: [string, ReplayResult][] = [];
  for (const [name, make] of engines) results.push([name, (await replayRoom(world.service.db, roomId, make, log))!]);
  return results;
}
