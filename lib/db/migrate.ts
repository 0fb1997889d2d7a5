// Numbered plain-SQL migrations from sql/, applied in order, each in its own
// transaction, recorded in schema_migrations (DESIGN §4).
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT_DIR } from '../config/index.ts';
import type { Db } from './types.ts';

export const SQL_DIR = path.join(ROOT_DIR, 'sql');
const MIGRATION_FILE = /^(\d{3})_[a-z0-9_]+\.sql$/;

/** Applies what is missing; returns the names applied now. */
export async function migrate(db: Db, dir = SQL_DIR): Promise<string[]> {
  await db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
  const done = new Set((await db.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version));
  const applied: string[] = [];
  for (const name of readdirSync(dir).filter((f) => MIGRATION_FILE.test(f)).sort()) {
    const version = Number(MIGRATION_FILE.exec(name)![1]);
    if (done.has(version)) continue;
    const sql = readFileSync(path.join(dir, name), 'utf8');
    await db.transaction(async (tx) => {
      // A migration may rewrite a large table, and runs before any room is served: the
      // per-statement bound for rooms (DB_STATEMENT_MS_MAX) does not apply to it.
      await tx.query('SET LOCAL statement_timeout = 0');
      // A concurrent starter may race us here; the advisory lock serializes migrations.
      await tx.query('SELECT pg_advisory_xact_lock(7262851)');
      const again = await tx.query('SELECT 1 FROM schema_migrations WHERE version = $1', [version]);
      if (again.rowCount > 0) return;
      for (const statement of splitStatements(sql)) await tx.query(statement);
      await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [version, name]);
      applied.push(name);
    });
  }
  return applied;
}

/** Our migrations are plain DDL: statements end with ';' at a line end, no functions bodies. */
function splitStatements(sql: string): string[] {
  return sql
    .split('\n')
    .filter((line) => !line.trim().startsWith('--'))
    .join('\n')
    .split(/;\s*$/m)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}
