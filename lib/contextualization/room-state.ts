// Contextualization (DESIGN §3 stage 3): what a room's batches need, made resident.
// A room is read from the database once, when it is first served; afterwards the
// projection (planning) is the committed truth and steady-state batches read nothing.
import type { Queryable } from '../db/index.ts';
import { DIRECTION_COUNT } from '../engines/protocol.ts';
import type { WorldMap } from '../engines/engine.ts';

export interface Location {
  readonly key: string;
  readonly title: string;
  readonly description: string;
}

export interface Character {
  readonly id: number;
  readonly nick: string;
  readonly jid: string;
  readonly location: number;
  readonly present: boolean;
}

/** The room's static part: the map and the words. */
export interface RoomWorld extends WorldMap {
  readonly id: string;
  readonly title: string;
  readonly subject: string;
  readonly locations: readonly Location[];
}

/** The room's changing part, as committed. Immutable: planning derives the next one. */
export interface Projection {
  readonly version: number;
  readonly characters: readonly Character[];
}

export interface LoadedRoom {
  readonly world: RoomWorld;
  readonly projection: Projection;
}

/** Null when the room does not exist. */
export async function loadRoom(db: Queryable, roomId: string): Promise<LoadedRoom | null> {
  const room = await db.query<{ title: string; subject: string; start_location: number; version: number }>(
    'SELECT title, subject, start_location, version FROM rooms WHERE id = $1', [roomId]);
  const row = room.rows[0];
  if (!row) return null;
  const locations = await db.query<Location>(
    'SELECT key, title, description FROM locations WHERE room_id = $1 ORDER BY idx', [roomId]);
  const exitRows = await db.query<{ from_idx: number; direction: number; to_idx: number }>(
    'SELECT from_idx, direction, to_idx FROM exits WHERE room_id = $1', [roomId]);
  const characters = await db.query<Character>(
    'SELECT id, nick, jid, location, present FROM characters WHERE room_id = $1 ORDER BY id', [roomId]);
  const exits = new Int32Array(locations.rows.length * DIRECTION_COUNT).fill(-1);
  for (const e of exitRows.rows) exits[e.from_idx * DIRECTION_COUNT + e.direction] = e.to_idx;
  characters.rows.forEach((c, i) => {
    if (c.id !== i) throw new Error(`room ${roomId}: character ids are not dense at ${i}`);
  });
  return {
    world: {
      id: roomId, title: row.title, subject: row.subject, locations: locations.rows,
      exits, locationCount: locations.rows.length, startLocation: row.start_location,
    },
    projection: { version: row.version, characters: characters.rows.map((c) => ({ ...c })) },
  };
}

export async function listRooms(db: Queryable): Promise<{ id: string; title: string }[]> {
  return (await db.query<{ id: string; title: string }>('SELECT id, title FROM rooms ORDER BY id')).rows;
}
