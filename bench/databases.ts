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


/** A DATABASE_URL for a process of its own (the Flux child of the Prosody bench): a private schema, or '' for embedded. */
export async function schemaUrl(): Promise<{ url: string; drop: () => Promise<void> }> {
  if (!process.env.DATABASE_URL) return { url: '', drop: async () => {} };
  const schema = `flux_bench_child_${process.pid}`;
  const admin = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await admin.connect();
  await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE; CREATE SCHEMA ${schema}`);
  const url = new URL(process.env.DATABASE_URL);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return { url: url.toString(), drop: async () => { await admin.query(`DROP SCHEMA ${schema} CASCADE`); await admin.end(); } };
}
