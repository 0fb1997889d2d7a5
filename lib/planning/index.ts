// Planning (DESIGN §3 stage 5): the engine's change log applied to the room's
// immutable projection with Immer (fragment change detection), and the patches
// turned into batched, parametrised SQL: one statement per table, never one per row.
import { enablePatches, produceWithPatches, type Draft, type Patch } from 'immer';
import { assert } from '../assert.ts';
import { CHANGE_I32S, Entity, Field, NOWHERE, PLAYER_HP } from '../engines/protocol.ts';
import type { Character, Projection, RoomWorld } from '../contextualization/index.ts';
import { planBuilding } from './building.ts';

enablePatches();

export interface Statement {
  readonly text: string;
  readonly values: unknown[];
}

export interface Plan {
  readonly next: Projection;
  /** The world after the batch's building; the same object when it built nothing. */
  readonly world: RoomWorld;
  readonly patches: Patch[];
  readonly inverse: Patch[];
  readonly statements: Statement[];
}

/** Characters created by this batch: the engine knows their slot, the host their names. */
export type NewCharacters = ReadonlyMap<number, { readonly nick: string; readonly jid: string }>;
/** Nick changes committed with this batch: character id -> new nick (names are the host's, not the engine's). */
export type Renamed = ReadonlyMap<number, string>;
const NONE: Renamed = new Map();

/** The texts a batch's records may name (titles, names): index i is the batch's text i. */
export type Texts = readonly string[];

export function applyChanges(projection: Projection, changes: Int32Array, created: NewCharacters, renamed: Renamed = NONE, texts: Texts = []): [Projection, Patch[], Patch[]] {
  return produceWithPatches(projection, (draft) => {
    draft.version += 1;
    for (let i = 0; i < changes.length; i += CHANGE_I32S) {
      const entity = changes[i]!;
      const id = changes[i + 1]!;
      const field = changes[i + 2]!;
      const value = changes[i + 3]!;
      if (entity === Entity.room) {
        assert(field === Field.seed, `room field ${field}`);
        draft.seed = value;
      } else if (entity === Entity.location || entity === Entity.exit || entity === Entity.undo) {
        continue; // the map and the builders' @undo steps: planBuilding
      } else if (entity === Entity.item && field === Field.created) {
        assert(id === draft.items.length, 'a made thing has the next index');
        draft.items.push({ place: NOWHERE });
      } else if (entity === Entity.item && field === Field.title) {
        continue; // its name: planBuilding
      } else if (entity === Entity.item) {
        const item = draft.items[id];
        assert(item !== undefined && field === Field.place, 'an item change names an item and its place');
        item.place = value;
      } else {
        assert(entity === Entity.character, `entity ${entity}`);
        applyToCharacter(draft.characters, id, field, value, created, texts);
      }
    }
    for (let i = projection.characters.length; i < draft.characters.length; i++) assert(draft.characters[i]?.id === i, 'character ids stay dense');
    for (const [id, nick] of renamed) {
      const character = draft.characters[id];
      assert(character !== undefined, 'a rename names an existing character');
      character.nick = nick;
    }
  }) as [Projection, Patch[], Patch[]];
}

function applyToCharacter(characters: Draft<Character>[], id: number, field: number, value: number, created: NewCharacters, texts: Texts): void {
  // A join's slot is given before the batch, a built NPC's after them all: a batch may make them out of order.
  if (field === Field.created) {
    const names = created.get(id);
    assert(names !== undefined && characters[id] === undefined, 'a created character has a free slot and a name');
    characters[id] = { id, nick: names.nick, jid: names.jid, location: 0, present: false, hp: PLAYER_HP, quest: false, released: false };
    return;
  }
  if (field === Field.npc) {
    assert(texts[value] !== undefined && characters[id] === undefined, 'a made NPC has a free slot and a name');
    characters[id] = { id, nick: texts[value]!, jid: '', location: 0, present: false, hp: 0, quest: false, released: false };
    return;
  }
  const character = characters[id];
  assert(character !== undefined, 'a change names an existing character');
  if (field === Field.location) character.location = value;
  else if (field === Field.present) character.present = value === 1;
  else if (field === Field.hp) character.hp = value;
  else if (field === Field.quest) character.quest = value === 1;
  else if (field === Field.released) character.released = value === 1;
  else assert(false, `unknown field ${field}`);
}

/** The rows a table's patches touched, in id order. */
function touched(patches: readonly Patch[], table: 'characters' | 'items'): number[] {
  const ids = new Set<number>();
  for (const p of patches) if (p.path[0] === table && p.path.length >= 2) ids.add(Number(p.path[1]));
  return [...ids].sort((a, b) => a - b);
}

/**
 * SQL for what the patches touched: one statement per table, a fixed number of
 * parameters whatever the row count. A batch of says and looks writes none.
 */
export function statementsFor(roomId: string, next: Projection, patches: readonly Patch[]): Statement[] {
  const statements: Statement[] = [];
  const characters = touched(patches, 'characters').map((id) => next.characters[id]!);
  if (characters.length > 0) {
    statements.push({
      text: `INSERT INTO characters (room_id, id, nick, jid, location, present, hp, quest, released)
        SELECT $1, * FROM unnest($2::int[], $3::text[], $4::text[], $5::int[], $6::bool[], $7::int[], $8::bool[], $9::bool[])
        ON CONFLICT (room_id, id) DO UPDATE SET nick = EXCLUDED.nick, location = EXCLUDED.location, present = EXCLUDED.present, hp = EXCLUDED.hp,
          quest = EXCLUDED.quest, released = EXCLUDED.released`,
      values: [roomId, characters.map((r) => r.id), characters.map((r) => r.nick), characters.map((r) => r.jid),
        characters.map((r) => r.location), characters.map((r) => r.present), characters.map((r) => r.hp), characters.map((r) => r.quest),
        characters.map((r) => r.released)],
    });
  }
  const items = touched(patches, 'items');
  if (items.length > 0) {
    statements.push({
      text: `UPDATE items SET place = t.place FROM unnest($2::int[], $3::int[]) AS t(idx, place)
        WHERE items.room_id = $1 AND items.idx = t.idx`,
      values: [roomId, items, items.map((id) => next.items[id]!.place)],
    });
  }
  if (patches.some((p) => p.path[0] === 'seed')) {
    statements.push({ text: 'UPDATE rooms SET seed = $2 WHERE id = $1', values: [roomId, next.seed] });
  }
  return statements;
}

/** `world`: the room's world before the batch, which building changes; `texts`: the batch's texts. */
export function plan(roomId: string, projection: Projection, changes: Int32Array, created: NewCharacters, renamed: Renamed = NONE,
  world?: RoomWorld, texts: Texts = []): Plan {
  const [next, patches, inverse] = applyChanges(projection, changes, created, renamed, texts);
  const built = world === undefined ? undefined : planBuilding(roomId, world, changes, texts);
  const statements = [...(built?.before ?? []), ...statementsFor(roomId, next, patches), ...(built?.after ?? [])];
  return { next, world: built?.world ?? world!, patches, inverse, statements };
}
