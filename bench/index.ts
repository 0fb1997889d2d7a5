// make bench: every figure, measured side by side in one run on this machine, and
// written to bench/results/latest.json (and a dated copy) for the README.
// BENCH_QUICK=1 for a short pass. PostgreSQL figures need DATABASE_URL.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT_DIR } from '../lib/config/index.ts';
import { benchEngines, printEngines } from './engines.ts';
import { benchParallelRooms, benchPipeline, printPipeline } from './stages.ts';
import { benchWritePath, printWritePath } from './write-path.ts';
import { databaseKinds } from './databases.ts';
import { MIX, starterRoom } from './workload.ts';
import { benchFragments, printFragments } from './fragments.ts';
import { benchMemory, printMemory } from './memory.ts';
import { benchProsody, printProsody } from './prosody.ts';
import { renderCharts } from './charts.ts';
import { benchStanzaGate, printStanzaGate } from './stanza-gate.ts';

const started = Date.now();
process.stdout.write('engines...\n');
const engines = await benchEngines();
printEngines(engines);
process.stdout.write('\nfragment detection...\n');
const fragments = benchFragments();
printFragments(fragments);
const memory = benchMemory((await starterRoom()).world);
printMemory(memory);
process.stdout.write('\nstanza gate...\n');
const gate = benchStanzaGate();
printStanzaGate(gate);
const pipeline = [];
const writePath = [];
const parallel = [];
for (const kind of databaseKinds()) {
  process.stdout.write(`\npipeline on ${kind}...\n`);
  const p = await benchPipeline(kind);
  printPipeline(p);
  pipeline.push(p);
  process.stdout.write(`\nrooms in parallel on ${kind}...\n`);
  const par = await benchParallelRooms(kind);
  process.stdout.write(`${par.rooms} rooms in parallel on ${kind}: ${par.commandsPerS.toLocaleString('en')} commands/s (Batcher -> Actuation, no XMPP)\n`);
  parallel.push(par);
  process.stdout.write(`\nwrite path on ${kind}...\n`);
  const w = await benchWritePath(kind);
  printWritePath(w);
  writePath.push(w);
}
process.stdout.write('\nthrough Prosody (load generator, echo component, Flux as its own process)...\n');
const prosody = await benchProsody((line) => process.stdout.write(`${line}\n`));
printProsody(prosody);
const results = {
  date: new Date().toISOString(),
  quick: process.env.BENCH_QUICK === '1',
  machine: { cpu: os.cpus()[0]?.model, cores: os.cpus().length, memoryBytes: os.totalmem(), node: process.version },
  workload: MIX,
  engines: {
    model_cps: engines.model.commandsPerS, js_cps: engines.js.commandsPerS, wasm_cps: engines.wasm.commandsPerS,
    wasm_over_model: engines.wasm.commandsPerS / engines.model.commandsPerS, wasm_over_js: engines.wasm.commandsPerS / engines.js.commandsPerS,
    detail: engines,
  },
  fragment_ms: fragments,
  memory: { bytes_per_character: memory.bytesPerCharacter, ...memory },
  stanza_gate: gate,
  stages_ms: Object.fromEntries(pipeline.map((p) => [p.database, p.stagesMs])),
  e2e_pg_cps: parallel.find((p) => p.database === 'postgresql')?.commandsPerS ?? null,
  e2e_embedded_cps: parallel.find((p) => p.database === 'embedded')?.commandsPerS ?? null,
  rooms_in_parallel: parallel,
  pipeline,
  write_path: writePath,
  prosody: {
    flux_cps: prosody.fluxCps, echo_cps: prosody.echoCps, p50_ms: prosody.steps.at(-1)!.flux.p50Ms, p99_ms: prosody.steps.at(-1)!.flux.p99Ms,
    clients: prosody.steps[0]!.flux.clients, steps: prosody.steps, many_clients: prosody.manyClients,
  },
  latency_1000_clients: { clients: prosody.manyClients.clients, p50_ms: prosody.manyClients.p50Ms, p99_ms: prosody.manyClients.p99Ms, max_ms: prosody.manyClients.maxMs },
};
const dir = path.join(ROOT_DIR, 'bench/results');
mkdirSync(dir, { recursive: true });
const json = `${JSON.stringify(results, null, 2)}\n`;
writeFileSync(path.join(dir, 'latest.json'), json);
writeFileSync(path.join(dir, `${results.date.slice(0, 10)}.json`), json);
process.stdout.write(`wrote ${renderCharts().map((f) => `bench/results/${f}`).join(', ')}\n`);
process.stdout.write(`\nwrote bench/results/latest.json in ${Math.round((Date.now() - started) / 1000)} s\n`);
