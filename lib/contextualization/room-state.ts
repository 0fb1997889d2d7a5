// Contextualization (DESIGN §3 stage 3): what a room's batches need, made resident.
// A room is read from the database once, when it is first served; afterwards the
// projection (planning) is the committed truth and steady-state batches read nothing.
import type { Queryable } from '../db/index.ts';
import { DIRECTION_COUNT, FLAG_CREATED, FLAG_NPC, FLAG_PRESENT, FLAG_QUEST, FLAG_RELEASED, UNDO_I32S } from '../engines/protocol.ts';
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
  /** Item i; a destroyed one keeps its index (its place is NOWHERE). */
  readonly items: readonly ItemInfo[];
  /** NPCs by character id: a world file's are characters 0..n-1, one a builder made has the slot it was made in. */
  readonly npcs: ReadonlyMap<number, NpcInfo>;
  /** @undo: the titles and descriptions builders' steps replaced, by slot (character * UNDO_STEPS_MAX + step). */
  readonly undoTexts?: ReadonlyMap<number, string>;
}

/** Player characters: every character but the NPCs. */
export function isPlayer(world: Pick<RoomWorld, 'npcs'>, c: { readonly id: number }): boolean {
  return !world.npcs.has(c.id);
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
  const undoRows = (await db.query<{ character_id: number; cells: number[] }>(
    'SELECT character_id, cells FROM undo_steps WHERE room_id = $1', [roomId])).rows;
  const undoTexts = (await db.query<{ slot: number; text: string }>('SELECT slot, text FROM undo_texts WHERE room_id = $1', [roomId])).rows;
  const undo = new Int32Array(characters.length * UNDO_I32S);
  for (const u of undoRows) undo.set(u.cells.slice(0, UNDO_I32S), u.character_id * UNDO_I32S);
  const exits = new Int32Array(locations.length * DIRECTION_COUNT).fill(-1);
  const locks = new Int32Array(locations.length * DIRECTION_COUNT).fill(-1);
  for (const e of exitRows) {
    exits[e.from_idx * DIRECTION_COUNT + e.direction] = e.to_idx;
    if (e.key_item !== null) locks[e.from_idx * DIRECTION_COUNT + e.direction] = e.key_item;
  }
  characters.forEach((c, i) => {
    if (c.id !== i) throw new Error(`room ${roomId}: character ids are not dense at ${i}`);
  });
  const ints = <T>(rows: readonly T[], f: (row: T) => number) => Int32Array.from(rows, f);
  // The NPC tables are indexed by character, up to the last NPC; players between have zeros.
  const span = npcs.length === 0 ? 0 : npcs.at(-1)!.id + 1;
  const perCharacter = (f: (n: (typeof npcs)[number]) => number) => {
    const table = new Int32Array(span);
    for (const n of npcs) table[n.id] = f(n);
    return table;
  };
  return {
    world: {
      id: roomId, title: row.title, subject: row.subject, anonymity: row.anonymity, locations,
      items: items.map(({ key, name, keywords, description, weight, damage }) => ({ key, name, keywords, description, weight, damage })),
      npcs: new Map(npcs.map(({ id, key, keywords, description, thanks }) => [id, { key, keywords, description, thanks }])),
      locationCount: locations.length, startLocation: row.start_location, exits, locks,
      itemWeight: ints(items, (i) => i.weight), itemDamage: ints(items, (i) => i.damage), itemHome: ints(items, (i) => i.home),
      npcHp: perCharacter((n) => n.hp), npcDamage: perCharacter((n) => n.damage), npcHome: perCharacter((n) => n.home),
      npcWander: perCharacter((n) => (n.wander ? 1 : 0)), npcWants: perCharacter((n) => n.wants ?? -1),
      undo, undoTexts: new Map(undoTexts.map((t) => [t.slot, t.text])),
    },
    projection: {
      version: row.version, seed: row.seed,
      characters: characters.map((c) => ({ ...c })),
      items: items.map((i) => ({ place: i.place })),
    },
  };
}

/** The engine's tables for a projection and its map (committed state); `slots` leaves room for characters a batch creates. */
export function engineStateOf(world: WorldMap & Pick<RoomWorld, 'npcs'>, projection: Projection, slots = projection.characters.length): EngineState {
  const location = new Int32Array(slots);
  const flags = new Int32Array(slots);
  const hp = new Int32Array(slots);
  projection.characters.forEach((c, i) => {
    location[i] = c.location;
    flags[i] = FLAG_CREATED | (c.present ? FLAG_PRESENT : 0) | (world.npcs.has(i) ? FLAG_NPC : 0) | (c.quest ? FLAG_QUEST : 0) | (c.released ? FLAG_RELEASED : 0);
    hp[i] = c.hp;
  });
  const map: WorldMap = {
    locationCount: world.locationCount, startLocation: world.startLocation, exits: world.exits, locks: world.locks,
    itemWeight: world.itemWeight, itemDamage: world.itemDamage, itemHome: world.itemHome,
    npcHp: world.npcHp, npcDamage: world.npcDamage, npcHome: world.npcHome, npcWander: world.npcWander, npcWants: world.npcWants,
    ...(world.undo ? { undo: world.undo } : {}),
  };
  return { seed: projection.seed, location, flags, hp, itemPlace: Int32Array.from(projection.items, (i) => i.place), map };
}

export async function listRooms(db: Queryable): Promise<{ id: string; title: string }[]> {
  return (await db.query<{ id: string; title: string }>('SELECT id, title FROM rooms ORDER BY id')).rows;
}
