// A fresh database for one bench: the embedded one in a temp folder, or a private
// schema of DATABASE_URL, dropped afterwards.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { pino } from 'pino';
import { openDb, type Db } from '../lib/db/index.ts';

export type DatabaseKind = 'embedded' | 'postgresql';
const log = pino({ level: 'silent' });

export const databaseKinds = (): DatabaseKind[] => (process.env.DATABASE_URL ? ['embedded', 'postgresql'] : ['embedded']);

export async function freshDb(kind: DatabaseKind): Promise<{ db: Db; done: () => Promise<void> }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'flux-bench-'));
  const schema = kind === 'postgresql' ? await privateSchema('flux_bench') : { url: '', drop: async () => {} };
  const db = await openDb({ databaseUrl: schema.url, dataDir: dir, log });
  return {
    db,
    done: async () => {
      await db.close();
      await schema.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A DATABASE_URL for a process of its own (the Flux child of the Prosody bench): a private schema, or '' for embedded. */
export async function schemaUrl(): Promise<{ url: string; drop: () => Promise<void> }> {
  return process.env.DATABASE_URL ? privateSchema('flux_bench_child') : { url: '', drop: async () => {} };
}

/** A fresh schema of DATABASE_URL, and the URL that makes it the search path. */
async function privateSchema(prefix: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const schema = `${prefix}_${process.pid}`;
  const admin = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await admin.connect();
  await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE; CREATE SCHEMA ${schema}`);
  const url = new URL(process.env.DATABASE_URL!);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return { url: url.toString(), drop: async () => { await admin.query(`DROP SCHEMA ${schema} CASCADE`); await admin.end(); } };
}
