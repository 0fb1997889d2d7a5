// Contextualization (DESIGN §3 stage 3): what a room's batches need, made resident.
// A room is read from the database once, when it is first served; afterwards the
// projection (planning) is the committed truth and steady-state batches read nothing.
import type { Queryable } from '../db/index.ts';
import { DIRECTION_COUNT, FLAG_CREATED, FLAG_NPC, FLAG_PRESENT, FLAG_QUEST, FLAG_RELEASED } from '../engines/protocol.ts';
import type { EngineState, WorldMap } from '../engines/engine.ts';
import type { Anonymity, ItemDefinition } from '../world/definition.ts';

export interface Location {
  readonly key: string;
  readonly title: string;
  readonly description: string;
}

/** An item as the world file defines it; where it lies is state (Projection.items). */
export type ItemInfo = Omit<ItemDefinition, 'at'>;

export interface NpcInfo {
  readonly key: string;
  readonly keywords: readonly string[];
  readonly description: string;
  readonly thanks: string | null;
}

export interface Character {
  readonly id: number;
  readonly nick: string;
  /** The bare JID the character is bound to; '' for an NPC. */
  readonly jid: string;
  readonly location: number;
  readonly present: boolean;
  readonly hp: number;
  readonly quest: boolean;
  /** Let go (a guest's, after its last session left): the slot stays, the nick is free for anyone. Absent: held. */
  readonly released?: boolean;
}

export interface Item {
  /** A location (>= 0), or the carrying character (protocol `carriedBy`). */
  readonly place: number;
}

/** The room's static part: the rules' tables (WorldMap) and the words. */
export interface RoomWorld extends WorldMap {
  readonly id: string;
  readonly title: string;
  readonly subject: string;
  readonly anonymity: Anonymity;
  readonly locations: readonly Location[];
  readonly items: readonly ItemInfo[];
  /** NPC i is character i. */
  readonly npcs: readonly NpcInfo[];
}

/** The room's changing part, as committed. Immutable: planning derives the next one. */
export interface Projection {
  readonly version: number;
  readonly seed: number;
  readonly characters: readonly Character[];
  readonly items: readonly Item[];
}

export interface LoadedRoom {
  readonly world: RoomWorld;
  readonly projection: Projection;
}

/** Null when the room does not exist. */
export async function loadRoom(db: Queryable, roomId: string): Promise<LoadedRoom | null> {
  const room = await db.query<{ title: string; subject: string; anonymity: Anonymity; start_location: number; version: number; seed: number }>(
    'SELECT title, subject, anonymity, start_location, version, seed FROM rooms WHERE id = $1', [roomId]);
  const row = room.rows[0];
  if (!row) return null;
  const locations = (await db.query<Location>('SELECT key, title, description FROM locations WHERE room_id = $1 ORDER BY idx', [roomId])).rows;
  const exitRows = (await db.query<{ from_idx: number; direction: number; to_idx: number; key_item: number | null }>(
    'SELECT from_idx, direction, to_idx, key_item FROM exits WHERE room_id = $1', [roomId])).rows;
  const items = (await db.query<ItemInfo & { home: number; place: number }>(
    'SELECT key, name, keywords, description, weight, damage, home, place FROM items WHERE room_id = $1 ORDER BY idx', [roomId])).rows;
  const npcs = (await db.query<NpcInfo & { id: number; hp: number; damage: number; home: number; wander: boolean; wants: number | null }>(
    'SELECT id, key, keywords, description, thanks, hp, damage, home, wander, wants FROM npcs WHERE room_id = $1 ORDER BY id', [roomId])).rows;
  const characters = (await db.query<Character>(
    'SELECT id, nick, jid, location, present, hp, quest, released FROM characters WHERE room_id = $1 ORDER BY id', [roomId])).rows;
  const exits = new Int32Array(locations.length * DIRECTION_COUNT).fill(-1);
  const locks = new Int32Array(locations.length * DIRECTION_COUNT).fill(-1);
  for (const e of exitRows) {
    exits[e.from_idx * DIRECTION_COUNT + e.direction] = e.to_idx;
    if (e.key_item !== null) locks[e.from_idx * DIRECTION_COUNT + e.direction] = e.key_item;
  }
  characters.forEach((c, i) => {
    if (c.id !== i) throw new Error(`room ${roomId}: character ids are not dense at ${i}`);
  });
  npcs.forEach((n, i) => {
    if (n.id !== i) throw new Error(`room ${roomId}: NPC ids are not the first characters at ${i}`);
  });
  const ints = <T>(rows: readonly T[], f: (row: T) => number) => Int32Array.from(rows, f);
  return {
    world: {
      id: roomId, title: row.title, subject: row.subject, anonymity: row.anonymity, locations,
      items: items.map(({ key, name, keywords, description, weight, damage }) => ({ key, name, keywords, description, weight, damage })),
      npcs: npcs.map(({ key, keywords, description, thanks }) => ({ key, keywords, description, thanks })),
      locationCount: locations.length, startLocation: row.start_location, exits, locks,
      itemWeight: ints(items, (i) => i.weight), itemDamage: ints(items, (i) => i.damage), itemHome: ints(items, (i) => i.home),
      npcHp: ints(npcs, (n) => n.hp), npcDamage: ints(npcs, (n) => n.damage), npcHome: ints(npcs, (n) => n.home),
      npcWander: ints(npcs, (n) => (n.wander ? 1 : 0)), npcWants: ints(npcs, (n) => n.wants ?? -1),
    },
    projection: {
      version: row.version, seed: row.seed,
      characters: characters.map((c) => ({ ...c })),
      items: items.map((i) => ({ place: i.place })),
    },
  };
}

/** The engine's tables for a projection (committed state); `slots` leaves room for characters a batch creates. */
export function engineStateOf(world: WorldMap, projection: Projection, slots = projection.characters.length): EngineState {
  const npcs = world.npcHp.length;
  const location = new Int32Array(slots);
  const flags = new Int32Array(slots);
  const hp = new Int32Array(slots);
  projection.characters.forEach((c, i) => {
    location[i] = c.location;
    flags[i] = FLAG_CREATED | (c.present ? FLAG_PRESENT : 0) | (i < npcs ? FLAG_NPC : 0) | (c.quest ? FLAG_QUEST : 0) | (c.released ? FLAG_RELEASED : 0);
    hp[i] = c.hp;
  });
  return { seed: projection.seed, location, flags, hp, itemPlace: Int32Array.from(projection.items, (i) => i.place) };
}

export async function listRooms(db: Queryable): Promise<{ id: string; title: string }[]> {
  return (await db.query<{ id: string; title: string }>('SELECT id, title FROM rooms ORDER BY id')).rows;
}
