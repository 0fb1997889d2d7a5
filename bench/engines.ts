// Projection + Transformation alone, the three engines side by side in one run on
// the same batches: the WASM kernel, the same rules compiled to
// JavaScript, and the readable Immer model. Each batch starts from the same state
// (500 present characters spread over the starter world); only `run` is timed.
// The two kernel engines take turns in blocks in one process, after a warm-up long
// enough for V8's optimizing tiers, so whatever else happens meanwhile falls on
// both alike: other load, and phases where the output arrays land on fresh memory
// pages (about 12 µs a page fault in a VM). Timed one after the other, the first
// engine caught those phases and lost (docs/engines-profile.md).
// Run: npm run bench:engines (BENCH_QUICK=1: fewer runs).
import os from 'node:os';
import { engineStateOf, type LoadedRoom, type Projection } from '../lib/contextualization/index.ts';
import { compileKernel, KernelEngine, ModelEngine, portableKernel, type BatchInput, type Engine, type EngineState } from '../lib/engines/index.ts';
import { encodeBatch, Names } from '../lib/rooms/encode.ts';
import { BATCH_COMMANDS, CHARACTERS, makeBatch, median, MIX, nickOf, starterRoom } from './workload.ts';

const QUICK = process.env.BENCH_QUICK === '1';
/** Untimed batches per engine first: V8 has both kernels in their optimizing tier (TurboFan) well within 150. */
const WARMUP_BATCHES = QUICK ? 150 : 300;
/** The kernel engines alternate, BLOCK_BATCHES timed batches at a time (the order flips every block). */
const BLOCKS = QUICK ? 10 : 40;
const BLOCK_BATCHES = QUICK ? 20 : 50;
const MODEL_WARMUP_BATCHES = 5;
const MODEL_BATCHES = QUICK ? 10 : 60;

export interface Spread {
  readonly median: number;
  readonly p10: number;
  readonly p90: number;
}

export interface EngineFigures {
  /** The median of every timed batch. */
  readonly batchMs: number;
  readonly commandsPerS: number;
  readonly runs: number;
  /** Kernel engines: across the block medians; the model: across its batches. */
  readonly batchMsSpread: Spread;
  /** Minor page faults per timed batch, the whole process (fresh pages for the output arrays). */
  readonly pageFaultsPerBatch: number;
}

export interface EnginesFigures {
  readonly wasm: EngineFigures;
  readonly js: EngineFigures;
  readonly model: EngineFigures;
  /** wasm speed over js speed, one figure per block pair (both timed under the same conditions). */
  readonly wasmOverJs: Spread;
}

const at = (sorted: readonly number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))]!;
const spread = (xs: readonly number[]): Spread => {
  const s = [...xs].sort((a, b) => a - b);
  return { median: at(s, 0.5), p10: at(s, 0.1), p90: at(s, 0.9) };
};

/** Times `count` batches on `engine`, each from the same state; returns each batch's ms and the page faults meanwhile. */
function timeBatches(engine: Engine, state: EngineState, batches: readonly BatchInput[], count: number): { ms: number[]; faults: number } {
  const ms: number[] = [];
  const faultsBefore = process.resourceUsage().minorPageFault;
  for (let i = 0; i < count; i++) {
    engine.load(state);
    const t = performance.now();
    engine.run(batches[i % batches.length]!);
    ms.push(performance.now() - t);
  }
  return { ms, faults: process.resourceUsage().minorPageFault - faultsBefore };
}

function figures(samples: readonly number[], blockMs: readonly number[], faults: number): EngineFigures {
  const ms = median([...samples]);
  return {
    batchMs: ms, commandsPerS: Math.round(BATCH_COMMANDS / (ms / 1000)), runs: samples.length,
    batchMsSpread: spread(blockMs), pageFaultsPerBatch: faults / samples.length,
  };
}

/** The two kernel engines, warmed up, then timed in alternating blocks. */
function alternate(engines: { wasm: Engine; js: Engine }, state: EngineState, batches: readonly BatchInput[]) {
  const names = ['wasm', 'js'] as const;
  for (const name of names) timeBatches(engines[name], state, batches, WARMUP_BATCHES);
  const samples = { wasm: [] as number[], js: [] as number[] };
  const blocks = { wasm: [] as number[], js: [] as number[] };
  const faults = { wasm: 0, js: 0 };
  for (let b = 0; b < BLOCKS; b++) {
    for (const name of b % 2 === 0 ? names : [...names].reverse()) {
      const t = timeBatches(engines[name], state, batches, BLOCK_BATCHES);
      samples[name].push(...t.ms);
      blocks[name].push(median(t.ms));
      faults[name] += t.faults;
    }
  }
  return {
    wasm: figures(samples.wasm, blocks.wasm, faults.wasm),
    js: figures(samples.js, blocks.js, faults.js),
    wasmOverJs: spread(blocks.js.map((jsMs, b) => jsMs / blocks.wasm[b]!)),
  };
}

/** `starter`: the starter room when the caller has it already (loading it means a fresh embedded database). */
export async function benchEngines(starter?: LoadedRoom): Promise<EnginesFigures> {
  const loaded = starter ?? await starterRoom();
  const world = loaded.world;
  const npcs = loaded.projection.characters.length; // the starter world's characters are its NPCs
  const players = Array.from({ length: CHARACTERS }, (_, i) => ({
    id: npcs + i, nick: nickOf(i), jid: `${nickOf(i)}@bench`, location: i % world.locationCount, present: true, hp: 10, quest: false,
  }));
  const projection: Projection = { ...loaded.projection, characters: [...loaded.projection.characters, ...players] };
  const state = engineStateOf(world, projection);
  const names = new Names(world, projection.characters);
  const batches = Array.from({ length: 8 }, (_, i) => encodeBatch({ world, projection, names }, makeBatch(i + 1).map((command) => ({ command }))));
  const kernels = alternate({
    wasm: KernelEngine.wasm(compileKernel(), world, BATCH_COMMANDS),
    js: KernelEngine.js(portableKernel(), world, BATCH_COMMANDS),
  }, state, batches);
  const model = new ModelEngine(world);
  timeBatches(model, state, batches, MODEL_WARMUP_BATCHES);
  const m = timeBatches(model, state, batches, MODEL_BATCHES);
  return { ...kernels, model: figures(m.ms, m.ms, m.faults) };
}

export function printEngines(r: EnginesFigures): void {
  const out = process.stdout;
  const ms = (x: number) => x.toFixed(3);
  out.write(`Projection + transformation: ${BATCH_COMMANDS}-command batches (${MIX}), ${CHARACTERS} characters, starter world, median\n`);
  out.write(`  (wasm and js alternate in ${BLOCKS} blocks of ${BLOCK_BATCHES} batches after ${WARMUP_BATCHES} warm-up batches each; spread: p10-p90 of the block medians)\n`);
  for (const name of ['wasm', 'js', 'model'] as const) {
    const f = r[name];
    out.write(`  ${name.padEnd(6)}${ms(f.batchMs).padStart(10)} ms/batch ${f.commandsPerS.toLocaleString('en').padStart(13)} commands/s  (${f.runs} runs; `
      + `spread ${ms(f.batchMsSpread.p10)}-${ms(f.batchMsSpread.p90)} ms; ${f.pageFaultsPerBatch.toFixed(1)} page faults/batch)\n`);
  }
  const w = r.wasmOverJs;
  out.write(`  wasm/model ${(r.wasm.commandsPerS / r.model.commandsPerS).toFixed(1)}x   wasm/js ${(r.wasm.commandsPerS / r.js.commandsPerS).toFixed(2)}x `
    + `(per block pair: median ${w.median.toFixed(2)}x, p10-p90 ${w.p10.toFixed(2)}-${w.p90.toFixed(2)}x)\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await benchEngines();
  printEngines(r);
  process.stdout.write(`${JSON.stringify({ date: new Date().toISOString(), machine: { cpu: os.cpus()[0]?.model, cores: os.cpus().length, node: process.version }, engines: r })}\n`);
}
