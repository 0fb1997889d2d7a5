// Planning (DESIGN §3 stage 5): the engine's change log applied to the room's
// immutable projection with Immer (fragment change detection), and the patches
// turned into batched, parametrised SQL: one statement per table, never one per row.
import { enablePatches, produceWithPatches, type Patch } from 'immer';
import { assert } from '../assert.ts';
import { CHANGE_I32S, ENTITY_CHARACTER, Field } from '../engines/protocol.ts';
import type { Character, Projection } from '../contextualization/index.ts';

enablePatches();

export interface Statement {
  readonly text: string;
  readonly values: unknown[];
}

export interface Plan {
  readonly next: Projection;
  readonly patches: Patch[];
  readonly inverse: Patch[];
  readonly statements: Statement[];
}

/** Characters created by this batch: the engine knows their slot, the host their names. */
export type NewCharacters = ReadonlyMap<number, { readonly nick: string; readonly jid: string }>;

export function applyChanges(projection: Projection, changes: Int32Array, created: NewCharacters): [Projection, Patch[], Patch[]] {
  return produceWithPatches(projection, (draft) => {
    draft.version += 1;
    for (let i = 0; i < changes.length; i += CHANGE_I32S) {
      assert(changes[i] === ENTITY_CHARACTER, 'characters are the only changing entity');
      const id = changes[i + 1]!;
      const field = changes[i + 2]!;
      const value = changes[i + 3]!;
      if (field === Field.created) {
        const names = created.get(id);
        assert(names !== undefined && id === draft.characters.length, 'a created character has the next slot and a name');
        draft.characters.push({ id, nick: names.nick, jid: names.jid, location: 0, present: false });
        continue;
      }
      const character = draft.characters[id];
      assert(character !== undefined, 'a change names an existing character');
      if (field === Field.location) character.location = value;
      else if (field === Field.present) character.present = value === 1;
      else assert(false, `unknown field ${field}`);
    }
  }) as [Projection, Patch[], Patch[]];
}

/** SQL for what the patches touched; a batch that changed no character writes none. */
export function statementsFor(roomId: string, next: Projection, patches: readonly Patch[]): Statement[] {
  const touched = new Set<number>();
  for (const p of patches) if (p.path[0] === 'characters' && p.path.length >= 2) touched.add(Number(p.path[1]));
  if (touched.size === 0) return [];
  const rows: Character[] = [...touched].sort((a, b) => a - b).map((id) => next.characters[id]!);
  return [{
    text: `INSERT INTO characters (room_id, id, nick, jid, location, present)
      SELECT $1, * FROM unnest($2::int[], $3::text[], $4::text[], $5::int[], $6::bool[])
      ON CONFLICT (room_id, id) DO UPDATE SET location = EXCLUDED.location, present = EXCLUDED.present`,
    values: [roomId, rows.map((r) => r.id), rows.map((r) => r.nick), rows.map((r) => r.jid),
      rows.map((r) => r.location), rows.map((r) => r.present)],
  }];
}

export function plan(roomId: string, projection: Projection, changes: Int32Array, created: NewCharacters): Plan {
  const [next, patches, inverse] = applyChanges(projection, changes, created);
  return { next, patches, inverse, statements: statementsFor(roomId, next, patches) };
}
