import pg from 'pg';
import type { Logger } from 'pino';
import { DB_CONNECT_MS_MAX, DB_POOL_CONNECTIONS_MAX, DB_QUERY_MS_MAX, DB_STATEMENT_MS_MAX } from '../constants.ts';
import type { Db, QueryResult } from './types.ts';
import { openPgliteThread } from './pglite-thread.ts';

const INT8_OID = 20;
/** What node-postgres rejects a query with when query_timeout passes (pg/lib/client.js). */
const QUERY_TIMEOUT_MESSAGE = 'Query read timeout';

/**
 * Every connection Flux opens to PostgreSQL (the pool here, the room locks in
 * lib/rooms/ownership.ts) is bounded in time, so a hung database fails a batch
 * (an operating error: retried, then refused) instead of stalling its room:
 * the server cancels a statement that runs, or waits for a lock, longer than
 * DB_STATEMENT_MS_MAX; the client gives up on one it gets no answer to at all
 * after DB_QUERY_MS_MAX, and on connecting after DB_CONNECT_MS_MAX.
 */
export function pgConnection(url: string): pg.PoolConfig {
  return { connectionString: url, statement_timeout: DB_STATEMENT_MS_MAX, query_timeout: DB_QUERY_MS_MAX, connectionTimeoutMillis: DB_CONNECT_MS_MAX };
}

export interface DbOptions {
  readonly databaseUrl: string;
  readonly dataDir: string;
  readonly log: Logger;
}

export async function openDb(options: DbOptions): Promise<Db> {
  return options.databaseUrl !== '' ? openPg(options.databaseUrl, options.log) : openPglite(options.dataDir);
}

async function openPg(url: string, log: Logger): Promise<Db> {
  // int8 (versions, seeds) as numbers: they stay far below 2^53.
  const types = { getTypeParser: (oid: number, format?: string) => (oid === INT8_OID ? Number : pg.types.getTypeParser(oid, format as 'text')) };
  const pool = new pg.Pool({ ...pgConnection(url), max: DB_POOL_CONNECTIONS_MAX, types });
  // An idle connection killed by the server emits on the pool; unhandled, it would crash the process.
  pool.on('error', (err) => log.warn({ err }, 'idle database connection lost'));
  try {
    await pool.query('SELECT 1');
  } catch (err) {
    await pool.end().catch(() => {});
    throw err;
  }
  const query = async <R>(client: pg.Pool | pg.PoolClient, sql: string, params?: unknown[]): Promise<QueryResult<R>> => {
    const r = await client.query(sql, params);
    return { rows: r.rows as R[], rowCount: r.rowCount ?? 0 };
  };
  return {
    kind: 'pg',
    query: (sql, params) => query(pool, sql, params),
    exec: async (sql) => void (await pool.query(sql)),
    transaction: async (work) => {
      const client = await pool.connect();
      const onError = (err: Error) => log.warn({ err }, 'database connection lost during a transaction');
      client.on('error', onError);
      let broken = false;
      try {
        await client.query('BEGIN');
        const result = await work({ query: (sql, params) => query(client, sql, params) });
        await client.query('COMMIT');
        return result;
      } catch (err) {
        // After a client-side timeout the statement may still be running: ROLLBACK would only
        // queue behind it. Dropping the connection ends the transaction on the server.
        broken = (err as Error).message === QUERY_TIMEOUT_MESSAGE;
        if (!broken) {
          try {
            await client.query('ROLLBACK');
          } catch {
            broken = true;
          }
        }
        throw err;
      } finally {
        client.off('error', onError);
        client.release(broken);
      }
    },
    close: () => pool.end(),
  };
}

/** The embedded database runs in its own thread (pglite-thread.ts), off the event loop. */
function openPglite(dataDir: string): Promise<Db> {
  return openPgliteThread(dataDir);
}
