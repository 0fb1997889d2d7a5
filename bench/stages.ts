// Per-stage cost of a batch, measured through the real Room pipeline (no XMPP):
// the shared workload (bench/workload.ts) on one database. Part of `make bench`.
import path from 'node:path';
import { pino } from 'pino';
import { migrate } from '../lib/db/index.ts';
import { installWorld, installWorlds, readWorldFile } from '../lib/world/index.ts';
import { loadRoom } from '../lib/contextualization/index.ts';
import { compileKernel, KernelEngine } from '../lib/engines/index.ts';
import { Room, type StageTimes } from '../lib/rooms/index.ts';
import { ROOT_DIR } from '../lib/config/index.ts';
import { BATCH_COMMANDS, CHARACTERS, makeBatch, median, MIX, nickOf, p99 } from './workload.ts';
import { freshDb, type DatabaseKind } from './databases.ts';

const QUICK = process.env.BENCH_QUICK === '1';
const BATCHES = QUICK ? 6 : 50;
const log = pino({ level: 'silent' });

export async function benchPipeline(kind: DatabaseKind) {
  const { db, done } = await freshDb(kind);
  await migrate(db);
  await installWorlds(db, path.join(ROOT_DIR, 'config/worlds'));
  const loaded = (await loadRoom(db, 'realm'))!;
  const times: StageTimes[] = [];
  let delivered = 0;
  const room = new Room({
    db, log, loaded, engine: KernelEngine.wasm(compileKernel(), loaded.world, BATCH_COMMANDS),
    tickMs: 1000, batchMax: BATCH_COMMANDS, npcTickMs: 0,
    deliver: (_r, { messages }) => { delivered += messages.length; },
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

export const PARALLEL_ROOMS = 4;

/**
 * Rooms in parallel: copies of the starter world, each
 * with its 500 players, fed one 1,000-command batch each at a time and drained
 * together; one process, one database. Commands/s over all rooms.
 */
export async function benchParallelRooms(kind: DatabaseKind): Promise<{ database: DatabaseKind; rooms: number; commandsPerS: number }> {
  const { db, done } = await freshDb(kind);
  try {
    await migrate(db);
    const definition = readWorldFile(path.join(ROOT_DIR, 'config/worlds/realm.yaml'));
    const kernel = compileKernel();
    const rooms: Room[] = [];
    for (let r = 0; r < PARALLEL_ROOMS; r++) {
      await installWorld(db, { ...definition, id: `realm-${r}` });
      const loaded = (await loadRoom(db, `realm-${r}`))!;
      const room = new Room({
        db, log, loaded, engine: KernelEngine.wasm(kernel, loaded.world, BATCH_COMMANDS), tickMs: 1000, batchMax: BATCH_COMMANDS, npcTickMs: 0,
        deliver: () => {}, refuse: () => { throw new Error('a batch did not commit'); },
      });
      for (let i = 0; i < CHARACTERS; i++) room.submit({ command: { kind: 'join', nick: nickOf(i), jid: `${nickOf(i)}@bench` } });
      await room.drain();
      rooms.push(room);
    }
    const batches = Array.from({ length: BATCHES }, (_, i) => makeBatch(i + 1));
    const started = performance.now();
    for (const batch of batches) {
      for (const room of rooms) for (const command of batch) room.submit({ command });
      await Promise.all(rooms.map((room) => room.drain()));
    }
    const elapsedS = (performance.now() - started) / 1000;
    return { database: kind, rooms: PARALLEL_ROOMS, commandsPerS: Math.round((PARALLEL_ROOMS * BATCHES * BATCH_COMMANDS) / elapsedS) };
  } finally {
    await done();
  }
}

export type PipelineFigures = Awaited<ReturnType<typeof benchPipeline>>;

export function printPipeline(r: PipelineFigures): void {
  process.stdout.write(`\n${r.database}: ${r.commandsPerS.toLocaleString('en')} commands/s through the whole pipeline, ${MIX} (${r.batches} batches, ${r.messagesPerBatch} messages rendered per batch)\n`);
  process.stdout.write('  stage             median ms    p99 ms\n');
  for (const [name, st] of Object.entries(r.stagesMs)) {
    process.stdout.write(`  ${name.padEnd(18)}${st.median.toFixed(3).padStart(9)}${st.p99.toFixed(3).padStart(10)}\n`);
  }
}
