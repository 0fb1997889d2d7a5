// One small adapter over node-postgres (DATABASE_URL) and PGlite (embedded, in
// FLUX_DATA_DIR). Callers see one shape: rows and rowCount, int8 as JS numbers,
// `exec` for multi-statement SQL, `transaction` for one atomic unit.
export type { Db, Queryable, QueryResult } from './types.ts';
export { openDb, pgConnection } from './open.ts';
export { migrate } from './migrate.ts';
