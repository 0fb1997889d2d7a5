// Planning for building: the change records that touch the map (new
// places, titles, descriptions, ways, locks, things and creatures made) become the
// room's next world, and batched SQL on locations, exits, items and npcs in the
// batch's one transaction. A batch that builds nothing keeps its world object.
// Texts come from the batch (a record carries a text index); keys are made here.
import { assert } from '../assert.ts';
import { CHANGE_I32S, CREATED_ITEM_WEIGHT, DIRECTION_COUNT, Entity, Field, NPC_DAMAGE_BUILT, NPC_HP_BUILT, UNDO_I32S } from '../engines/protocol.ts';
import type { ItemInfo, Location, NpcInfo, RoomWorld } from '../contextualization/index.ts';
import { keywordsOf } from '../negotiation/building.ts';
import { WORLD_KEY_CHARS_MAX } from '../constants.ts';
import type { Statement } from './index.ts';

/** Where a built place, thing or creature starts, before anyone describes it. */
export const UNDESCRIBED_PLACE = 'Nobody has described this place yet.';
export const UNDESCRIBED_THING = 'Nobody has described it yet.';

export interface BuildPlan {
  readonly world: RoomWorld;
  /** Run before the characters' upsert (places, ways, things). */
  readonly before: Statement[];
  /** Run after it (an NPC's row needs its character's). */
  readonly after: Statement[];
}

interface Draft {
  locations: Location[];
  exits: Int32Array;
  locks: Int32Array;
  items: ItemInfo[];
  itemWeight: number[];
  itemDamage: number[];
  itemHome: number[];
  npcs: Map<number, NpcInfo>;
  npc: { hp: number[]; damage: number[]; home: number[]; wander: number[]; wants: number[] };
  undo: Int32Array;
  undoTexts: Map<number, string>;
}

/** The next world and its SQL; `texts[i]` is the batch's text i. */
export function planBuilding(roomId: string, world: RoomWorld, changes: Int32Array, texts: readonly string[]): BuildPlan {
  let draft: Draft | undefined;
  const touchedPlaces = new Set<number>();
  const madePlaces = new Set<number>();
  const touchedDoors = new Set<number>();
  const madeItems: number[] = [];
  const madeNpcs: number[] = [];
  const homeless = new Set<number>();
  const undoers = new Set<number>();
  const savedSlots = new Set<number>();
  const text = (i: number) => {
    assert(texts[i] !== undefined, 'a building record names a text of its batch');
    return texts[i]!;
  };
  for (let i = 0; i < changes.length; i += CHANGE_I32S) {
    // Every batch passes here, building or not: read the record in place, allocate nothing until a map record.
    const entity = changes[i]!;
    const id = changes[i + 1]!;
    const field = changes[i + 2]!;
    const value = changes[i + 3]!;
    if (entity === Entity.character && field === Field.location && homeless.delete(id)) {
      draft!.npc.home[id] = value; // a creature's home is where it is made
      continue;
    }
    const building = entity === Entity.location || entity === Entity.exit || (entity === Entity.item && (field === Field.created || field === Field.title))
      || (entity === Entity.character && field === Field.npc) || entity === Entity.undo;
    if (!building) continue;
    const d = (draft ??= open(world));
    if (entity === Entity.undo) {
      if (field === Field.cell) {
        d.undo = grownZero(d.undo, id + 1);
        d.undo[id] = value;
        undoers.add(Math.floor(id / UNDO_I32S));
      } else {
        // The text a @title or @describe replaces, kept for @undo (the rules never see texts).
        const place = d.locations[value]!;
        d.undoTexts.set(id, field === Field.saveTitle ? place.title : place.description);
        savedSlots.add(id);
      }
      continue;
    }
    if (entity === Entity.location) {
      if (field === Field.created) {
        assert(id === d.locations.length, 'a new place has the next index');
        d.locations.push({ key: '', title: '', description: UNDESCRIBED_PLACE });
        d.exits = grown(d.exits, (id + 1) * DIRECTION_COUNT);
        d.locks = grown(d.locks, (id + 1) * DIRECTION_COUNT);
        madePlaces.add(id);
      } else if (field === Field.restoreTitle || field === Field.restoreDescription) {
        const saved = d.undoTexts.get(value);
        assert(saved !== undefined, 'an undone title names a text kept for it');
        const place = d.locations[id]!;
        d.locations[id] = field === Field.restoreTitle ? { ...place, title: saved } : { ...place, description: saved };
      } else {
        const place = d.locations[id]!;
        d.locations[id] = field === Field.title ? { ...place, title: text(value) } : { ...place, description: text(value) };
      }
      touchedPlaces.add(id);
    } else if (entity === Entity.exit) {
      (field === Field.to ? d.exits : d.locks)[id] = value;
      touchedDoors.add(id);
    } else if (entity === Entity.item && field === Field.created) {
      assert(id === d.items.length, 'a new thing has the next index');
      d.items.push({ key: '', name: '', keywords: [], description: UNDESCRIBED_THING, weight: CREATED_ITEM_WEIGHT, damage: 0 });
      d.itemWeight.push(CREATED_ITEM_WEIGHT);
      d.itemDamage.push(0);
      d.itemHome.push(value);
      madeItems.push(id);
    } else if (entity === Entity.item) {
      const name = text(value);
      d.items[id] = { ...d.items[id]!, key: uniqueKey(name, 'thing', new Set(d.items.map((it) => it.key))), name, keywords: keywordsOf(name) };
    } else {
      makeNpc(d, id, text(value));
      madeNpcs.push(id);
      homeless.add(id);
    }
  }
  if (!draft) return { world, before: [], after: [] };
  for (const id of madePlaces) {
    const keys = new Set(draft.locations.map((l) => l.key));
    draft.locations[id] = { ...draft.locations[id]!, key: uniqueKey(draft.locations[id]!.title, 'place', keys) };
  }
  const next = close(world, draft);
  return {
    world: next,
    before: [...placeStatements(roomId, next, touchedPlaces), ...doorStatements(roomId, next, touchedDoors), ...itemStatements(roomId, next, madeItems)],
    after: [...npcStatements(roomId, next, madeNpcs), ...undoStatements(roomId, next, undoers, savedSlots)],
  };
}

/** The builders' @undo rings that changed, and the texts their steps replaced. */
function undoStatements(roomId: string, world: RoomWorld, undoers: ReadonlySet<number>, slots: ReadonlySet<number>): Statement[] {
  const out: Statement[] = [];
  if (undoers.size > 0) {
    const ids = [...undoers].sort((a, b) => a - b);
    out.push({
      text: `INSERT INTO undo_steps (room_id, character_id, cells) SELECT $1, c, ARRAY(SELECT jsonb_array_elements_text(j)::int)
        FROM unnest($2::int[], $3::jsonb[]) AS t(c, j) ON CONFLICT (room_id, character_id) DO UPDATE SET cells = EXCLUDED.cells`,
      values: [roomId, ids, ids.map((c) => JSON.stringify(Array.from(world.undo!.subarray(c * UNDO_I32S, (c + 1) * UNDO_I32S))))],
    });
  }
  if (slots.size > 0) {
    const ids = [...slots].sort((a, b) => a - b);
    out.push({
      text: `INSERT INTO undo_texts (room_id, slot, text) SELECT $1, * FROM unnest($2::int[], $3::text[])
        ON CONFLICT (room_id, slot) DO UPDATE SET text = EXCLUDED.text`,
      values: [roomId, ids, ids.map((s) => world.undoTexts!.get(s)!)],
    });
  }
  return out;
}

function grownZero(table: Int32Array, length: number): Int32Array {
  if (table.length >= length) return table;
  const bigger = new Int32Array(Math.max(length, table.length * 2));
  bigger.set(table);
  return bigger;
}

function open(world: RoomWorld): Draft {
  return {
    locations: [...world.locations], exits: world.exits.slice(), locks: world.locks.slice(),
    items: [...world.items], itemWeight: [...world.itemWeight], itemDamage: [...world.itemDamage], itemHome: [...world.itemHome],
    npcs: new Map(world.npcs),
    npc: { hp: [...world.npcHp], damage: [...world.npcDamage], home: [...world.npcHome], wander: [...world.npcWander], wants: [...world.npcWants] },
    undo: (world.undo ?? new Int32Array(0)).slice(), undoTexts: new Map(world.undoTexts ?? []),
  };
}

function close(world: RoomWorld, d: Draft): RoomWorld {
  const ints = (a: number[]) => Int32Array.from(a);
  return {
    ...world, locations: d.locations, locationCount: d.locations.length, exits: d.exits, locks: d.locks,
    items: d.items, itemWeight: ints(d.itemWeight), itemDamage: ints(d.itemDamage), itemHome: ints(d.itemHome), npcs: d.npcs,
    npcHp: ints(d.npc.hp), npcDamage: ints(d.npc.damage), npcHome: ints(d.npc.home), npcWander: ints(d.npc.wander), npcWants: ints(d.npc.wants),
    undo: d.undo, undoTexts: d.undoTexts,
  };
}

/** A creature made here: its location (and so its home) comes in a record after this one. */
function makeNpc(d: Draft, id: number, name: string): void {
  const t = d.npc;
  while (t.hp.length <= id) {
    t.hp.push(0);
    t.damage.push(0);
    t.home.push(0);
    t.wander.push(0);
    t.wants.push(0);
  }
  t.hp[id] = NPC_HP_BUILT;
  t.damage[id] = NPC_DAMAGE_BUILT;
  t.wants[id] = -1;
  const keys = new Set([...d.npcs.values()].map((n) => n.key));
  d.npcs.set(id, { key: uniqueKey(name, 'creature', keys), keywords: keywordsOf(name), description: UNDESCRIBED_THING, thanks: null });
}

function grown(table: Int32Array, length: number): Int32Array {
  if (table.length >= length) return table;
  const bigger = new Int32Array(length).fill(-1);
  bigger.set(table);
  return bigger;
}

/** A world-file key from a title or name ("The Old Tower" -> "the-old-tower"), made unique with a number. */
export function uniqueKey(name: string, fallback: string, taken: ReadonlySet<string>): string {
  const slug = name.toLowerCase().normalize('NFKD').replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, WORLD_KEY_CHARS_MAX - 8) || fallback;
  if (!taken.has(slug)) return slug;
  for (let n = 2; ; n++) if (!taken.has(`${slug}-${n}`)) return `${slug}-${n}`;
}

function placeStatements(roomId: string, world: RoomWorld, touched: ReadonlySet<number>): Statement[] {
  if (touched.size === 0) return [];
  const ids = [...touched].sort((a, b) => a - b);
  const ls = ids.map((i) => world.locations[i]!);
  return [{
    text: `INSERT INTO locations (room_id, idx, key, title, description) SELECT $1, * FROM unnest($2::int[], $3::text[], $4::text[], $5::text[])
      ON CONFLICT (room_id, idx) DO UPDATE SET title = EXCLUDED.title, description = EXCLUDED.description`,
    values: [roomId, ids, ls.map((l) => l.key), ls.map((l) => l.title), ls.map((l) => l.description)],
  }];
}

/** Ways that lead somewhere are upserted with their lock; ways removed are deleted. */
function doorStatements(roomId: string, world: RoomWorld, touched: ReadonlySet<number>): Statement[] {
  const doors = [...touched].sort((a, b) => a - b);
  const open = doors.filter((d) => world.exits[d]! >= 0);
  const gone = doors.filter((d) => world.exits[d]! < 0);
  const out: Statement[] = [];
  if (gone.length > 0) {
    out.push({
      text: 'DELETE FROM exits e USING unnest($2::int[], $3::smallint[]) AS t(f, d) WHERE e.room_id = $1 AND e.from_idx = t.f AND e.direction = t.d',
      values: [roomId, gone.map((d) => Math.floor(d / DIRECTION_COUNT)), gone.map((d) => d % DIRECTION_COUNT)],
    });
  }
  if (open.length > 0) {
    out.push({
      text: `INSERT INTO exits (room_id, from_idx, direction, to_idx, key_item) SELECT $1, * FROM unnest($2::int[], $3::smallint[], $4::int[], $5::int[])
        ON CONFLICT (room_id, from_idx, direction) DO UPDATE SET to_idx = EXCLUDED.to_idx, key_item = EXCLUDED.key_item`,
      values: [roomId, open.map((d) => Math.floor(d / DIRECTION_COUNT)), open.map((d) => d % DIRECTION_COUNT), open.map((d) => world.exits[d]!),
        open.map((d) => (world.locks[d]! >= 0 ? world.locks[d]! : null))],
    });
  }
  return out;
}

/** Things made: their rows (their place follows in the items' place update). */
function itemStatements(roomId: string, world: RoomWorld, made: readonly number[]): Statement[] {
  if (made.length === 0) return [];
  const is = made.map((i) => world.items[i]!);
  return [{
    text: `INSERT INTO items (room_id, idx, key, name, keywords, description, weight, damage, home, place)
      SELECT $1, i, k, n, ARRAY(SELECT jsonb_array_elements_text(kw)), d, w, dm, h, h
      FROM unnest($2::int[], $3::text[], $4::text[], $5::jsonb[], $6::text[], $7::int[], $8::int[], $9::int[]) AS t(i, k, n, kw, d, w, dm, h)`,
    values: [roomId, made, is.map((i) => i.key), is.map((i) => i.name), is.map((i) => JSON.stringify(i.keywords)), is.map((i) => i.description),
      is.map((i) => i.weight), is.map((i) => i.damage), made.map((i) => world.itemHome[i]!)],
  }];
}

function npcStatements(roomId: string, world: RoomWorld, made: readonly number[]): Statement[] {
  if (made.length === 0) return [];
  const ns = made.map((id) => world.npcs.get(id)!);
  return [{
    text: `INSERT INTO npcs (room_id, id, key, keywords, description, hp, damage, home, wander, wants, thanks)
      SELECT $1, i, k, ARRAY(SELECT jsonb_array_elements_text(kw)), d, hp, dm, h, false, NULL, NULL
      FROM unnest($2::int[], $3::text[], $4::jsonb[], $5::text[], $6::int[], $7::int[], $8::int[]) AS t(i, k, kw, d, hp, dm, h)`,
    values: [roomId, made, ns.map((n) => n.key), ns.map((n) => JSON.stringify(n.keywords)), ns.map((n) => n.description),
      made.map((id) => world.npcHp[id]!), made.map((id) => world.npcDamage[id]!), made.map((id) => world.npcHome[id]!)],
  }];
}
