// lib/db: a hung database fails a statement within a bound instead of stalling
// a room forever. The server cancels a statement (or a lock wait) after
// DB_STATEMENT_MS_MAX; the client gives up on a database that answers nothing
// after DB_QUERY_MS_MAX, and on connecting after DB_CONNECT_MS_MAX. A batch that
// does not commit is what the pipeline already handles: retried, then refused.
import net from 'node:net';
import path from 'node:path';
import { expect } from 'chai';
import pg from 'pg';
import { pino } from 'pino';
import { migrate, openDb, type Db } from '../../lib/db/index.ts';
import { installWorlds } from '../../lib/world/index.ts';
import { loadRoom } from '../../lib/contextualization/index.ts';
import { compileKernel, KernelEngine } from '../../lib/engines/index.ts';
import { Room } from '../../lib/rooms/index.ts';
import { ROOT_DIR } from '../../lib/config/index.ts';
import type { Message } from '../../lib/effects/index.ts';
import { ACTUATION_RETRIES_MAX, ACTUATION_RETRY_MS, DB_CONNECT_MS_MAX, DB_QUERY_MS_MAX, DB_STATEMENT_MS_MAX } from '../../lib/constants.ts';
import { createTestDatabase, type TestDatabase } from '../support/flux.ts';
import { describeOnPostgres } from '../support/postgres.ts';

const log = pino({ level: 'silent' });
/** Timers fire late on a loaded machine; this much past a limit still counts as "about the limit". */
const LATE_MS_MAX = 2500;

/** How long `work` took to fail, and how. */
async function failure(work: () => Promise<unknown>): Promise<{ ms: number; error: Error & { code?: string } }> {
  const started = performance.now();
  try {
    await work();
  } catch (error) {
    return { ms: performance.now() - started, error: error as Error };
  }
  return expect.fail('expected it to fail');
}

/**
 * A TCP proxy in front of PostgreSQL that can go silent, like a database host
 * that hangs or a network that drops everything: while frozen, bytes in either
 * direction are swallowed and nothing is closed.
 */
async function silentProxy(target: URL): Promise<{ port: number; freeze(): void; thaw(): void; close(): Promise<void> }> {
  let frozen = false;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((down) => {
    const up = net.connect(Number(target.port || 5432), target.hostname);
    for (const [from, to] of [[down, up], [up, down]] as const) {
      sockets.add(from);
      from.on('data', (data) => { if (!frozen) to.write(data); });
      from.on('error', () => {});
      from.on('close', () => to.destroy());
    }
  });
  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    freeze: () => { frozen = true; },
    thaw: () => { frozen = false; },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe('database time bounds: connecting', function () {
  it(`gives up on a database that accepts the connection and never answers, after about ${DB_CONNECT_MS_MAX} ms`, async function () {
    const held = new Set<net.Socket>();
    const mute = net.createServer((s) => { held.add(s); s.on('error', () => {}); }).listen(0, '127.0.0.1');
    await new Promise((resolve) => mute.once('listening', resolve));
    try {
      const url = `postgres://flux@127.0.0.1:${(mute.address() as net.AddressInfo).port}/flux`;
      const { ms, error } = await failure(() => openDb({ databaseUrl: url, dataDir: '', log }));
      expect(error.message).to.match(/timeout/i);
      expect(ms).to.be.within(DB_CONNECT_MS_MAX - 50, DB_CONNECT_MS_MAX + LATE_MS_MAX);
    } finally {
      for (const s of held) s.destroy();
      await new Promise((resolve) => mute.close(resolve));
    }
  });
});

describeOnPostgres('database time bounds on PostgreSQL', function () {
  let test: TestDatabase;
  let db: Db;

  before(async function () {
    test = await createTestDatabase('postgresql');
    db = await openDb({ databaseUrl: test.databaseUrl, dataDir: test.dataDir, log });
    await migrate(db);
    await installWorlds(db, path.join(ROOT_DIR, 'config/worlds'));
  });

  after(async function () {
    await db?.close();
    await test?.drop();
  });

  it(`cancels a statement that runs longer than ${DB_STATEMENT_MS_MAX} ms (statement_timeout), and the pool goes on`, async function () {
    const { ms, error } = await failure(() => db.query('SELECT pg_sleep(30)'));
    expect(error.code, error.message).to.equal('57014'); // query_canceled: "canceling statement due to statement timeout"
    expect(ms).to.be.within(DB_STATEMENT_MS_MAX - 50, DB_STATEMENT_MS_MAX + LATE_MS_MAX);
    expect((await db.query<{ one: number }>('SELECT 1 AS one')).rows).to.deep.equal([{ one: 1 }]);
  });

  it(`gives up on a database that goes silent after ${DB_QUERY_MS_MAX} ms (query_timeout), in a query and in a transaction, and connects again once it answers`, async function () {
    const base = new URL(test.databaseUrl);
    const proxy = await silentProxy(base);
    const through = new URL(test.databaseUrl);
    through.host = `127.0.0.1:${proxy.port}`;
    const silent = await openDb({ databaseUrl: through.toString(), dataDir: '', log });
    try {
      // Two pooled connections, open before the database goes quiet: one for a query, one for a transaction.
      await Promise.all([silent.query('SELECT pg_sleep(0.05)'), silent.query('SELECT pg_sleep(0.05)')]);
      proxy.freeze();
      const [query, transaction] = await Promise.all([
        failure(() => silent.query('SELECT 1')),
        failure(() => silent.transaction((tx) => tx.query('SELECT 1'))),
      ]);
      expect(query.error.message).to.equal('Query read timeout');
      expect(query.ms).to.be.within(DB_QUERY_MS_MAX - 50, DB_QUERY_MS_MAX + LATE_MS_MAX);
      expect(transaction.error.message).to.equal('Query read timeout');
      // One bound, not two: the connection is dropped, since a ROLLBACK would only queue behind the unanswered BEGIN.
      expect(transaction.ms).to.be.within(DB_QUERY_MS_MAX - 50, DB_QUERY_MS_MAX + LATE_MS_MAX);
      proxy.thaw();
      expect((await silent.query<{ one: number }>('SELECT 1 AS one')).rows).to.deep.equal([{ one: 1 }]);
    } finally {
      await silent.close();
      await proxy.close();
    }
  });

  it('refuses a batch while another session holds the room row locked, instead of hanging the room, and commits once it is free', async function () {
    const loaded = (await loadRoom(db, 'realm'))!;
    const delivered: Message[] = [];
    const refused: string[] = [];
    const room = new Room({
      db, log, loaded, engine: KernelEngine.wasm(compileKernel(), loaded.world, 16), tickMs: 5, batchMax: 16, npcTickMs: 0,
      deliver: (_r, { messages }) => delivered.push(...messages),
      refuse: (_r, _batch, reason) => refused.push(reason),
    });
    const other = new pg.Client({ connectionString: test.databaseUrl });
    await other.connect();
    try {
      await other.query('BEGIN');
      await other.query("SELECT version FROM rooms WHERE id = 'realm' FOR UPDATE"); // the fence's UPDATE waits for this lock
      const started = performance.now();
      room.submit({ command: { kind: 'join', nick: 'Ann', jid: 'ann@example.org' }, origin: { from: 'ann@example.org/x' } });
      await room.drain();
      const ms = performance.now() - started;
      process.stdout.write(`      [timeouts] a batch against a locked room row was refused after ${Math.round(ms)} ms (${ACTUATION_RETRIES_MAX} attempts)\n`);
      expect(delivered, 'nothing is shown for a batch that did not commit').to.deep.equal([]);
      expect(refused).to.have.length(1);
      expect(refused[0]).to.match(/could not save that, so nothing happened/);
      const pauses = ACTUATION_RETRY_MS * (ACTUATION_RETRIES_MAX * (ACTUATION_RETRIES_MAX + 1)) / 2;
      expect(ms).to.be.within(ACTUATION_RETRIES_MAX * DB_STATEMENT_MS_MAX, ACTUATION_RETRIES_MAX * (DB_STATEMENT_MS_MAX + LATE_MS_MAX) + pauses);
      await other.query('ROLLBACK');

      room.submit({ command: { kind: 'join', nick: 'Ann', jid: 'ann@example.org' }, origin: { from: 'ann@example.org/x' } });
      await room.drain();
      expect(delivered.map((m) => m.body.split('\n')[0]), 'the room goes on once the row is free').to.deep.equal(['Town Square']);
      expect((await db.query<{ version: number }>("SELECT version FROM rooms WHERE id = 'realm'")).rows[0]!.version).to.equal(1);
    } finally {
      await other.end();
    }
  });
});
