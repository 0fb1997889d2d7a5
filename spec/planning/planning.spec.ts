// lib/planning: the engine's change log applied to the projection with Immer, and
// the patches turned into one batched, parametrised statement (DESIGN §3 stage 5).
// Every planner case does Immer's four-part check: result, patches, replay, reverse.
import { expect } from 'chai';
import { applyPatches, enablePatches, type Patch } from 'immer';
import { applyChanges, plan, statementsFor, type NewCharacters } from '../../lib/planning/index.ts';
import type { Character, Projection } from '../../lib/contextualization/index.ts';
import { Entity, Field, PLAYER_HP } from '../../lib/engines/protocol.ts';
import { AssertionError } from '../../lib/assert.ts';

enablePatches();

const ROOM = 'realm';
const NONE: NewCharacters = new Map();

function character(id: number, location: number, present = true): Character {
  return { id, nick: `P${id}`, jid: `p${id}@example.org`, location, present, hp: PLAYER_HP, quest: false, released: false };
}

function projection(count: number, version = 7): Projection {
  return { version, seed: 0, characters: Array.from({ length: count }, (_, i) => character(i, i % 3)), items: [{ place: 0 }, { place: 1 }] };
}

/** The change log as the engine writes it: [id, field, value] per record. */
function changes(...records: [number, number, number][]): Int32Array {
  return new Int32Array(records.flatMap(([id, field, value]) => [Entity.character, id, field, value]));
}

/** Deep copy, to prove the base projection was not touched. */
const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

function fourPartCheck(base: Projection, log: Int32Array, created: NewCharacters, expected: { next: Projection; patches: Patch[] }) {
  const before = clone(base);
  const [next, patches, inverse] = applyChanges(base, log, created);
  // 1. the result
  expect(next).to.deep.equal(expected.next);
  expect(base, 'the committed projection is left alone').to.deep.equal(before);
  // 2. the patches
  expect(patches).to.have.deep.members(expected.patches);
  expect(patches).to.have.length(expected.patches.length);
  // 3. they replay
  expect(applyPatches(base, patches)).to.deep.equal(next);
  // 4. they reverse
  expect(applyPatches(next, inverse)).to.deep.equal(base);
  return { next, patches, inverse };
}

describe('planning applyChanges', function () {
  it('creates a character: one add patch with its final location and presence, and the version', function () {
    const base = projection(2);
    const created = new Map([[2, { nick: 'Carol', jid: 'carol@example.org' }]]);
    const log = changes([2, Field.created, 1], [2, Field.location, 4], [2, Field.present, 1]);
    const carol: Character = { id: 2, nick: 'Carol', jid: 'carol@example.org', location: 4, present: true, hp: PLAYER_HP, quest: false, released: false };
    const { next } = fourPartCheck(base, log, created, {
      next: { ...base, version: 8, characters: [...base.characters, carol] },
      patches: [
        { op: 'add', path: ['characters', 2], value: carol },
        { op: 'replace', path: ['version'], value: 8 },
      ],
    });
    expect(next.characters[0], 'an untouched character is shared, not copied').to.equal(base.characters[0]);
  });

  it('creates two characters in one batch, in slot order', function () {
    const base = projection(1);
    const created = new Map([[1, { nick: 'B', jid: 'b@x' }], [2, { nick: 'C', jid: 'c@x' }]]);
    const log = changes([1, Field.created, 1], [1, Field.location, 0], [1, Field.present, 1],
      [2, Field.created, 1], [2, Field.location, 0], [2, Field.present, 1]);
    const b: Character = { id: 1, nick: 'B', jid: 'b@x', location: 0, present: true, hp: PLAYER_HP, quest: false, released: false };
    const c: Character = { id: 2, nick: 'C', jid: 'c@x', location: 0, present: true, hp: PLAYER_HP, quest: false, released: false };
    fourPartCheck(base, log, created, {
      next: { ...base, version: 8, characters: [base.characters[0]!, b, c] },
      patches: [
        { op: 'add', path: ['characters', 1], value: b },
        { op: 'add', path: ['characters', 2], value: c },
        { op: 'replace', path: ['version'], value: 8 },
      ],
    });
  });

  it('moves a character: one replace of its location', function () {
    const base = projection(3);
    const { next } = fourPartCheck(base, changes([1, Field.location, 5]), NONE, {
      next: { ...base, version: 8, characters: [base.characters[0]!, { ...base.characters[1]!, location: 5 }, base.characters[2]!] },
      patches: [
        { op: 'replace', path: ['characters', 1, 'location'], value: 5 },
        { op: 'replace', path: ['version'], value: 8 },
      ],
    });
    expect(next.characters[0]).to.equal(base.characters[0]);
    expect(next.characters[2]).to.equal(base.characters[2]);
    expect(next.characters[1]).not.to.equal(base.characters[1]);
  });

  it('keeps only the last of several moves of one character in a batch', function () {
    const base = projection(2);
    fourPartCheck(base, changes([0, Field.location, 1], [0, Field.location, 2], [0, Field.location, 6]), NONE, {
      next: { ...base, version: 8, characters: [{ ...base.characters[0]!, location: 6 }, base.characters[1]!] },
      patches: [
        { op: 'replace', path: ['characters', 0, 'location'], value: 6 },
        { op: 'replace', path: ['version'], value: 8 },
      ],
    });
  });

  it('changes presence: leaving and coming back', function () {
    const base = projection(2);
    fourPartCheck(base, changes([1, Field.present, 0]), NONE, {
      next: { ...base, version: 8, characters: [base.characters[0]!, { ...base.characters[1]!, present: false }] },
      patches: [
        { op: 'replace', path: ['characters', 1, 'present'], value: false },
        { op: 'replace', path: ['version'], value: 8 },
      ],
    });
    const away: Projection = { version: 3, seed: 0, characters: [character(0, 2, false)], items: [] };
    fourPartCheck(away, changes([0, Field.present, 1]), NONE, {
      next: { ...away, version: 4, characters: [character(0, 2, true)] },
      patches: [
        { op: 'replace', path: ['characters', 0, 'present'], value: true },
        { op: 'replace', path: ['version'], value: 4 },
      ],
    });
  });

  it('a batch with no changes still bumps the version, and only that', function () {
    const base = projection(3);
    const { next } = fourPartCheck(base, new Int32Array(0), NONE, {
      next: { ...base, version: 8, characters: base.characters },
      patches: [{ op: 'replace', path: ['version'], value: 8 }],
    });
    expect(next.characters, 'the character list is shared').to.equal(base.characters);
  });

  it('a batch whose moves cancel out patches nothing but the version', function () {
    const base = projection(2);
    fourPartCheck(base, changes([0, Field.location, 9], [0, Field.location, base.characters[0]!.location]), NONE, {
      next: { ...base, version: 8, characters: base.characters },
      patches: [{ op: 'replace', path: ['version'], value: 8 }],
    });
  });

  it('refuses a change log it cannot apply (programmer errors, not replies)', function () {
    const base = projection(1);
    expect(() => applyChanges(base, changes([5, Field.location, 1]), NONE), 'unknown character').to.throw(AssertionError);
    expect(() => applyChanges(base, changes([1, Field.created, 1]), NONE), 'created without a name').to.throw(AssertionError);
    expect(() => applyChanges(base, changes([3, Field.created, 1]), new Map([[3, { nick: 'X', jid: 'x@x' }]])), 'slot out of order').to.throw(AssertionError);
    expect(() => applyChanges(base, changes([0, 99, 1]), NONE), 'unknown field').to.throw(AssertionError);
    expect(() => applyChanges(base, new Int32Array([9, 0, Field.location, 1]), NONE), 'unknown entity').to.throw(AssertionError);
    expect(() => applyChanges(base, new Int32Array([Entity.item, 7, Field.place, 1]), NONE), 'unknown item').to.throw(AssertionError);
  });

  it('moves an item (taken, then dropped elsewhere): one replace of its place', function () {
    const base = projection(2);
    const log = new Int32Array([Entity.item, 1, Field.place, -1, Entity.item, 1, Field.place, 2]);
    fourPartCheck(base, log, NONE, {
      next: { ...base, version: 8, items: [base.items[0]!, { place: 2 }] },
      patches: [
        { op: 'replace', path: ['items', 1, 'place'], value: 2 },
        { op: 'replace', path: ['version'], value: 8 },
      ],
    });
  });

  it('a fight: hit points, a quest flag and the room seed, each one replace', function () {
    const base = projection(2);
    const log = new Int32Array([
      Entity.character, 1, Field.hp, 4, Entity.character, 0, Field.quest, 1, Entity.room, 0, Field.seed, -123456789,
    ]);
    fourPartCheck(base, log, NONE, {
      next: {
        ...base, version: 8, seed: -123456789,
        characters: [{ ...base.characters[0]!, quest: true }, { ...base.characters[1]!, hp: 4 }],
      },
      patches: [
        { op: 'replace', path: ['characters', 1, 'hp'], value: 4 },
        { op: 'replace', path: ['characters', 0, 'quest'], value: true },
        { op: 'replace', path: ['seed'], value: -123456789 },
        { op: 'replace', path: ['version'], value: 8 },
      ],
    });
  });
});

describe('planning statementsFor', function () {
  const HOSTILE = "O'Brien\"); DROP TABLE characters; --";

  function changedMany(count: number) {
    const base: Projection = {
      version: 1,
      seed: 0,
      items: [],
      characters: Array.from({ length: count }, (_, i) => ({ ...character(i, 0), nick: `${HOSTILE}${i}`, jid: `n${i}@evil'.org` })),
    };
    // Every third character moves, in reverse order; one more leaves.
    const records: [number, number, number][] = [];
    for (let i = count - 1; i >= 0; i -= 3) records.push([i, Field.location, 100 + i]);
    records.push([1, Field.present, 0]);
    return { base, plan: plan(ROOM, base, changes(...records), NONE) };
  }

  it('writes ONE statement for many changed characters, with nine parameters of equal-length arrays', function () {
    const { base, plan: p } = changedMany(50);
    expect(p.statements).to.have.length(1);
    const [statement] = p.statements;
    expect(statement!.values).to.have.length(9);
    expect(statement!.values[0]).to.equal(ROOM);
    const arrays = statement!.values.slice(1) as unknown[][];
    const touched = new Set([...Array.from({ length: 50 }, (_, i) => i).filter((i) => (49 - i) % 3 === 0), 1]);
    for (const a of arrays) {
      expect(a).to.be.an('array');
      expect(a).to.have.length(touched.size);
    }
    const [ids, nicks, jids, locations, presents] = arrays as [number[], string[], string[], number[], boolean[]];
    expect(ids).to.deep.equal([...touched].sort((a, b) => a - b));
    ids.forEach((id, row) => {
      const c = p.next.characters[id]!;
      expect([nicks[row], jids[row], locations[row], presents[row]], `row ${row}`).to.deep.equal([c.nick, c.jid, c.location, c.present]);
    });
    expect(locations[ids.indexOf(49)]).to.equal(149);
    expect(presents[ids.indexOf(1)]).to.equal(false);
    expect(base.characters[49]!.location, 'the base is untouched').to.equal(0);
  });

  it('keeps every value out of the SQL text: placeholders $1..$9 only', function () {
    const { plan: p } = changedMany(10);
    const { text, values } = p.statements[0]!;
    const placeholders = [...text.matchAll(/\$(\d+)/g)].map((m) => Number(m[1]));
    expect([...new Set(placeholders)].sort((a, b) => a - b)).to.deep.equal([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(text).not.to.include(ROOM);
    expect(text).not.to.include('DROP');
    expect(text).not.to.include("O'Brien");
    expect(text).not.to.include('evil');
    for (const v of (values.slice(1) as unknown[][]).flat()) {
      if (typeof v === 'string') expect(text).not.to.include(v);
    }
  });

  it('writes the same text whatever the rows, so the statement can be prepared once', function () {
    const one = changedMany(4).plan.statements[0]!.text;
    const many = changedMany(40).plan.statements[0]!.text;
    expect(one).to.equal(many);
  });

  it('writes nothing for a batch that changed no character', function () {
    const base = projection(3);
    const p = plan(ROOM, base, new Int32Array(0), NONE);
    expect(p.statements).to.deep.equal([]);
    expect(p.next.version).to.equal(base.version + 1);
    expect(statementsFor(ROOM, base, [{ op: 'replace', path: ['version'], value: 9 }])).to.deep.equal([]);
  });

  it('includes a newly created character with its names', function () {
    const base = projection(1);
    const created = new Map([[1, { nick: 'Zoë', jid: 'zoe@example.org' }]]);
    const p = plan(ROOM, base, changes([1, Field.created, 1], [1, Field.location, 3], [1, Field.present, 1]), created);
    expect(p.statements).to.have.length(1);
    expect(p.statements[0]!.values).to.deep.equal([ROOM, [1], ['Zoë'], ['zoe@example.org'], [3], [true], [PLAYER_HP], [false], [false]]);
  });

  it('one statement per table: characters, items (their place) and the room seed, only when each changed', function () {
    const base = projection(2);
    const log = new Int32Array([Entity.item, 0, Field.place, -2, Entity.character, 1, Field.hp, 3, Entity.room, 0, Field.seed, 99]);
    const p = plan(ROOM, base, log, NONE);
    expect(p.statements.map((st) => st.text.trim().split(/\s+/).slice(0, 3).join(' '))).to.deep.equal([
      'INSERT INTO characters', 'UPDATE items SET', 'UPDATE rooms SET',
    ]);
    expect(p.statements[1]!.values).to.deep.equal([ROOM, [0], [-2]]);
    expect(p.statements[2]!.values).to.deep.equal([ROOM, 99]);
    const onlyItem = plan(ROOM, base, new Int32Array([Entity.item, 1, Field.place, 0]), NONE);
    expect(onlyItem.statements.map((st) => st.text.trim().split(/\s+/)[1])).to.deep.equal(['items']);
  });

  it('plan() returns the same next, patches and statements as its parts', function () {
    const base = projection(5);
    const log = changes([2, Field.location, 1], [4, Field.present, 0]);
    const p = plan(ROOM, base, log, NONE);
    const [next, patches, inverse] = applyChanges(base, log, NONE);
    expect(p.next).to.deep.equal(next);
    expect(p.patches).to.deep.equal(patches);
    expect(p.inverse).to.deep.equal(inverse);
    expect(p.statements).to.deep.equal(statementsFor(ROOM, next, patches));
  });
});
