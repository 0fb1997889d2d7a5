// One command's whole journey: a real XMPP client -> Prosody -> Flux (six stages)
// -> PostgreSQL -> back as stanzas; against each database.
import { expect } from 'chai';
import pg from 'pg';
import { bodyOf, xml, type Element, type Player } from '../support/player.ts';
import { until } from '../support/until.ts';
import { createTestDatabase, databaseKinds, SERVER_NAMES, startWorld, type TestDatabase, type World } from '../support/flux.ts';

const fromRoom = (room: string) => (el: Element) => el.name === 'message' && el.attrs.from === room && bodyOf(el) !== null;
const bodyMatches = (room: string, re: RegExp) => (el: Element) => fromRoom(room)(el) && re.test(bodyOf(el)!);

const variants = [
  ...databaseKinds().map((kind) => [kind, 'wasm', 'prosody'] as const),
  ['embedded', 'js', 'prosody'] as const,
  ['embedded', 'wasm', 'ejabberd'] as const,
];

for (const [kind, engine, server] of variants) {
  describe(`playing through ${SERVER_NAMES[server]} (${kind} database, ${engine} engine)`, function () {
    let db: TestDatabase;
    let world: World;
    let alice: Player;
    let bob: Player;

    before(async function () {
      db = await createTestDatabase(kind);
      world = await startWorld(db, { FLUX_ENGINE: engine }, server);
      alice = await world.player('alice');
      bob = await world.player('bob');
    });

    after(async function () {
      await world?.stop();
      await db?.drop();
    });

    it('answers a join in XEP-0045 order: self-presence 110, subject, then the description ending in Exits', async function () {
      alice.mark();
      const presences = await alice.join(world.roomJid, 'Alice');
      const self = presences[presences.length - 1]!;
      expect(self.attrs.from).to.equal(`${world.roomJid}/Alice`);
      const subject = await alice.waitFor((el) => el.name === 'message' && el.getChild('subject') !== undefined);
      expect(subject.getChildText('subject')).to.match(/Welcome/);
      const description = bodyOf(await alice.waitFor(fromRoom(world.roomJid)))!;
      const lines = description.split('\n');
      expect(lines[0]).to.equal('Town Square');
      expect(lines[lines.length - 1]).to.equal('Exits: north, east, south, west');
      expect(alice.received.indexOf(subject)).to.be.greaterThan(alice.received.indexOf(self));
    });

    it('shows the second player to the first and lists both with who', async function () {
      alice.mark();
      bob.mark();
      await bob.join(world.roomJid, 'Bob');
      await alice.waitFor((el) => el.name === 'presence' && el.attrs.from === `${world.roomJid}/Bob`);
      await alice.waitFor(bodyMatches(world.roomJid, /^Bob has entered the world\.$/));
      const bobView = bodyOf(await bob.waitFor(bodyMatches(world.roomJid, /^Town Square/)))!;
      expect(bobView).to.match(/^Also here: .*\bAlice\b/m);
      bob.mark();
      bob.say(world.roomJid, 'who');
      const who = bodyOf(await bob.waitFor(bodyMatches(world.roomJid, /^Players in/)))!;
      expect(who).to.contain('Alice - Town Square').and.to.contain('Bob - Town Square');
    });

    it('carries a say to everyone in the location, from the speaker, with the echo keeping the stanza id', async function () {
      alice.mark();
      bob.mark();
      await alice.send(xml('message', { to: world.roomJid, type: 'groupchat', id: 'say-1' },
        xml('body', {}, "'hello there"), xml('origin-id', { xmlns: 'urn:xmpp:sid:0', id: 'origin-say-1' })));
      const heard = await bob.waitFor((el) => el.attrs.from === `${world.roomJid}/Alice` && bodyOf(el) === 'hello there');
      expect(heard.attrs.type).to.equal('groupchat');
      const echo = await alice.waitFor((el) => el.attrs.from === `${world.roomJid}/Alice` && bodyOf(el) === 'hello there');
      expect(echo.attrs.id).to.equal('say-1');
      expect(echo.getChild('origin-id', 'urn:xmpp:sid:0')?.attrs.id).to.equal('origin-say-1');
      expect(heard.attrs.id).not.to.equal('say-1');
    });

    it('reflects a command to its sender only, with its id and origin-id, before the answer', async function () {
      alice.mark();
      bob.mark();
      await alice.send(xml('message', { to: world.roomJid, type: 'groupchat', id: 'look-1' },
        xml('body', {}, 'look'), xml('origin-id', { xmlns: 'urn:xmpp:sid:0', id: 'origin-look-1' })));
      const echo = await alice.waitFor((el) => el.attrs.id === 'look-1');
      expect(echo.attrs.from).to.equal(`${world.roomJid}/Alice`);
      expect(echo.getChild('origin-id', 'urn:xmpp:sid:0')?.attrs.id).to.equal('origin-look-1');
      const answer = await alice.waitFor(bodyMatches(world.roomJid, /^Town Square/));
      expect(alice.received.indexOf(answer)).to.be.greaterThan(alice.received.indexOf(echo));
      bob.say(world.roomJid, 'look');
      await bob.waitFor(bodyMatches(world.roomJid, /^Town Square/));
      expect(bob.received.filter((el) => bodyOf(el) === 'look' && el.attrs.from === `${world.roomJid}/Alice`)).to.have.length(0);
    });

    it('moves a player, tells both locations, and keeps what happens elsewhere private', async function () {
      alice.mark();
      bob.mark();
      alice.say(world.roomJid, 'n');
      const gate = bodyOf(await alice.waitFor(bodyMatches(world.roomJid, /^North Gate/)))!;
      expect(gate.split('\n').pop()).to.equal('Exits: north, south');
      await bob.waitFor(bodyMatches(world.roomJid, /^Alice leaves north\.$/));
      bob.mark();
      alice.say(world.roomJid, 'say nobody at the square hears this');
      await alice.waitFor((el) => bodyOf(el) === 'nobody at the square hears this' && el.attrs.from === `${world.roomJid}/Alice`);
      bob.say(world.roomJid, 'look');
      await bob.waitFor(bodyMatches(world.roomJid, /^Town Square/));
      expect(bob.received.map(bodyOf)).not.to.include('nobody at the square hears this');
      alice.mark();
      alice.say(world.roomJid, 'go south');
      await alice.waitFor(bodyMatches(world.roomJid, /^Town Square/));
    });

    it('refuses what it cannot do with a clear reply and changes nothing', async function () {
      alice.mark();
      alice.say(world.roomJid, 'dance wildly');
      const reply = bodyOf(await alice.waitFor(bodyMatches(world.roomJid, /help/)))!;
      expect(reply).to.match(/don't know how to "dance"/);
      alice.say(world.roomJid, 'go sideways');
      await alice.waitFor(bodyMatches(world.roomJid, /not a direction/));
      alice.say(world.roomJid, 'up');
      await alice.waitFor(bodyMatches(world.roomJid, /^You can't go up from here\.$/));
      alice.say(world.roomJid, 'l');
      const still = bodyOf(await alice.waitFor(bodyMatches(world.roomJid, /^Town Square/)))!;
      expect(still).to.match(/^Also here: .*\bBob\b/m);
    });

    it('refuses a nick held by another player with <conflict/>', async function () {
      const mallory = await world.player('mallory');
      const error = await mallory.join(world.roomJid, 'Alice').then(() => null, (err: Error) => err);
      expect(error?.message).to.match(/conflict/);
    });

    it('writes each committed batch to the database: characters, version and the command log', async function () {
      // PostgreSQL is read over a connection of our own; the embedded database has one
      // session, owned by the running service, so it is read through that.
      const client = kind === 'postgresql' ? new pg.Client({ connectionString: world.config.databaseUrl }) : null;
      await client?.connect();
      try {
        const sql = "SELECT nick, location, present FROM characters WHERE room_id = 'realm' AND jid <> '' ORDER BY id";
        const rows = client ? (await client.query(sql)).rows : (await world.service.db.query(sql)).rows;
        expect(rows).to.deep.equal([{ nick: 'Alice', location: 0, present: true }, { nick: 'Bob', location: 0, present: true }]);
      } finally {
        await client?.end();
      }
      await checkLog(await world.service.db.query('SELECT version FROM rooms'), world);
    });

    it('leaves with an unavailable presence, and the character stays in the world', async function () {
      alice.mark();
      await bob.send(xml('presence', { to: `${world.roomJid}/Bob`, type: 'unavailable' }));
      await alice.waitFor((el) => el.name === 'presence' && el.attrs.type === 'unavailable' && el.attrs.from === `${world.roomJid}/Bob`);
      await alice.waitFor(bodyMatches(world.roomJid, /^Bob has left the world\.$/));
      const bobRow = () => world.service.db.query<{ present: boolean }>("SELECT present FROM characters WHERE nick = 'Bob'");
      await until(async () => (await bobRow()).rows[0]?.present === false);
    });
  });
}

async function checkLog(rooms: { rows: unknown[] }, world: World): Promise<void> {
  const version = (rooms.rows[0] as { version: number }).version;
  expect(version).to.be.a('number').greaterThan(3);
  const log = await world.service.db.query<{ version: number; commands: { kind: string }[] }>(
    "SELECT version, commands FROM command_log WHERE room_id = 'realm' ORDER BY version");
  expect(log.rows.map((r) => r.version)).to.deep.equal(Array.from({ length: version }, (_, i) => i + 1));
  expect(log.rows.flatMap((r) => r.commands.map((c) => c.kind))).to.include.members(['join', 'look', 'go', 'say', 'who']);
}
