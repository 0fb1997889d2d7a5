// make bench: every figure, measured side by side in one run on this machine, and
// written to bench/results/latest.json (and a dated copy), then into the README's
// figure tables (./readme.ts). BENCH_QUICK=1 for a short pass; BENCH_ONLY=xmpp,crowd
// (any of the part names below) runs only those parts; BENCH_SERVERS=prosody only
// that server. PostgreSQL figures need DATABASE_URL. A part that fails leaves
// { error } under its keys and the bench goes on.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT_DIR } from '../lib/config/index.ts';
import type { LoadedRoom } from '../lib/contextualization/index.ts';
import type { ServerKind } from '../lib/demo/servers.ts';
import { benchCrowd } from './crowd-1000.ts';
import { databaseKinds } from './databases.ts';
import { benchEngines, printEngines } from './engines.ts';
import { benchFragments, printFragments } from './fragments.ts';
import { benchMemory, printMemory } from './memory.ts';
import { currentCommit, currentMachine } from './meta.ts';
import { attempt, figure } from './outcome.ts';
import { renderCharts } from './charts.ts';
import { updateReadme } from './readme.ts';
import { benchParallelRooms, benchPipeline, printPipeline } from './stages.ts';
import { benchFanout, printFanout } from './fanout.ts';
import { benchMulticast, multicastSizes, printMulticast } from './multicast.ts';
import { benchCluster, clusterSizes, printCluster } from './cluster.ts';
import { benchStanzaGate, printStanzaGate } from './stanza-gate.ts';
import { MIX, starterRoom } from './workload.ts';
import { benchWritePath, printWritePath } from './write-path.ts';
import { benchServer, sizes } from './xmpp.ts';
import { crowdJson, serverJson } from './xmpp-results.ts';

const QUICK = process.env.BENCH_QUICK === '1';
const say = (line: string) => process.stdout.write(`${line}\n`);
const startedMs = Date.now();
/** Progress of the long parts, with the time since the bench began (where a run spends its minutes). */
const progress = (line: string) => say(`${line}  [${Math.round((Date.now() - startedMs) / 1000)} s]`);

interface Part {
  readonly name: string;
  /** The keys of latest.json it writes: each gets { error } when the part fails. */
  readonly keys: readonly string[];
  run(shared: Shared): Promise<Record<string, unknown>>;
}

/** What several parts use, made once a run: the starter room costs a fresh embedded database. */
interface Shared {
  starter(): Promise<LoadedRoom>;
}

const PARTS: readonly Part[] = [
  { name: 'engines', keys: ['workload', 'engines'], run: engines },
  { name: 'fragments', keys: ['fragment_ms'], run: async () => ({ fragment_ms: show(benchFragments(), printFragments) }) },
  { name: 'memory', keys: ['memory'], run: memory },
  { name: 'gate', keys: ['stanza_gate'], run: async () => ({ stanza_gate: show(benchStanzaGate(), printStanzaGate) }) },
  { name: 'fanout', keys: ['fanout'], run: async () => ({ fanout: show(await benchFanout(), printFanout) }) },
  { name: 'pipeline', keys: ['stages_ms', 'e2e_pg_cps', 'e2e_embedded_cps', 'rooms_in_parallel', 'pipeline', 'write_path'], run: pipeline },
  { name: 'xmpp', keys: ['xmpp', 'cpu_us_per_stanza'], run: xmpp },
  { name: 'crowd', keys: ['crowd_1000'], run: crowd },
  { name: 'multicast', keys: ['multicast'], run: multicast },
  { name: 'cluster', keys: ['cluster'], run: cluster },
];

function show<T>(figures: T, print: (f: T) => void): T {
  print(figures);
  return figures;
}

async function engines(shared: Shared) {
  const e = show(await benchEngines(await shared.starter()), printEngines);
  return {
    workload: MIX,
    engines: {
      model_cps: e.model.commandsPerS, js_cps: e.js.commandsPerS, wasm_cps: e.wasm.commandsPerS,
      wasm_over_model: e.wasm.commandsPerS / e.model.commandsPerS, wasm_over_js: e.wasm.commandsPerS / e.js.commandsPerS, detail: e,
    },
  };
}

async function memory(shared: Shared) {
  const m = show(benchMemory((await shared.starter()).world), printMemory);
  return { memory: { bytes_per_character: m.bytesPerCharacter, ...m } };
}

async function pipeline() {
  const runs = [];
  for (const kind of databaseKinds()) {
    say(`\npipeline on ${kind}...`);
    const p = show(await benchPipeline(kind), printPipeline);
    say(`\nrooms in parallel on ${kind}...`);
    const par = await benchParallelRooms(kind);
    say(`${par.rooms} rooms in parallel on ${kind}: ${par.commandsPerS.toLocaleString('en')} commands/s (Batcher -> Actuation, no XMPP)`);
    say(`\nwrite path on ${kind}...`);
    runs.push({ p, par, w: show(await benchWritePath(kind), printWritePath) });
  }
  return {
    stages_ms: Object.fromEntries(runs.map(({ p }) => [p.database, p.stagesMs])),
    e2e_pg_cps: runs.find(({ par }) => par.database === 'postgresql')?.par.commandsPerS ?? null,
    e2e_embedded_cps: runs.find(({ par }) => par.database === 'embedded')?.par.commandsPerS ?? null,
    rooms_in_parallel: runs.map(({ par }) => par),
    pipeline: runs.map(({ p }) => p),
    write_path: runs.map(({ w }) => w),
  };
}

function selectedServers(): ServerKind[] {
  const asked = (process.env.BENCH_SERVERS ?? 'prosody,ejabberd').split(',').map((s) => s.trim());
  return (['prosody', 'ejabberd'] as const).filter((k) => asked.includes(k));
}

async function xmpp() {
  const s = sizes(QUICK, process.env);
  const out: Record<string, unknown> = {};
  for (const kind of selectedServers()) {
    say(`\nthrough ${kind} (its own MUC, Flux as its own process, the echo component)...`);
    out[kind] = serverJson(await attempt(kind, () => benchServer(kind, s, progress), progress));
  }
  const cpu = (kind: string) => (out[kind] as { cpu_us_per_stanza?: Record<string, unknown> } | undefined)?.cpu_us_per_stanza;
  return {
    xmpp: out,
    // Flux's figure from the Prosody run (the server Flux is usually deployed with); each server's own from its run.
    cpu_us_per_stanza: { flux: cpu('prosody')?.flux ?? null, prosody: cpu('prosody')?.server ?? null, ejabberd: cpu('ejabberd')?.server ?? null },
  };
}

async function crowd() {
  const clients = QUICK ? 100 : 1000;
  say(`\n${clients} clients spread over one world through Prosody, 1 command/s each (FLUX_TICK_MS=50)...`);
  const c = await attempt('crowd', () => benchCrowd(clients, QUICK ? 3 : 15, progress), progress);
  return { crowd_1000: crowdJson(c) };
}

async function multicast() {
  say('\nXEP-0033 through ejabberd\'s mod_multicast against plain fan-out...');
  return { multicast: show(await benchMulticast(multicastSizes(QUICK, process.env), progress), printMulticast) };
}

async function cluster() {
  say('\nseveral instances behind a two-node ejabberd cluster (PostgreSQL)...');
  return { cluster: show(await benchCluster(clusterSizes(QUICK), progress), printCluster) };
}

function selectedParts(): readonly Part[] {
  const only = process.env.BENCH_ONLY?.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (!only || only.length === 0) return PARTS;
  const unknown = only.filter((n) => !PARTS.some((p) => p.name === n));
  if (unknown.length > 0) throw new Error(`BENCH_ONLY: no part ${unknown.join(', ')}; the parts: ${PARTS.map((p) => p.name).join(', ')}`);
  return PARTS.filter((p) => only.includes(p.name));
}

async function main(): Promise<void> {
  process.on('unhandledRejection', (err) => say(`unhandled rejection (the bench goes on): ${(err as Error)?.stack ?? String(err)}`));
  // Ctrl-C: exit through 'exit', whose listeners stop the servers and Flux processes this run started.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));
  const commit = currentCommit();
  const parts = selectedParts();
  const results: Record<string, unknown> = {
    commit: commit.sha, dirty: commit.dirty, date: new Date().toISOString(), quick: QUICK, parts: parts.map((p) => p.name),
    machine: currentMachine(), seconds: null, part_seconds: {},
  };
  let starter: Promise<LoadedRoom> | undefined;
  const shared: Shared = { starter: () => (starter ??= starterRoom()) };
  for (const part of parts) {
    const partStartedMs = Date.now();
    say(`\n== ${part.name}`);
    const out = await attempt(part.name, () => part.run(shared), say);
    for (const key of part.keys) results[key] = figure(out, (o) => o[key] ?? null);
    (results.part_seconds as Record<string, number>)[part.name] = Math.round((Date.now() - partStartedMs) / 1000);
  }
  results.seconds = Math.round((Date.now() - startedMs) / 1000);
  write(results);
  say(`\nwrote bench/results/latest.json in ${results.seconds} s`);
}

function write(results: Record<string, unknown>): void {
  const dir = path.join(ROOT_DIR, 'bench/results');
  mkdirSync(dir, { recursive: true });
  const json = `${JSON.stringify(results, null, 2)}\n`;
  writeFileSync(path.join(dir, 'latest.json'), json);
  writeFileSync(path.join(dir, `${String(results.date).slice(0, 10)}.json`), json);
  try {
    say(`wrote ${renderCharts().map((f) => `bench/results/${f}`).join(', ')}`);
    say(updateReadme() ? 'README.md: the measured figures updated' : 'README.md: the measured figures were already these');
  } catch (err) {
    say(`charts or README not written: ${(err as Error).message}`);
  }
}

await main();
