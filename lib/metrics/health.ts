// Liveness and readiness for process supervisors and orchestrators, served beside
// /metrics: GET /healthz says the process answers at all; GET /readyz says whether
// players can be served now, and if not, what is missing.
import type { Queryable } from '../db/index.ts';
import { READY_DB_MS_MAX } from '../constants.ts';

/** What the running service knows about itself, read on each /readyz. */
export interface ReadinessSources {
  readonly db: Queryable;
  /** The component stream to the XMPP server is up (XEP-0114 handshake done). */
  xmppOnline(): boolean;
  /** Another instance holds the component domain at the XMPP server; this one waits to take over. */
  standingBy?(): boolean;
  /** The first pass over the rooms has run: every room free to this instance is loaded. */
  roomsClaimed(): boolean;
  stopping(): boolean;
}

/** One line per thing that is not ready; empty when ready. Concurrent calls share one database query. */
export type Readiness = () => Promise<string[]>;

export function readiness(sources: ReadinessSources, dbMsMax = READY_DB_MS_MAX): Readiness {
  let inFlight: Promise<string[]> | null = null; // a burst of probes costs one query, not a pool's worth
  const check = async (): Promise<string[]> => {
    const missing: string[] = [];
    if (sources.stopping()) missing.push('shutting down');
    const db = await databaseAnswers(sources.db, dbMsMax);
    if (db !== null) missing.push(`database: ${db}`);
    if (sources.standingBy?.()) missing.push('xmpp: standing by: another instance is connected for the component domain');
    else if (!sources.xmppOnline()) missing.push('xmpp: the component is not online at the XMPP server');
    if (!sources.roomsClaimed()) missing.push('rooms: not claimed yet');
    return missing;
  };
  return () => (inFlight ??= check().finally(() => { inFlight = null; }));
}

/** An error code (ECONNREFUSED, 57P01) helps an operator; the message may name hosts or users. */
function failed(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[A-Z0-9_]{1,32}$/.test(code) ? `the query failed (${code})` : 'the query failed';
}

/** null when `SELECT 1` comes back within dbMsMax; otherwise why not. */
async function databaseAnswers(db: Queryable, dbMsMax: number): Promise<string | null> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<string>((resolve) => { timer = setTimeout(() => resolve(`no answer within ${dbMsMax} ms`), dbMsMax); });
  try {
    return await Promise.race([db.query('SELECT 1').then(() => null, failed), late]);
  } finally {
    clearTimeout(timer);
  }
}
