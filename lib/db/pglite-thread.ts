// The embedded database, driven from the main thread: every statement is a message
// to the PGlite worker (pglite-worker.mjs). PGlite is one session, so statements
// run one at a time, and a transaction holds the session until it ends.
import { Worker } from 'node:worker_threads';
import { once } from 'node:events';
import { mkdirSync } from 'node:fs';
import type { Db, Queryable, QueryResult } from './types.ts';

type Request =
  | { readonly op: 'query'; readonly sql: string; readonly params?: unknown[] }
  | { readonly op: 'exec'; readonly sql: string }
  | { readonly op: 'close' };

type Reply =
  | { readonly id: number; readonly rows?: unknown[]; readonly rowCount?: number }
  | { readonly id: number; readonly error: { readonly message: string; readonly code?: string } };

export class DatabaseError extends Error {
  constructor(message: string, readonly code?: string) {
    super(message);
  }
}

export async function openPgliteThread(dataDir: string): Promise<Db> {
  mkdirSync(dataDir, { recursive: true });
  const worker = new Worker(new URL('./pglite-worker.mjs', import.meta.url), { workerData: { dataDir } });
  const [first] = (await Promise.race([once(worker, 'message'), once(worker, 'error').then(([err]) => { throw err; })])) as [unknown];
  if (!(first as { ready?: boolean }).ready) throw new Error('the embedded database did not start');
  const pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  /** Set once the thread is gone: from then on every request fails at once (a message to a dead worker is never answered). */
  let gone: Error | null = null;
  const fail = (err: Error) => {
    gone ??= err;
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  };
  worker.on('message', (reply: Reply) => {
    pending.get(reply.id)?.resolve(reply);
    pending.delete(reply.id);
  });
  worker.on('error', fail);
  worker.on('exit', () => fail(new Error('the embedded database is closed')));

  const send = (request: Request): Promise<Reply> => new Promise((resolve, reject) => {
    if (gone) return reject(gone);
    const id = nextId++;
    pending.set(id, { resolve, reject });
    worker.postMessage({ ...request, id });
  });
  const query = async <R>(sql: string, params?: unknown[]): Promise<QueryResult<R>> => {
    const reply = await send({ op: 'query', sql, ...(params ? { params } : {}) });
    if ('error' in reply) throw new DatabaseError(reply.error.message, reply.error.code);
    return { rows: (reply.rows ?? []) as R[], rowCount: reply.rowCount ?? 0 };
  };

  // One session: everything waits its turn behind the current holder.
  let turn: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(work: () => Promise<T>): Promise<T> => {
    const run = turn.then(work, work);
    turn = run.catch(() => {});
    return run;
  };
  const session: Queryable = { query };

  return {
    kind: 'pglite',
    query: (sql, params) => exclusive(() => query(sql, params)),
    exec: (sql) => exclusive(async () => {
      const reply = await send({ op: 'exec', sql });
      if ('error' in reply) throw new DatabaseError(reply.error.message, reply.error.code);
    }),
    transaction: (work) => exclusive(async () => {
      await query('BEGIN');
      try {
        const result = await work(session);
        await query('COMMIT');
        return result;
      } catch (err) {
        await query('ROLLBACK').catch(() => {});
        throw err;
      }
    }),
    close: () => exclusive(async () => {
      if (gone) return;
      await send({ op: 'close' });
      await worker.terminate();
      gone = new Error('the embedded database is closed');
    }),
  };
}
