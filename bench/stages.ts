// Per-stage cost of a batch, measured through the real Room pipeline (no XMPP):
// 1,000-command batches in a room of 500 present characters, on the embedded
// database and on DATABASE_URL when set. Also the WASM kernel alone (Projection +
// Transformation) on the same batches. Run: npm run bench (BENCH_QUICK=1: fewer runs).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import pg from 'pg';
import { openDb, migrate, type Db } from '../lib/db/index.ts';
import { installWorlds } from '../lib/world/index.ts';
import { loadRoom } from '../lib/contextualization/index.ts';
import { compileKernel, JsEngine, WasmEngine, Cmd, tablesOf, type Engine } from '../lib/engines/index.ts';
import { Room, type StageTimes } from '../lib/rooms/index.ts';
import { ROOT_DIR } from '../lib/config/index.ts';
import type { Command } from '../lib/negotiation/index.ts';

const QUICK = process.env.BENCH_QUICK === '1';
const CHARACTERS = 500;
const BATCH_COMMANDS = 1000;
const BATCHES = QUICK ? 10 : 50;
const KERNEL_RUNS = QUICK ? 50 : 300;
const log = pino({ level: 'silent' });

/** The mix this slice can play: 45% say, 30% look, 25% movement (a seeded walk, no randomness at run time). */
function makeBatch(seed: number): Command[] {
  let s = seed >>> 0;
  const next = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  return Array.from({ length: BATCH_COMMANDS }, () => {
    const nick = `p${Math.floor(next() * CHARACTERS)}`;
    const r = next();
    if (r < 0.45) return { kind: 'say', nick, text: 'a few words to the people here' } as const;
    if (r < 0.75) return { kind: 'look', nick } as const;
    return { kind: 'go', nick, direction: Math.floor(next() * 4) } as const;
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const p99 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.99))]!;

async function freshDb(kind: 'embedded' | 'postgresql'): Promise<{ db: Db; done: () => Promise<void> }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'flux-bench-'));
  if (kind === 'embedded') {
    const db = await openDb({ databaseUrl: '', dataDir: dir, log });
    return { db, done: async () => { await db.close(); rmSync(dir, { recursive: true, force: true }); } };
  }
  const schema = `flux_bench_${process.pid}`;
  const admin = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await admin.connect();
  await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE; CREATE SCHEMA ${schema}`);
  const url = new URL(process.env.DATABASE_URL!);
  url.searchParams.set('options', `-c search_path=${schema}`);
  const db = await openDb({ databaseUrl: url.toString(), dataDir: dir, log });
  return { db, done: async () => { await db.close(); await admin.query(`DROP SCHEMA ${schema} CASCADE`); await admin.end(); } };
}

async function benchPipeline(kind: 'embedded' | 'postgresql') {
  const { db, done } = await freshDb(kind);
  await migrate(db);
  await installWorlds(db, path.join(ROOT_DIR, 'config/worlds'));
  const loaded = (await loadRoom(db, 'realm'))!;
  const times: StageTimes[] = [];
  let delivered = 0;
  const room = new Room({
    db, log, loaded, engine: new WasmEngine(compileKernel(), loaded.world, BATCH_COMMANDS),
    tickMs: 1000, batchMax: BATCH_COMMANDS,
    deliver: (_r, messages) => { delivered += messages.length; },
    refuse: () => { throw new Error('a batch did not commit'); },
    onBatch: (_r, _n, t) => times.push(t),
  });
  for (let i = 0; i < CHARACTERS; i++) room.submit({ command: { kind: 'join', nick: `p${i}`, jid: `p${i}@bench` } });
  await room.drain();
  times.length = 0;
  delivered = 0;
  const batches = Array.from({ length: BATCHES }, (_, i) => makeBatch(i + 1));
  const started = performance.now();
  for (const batch of batches) {
    for (const command of batch) room.submit({ command });
    await room.drain();
  }
  const elapsedS = (performance.now() - started) / 1000;
  await done();
  const stage = (k: keyof StageTimes) => ({ median: median(times.map((t) => t[k])), p99: p99(times.map((t) => t[k])) });
  return {
    database: kind, batches: times.length, commandsPerS: Math.round((BATCHES * BATCH_COMMANDS) / elapsedS),
    messagesPerBatch: Math.round(delivered / BATCHES),
    stagesMs: {
      contextualization: stage('contextualizeMs'), transformation: stage('transformMs'), planning: stage('planMs'),
      actuation: stage('actuateMs'), render: stage('renderMs'),
    },
  };
}

/** Projection + Transformation alone, per engine, on the same packed batch; state reset before each run. */
async function benchEngines() {
  const { db, done } = await freshDb('embedded');
  await migrate(db);
  await installWorlds(db, path.join(ROOT_DIR, 'config/worlds'));
  const loaded = (await loadRoom(db, 'realm'))!;
  await done();
  const characters = Array.from({ length: CHARACTERS }, (_, i) => ({ location: i % loaded.world.locationCount, present: true }));
  const tables = tablesOf(characters);
  const packed = makeBatch(7).map((c, i) => [Cmd[c.kind], Number(c.nick.slice(1)), c.kind === 'go' ? c.direction! : i, 0]).flat();
  const buffer = Int32Array.from(packed);
  const measure = (engine: Engine) => {
    const samples: number[] = [];
    for (let i = 0; i < KERNEL_RUNS; i++) {
      engine.load(tables);
      const t = performance.now();
      engine.run(buffer);
      samples.push(performance.now() - t);
    }
    const ms = median(samples);
    return { batchMs: ms, commandsPerS: Math.round(BATCH_COMMANDS / (ms / 1000)), memoryBytes: engine.memoryBytes() };
  };
  return { wasm: measure(new WasmEngine(compileKernel(), loaded.world, BATCH_COMMANDS)), js: measure(new JsEngine(loaded.world)) };
}

const kinds: ('embedded' | 'postgresql')[] = process.env.DATABASE_URL ? ['embedded', 'postgresql'] : ['embedded'];
const results = { engines: await benchEngines(), pipeline: [] as unknown[] };
process.stdout.write(`Projection + transformation, ${BATCH_COMMANDS}-command batch, ${CHARACTERS} characters (median, output copied out):\n`);
for (const [name, r] of Object.entries(results.engines)) {
  process.stdout.write(`  ${name.padEnd(5)} ${r.batchMs.toFixed(3).padStart(8)} ms  ${r.commandsPerS.toLocaleString('en').padStart(11)} commands/s\n`);
}
process.stdout.write(`  wasm/js ${(results.engines.wasm.commandsPerS / results.engines.js.commandsPerS).toFixed(2)}x\n`);
for (const kind of kinds) {
  const r = await benchPipeline(kind);
  results.pipeline.push(r);
  process.stdout.write(`\n${kind}: ${r.commandsPerS.toLocaleString('en')} commands/s through the whole pipeline (${r.batches} batches, ${r.messagesPerBatch} messages rendered per batch)\n`);
  process.stdout.write('  stage             median ms    p99 ms\n');
  for (const [name, s] of Object.entries(r.stagesMs)) {
    process.stdout.write(`  ${name.padEnd(18)}${s.median.toFixed(3).padStart(9)}${s.p99.toFixed(3).padStart(10)}\n`);
  }
}
process.stdout.write(`\n${JSON.stringify({ machine: { cpu: os.cpus()[0]?.model, cores: os.cpus().length, node: process.version }, ...results })}\n`);
