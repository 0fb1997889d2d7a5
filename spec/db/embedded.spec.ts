// lib/db: the embedded database (PGlite) runs in its own thread, so the event loop
// that serves players keeps turning while a big statement runs; and it
// behaves as one PostgreSQL session: statements in order, transactions whole.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { pino } from 'pino';
import { openDb, type Db } from '../../lib/db/index.ts';

describe('the embedded database (PGlite in a worker thread)', function () {
  let dir: string;
  let db: Db;

  before(async function () {
    dir = mkdtempSync(path.join(os.tmpdir(), 'flux-pglite-'));
    db = await openDb({ databaseUrl: '', dataDir: dir, log: pino({ level: 'silent' }) });
  });

  after(async function () {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps the event loop turning while a long statement runs', async function () {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    const started = performance.now();
    try {
      await db.query('SELECT count(*) FROM generate_series(1, 3000000) a, LATERAL (SELECT md5(a::text)) b');
    } finally {
      clearInterval(timer);
    }
    const ms = performance.now() - started;
    expect(ms, 'the statement is long enough to tell').to.be.above(100);
    // On the main thread no timer could fire until the statement returned.
    expect(ticks, `timer ticks during a ${Math.round(ms)} ms statement`).to.be.at.least(Math.floor(ms / 5 / 4));
  });

  it('runs a transaction whole: other statements wait, a throw rolls it back', async function () {
    await db.exec('CREATE TABLE t (n int)');
    const order: string[] = [];
    const tx = db.transaction(async (q) => {
      await q.query('INSERT INTO t VALUES (1)');
      await new Promise((r) => setTimeout(r, 50));
      order.push('tx');
      await q.query('INSERT INTO t VALUES (2)');
    });
    const outside = db.query<{ n: number }>('SELECT count(*)::int AS n FROM t').then((r) => {
      order.push('outside');
      return r.rows[0]!.n;
    });
    await tx;
    expect(await outside, 'the outside query saw the committed transaction, not half of it').to.equal(2);
    expect(order).to.deep.equal(['tx', 'outside']);
    const failed = await db.transaction(async (q) => {
      await q.query('INSERT INTO t VALUES (3)');
      throw new Error('changed my mind');
    }).then(() => null, (err: Error) => err.message);
    expect(failed).to.equal('changed my mind');
    expect((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM t')).rows[0]!.n).to.equal(2);
  });

  it('reports a database error with its SQLSTATE code', async function () {
    const err = await db.query('SELECT * FROM no_such_table').then(() => null, (e: Error & { code?: string }) => e);
    expect(err?.message).to.match(/no_such_table/);
    expect(err?.code).to.equal('42P01');
  });

  it('fails a statement at once after close, instead of leaving it waiting for an answer that never comes', async function () {
    const other = await openDb({ databaseUrl: '', dataDir: path.join(dir, 'other'), log: pino({ level: 'silent' }) });
    await other.close();
    const started = Date.now();
    const err = await other.query('SELECT 1').then(() => null, (e: Error) => e);
    expect(err?.message).to.match(/closed/);
    expect(Date.now() - started).to.be.below(1000);
    await other.close(); // a second close is harmless
  });
});
