// Per-stage cost of a batch, measured through the real Room pipeline (no XMPP):
// the shared workload (bench/workload.ts) on the embedded database and on
// DATABASE_URL when set, after the three engines alone (bench/engines.ts).
// Run: npm run bench (BENCH_QUICK=1: fewer runs).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import pg from 'pg';
import { openDb, migrate, type Db } from '../lib/db/index.ts';
import { installWorlds } from '../lib/world/index.ts';
import { loadRoom } from '../lib/contextualization/index.ts';
import { compileKernel, KernelEngine } from '../lib/engines/index.ts';
import { Room, type StageTimes } from '../lib/rooms/index.ts';
import { ROOT_DIR } from '../lib/config/index.ts';
import { BATCH_COMMANDS, CHARACTERS, makeBatch, median, MIX, nickOf, p99 } from './workload.ts';
import { benchEngines, printEngines } from './engines.ts';

const QUICK = process.env.BENCH_QUICK === '1';
const BATCHES = QUICK ? 10 : 50;
const log = pino({ level: 'silent' });

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
    db, log, loaded, engine: KernelEngine.wasm(compileKernel(), loaded.world, BATCH_COMMANDS),
    tickMs: 1000, batchMax: BATCH_COMMANDS, npcTickMs: 0,
    deliver: (_r, messages) => { delivered += messages.length; },
    refuse: () => { throw new Error('a batch did not commit'); },
    onBatch: (_r, _n, t) => times.push(t),
  });
  for (let i = 0; i < CHARACTERS; i++) room.submit({ command: { kind: 'join', nick: nickOf(i), jid: `${nickOf(i)}@bench` } });
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

const kinds: ('embedded' | 'postgresql')[] = process.env.DATABASE_URL ? ['embedded', 'postgresql'] : ['embedded'];
const results = { engines: await benchEngines(), pipeline: [] as unknown[] };
printEngines(results.engines);
for (const kind of kinds) {
  const r = await benchPipeline(kind);
  results.pipeline.push(r);
  process.stdout.write(`\n${kind}: ${r.commandsPerS.toLocaleString('en')} commands/s through the whole pipeline, ${MIX} (${r.batches} batches, ${r.messagesPerBatch} messages rendered per batch)\n`);
  process.stdout.write('  stage             median ms    p99 ms\n');
  for (const [name, s] of Object.entries(r.stagesMs)) {
    process.stdout.write(`  ${name.padEnd(18)}${s.median.toFixed(3).padStart(9)}${s.p99.toFixed(3).padStart(10)}\n`);
  }
}
process.stdout.write(`\n${JSON.stringify({ machine: { cpu: os.cpus()[0]?.model, cores: os.cpus().length, node: process.version }, ...results })}\n`);
