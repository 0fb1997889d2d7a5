// lib/effects render: effect records -> the text players read (DESIGN §1). A
// record for a location reaches whoever is there at that point of the batch.
import { expect } from 'chai';
import { render, exitsLine, type Message } from '../../lib/effects/index.ts';
import { characterCode, carriedBy, DIRECTIONS, DIRECTION_COUNT, Entity, everyoneAt, Field, Fx, Look } from '../../lib/engines/protocol.ts';
import type { Projection, RoomWorld } from '../../lib/contextualization/index.ts';
import { NAMES_LISTED_MAX } from '../../lib/constants.ts';

const dir = (name: (typeof DIRECTIONS)[number]) => DIRECTIONS.indexOf(name);
const ints = (v: number[]) => Int32Array.from(v);

/** Square (0) -north- Gate (1), Square -east- Cell (2). Character 0 is an NPC, the giant rat. */
function world(): RoomWorld {
  const exits = new Int32Array(3 * DIRECTION_COUNT).fill(-1);
  exits[0 * DIRECTION_COUNT + dir('north')] = 1;
  exits[0 * DIRECTION_COUNT + dir('east')] = 2;
  exits[1 * DIRECTION_COUNT + dir('south')] = 0;
  exits[1 * DIRECTION_COUNT + dir('down')] = 2;
  return {
    id: 'realm', title: 'The Realm', subject: 'Welcome', anonymity: 'semi',
    locations: [
      { key: 'square', title: 'Town Square', description: 'Cobblestones.\nA fountain.' },
      { key: 'gate', title: 'North Gate', description: 'Two towers.' },
      { key: 'cell', title: 'Cell', description: 'No way out.' },
    ],
    items: [
      { key: 'key', name: 'iron key', keywords: ['key'], description: 'Black with age.', weight: 1, damage: 0 },
      { key: 'dagger', name: 'rusty dagger', keywords: ['dagger'], description: 'More rust than steel.', weight: 1, damage: 2 },
    ],
    npcs: new Map([[0, { key: 'rat', keywords: ['rat'], description: 'A rat the size of a dog.', thanks: null }]]),
    exits, locks: new Int32Array(3 * DIRECTION_COUNT).fill(-1), locationCount: 3, startLocation: 0,
    itemWeight: ints([1, 1]), itemDamage: ints([0, 2]), itemHome: ints([0, 0]),
    npcHp: ints([6]), npcDamage: ints([1]), npcHome: ints([0]), npcWander: ints([1]), npcWants: ints([-1]),
  };
}

const ALICE = 1;
const BOB = 2;
const CAROL = 3;
const DAVE = 4;

const projection: Projection = {
  version: 1, seed: 1,
  characters: ['giant rat', 'Alice', 'Bob', 'Carol', 'Dave'].map((nick, id) => ({
    id, nick, jid: id === 0 ? '' : `${nick.toLowerCase()}@x`, location: id === DAVE ? 1 : 0, present: true, hp: id === 0 ? 6 : 10, quest: false, released: false,
  })),
  items: [{ place: 0 }, { place: carriedBy(ALICE) }],
};

type Fx7 = [audience: number, template: number, a?: number, b?: number, c?: number, except?: number, mark?: number];

function renderAll(records: Fx7[], opts: { texts?: string[]; changes?: number[] } = {}): Message[] {
  const effects = Int32Array.from(records.flatMap(([to, fx, a = 0, b = 0, c = 0, except = -1, mark = 0]) => [to, fx, a, b, c, except, mark]));
  return render({ changes: ints(opts.changes ?? []), effects }, {
    world: world(), before: projection, after: projection, texts: (opts.texts ?? []).map((text, i) => ({ text, command: 10 + i })),
  }).messages;
}

const bodies = (out: Message[]) => Object.fromEntries(out.map((m) => [m.to, m.body]));

describe('effects render', function () {
  describe('a description', function () {
    it('has the title first, then the description, the things, the people, and Exits last', function () {
      const [m] = renderAll([[ALICE, Fx.description, 0]]);
      expect(m!.body.split('\n')).to.deep.equal([
        'Town Square', 'Cobblestones.', 'A fountain.', 'You see: iron key.', 'Also here: giant rat, Bob, Carol', 'Exits: north, east',
      ]);
      expect(m!.speaker).to.equal(null);
    });

    it("ends with 'Exits: none' where there are none, and lists exits in direction order", function () {
      expect(renderAll([[ALICE, Fx.description, 2]])[0]!.body.split('\n').pop()).to.equal('Exits: none');
      expect(exitsLine(world(), 1)).to.equal('Exits: south, down');
    });

    it('carries the same place as data: key, title, exits, things and people in the order the text names them', function () {
      const [m] = renderAll([[ALICE, Fx.description, 0]]);
      expect(m!.place).to.deep.equal({
        key: 'square', title: 'Town Square', exits: ['north', 'east'], things: ['iron key'], moreThings: 0,
        people: ['giant rat', 'Bob', 'Carol'], morePeople: 0,
      });
      expect(renderAll([[ALICE, Fx.description, 2]])[0]!.place).to.include({ key: 'cell', title: 'Cell' }).and.deep.include({ exits: [], people: [] });
      expect(renderAll([[ALICE, Fx.who]])[0]!.place, 'only descriptions carry a place').to.equal(undefined);
    });

    it('shows the place as it is at that point of the batch: someone who walked in since is listed', function () {
      const walkIn = [Entity.character, DAVE, Field.location, 0];
      const [before, after] = renderAll([[ALICE, Fx.description, 0, 0, 0, -1, 0], [ALICE, Fx.description, 0, 0, 0, -1, 1]], { changes: walkIn });
      expect(before!.body).to.include('Also here: giant rat, Bob, Carol\n');
      expect(after!.body).to.include('Also here: giant rat, Bob, Carol, Dave\n');
    });
  });

  describe('a broadcast', function () {
    it('reaches the players present at the location, not NPCs, not the one excepted, not players elsewhere', function () {
      const out = renderAll([[everyoneAt(0), Fx.arrive, ALICE, dir('south'), 0, ALICE]]);
      expect(out.map((m) => m.to)).to.deep.equal([BOB, CAROL]);
      expect(out[0]!.body).to.equal('Alice arrives from the south.');
    });

    it('misses someone who left earlier in the batch and reaches someone who came', function () {
      const changes = [Entity.character, BOB, Field.present, 0, Entity.character, DAVE, Field.location, 0];
      const out = renderAll([[everyoneAt(0), Fx.say, ALICE, 0, 0, -1, 2]], { texts: ['hi'], changes });
      expect(out.map((m) => m.to)).to.deep.equal([ALICE, CAROL, DAVE]);
    });

    it('say comes from the speaker; only the speaker gets it as the reflection of their message', function () {
      const out = renderAll([[everyoneAt(0), Fx.say, BOB, 0]], { texts: ['Hello, world!'] });
      expect(out).to.deep.equal([
        { to: ALICE, speaker: 'Bob', body: 'Hello, world!' },
        { to: BOB, speaker: 'Bob', body: 'Hello, world!', reflects: 10 },
        { to: CAROL, speaker: 'Bob', body: 'Hello, world!' },
      ]);
    });

    it('emote is a /me action (XEP-0245) from the actor', function () {
      const out = renderAll([[everyoneAt(0), Fx.emote, CAROL, 0]], { texts: ['waves'] });
      expect(out.map((m) => [m.speaker, m.body])).to.deep.include(['Carol', '/me waves']);
    });

    it('tells each point of view its own sentence: you, them, everyone else', function () {
      expect(bodies(renderAll([[everyoneAt(0), Fx.take, ALICE, 0]]))).to.deep.equal({
        [ALICE]: 'You take the iron key.', [BOB]: 'Alice takes the iron key.', [CAROL]: 'Alice takes the iron key.',
      });
      expect(bodies(renderAll([[everyoneAt(0), Fx.give, ALICE, 1, BOB]]))).to.deep.equal({
        [ALICE]: 'You give the rusty dagger to Bob.', [BOB]: 'Alice gives the rusty dagger to you.', [CAROL]: 'Alice gives the rusty dagger to Bob.',
      });
    });
  });

  describe('a guest released', function () {
    it('tells those where it stood what it left there, as it carried it then', function () {
      // Alice has left the square carrying the dagger; the second record is marked after a change that gives her the key too.
      const gone = { ...projection, characters: projection.characters.map((c) => (c.id === ALICE ? { ...c, present: false } : c)) };
      const effects = Int32Array.from([everyoneAt(0), Fx.fade, ALICE, 0, 0, ALICE, 0, everyoneAt(0), Fx.fade, ALICE, 0, 0, ALICE, 1]);
      const changes = ints([Entity.item, 0, Field.place, carriedBy(ALICE), Entity.item, 0, Field.place, 0, Entity.item, 1, Field.place, 0]);
      const out = render({ changes, effects }, { world: world(), before: gone, after: gone, texts: [] }).messages;
      expect(out.map((m) => m.to), 'players in the square hear it; NPCs and the one who left do not').to.deep.equal([BOB, CAROL, BOB, CAROL]);
      expect(out[0]!.body).to.equal('Alice fades from the world, leaving the rusty dagger here.');
      expect(out[2]!.body).to.equal('Alice fades from the world, leaving the iron key and the rusty dagger here.');
      const emptyHanded = render({ changes: ints([]), effects: Int32Array.from([everyoneAt(0), Fx.fade, BOB, 0, 0, BOB, 0]) },
        { world: world(), before: projection, after: projection, texts: [] }).messages;
      expect(emptyHanded.map((m) => [m.to, m.body])).to.deep.equal([[ALICE, 'Bob fades from the world.'], [CAROL, 'Bob fades from the world.']]);
    });
  });

  describe('combat', function () {
    it('names a lower-case NPC with "the", and shows the one hit their health', function () {
      expect(bodies(renderAll([[everyoneAt(0), Fx.attack, 0, ALICE, 3]]))).to.deep.equal({
        [ALICE]: 'The giant rat hits you (3 damage, health 7/10).', [BOB]: 'The giant rat hits Alice (3 damage).', [CAROL]: 'The giant rat hits Alice (3 damage).',
      });
      expect(renderAll([[everyoneAt(0), Fx.attack, ALICE, 0, 0]])[0]!.body).to.equal('You swing at the giant rat and miss.');
    });

    it('announces a death from each side, and wakes the dead at home', function () {
      const out = bodies(renderAll([[everyoneAt(0), Fx.died, BOB, ALICE]]));
      expect(out[ALICE]).to.equal('You have killed Bob!');
      expect(out[BOB]).to.equal('Alice has killed you!');
      expect(out[CAROL]).to.equal('Alice has killed Bob!');
      expect(renderAll([[BOB, Fx.respawn, BOB, 0]])[0]!.body).to.match(/^You wake up in Town Square/);
    });
  });

  describe('replies to one player', function () {
    it('a whisper is a private message from the speaker to the listener, and a confirmation to the speaker', function () {
      const out = renderAll([[CAROL, Fx.whisper, ALICE, CAROL, 0], [ALICE, Fx.whisper, ALICE, CAROL, 0]], { texts: ['psst'] });
      expect(out).to.deep.equal([
        { to: CAROL, speaker: 'Alice', private: true, body: 'psst' },
        { to: ALICE, speaker: null, answers: 10, body: 'You whisper to Carol: psst' },
      ]);
    });

    it('asks which one when a name fits several things, listing them in one message', function () {
      const out = renderAll([[ALICE, Fx.ambiguous, 2], [ALICE, Fx.candidate, 0], [ALICE, Fx.candidate, characterCode(BOB)]]);
      expect(out).to.have.length(1);
      expect(out[0]!.body).to.equal('Which do you mean: the iron key or Bob?');
    });

    it('says plainly what was not found, and where it looked', function () {
      expect(renderAll([[ALICE, Fx.notFound, Look.here]])[0]!.body).to.equal("You don't see that here.");
      expect(renderAll([[ALICE, Fx.notFound, Look.carried]])[0]!.body).to.equal("You aren't carrying that.");
      expect(renderAll([[ALICE, Fx.notFound, Look.person]])[0]!.body).to.equal('There is nobody like that here.');
    });

    it('inventory lists what is carried with the weight, and health; who lists players, not NPCs', function () {
      expect(renderAll([[ALICE, Fx.inventory, ALICE]])[0]!.body).to.equal('You are carrying: rusty dagger (weight 1 of 10).\nHealth: 10/10.');
      expect(renderAll([[BOB, Fx.inventory, BOB]])[0]!.body).to.equal('You are carrying nothing.\nHealth: 10/10.');
      expect(renderAll([[ALICE, Fx.who]])[0]!.body.split('\n')).to.deep.equal([
        'Players in The Realm (4):', '  Alice - Town Square', '  Bob - Town Square', '  Carol - Town Square', '  Dave - North Gate',
      ]);
    });

    it('examine shows an item with its weight, and a character with health and what they carry', function () {
      expect(renderAll([[BOB, Fx.examine, 1]])[0]!.body).to.equal('Rusty dagger: More rust than steel.\nWeight 1, a weapon (+2 damage).');
      expect(renderAll([[BOB, Fx.examine, characterCode(ALICE)]])[0]!.body).to.equal('Alice is a traveller in The Realm.\nHealth: 10/10.\nCarrying: rusty dagger.');
      expect(renderAll([[BOB, Fx.examine, characterCode(0)]])[0]!.body).to.equal('A rat the size of a dog.\nHealth: 6/6.');
    });

    it('explains a missing exit, a locked way and a command from someone not in the world', function () {
      expect(bodies(renderAll([[ALICE, Fx.noExit, dir('west')]]))[ALICE]).to.equal("You can't go west from here.");
      expect(bodies(renderAll([[ALICE, Fx.locked, dir('down')]]))[ALICE]).to.match(/^The way down is locked/);
      expect(bodies(renderAll([[ALICE, Fx.notPresent]]))[ALICE]).to.match(/not in this world/);
    });

    it('renders nothing for no effects', function () {
      expect(renderAll([])).to.deep.equal([]);
    });
  });

  describe('a crowd (NAMES_LISTED_MAX names, then a count)', function () {
    const CROWD = 1000;
    const crowded: Projection = {
      ...projection,
      characters: [projection.characters[0]!, ...Array.from({ length: CROWD }, (_, i) => ({
        id: i + 1, nick: `Player${i + 1}`, jid: `p${i + 1}@x`, location: i < CROWD - 3 ? 0 : 1, present: true, hp: 10, quest: false, released: false,
      }))],
    };
    const renderCrowd = (records: Fx7[]) => render({ changes: ints([]), effects: Int32Array.from(records.flatMap(([to, fx, a = 0, b = 0, c = 0, e = -1, m = 0]) => [to, fx, a, b, c, e, m])) }, {
      world: world(), before: crowded, after: crowded, texts: [],
    }).messages;

    it('a look in a place of a thousand names ten of them and counts the rest, in under 1 KB', function () {
      const body = renderCrowd([[1, Fx.description, 0]])[0]!.body;
      const also = body.split('\n').find((l) => l.startsWith('Also here:'))!;
      expect(also).to.equal(`Also here: giant rat, ${Array.from({ length: NAMES_LISTED_MAX - 1 }, (_, i) => `Player${i + 2}`).join(', ')} and ${CROWD - 3 - 1 + 1 - NAMES_LISTED_MAX} others`);
      expect(Buffer.byteLength(body)).to.be.below(1024);
      expect(body.split('\n').at(-1)).to.equal('Exits: north, east');
    });

    it("a crowded place's data names the same ten and counts the rest", function () {
      const place = renderCrowd([[1, Fx.description, 0]])[0]!.place!;
      expect(place.people).to.deep.equal(['giant rat', ...Array.from({ length: NAMES_LISTED_MAX - 1 }, (_, i) => `Player${i + 2}`)]);
      expect(place.morePeople).to.equal(CROWD - 3 - NAMES_LISTED_MAX);
    });

    it('does not tell a crowd of each coming and going, and tells a quiet place', function () {
      const arriving = CROWD - 4; // stands in the crowd
      const crowdHears = renderCrowd([[-1, Fx.arrive, arriving, -1, 0, arriving], [-1, Fx.depart, arriving, 0, 0, arriving]]);
      expect(crowdHears, 'the crowd: joins show as presences, walks by a look').to.deep.equal([]);
      const walker = CROWD - 2; // one of three at the North Gate
      const gateHears = renderCrowd([[-2, Fx.arrive, walker, 2, 0, walker]]);
      expect(gateHears.map((m) => [m.to, m.body])).to.deep.equal([[CROWD - 1, `Player${walker} arrives from the south.`], [CROWD, `Player${walker} arrives from the south.`]]);
    });

    it('who sums up a crowded place in one line and lists a quiet one player by player', function () {
      const lines = renderCrowd([[1, Fx.who]])[0]!.body.split('\n');
      expect(lines[0]).to.equal(`Players in The Realm (${CROWD}):`);
      expect(lines[1]).to.match(new RegExp(`^  Town Square \\(${CROWD - 3}\\): Player1, Player2, .*Player10 and ${CROWD - 3 - NAMES_LISTED_MAX} others$`));
      expect(lines.slice(2)).to.deep.equal([`  Player${CROWD - 2} - North Gate`, `  Player${CROWD - 1} - North Gate`, `  Player${CROWD} - North Gate`]);
    });
  });
});
