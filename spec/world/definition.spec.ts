// lib/world parseWorld: an operator's world file is checked before anything is
// written, and every error names the file, the line and the reason.
import { expect } from 'chai';
import path from 'node:path';
import { parseWorld, readWorldFile, type WorldDefinition } from '../../lib/world/index.ts';
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
  it('parses the shipped config/worlds/realm.yaml: at least 5 locations, every exit leads somewhere', function () {
    const world = readWorldFile(path.join(ROOT_DIR, 'config/worlds/realm.yaml'));
    expect(world.id).to.equal('realm');
    expect(world.title).not.to.equal('');
    expect(world.subject).not.to.equal('');
    expect(world.locations.length).to.be.at.least(5);
    checkExitsLead(world);
  });

  it('reads a valid world: ids, titles, exits by direction, in file order', function () {
    const world = parseWorld(VALID, FILE);
    expect(world).to.deep.equal({
      id: 'test-world',
      title: 'Test World',
      subject: 'Welcome to the test.',
      start: 'hall',
      locations: [
        { key: 'hall', title: 'Great Hall', description: 'A long hall.', exits: { east: 'kitchen', up: 'attic' } },
        { key: 'kitchen', title: 'Kitchen', description: 'Pots and pans.', exits: { west: 'hall' } },
        { key: 'attic', title: 'Attic', description: 'Dusty.', exits: { down: 'hall' } },
      ],
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

  it('reports a YAML syntax error with its line', function () {
    const source = edit(VALID, '    description: Dusty.', '    description: "Dusty.');
    const { line } = worldError(source);
    expect(line).to.be.at.least(lineOf(source, '"Dusty.'));
  });
});
