// lib/world parseWorld: an operator's world file is checked before anything is
// written, and every error names the file, the line and the reason.
import { expect } from 'chai';
import path from 'node:path';
import { parseWorld, readWorldFile, seedOf, type WorldDefinition } from '../../lib/world/index.ts';
import { ROOT_DIR } from '../../lib/config/index.ts';
import { WorldError } from '../../lib/errors.ts';
import { DIRECTIONS } from '../../lib/engines/protocol.ts';
import {
  ITEM_DESCRIPTION_CHARS_MAX, ITEM_NAME_CHARS_MAX, ITEMS_PER_ROOM_MAX, KEYWORD_CHARS_MAX, KEYWORDS_PER_THING_MAX, LOCATION_DESCRIPTION_CHARS_MAX,
  LOCATION_TITLE_CHARS_MAX, LOCATIONS_PER_ROOM_MAX, NICK_CHARS_MAX, NPC_DESCRIPTION_CHARS_MAX, NPC_THANKS_CHARS_MAX, NPCS_PER_ROOM_MAX,
  WORLD_KEY_CHARS_MAX, WORLD_SUBJECT_CHARS_MAX, WORLD_TITLE_CHARS_MAX, OWNERS_PER_ROOM_MAX,
} from '../../lib/constants.ts';

const FILE = 'worlds/test.yaml';

const VALID = `# a small test world
id: test-world
title: Test World
subject: Welcome to the test.
start: hall
locations:
  hall:
    title: Great Hall
    description: A long hall.
    exits: { east: kitchen, up: attic }
  kitchen:
    title: Kitchen
    description: Pots and pans.
    exits:
      west: hall
  attic:
    title: Attic
    description: Dusty.
    exits: { down: hall }
`;

/** Replaces exactly one occurrence, so each case changes what it says it does. */
function edit(source: string, from: string, to: string): string {
  expect(source.split(from), `one ${JSON.stringify(from)} in the source`).to.have.length(2);
  return source.replace(from, to);
}

/** 1-based line of the first line containing `marker`. */
function lineOf(source: string, marker: string): number {
  const index = source.split('\n').findIndex((l) => l.includes(marker));
  expect(index, `marker ${JSON.stringify(marker)}`).to.be.at.least(0);
  return index + 1;
}

function worldError(source: string): { line: number; reason: string } {
  try {
    parseWorld(source, FILE);
  } catch (err) {
    expect(err).to.be.instanceOf(WorldError);
    const message = (err as Error).message;
    const match = /^worlds\/test\.yaml:(\d+): (.+)$/s.exec(message);
    expect(match, `"${message}" names file:line: reason`).to.not.equal(null);
    return { line: Number(match![1]), reason: match![2]! };
  }
  expect.fail('expected a WorldError');
}

function checkExitsLead(world: WorldDefinition): void {
  const keys = new Set(world.locations.map((l) => l.key));
  expect(keys.size, 'location keys are unique').to.equal(world.locations.length);
  expect(keys.has(world.start), 'start is a location').to.equal(true);
  for (const l of world.locations) {
    expect(l.title.trim(), `${l.key} title`).not.to.equal('');
    expect(l.description.trim(), `${l.key} description`).not.to.equal('');
    for (const [dir, target] of Object.entries(l.exits)) {
      expect(DIRECTIONS as readonly string[], `${l.key} ${dir}`).to.include(dir);
      expect(keys.has(target!), `${l.key} ${dir} -> ${target}`).to.equal(true);
    }
  }
}

describe('world parseWorld', function () {
  it('parses the shipped config/worlds/realm.yaml: 12+ locations, 3+ NPCs, one locked door, a quest', function () {
    const world = readWorldFile(path.join(ROOT_DIR, 'config/worlds/realm.yaml'));
    expect(world.id).to.equal('realm');
    expect(world.title).not.to.equal('');
    expect(world.subject).not.to.equal('');
    expect(world.locations.length).to.be.at.least(12);
    expect(world.npcs.length).to.be.at.least(3);
    expect(world.items.length).to.be.at.least(5);
    expect(world.locations.flatMap((l) => Object.keys(l.locked))).to.have.length(1);
    expect(world.npcs.filter((n) => n.wants !== undefined)).to.have.length.at.least(1);
    checkExitsLead(world);
  });

  it('reads a valid world: ids, titles, exits by direction, in file order', function () {
    const world = parseWorld(VALID, FILE);
    expect(world).to.deep.equal({
      id: 'test-world',
      title: 'Test World',
      subject: 'Welcome to the test.',
      anonymity: 'semi',
      owners: [],
      start: 'hall',
      seed: seedOf('test-world'),
      locations: [
        { key: 'hall', title: 'Great Hall', description: 'A long hall.', exits: { east: 'kitchen', up: 'attic' }, locked: {} },
        { key: 'kitchen', title: 'Kitchen', description: 'Pots and pans.', exits: { west: 'hall' }, locked: {} },
        { key: 'attic', title: 'Attic', description: 'Dusty.', exits: { down: 'hall' }, locked: {} },
      ],
      items: [],
      npcs: [],
    });
    checkExitsLead(world);
  });

  it('allows a location without exits', function () {
    const world = parseWorld(edit(VALID, '    exits: { down: hall }\n', ''), FILE);
    expect(world.locations[2]!.exits).to.deep.equal({});
  });

  it('refuses an exit to a location that does not exist, naming the exit and the target', function () {
    const source = edit(VALID, 'east: kitchen', 'east: pantry');
    const { line, reason } = worldError(source);
    expect(reason).to.include('"pantry"');
    expect(reason).to.include('east');
    expect(reason).to.include('hall');
    expect(line).to.be.within(lineOf(source, '  hall:'), lineOf(source, 'east: pantry'));
  });

  it('refuses an unknown key at the top, with its line', function () {
    const source = edit(VALID, 'start: hall\n', 'start: hall\nweather: rainy\n');
    const { line, reason } = worldError(source);
    expect(reason).to.include('unknown key "weather"');
    expect(line).to.equal(lineOf(source, 'weather'));
  });

  it('refuses an unknown key in a location, with its line', function () {
    const source = edit(VALID, '    description: Pots and pans.\n', '    description: Pots and pans.\n    smell: onions\n');
    const { line, reason } = worldError(source);
    expect(reason).to.include('unknown key "smell"');
    expect(line).to.equal(lineOf(source, 'smell'));
  });

  it('refuses an unknown direction, naming the valid ones', function () {
    const source = edit(VALID, '      west: hall', '      northwest: hall');
    const { line, reason } = worldError(source);
    expect(reason).to.include('unknown direction "northwest"');
    for (const d of DIRECTIONS) expect(reason).to.include(d);
    expect(line).to.equal(lineOf(source, 'northwest'));
  });

  it('refuses a duplicate key (YAML would silently keep one), with its line', function () {
    const source = edit(VALID, '  attic:\n', '  kitchen:\n    title: Second Kitchen\n    description: Again.\n  attic:\n');
    const { line, reason } = worldError(source);
    expect(reason).to.match(/unique|duplicate/i);
    expect(line).to.equal(lineOf(source, 'Second Kitchen') - 1);
  });

  it('refuses a duplicate direction in one location', function () {
    const source = edit(VALID, '      west: hall\n', '      west: hall\n      west: attic\n');
    const { line, reason } = worldError(source);
    expect(reason).to.match(/unique|duplicate/i);
    expect(line).to.equal(lineOf(source, 'west: attic'));
  });

  it('refuses a start that is not a location', function () {
    const source = edit(VALID, 'start: hall', 'start: cellar');
    const { line, reason } = worldError(source);
    expect(reason).to.include('start "cellar" is not a location');
    expect(line).to.equal(lineOf(source, 'start: cellar'));
  });

  it('refuses a bad id (it becomes the room JID node)', function () {
    for (const bad of ['Test World', 'UPPER', 'café', '-dash', 'a@b']) {
      const source = edit(VALID, 'id: test-world', `id: ${JSON.stringify(bad)}`);
      const { line, reason } = worldError(source);
      expect(reason, bad).to.include(`id ${JSON.stringify(bad)}`);
      expect(line, bad).to.equal(lineOf(source, 'id: '));
    }
  });

  it('refuses a location without a title, at that location', function () {
    const source = edit(VALID, '    title: Kitchen\n', '');
    const { line, reason } = worldError(source);
    expect(reason).to.include('title must be a non-empty string');
    expect(line).to.be.within(lineOf(source, '  kitchen:'), lineOf(source, 'Pots and pans'));
  });

  it('refuses a bad location key, no locations, and a document that is not a mapping', function () {
    expect(worldError(edit(VALID, '  attic:', '  "at tic":')).reason).to.include('location key "at tic"');
    expect(worldError(edit(VALID, 'east: kitchen, up: attic', 'east: kitchen, up: "at tic"').replace('  attic:', '  "at tic":')).reason)
      .to.include('location key');
    const empty = VALID.slice(0, VALID.indexOf('locations:')) + 'locations: {}\n';
    expect(worldError(empty).reason).to.include('locations must be a mapping');
    expect(worldError('- just\n- a list\n').reason).to.include('a world is a mapping');
  });

  describe('items, NPCs and locks', function () {
    const THINGS = `${VALID.replace('    exits: { east: kitchen, up: attic }\n', '    exits: { east: kitchen, up: attic }\n    locked: { up: brass-key }\n')}items:
  brass-key:
    name: brass key
    keywords: [key, brass]
    description: Small and shiny.
    weight: 1
    at: kitchen
  cleaver:
    name: meat cleaver
    keywords: [cleaver]
    description: Heavy.
    weight: 3
    damage: 2
    at: kitchen
npcs:
  cook:
    name: Cook
    keywords: [cook]
    description: Floury.
    at: kitchen
    hp: 12
    damage: 2
    wants: cleaver
    thanks: My cleaver!
  cat:
    name: kitchen cat
    keywords: [cat]
    description: Ginger.
    at: hall
    hp: 3
    damage: 1
    wander: true
`;

    it('reads items (damage defaults to 0), NPCs (wander defaults to false) and a locked exit', function () {
      const world = parseWorld(THINGS, FILE);
      expect(world.locations[0]!.locked).to.deep.equal({ up: 'brass-key' });
      expect(world.items).to.deep.equal([
        { key: 'brass-key', name: 'brass key', keywords: ['key', 'brass'], description: 'Small and shiny.', weight: 1, damage: 0, at: 'kitchen' },
        { key: 'cleaver', name: 'meat cleaver', keywords: ['cleaver'], description: 'Heavy.', weight: 3, damage: 2, at: 'kitchen' },
      ]);
      expect(world.npcs[0]).to.deep.equal({ key: 'cook', name: 'Cook', keywords: ['cook'], description: 'Floury.', at: 'kitchen', hp: 12, damage: 2, wander: false, wants: 'cleaver', thanks: 'My cleaver!' });
      expect(world.npcs[1]!.wander).to.equal(true);
      expect(world.npcs[1]!.wants).to.equal(undefined);
    });

    // what, from, to, the reason, and the line the error must point at
    const cases: [string, string, string, string, string][] = [
      ['a lock on a way that is not there', 'locked: { up: brass-key }', 'locked: { west: brass-key }', 'hall locks west, but has no exit west', 'locked: { west'],
      ['a lock by an unknown item', 'locked: { up: brass-key }', 'locked: { up: gold-key }', 'locked by unknown item "gold-key"', 'gold-key'],
      ['an item at an unknown location', '    at: kitchen\n  cleaver:', '    at: larder\n  cleaver:', 'at "larder" is not a location', 'at: larder'],
      ['an NPC who wants an unknown item', 'wants: cleaver', 'wants: spoon', 'wants unknown item "spoon"', 'wants: spoon'],
      ['thanks without wants', '    wants: cleaver\n', '', 'wants and thanks go together', 'thanks: My cleaver!'],
      ['two NPCs with one name', 'name: kitchen cat', 'name: cook', 'another NPC is already called "cook"', 'name: cook'],
      ['a keyword that is not one lower-case word', 'keywords: [cleaver]', 'keywords: [Big Cleaver]', 'keyword "Big Cleaver" must be one lower-case word', 'Big Cleaver'],
      ['a weight over what anyone can carry', 'weight: 3', 'weight: 11', 'weight must be a whole number from 0 to 10', 'weight: 11'],
      ['hit points of zero', 'hp: 3', 'hp: 0', 'hp must be a whole number from 1', 'hp: 0'],
      ['an unknown key on an item', '    weight: 3\n', '    weight: 3\n    colour: red\n', 'item cleaver: unknown key "colour"', 'colour'],
      ['an unknown key on an NPC', '    wander: true\n', '    wander: true\n    mood: grumpy\n', 'npc cat: unknown key "mood"', 'mood'],
    ];
    for (const [what, from, to, reason, marker] of cases) {
      it(`refuses ${what}, at its line`, function () {
        const source = edit(THINGS, from, to);
        const error = worldError(source);
        expect(error.reason).to.include(reason);
        expect(error.line).to.equal(lineOf(source, marker));
      });
    }

    // what, from, the field's text at its limit (accepted) and over it (refused), the reason, the marker of its line
    const keywords = (n: number) => `[${Array.from({ length: n }, (_, i) => `w${i}`).join(', ')}]`;
    const limits: [string, string, (n: number) => string, number, string, string][] = [
      ['an item name', 'name: meat cleaver', (n) => `name: ${'c'.repeat(n)}`, ITEM_NAME_CHARS_MAX, 'item cleaver: name', 'name: ccc'],
      ['an item description', 'description: Heavy.', (n) => `description: ${'h'.repeat(n)}`, ITEM_DESCRIPTION_CHARS_MAX, 'item cleaver: description', 'description: hhh'],
      ['an NPC name (its nick)', 'name: kitchen cat', (n) => `name: ${'k'.repeat(n)}`, NICK_CHARS_MAX, 'npc cat: name', 'name: kkk'],
      ['an NPC description', 'description: Ginger.', (n) => `description: ${'g'.repeat(n)}`, NPC_DESCRIPTION_CHARS_MAX, 'npc cat: description', 'description: ggg'],
      ['an NPC\'s thanks', 'thanks: My cleaver!', (n) => `thanks: ${'m'.repeat(n)}`, NPC_THANKS_CHARS_MAX, 'npc cook: thanks', 'thanks: mmm'],
      ['a keyword', 'keywords: [cleaver]', (n) => `keywords: [${'c'.repeat(n)}]`, KEYWORD_CHARS_MAX, `item cleaver: keyword "${'c'.repeat(KEYWORD_CHARS_MAX + 1)}"`, 'keywords: [ccc'],
    ];
    for (const [what, from, at, max, owner, marker] of limits) {
      it(`takes ${what} of ${max} characters and refuses one of ${max + 1}, at its line`, function () {
        expect(() => parseWorld(edit(THINGS, from, at(max)), FILE)).not.to.throw();
        const source = edit(THINGS, from, at(max + 1));
        const error = worldError(source);
        expect(error.reason).to.equal(`${owner} is ${max + 1} characters; at most ${max}`);
        expect(error.line).to.equal(lineOf(source, marker));
      });
    }

    it(`takes ${KEYWORDS_PER_THING_MAX} keywords on a thing and refuses ${KEYWORDS_PER_THING_MAX + 1}`, function () {
      expect(parseWorld(edit(THINGS, 'keywords: [cat]', `keywords: ${keywords(KEYWORDS_PER_THING_MAX)}`), FILE).npcs[1]!.keywords).to.have.length(KEYWORDS_PER_THING_MAX);
      const source = edit(THINGS, 'keywords: [cat]', `keywords: ${keywords(KEYWORDS_PER_THING_MAX + 1)}`);
      const error = worldError(source);
      expect(error.reason).to.equal(`npc cat: ${KEYWORDS_PER_THING_MAX + 1} keywords; at most ${KEYWORDS_PER_THING_MAX}`);
      expect(error.line).to.equal(lineOf(source, 'keywords: [w0'));
    });
  });

  describe('limits: every text and every list of a world file is bounded', function () {
    // what, from, the field at n characters, its limit, the reason's owner and key, the marker of its line
    const limits: [string, string, (n: number) => string, number, string, string][] = [
      ['a world title', 'title: Test World', (n) => `title: ${'t'.repeat(n)}`, WORLD_TITLE_CHARS_MAX, 'world: title', 'title: ttt'],
      ['a subject', 'subject: Welcome to the test.', (n) => `subject: ${'s'.repeat(n)}`, WORLD_SUBJECT_CHARS_MAX, 'world: subject', 'subject: sss'],
      ['a location title', 'title: Kitchen', (n) => `title: ${'k'.repeat(n)}`, LOCATION_TITLE_CHARS_MAX, 'location kitchen: title', 'title: kkk'],
      ['a location description', 'description: Pots and pans.', (n) => `description: ${'p'.repeat(n)}`, LOCATION_DESCRIPTION_CHARS_MAX, 'location kitchen: description', 'description: ppp'],
    ];
    for (const [what, from, at, max, owner, marker] of limits) {
      it(`takes ${what} of ${max} characters and refuses one of ${max + 1}, at its line`, function () {
        expect(() => parseWorld(edit(VALID, from, at(max)), FILE)).not.to.throw();
        const source = edit(VALID, from, at(max + 1));
        const error = worldError(source);
        expect(error.reason).to.equal(`${owner} is ${max + 1} characters; at most ${max}`);
        expect(error.line).to.equal(lineOf(source, marker));
      });
    }

    it('counts characters, not UTF-16 units: a title of astral-plane characters', function () {
      const map = '\u{1F5FA}'; // one character, two UTF-16 units
      expect(parseWorld(edit(VALID, 'title: Test World', `title: ${map.repeat(WORLD_TITLE_CHARS_MAX)}`), FILE).title).to.have.length(2 * WORLD_TITLE_CHARS_MAX);
      const { reason } = worldError(edit(VALID, 'title: Test World', `title: ${map.repeat(WORLD_TITLE_CHARS_MAX + 1)}`));
      expect(reason).to.equal(`world: title is ${WORLD_TITLE_CHARS_MAX + 1} characters; at most ${WORLD_TITLE_CHARS_MAX}`);
    });

    it(`refuses a location key over ${WORLD_KEY_CHARS_MAX} characters, at its line`, function () {
      const key = 'k'.repeat(WORLD_KEY_CHARS_MAX + 1);
      const source = edit(VALID, '  attic:\n', `  ${key}:\n    title: Long\n    description: Long.\n  attic:\n`);
      const { line, reason } = worldError(source);
      expect(reason).to.equal(`location key "${key}" is ${WORLD_KEY_CHARS_MAX + 1} characters; at most ${WORLD_KEY_CHARS_MAX}`);
      expect(line).to.equal(lineOf(source, key));
    });

    /** VALID with `n` more entries in `section`, each one line; a section other than locations is added at the end. */
    function withEntries(section: 'locations' | 'items' | 'npcs', n: number, entry: (i: number) => string): string {
      const lines = Array.from({ length: n }, (_, i) => `  ${entry(i)}\n`).join('');
      return section === 'locations' ? `${VALID}${lines}` : `${VALID}${section}:\n${lines}`;
    }
    // section, its limit, entries VALID has already, one entry; whether to parse a world at the limit too
    // (one at the location limit takes the YAML parser alone seconds: items and NPCs show the same check passing).
    const counts: ['locations' | 'items' | 'npcs', number, number, (i: number) => string, boolean][] = [
      // Only counted: the entries need not be whole locations, which keeps this one cheaper to parse.
      ['locations', LOCATIONS_PER_ROOM_MAX, 3, (i) => `l${i}: 0`, false],
      ['items', ITEMS_PER_ROOM_MAX, 0, (i) => `i${i}: { name: pebble ${i}, description: Grey., weight: 1, at: hall }`, true],
      ['npcs', NPCS_PER_ROOM_MAX, 0, (i) => `n${i}: { name: mouse ${i}, description: Small., at: hall, hp: 1, damage: 1 }`, true],
    ];
    for (const [section, max, present, entry, atLimitToo] of counts) {
      it(`refuses ${max + 1} ${section} (at most ${max}), at the first one over`, function () {
        if (atLimitToo) expect(parseWorld(withEntries(section, max - present, entry), FILE)[section]).to.have.length(max);
        const source = withEntries(section, max + 1 - present, entry);
        const { line, reason } = worldError(source);
        expect(reason).to.equal(`${max + 1} ${section}; at most ${max}`);
        expect(line).to.equal(lineOf(source, `  ${entry(max - present).split(':')[0]}:`));
      });
    }
  });

  describe('owners (XEP-0045 §5.2)', function () {
    const withOwners = (list: string) => edit(VALID, 'start: hall', `owners: ${list}\nstart: hall`);

    it('reads bare JIDs, in lower case, in file order', function () {
      expect(parseWorld(withOwners('[Olga@Example.org, admin@game.example]'), FILE).owners).to.deep.equal(['olga@example.org', 'admin@game.example']);
    });

    it('refuses what is not a bare JID: no localpart, a resource, spaces, not a list; and one JID twice', function () {
      const cases: [string, RegExp][] = [
        ['[example.org]', /"example.org" is not a bare JID/],
        ['[olga@example.org/phone]', /is not a bare JID \(name@server, no \/resource\)/],
        ['["olga smith@example.org"]', /is not a bare JID/],
        ['olga@example.org', /owners must be a list of bare JIDs/],
        ['[olga@example.org, OLGA@example.org]', /olga@example.org twice/],
      ];
      for (const [list, reason] of cases) {
        const source = withOwners(list);
        const error = worldError(source);
        expect(error.reason, list).to.match(reason);
        expect(error.line, list).to.equal(lineOf(source, 'owners:'));
      }
    });

    it(`takes ${OWNERS_PER_ROOM_MAX} owners and refuses ${OWNERS_PER_ROOM_MAX + 1}`, function () {
      const jids = (n: number) => `[${Array.from({ length: n }, (_, i) => `o${i}@example.org`).join(', ')}]`;
      expect(parseWorld(withOwners(jids(OWNERS_PER_ROOM_MAX)), FILE).owners).to.have.length(OWNERS_PER_ROOM_MAX);
      expect(worldError(withOwners(jids(OWNERS_PER_ROOM_MAX + 1))).reason).to.equal(`world: ${OWNERS_PER_ROOM_MAX + 1} owners; at most ${OWNERS_PER_ROOM_MAX}`);
    });
  });

  it('reports a YAML syntax error with its line', function () {
    const source = edit(VALID, '    description: Dusty.', '    description: "Dusty.');
    const { line } = worldError(source);
    expect(line).to.be.at.least(lineOf(source, '"Dusty.'));
  });
});
