// lib/effects render: effect records -> the text players read (DESIGN §1).
import { expect } from 'chai';
import { render, exitsLine, type Message } from '../../lib/effects/index.ts';
import { DIRECTIONS, DIRECTION_COUNT, Fx } from '../../lib/engines/protocol.ts';
import { HELP_TEXT } from '../../lib/negotiation/index.ts';
import type { Projection, RoomWorld } from '../../lib/contextualization/index.ts';

const dir = (name: (typeof DIRECTIONS)[number]) => DIRECTIONS.indexOf(name);

function world(): RoomWorld {
  const exits = new Int32Array(3 * DIRECTION_COUNT).fill(-1);
  exits[0 * DIRECTION_COUNT + dir('north')] = 1;
  exits[0 * DIRECTION_COUNT + dir('east')] = 2;
  exits[1 * DIRECTION_COUNT + dir('south')] = 0;
  exits[1 * DIRECTION_COUNT + dir('down')] = 2;
  return {
    id: 'realm', title: 'The Realm', subject: 'Welcome',
    locations: [
      { key: 'square', title: 'Town Square', description: 'Cobblestones.\nA fountain.' },
      { key: 'gate', title: 'North Gate', description: 'Two towers.' },
      { key: 'cell', title: 'Cell', description: 'No way out.' },
    ],
    exits, locationCount: 3, startLocation: 0,
  };
}

const projection: Projection = {
  version: 1,
  characters: ['Alice', 'Bob', 'Carol', 'Dave'].map((nick, id) => ({ id, nick, jid: `${nick.toLowerCase()}@x`, location: 0, present: true })),
};

function effects(...records: [number, number, number?, number?, number?][]): Int32Array {
  return new Int32Array(records.flatMap(([to, fx, a = 0, b = 0, c = 0]) => [to, fx, a, b, c]));
}

function renderAll(raw: Int32Array, texts: string[] = []): Message[] {
  return render(raw, { world: world(), projection, texts });
}

describe('effects render', function () {
  describe('a description', function () {
    it('has the title first, then the description, and Exits last', function () {
      const [m, ...rest] = renderAll(effects([0, Fx.description, 0]));
      expect(rest).to.deep.equal([]);
      expect(m!.to).to.equal(0);
      expect(m!.speaker).to.equal(null);
      const lines = m!.body.split('\n');
      expect(lines[0]).to.equal('Town Square');
      expect(lines.slice(1, 3)).to.deep.equal(['Cobblestones.', 'A fountain.']);
      expect(lines[lines.length - 1]).to.equal('Exits: north, east');
      expect(m!.body).not.to.include('Also here');
    });

    it("names the people there on one line, 'Also here: A, B', before the exits", function () {
      const [m] = renderAll(effects([0, Fx.description, 0], [0, Fx.descriptionPerson, 1], [0, Fx.descriptionPerson, 3]));
      const lines = m!.body.split('\n');
      expect(lines[0]).to.equal('Town Square');
      expect(lines[lines.length - 2]).to.equal('Also here: Bob, Dave');
      expect(lines[lines.length - 1]).to.equal('Exits: north, east');
    });

    it("ends with 'Exits: none' where there are none, and lists exits in direction order", function () {
      expect(renderAll(effects([0, Fx.description, 2]))[0]!.body.split('\n').pop()).to.equal('Exits: none');
      expect(renderAll(effects([0, Fx.description, 1]))[0]!.body.split('\n').pop()).to.equal('Exits: south, down');
      expect(exitsLine(world(), 0)).to.equal('Exits: north, east');
      expect(exitsLine(world(), 2)).to.equal('Exits: none');
    });

    it('keeps the people of two descriptions in their own messages', function () {
      const out = renderAll(effects(
        [0, Fx.description, 0], [0, Fx.descriptionPerson, 1],
        [2, Fx.description, 1], [2, Fx.descriptionPerson, 3],
      ));
      expect(out.map((m) => m.to)).to.deep.equal([0, 2]);
      expect(out[0]!.body).to.include('Also here: Bob\n');
      expect(out[0]!.body).not.to.include('Dave');
      expect(out[1]!.body.split('\n')).to.deep.equal(['North Gate', 'Two towers.', 'Also here: Dave', 'Exits: south, down']);
    });
  });

  describe('say', function () {
    it('comes from the speaker to each hearer, with echoOf the command index only for the speaker', function () {
      const out = renderAll(effects([0, Fx.say, 1, 0, 4], [1, Fx.say, 1, 0, 4], [2, Fx.say, 1, 0, 4]), ['Hello, world!']);
      expect(out).to.deep.equal([
        { to: 0, speaker: 'Bob', body: 'Hello, world!' },
        { to: 1, speaker: 'Bob', body: 'Hello, world!', echoOf: 4 },
        { to: 2, speaker: 'Bob', body: 'Hello, world!' },
      ]);
    });

    it('uses the text the record points at', function () {
      const out = renderAll(effects([3, Fx.say, 0, 1, 0], [3, Fx.say, 2, 0, 1]), ['first', 'second']);
      expect(out.map((m) => [m.speaker, m.body])).to.deep.equal([['Alice', 'second'], ['Carol', 'first']]);
    });
  });

  describe('who', function () {
    it('groups the header and one line per player into one message', function () {
      const out = renderAll(effects([2, Fx.who, 3], [2, Fx.whoPerson, 0, 0], [2, Fx.whoPerson, 1, 1], [2, Fx.whoPerson, 3, 2], [2, Fx.help]));
      expect(out).to.have.length(2);
      expect(out[0]!.to).to.equal(2);
      expect(out[0]!.speaker).to.equal(null);
      expect(out[0]!.body.split('\n')).to.deep.equal([
        'Players in The Realm (3):',
        '  Alice - Town Square',
        '  Bob - North Gate',
        '  Dave - Cell',
      ]);
      expect(out[1]!.body).to.equal(HELP_TEXT);
    });
  });

  describe('arrive and depart', function () {
    it('says where someone came from or went, and entering or leaving the world', function () {
      const bodies = renderAll(effects(
        [0, Fx.arrive, 1, -1],
        [0, Fx.arrive, 1, dir('south')],
        [0, Fx.arrive, 2, dir('down')],
        [0, Fx.arrive, 3, dir('up')],
        [0, Fx.depart, 1, -1],
        [0, Fx.depart, 2, dir('east')],
        [0, Fx.depart, 3, dir('up')],
      )).map((m) => m.body);
      expect(bodies).to.deep.equal([
        'Bob has entered the world.',
        'Bob arrives from the south.',
        'Carol arrives from below.',
        'Dave arrives from above.',
        'Bob has left the world.',
        'Carol leaves east.',
        'Dave leaves up.',
      ]);
    });

    it('comes from the game (the bare room), not from a player', function () {
      const out = renderAll(effects([0, Fx.arrive, 1, -1], [0, Fx.depart, 1, -1]));
      expect(out.every((m) => m.speaker === null && m.echoOf === undefined)).to.equal(true);
    });
  });

  describe('replies', function () {
    it('explains a missing exit, help and a command from someone not in the world', function () {
      const out = renderAll(effects([1, Fx.noExit, dir('west')], [1, Fx.help], [3, Fx.notPresent]));
      expect(out.map((m) => [m.to, m.body])).to.deep.equal([
        [1, "You can't go west from here."],
        [1, HELP_TEXT],
        [3, 'You are not in this world: join the room first.'],
      ]);
    });

    it('renders nothing for no effects', function () {
      expect(renderAll(new Int32Array(0))).to.deep.equal([]);
    });
  });
});
