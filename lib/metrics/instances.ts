// The instances table (sql/008_instances.sql): each running instance
// writes its row every heartbeat interval, one statement, and `bin/flux status`
// reads them all. Times are the database's (now()), so instances on hosts whose
// clocks disagree still compare.
import type { Logger } from 'pino';
import type { Queryable } from '../db/index.ts';
import type { Clock } from '../negotiation/index.ts';
import { INSTANCE_ROW_KEEP_MS, INSTANCE_SILENT_HEARTBEATS } from '../constants.ts';

/** online: the component stream is up; standby: another instance has the domain; offline: reconnecting; stopped: shut down. */
export type InstanceState = 'online' | 'standby' | 'offline' | 'stopped';

export interface InstanceIdentity {
  readonly id: string;
  readonly host: string;
  readonly pid: number;
  readonly domain: string;
  readonly startedAt: Date;
  /** Where its peer link listens (host:port), '' without one. */
  readonly endpoint: string;
}

export interface HeartbeatOptions {
  readonly db: Queryable;
  readonly identity: InstanceIdentity;
  readonly heartbeatMs: number;
  readonly clock: Clock;
  readonly log: Logger;
  /** What the instance is doing now: read once per beat. */
  state(): InstanceState;
  rooms(): string[];
  /** Commands taken since the last call (the counter is reset by reading it). */
  takeCommands(): number;
}

export interface Heartbeat {
  /** Writes the row now (also called by the timer every heartbeatMs). */
  beat(state?: InstanceState): Promise<void>;
  /** The last beat: the row says stopped, with no rooms. */
  stop(): Promise<void>;
}

// One statement per beat: the upsert, and the rows nobody has written for a day go in passing.
const BEAT_SQL = `WITH gone AS (DELETE FROM instances WHERE heard_at < now() - $10 * interval '1 millisecond' AND id <> $1)
INSERT INTO instances (id, host, pid, domain, started_at, heard_at, state, rooms, commands_per_s, heartbeat_ms, endpoint)
VALUES ($1, $2, $3, $4, $5, now(), $6, $7::text[], $8, $9, $11)
ON CONFLICT (id) DO UPDATE SET heard_at = now(), state = EXCLUDED.state, rooms = EXCLUDED.rooms,
  commands_per_s = EXCLUDED.commands_per_s, heartbeat_ms = EXCLUDED.heartbeat_ms, endpoint = EXCLUDED.endpoint`;

export function startHeartbeat(options: HeartbeatOptions): Heartbeat {
  const { db, identity: me, clock, log } = options;
  let lastMs = clock.nowMs();
  let inFlight: Promise<void> | null = null;
  let failing = false;
  const write = async (state: InstanceState) => {
    const now = clock.nowMs();
    const perS = options.takeCommands() / Math.max((now - lastMs) / 1000, 0.001);
    lastMs = now;
    const rooms = state === 'stopped' ? [] : options.rooms();
    try {
      await db.query(BEAT_SQL, [me.id, me.host, me.pid, me.domain, me.startedAt.toISOString(), state, rooms, Math.round(perS * 10) / 10, options.heartbeatMs, INSTANCE_ROW_KEEP_MS, me.endpoint]);
      failing = false;
    } catch (err) {
      // Once per outage: the database being away is reported elsewhere too.
      if (!failing) log.warn({ err: (err as Error).message }, 'cannot write this instance\'s heartbeat');
      failing = true;
    }
  };
  // A beat still in flight (a slow database) is not overlapped: the next one waits its turn.
  const beat = (state = options.state()) => (inFlight ??= write(state).finally(() => { inFlight = null; }));
  const timer = setInterval(() => void beat(), options.heartbeatMs);
  timer.unref();
  return {
    beat,
    async stop() {
      clearInterval(timer);
      await inFlight;
      await beat('stopped');
    },
  };
}

export interface InstanceStatus {
  readonly id: string;
  readonly host: string;
  readonly pid: number;
  readonly domain: string;
  readonly startedAt: string;
  /** What the row says, or silent: not heard from for INSTANCE_SILENT_HEARTBEATS of its intervals. */
  readonly state: InstanceState | 'silent';
  readonly rooms: string[];
  readonly commandsPerS: number;
  readonly heardMsAgo: number;
  readonly heartbeatMs: number;
  /** Its peer link (host:port), '' without one. */
  readonly endpoint: string;
}

interface Row {
  id: string; host: string; pid: number; domain: string; started_at: Date | string; state: InstanceState;
  rooms: string[]; commands_per_s: number; heartbeat_ms: number; heard_ms_ago: number; endpoint: string;
}

export async function readInstances(db: Queryable): Promise<InstanceStatus[]> {
  const r = await db.query<Row>(`SELECT id, host, pid, domain, started_at, state, rooms, commands_per_s, heartbeat_ms, endpoint,
    (extract(epoch FROM now() - heard_at) * 1000)::float8 AS heard_ms_ago FROM instances ORDER BY domain, started_at, id`);
  return r.rows.map((row) => {
    const heardMsAgo = Math.max(0, Math.round(Number(row.heard_ms_ago)));
    const silent = row.state !== 'stopped' && heardMsAgo > INSTANCE_SILENT_HEARTBEATS * row.heartbeat_ms;
    return {
      id: row.id, host: row.host, pid: row.pid, domain: row.domain,
      startedAt: new Date(row.started_at).toISOString(), state: silent ? 'silent' : row.state,
      rooms: row.rooms, commandsPerS: Number(row.commands_per_s), heardMsAgo, heartbeatMs: row.heartbeat_ms, endpoint: row.endpoint,
    };
  });
}

/** A duration as an operator reads it: 800ms, 4.2s, 3m, 5h. */
export function ago(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)}m`;
  return `${Math.floor(ms / 3_600_000)}h`;
}

/** The table `bin/flux status` prints. */
export function formatInstances(instances: readonly InstanceStatus[]): string {
  if (instances.length === 0) return 'no instance has written a heartbeat to this database\n';
  const header = ['INSTANCE', 'HOST:PID', 'LINK', 'DOMAIN', 'STATE', 'ROOMS', 'CMD/S', 'HEARD', 'STARTED'];
  const rows = instances.map((i) => [
    i.id, `${i.host}:${i.pid}`, i.endpoint === '' ? '-' : i.endpoint, i.domain, i.state, i.rooms.length === 0 ? '-' : `${i.rooms.length} (${i.rooms.slice(0, 5).join(', ')}${i.rooms.length > 5 ? ', ...' : ''})`,
    i.commandsPerS.toFixed(1), `${ago(i.heardMsAgo)} ago`, i.startedAt,
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  return [header, ...rows].map((r) => r.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd()).join('\n') + '\n';
}
