import pg from 'pg';
import type { Logger } from 'pino';
import { DB_POOL_CONNECTIONS_MAX } from '../constants.ts';
import type { Db, QueryResult } from './types.ts';
import { openPgliteThread } from './pglite-thread.ts';

const INT8_OID = 20;

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
  const pool = new pg.Pool({ connectionString: url, max: DB_POOL_CONNECTIONS_MAX, types });
  // An idle connection killed by the server emits on the pool; unhandled, it would crash the process.
  pool.on('error', (err) => log.warn({ err }, 'idle database connection lost'));
  await pool.query('SELECT 1');
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
        try {
          await client.query('ROLLBACK');
        } catch {
          broken = true;
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
