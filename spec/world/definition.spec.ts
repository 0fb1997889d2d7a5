// lib/world parseWorld: an operator's world file is checked before anything is
// written, and every error names the file, the line and the reason.
import { expect } from 'chai';
import path from 'node:path';
import { parseWorld, readWorldFile, seedOf, type WorldDefinition } from '../../lib/world/index.ts';
import { ROOT_DIR } from '../../lib/config/index.ts';
import { WorldError } from '../../lib/errors.ts';
import { DIRECTIONS } from '../../lib/engines/protocol.ts';

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
  });

  it('reports a YAML syntax error with its line', function () {
    const source = edit(VALID, '    description: Dusty.', '    description: "Dusty.');
    const { line } = worldError(source);
    expect(line).to.be.at.least(lineOf(source, '"Dusty.'));
  });
});
