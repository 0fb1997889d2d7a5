// Projection + Transformation alone, the three engines side by side in one run on
// the same batches (issue #5): the WASM kernel, the same rules compiled to
// JavaScript, and the readable Immer model. Each run starts from the same state
// (500 present characters spread over the starter world). Median of many runs,
// after warm-up. Run: npm run bench:engines (BENCH_QUICK=1: fewer runs).
import os from 'node:os';
import { engineStateOf, type Projection } from '../lib/contextualization/index.ts';
import { compileKernel, KernelEngine, ModelEngine, portableKernel, type Engine } from '../lib/engines/index.ts';
import { encodeBatch, Names } from '../lib/rooms/encode.ts';
import { BATCH_COMMANDS, CHARACTERS, makeBatch, median, MIX, nickOf, starterRoom } from './workload.ts';

const QUICK = process.env.BENCH_QUICK === '1';

export interface EngineFigures {
  readonly batchMs: number;
  readonly commandsPerS: number;
  readonly runs: number;
}

export async function benchEngines(): Promise<Record<'wasm' | 'js' | 'model', EngineFigures>> {
  const loaded = await starterRoom();
  const world = loaded.world;
  const npcs = world.npcs.length;
  const players = Array.from({ length: CHARACTERS }, (_, i) => ({
    id: npcs + i, nick: nickOf(i), jid: `${nickOf(i)}@bench`, location: i % world.locationCount, present: true, hp: 10, quest: false,
  }));
  const projection: Projection = { ...loaded.projection, characters: [...loaded.projection.characters, ...players] };
  const state = engineStateOf(world, projection);
  const names = new Names(world, projection.characters);
  const batches = Array.from({ length: 8 }, (_, i) => encodeBatch({ world, projection, names }, makeBatch(i + 1).map((command) => ({ command }))));
  const measure = (engine: Engine, runs: number): EngineFigures => {
    const samples: number[] = [];
    for (let i = 0; i < runs + 5; i++) {
      const batch = batches[i % batches.length]!;
      engine.load(state);
      const t = performance.now();
      engine.run(batch);
      if (i >= 5) samples.push(performance.now() - t);
    }
    const ms = median(samples);
    return { batchMs: ms, commandsPerS: Math.round(BATCH_COMMANDS / (ms / 1000)), runs };
  };
  return {
    wasm: measure(KernelEngine.wasm(compileKernel(), world, BATCH_COMMANDS), QUICK ? 200 : 2000),
    js: measure(KernelEngine.js(portableKernel(), world, BATCH_COMMANDS), QUICK ? 100 : 1000),
    model: measure(new ModelEngine(world), QUICK ? 10 : 60),
  };
}

export function printEngines(r: Awaited<ReturnType<typeof benchEngines>>): void {
  const out = process.stdout;
  out.write(`Projection + transformation: ${BATCH_COMMANDS}-command batches (${MIX}), ${CHARACTERS} characters, starter world, median\n`);
  for (const [name, f] of Object.entries(r)) {
    out.write(`  ${name.padEnd(6)}${f.batchMs.toFixed(3).padStart(10)} ms/batch ${f.commandsPerS.toLocaleString('en').padStart(13)} commands/s  (${f.runs} runs)\n`);
  }
  out.write(`  wasm/model ${(r.wasm.commandsPerS / r.model.commandsPerS).toFixed(1)}x   wasm/js ${(r.wasm.commandsPerS / r.js.commandsPerS).toFixed(2)}x\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await benchEngines();
  printEngines(r);
  process.stdout.write(`${JSON.stringify({ date: new Date().toISOString(), machine: { cpu: os.cpus()[0]?.model, cores: os.cpus().length, node: process.version }, engines: r })}\n`);
}
