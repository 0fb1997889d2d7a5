// Which instance serves a room (DESIGN §5): a PostgreSQL advisory lock
// per room, held on one dedicated connection for as long as the instance serves
// it. The lock keeps two instances from both serving a room; the version fence in
// Actuation stays the real guarantee (a frozen holder keeps its lock, and the
// fence stops whoever wrote second). The embedded database belongs to one process,
// so there every room is this instance's.
import pg from 'pg';
import type { Logger } from 'pino';
import { pgConnection, type Queryable } from '../db/index.ts';

/** held: this instance has the lock; taken: another session has it; unknown: the database could not be asked. */
export type LockState = 'held' | 'taken' | 'unknown';

export interface RoomLocks {
  /** Tries to take the room's lock (asking again for a held room is fine). */
  acquire(roomId: string): Promise<LockState>;
  holds(roomId: string): boolean;
  /** Gives the room's lock back (a standby hands its rooms to the instance the XMPP server took). */
  release(roomId: string): Promise<void>;
  /** Called with the rooms whose locks went away with their connection. */
  onLost(listener: (rooms: string[]) => void): void;
  close(): Promise<void>;
}

export function embeddedLocks(): RoomLocks {
  const held = new Set<string>();
  return {
    acquire: async (roomId) => {
      held.add(roomId);
      return 'held';
    },
    holds: (roomId) => held.has(roomId),
    release: async (roomId) => void held.delete(roomId),
    onLost: () => {},
    close: async () => held.clear(),
  };
}

export function postgresLocks(url: string, log: Logger): RoomLocks {
  const held = new Set<string>();
  const listeners: ((rooms: string[]) => void)[] = [];
  let client: pg.Client | null = null;
  let closed = false;
  const lose = (c: pg.Client, err?: Error) => {
    if (client !== c) return;
    client = null;
    const lost = [...held];
    held.clear();
    if (!closed && lost.length > 0) {
      log.warn({ rooms: lost, err: err?.message }, 'room locks lost with their connection');
      for (const l of listeners) l(lost);
    }
  };
  // One lock session at a time: callers that overlap share the connection being opened,
  // or each would open its own, and a leaked one would hold locks this instance thinks are someone else's.
  let connecting: Promise<pg.Client> | null = null;
  const open = async (): Promise<pg.Client> => {
    const c = new pg.Client(pgConnection(url)); // bounded in time like every connection of ours (lib/db/open.ts)
    c.on('error', (err) => lose(c, err));
    c.on('end', () => lose(c));
    try {
      await c.connect();
    } catch (err) {
      await c.end().catch(() => {});
      throw err;
    }
    if (closed) {
      await c.end().catch(() => {});
      throw new Error('room locks are closed');
    }
    client = c;
    return c;
  };
  const connect = async (): Promise<pg.Client> => {
    if (client) return client;
    connecting ??= open().finally(() => { connecting = null; });
    return connecting;
  };
  return {
    async acquire(roomId) {
      if (held.has(roomId)) return 'held';
      if (closed) return 'unknown';
      try {
        const c = await connect();
        // Keyed by schema and room: two deployments in one database, in their own schemas, do not collide.
        const r = await c.query<{ locked: boolean }>("SELECT pg_try_advisory_lock(hashtextextended(current_schema() || '.' || $1, 0)) AS locked", [roomId]);
        if (!r.rows[0]?.locked) return 'taken';
        held.add(roomId);
        return 'held';
      } catch (err) {
        log.warn({ room: roomId, err: (err as Error).message }, 'cannot ask for the room lock now');
        return 'unknown';
      }
    },
    holds: (roomId) => held.has(roomId),
    async release(roomId) {
      if (!held.delete(roomId) || !client) return;
      try {
        await client.query("SELECT pg_advisory_unlock(hashtextextended(current_schema() || '.' || $1, 0))", [roomId]);
      } catch (err) {
        // The session is going or gone, and its locks with it.
        log.warn({ room: roomId, err: (err as Error).message }, 'cannot give the room lock back now');
      }
    },
    onLost: (listener) => void listeners.push(listener),
    async close() {
      closed = true;
      const c = client;
      client = null;
      held.clear();
      await c?.end().catch(() => {}); // ending the session releases its locks
    },
  };
}

/**
 * The owner row (sql/009_owners.sql): taken with the lock, a new epoch each time.
 * Every batch is fenced on the epoch, so an owner that lost the room writes
 * nothing more even before the new owner has written anything.
 */
export async function recordOwner(db: Queryable, roomId: string, instance: string, endpoint: string): Promise<{ epoch: number; previous: string | null }> {
  // `previous`: the owner that never let the room go (it died), or null (released, or never owned).
  const r = await db.query<{ owner_epoch: string; previous: string | null }>(
    `UPDATE rooms r SET owner_epoch = r.owner_epoch + 1, owner_instance = $2, owner_endpoint = $3
     FROM (SELECT owner_instance FROM rooms WHERE id = $1 FOR UPDATE) before
     WHERE r.id = $1 RETURNING r.owner_epoch, before.owner_instance AS previous`,
    [roomId, instance, endpoint]);
  return { epoch: Number(r.rows[0]?.owner_epoch ?? 0), previous: r.rows[0]?.previous ?? null };
}

/** Lets the room go (handed over, given back): nobody owns it until an instance claims it. The epoch stays. */
export async function releaseOwner(db: Queryable, roomId: string, epoch: number): Promise<void> {
  await db.query('UPDATE rooms SET owner_instance = NULL, owner_endpoint = NULL WHERE id = $1 AND owner_epoch = $2', [roomId, epoch]);
}

/** Whether another instance claimed the room since this one did at `epoch`; null when the database cannot say now. */
export async function claimedSince(db: Queryable, roomId: string, epoch: number): Promise<boolean | null> {
  try {
    const r = await db.query<{ owner_epoch: string }>('SELECT owner_epoch FROM rooms WHERE id = $1', [roomId]);
    return Number(r.rows[0]?.owner_epoch ?? 0) > epoch;
  } catch {
    return null;
  }
}

export interface RoomListing {
  readonly id: string;
  readonly title: string;
  /** The instance that owns it, or null. */
  readonly owner: string | null;
  /** Occupants as its owner last recorded them. */
  readonly occupants: number;
}

/** Every room with its owner and occupants: what the claimer and the domain's room list read. */
export async function listRoomOwners(db: Queryable): Promise<RoomListing[]> {
  const r = await db.query<{ id: string; title: string; owner_instance: string | null; occupants: string }>(
    `SELECT r.id, r.title, r.owner_instance, (SELECT count(DISTINCT s.nick) FROM room_sessions s WHERE s.room_id = r.id) AS occupants
     FROM rooms r ORDER BY r.id`);
  return r.rows.map((row) => ({ id: row.id, title: row.title, owner: row.owner_instance, occupants: Number(row.occupants) }));
}
