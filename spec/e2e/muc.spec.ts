// XEP-0045 as a player's client sees it: status codes per the room's anonymity,
// nick changes, join history, one occupant through several sessions. Real server,
// real clients, the embedded database.
import { expect } from 'chai';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bodyOf, xml, type Element, type Player } from '../support/player.ts';
import { createTestDatabase, SERVER_KINDS, SERVER_NAMES, startWorld, type TestDatabase, type World } from '../support/flux.ts';
import { pino } from 'pino';
import { compileKernel, KernelEngine } from '../../lib/engines/index.ts';
import { replayRoom } from '../../lib/rooms/index.ts';

const NS_MUC = 'http://jabber.org/protocol/muc';
const NS_MUC_USER = 'http://jabber.org/protocol/muc#user';
const NS_DELAY = 'urn:xmpp:delay';

const codesOf = (el: Element) => (el.getChild('x', NS_MUC_USER)?.getChildren('status') ?? []).map((s) => s.attrs.code);
const itemOf = (el: Element) => el.getChild('x', NS_MUC_USER)?.getChild('item');
const presenceFrom = (from: string, type?: string) => (el: Element) => el.name === 'presence' && el.attrs.from === from && el.attrs.type === type;
const errorOf = (el: Element) => el.getChild('error')?.getChildElements().find((c) => c.name !== 'text')?.name;

/** Sends a join presence with the given <x/> children and collects everything up to the subject (or an error). */
async function joinWith(player: Player, roomJid: string, nick: string, ...children: Element[]): Promise<Element[]> {
  player.mark();
  const start = player.received.length;
  await player.send(xml('presence', { to: `${roomJid}/${nick}` }, xml('x', { xmlns: NS_MUC }, ...children)));
  await player.waitFor((el) => (el.name === 'message' && el.getChild('subject') !== undefined) || (el.name === 'presence' && el.attrs.type === 'error'));
  return player.received.slice(start);
}

for (const server of SERVER_KINDS) describe(`XEP-0045 through ${SERVER_NAMES[server]}`, function () {
  let db: TestDatabase;
  let world: World;
  let room: string;

  before(async function () {
    db = await createTestDatabase('embedded');
    world = await startWorld(db, {}, server);
    room = world.roomJid;
  });

  after(async function () {
    await world?.stop();
    await db?.drop();
  });

  describe('a semi-anonymous world', function () {
    let alice: Player;
    let bob: Player;

    before(async function () {
      alice = await world.player('ann');
      bob = await world.player('ben');
    });

    it('sends 110 to the joiner and neither 100 (nobody sees real JIDs) nor 201 (no join creates a room)', async function () {
      const stanzas = await joinWith(alice, room, 'Ann');
      const self = stanzas.find(presenceFrom(`${room}/Ann`))!;
      expect(codesOf(self)).to.deep.equal(['110']);
      expect(itemOf(self)?.attrs.jid).to.equal(undefined);
      const info = await alice.iq(room, 'get', xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' }));
      const features = info.getChild('query')!.getChildren('feature').map((f) => f.attrs.var);
      expect(features).to.include('muc_semianonymous').and.not.to.include('muc_nonanonymous');
    });

    it('changes a nick: 303 with the new nick to everyone, then presence from the new nick; the character stays who it was', async function () {
      await joinWith(bob, room, 'Ben');
      alice.say(room, 'north');
      await alice.waitFor((el) => /^North Gate/.test(bodyOf(el) ?? ''));
      alice.mark();
      bob.mark();
      await alice.send(xml('presence', { to: `${room}/Annika` }));
      for (const [who, self] of [[alice, ['110']], [bob, []]] as const) {
        const gone = await who.waitFor(presenceFrom(`${room}/Ann`, 'unavailable'));
        expect(codesOf(gone)).to.have.members(['303', ...self]);
        expect(itemOf(gone)?.attrs.nick).to.equal('Annika');
        const back = await who.waitFor(presenceFrom(`${room}/Annika`));
        expect(codesOf(back)).to.deep.equal([...self]);
        expect(who.received.indexOf(back)).to.be.greaterThan(who.received.indexOf(gone));
      }
      alice.mark();
      alice.say(room, 'look');
      const here = await alice.waitFor((el) => el.attrs.from === room && /^North Gate/.test(bodyOf(el) ?? ''));
      expect(bodyOf(here)).to.match(/North Gate/);
      bob.mark();
      bob.say(room, 'who');
      const who = bodyOf(await bob.waitFor((el) => el.attrs.from === room && /^Players in/.test(bodyOf(el) ?? '')))!;
      expect(who).to.contain('Annika - North Gate').and.not.to.match(/\bAnn -/);
    });

    it('says under the new nick and is whispered to by it; the stored character has the new nick', async function () {
      bob.mark();
      alice.mark();
      alice.say(room, 'say still me');
      await alice.waitFor((el) => el.attrs.from === `${room}/Annika` && bodyOf(el) === 'still me');
      bob.send(xml('message', { to: `${room}/Annika`, type: 'chat' }, xml('body', {}, 'psst')));
      const whisper = await alice.waitFor((el) => el.attrs.from === `${room}/Ben` && bodyOf(el) === 'psst');
      expect(whisper.attrs.type).to.equal('chat');
      const stored = world.service.rooms.get('realm')!.projection.characters.find((c) => c.jid.startsWith('ann@'))!;
      expect(stored.nick).to.equal('Annika');
    });

    it('refuses a nick change to a nick someone holds with <conflict/> from the asked nick; nothing changes', async function () {
      alice.mark();
      bob.mark();
      await alice.send(xml('presence', { to: `${room}/Ben` }));
      const refused = await alice.waitFor((el) => el.name === 'presence' && el.attrs.type === 'error');
      expect(refused.attrs.from).to.equal(`${room}/Ben`);
      expect(errorOf(refused)).to.equal('conflict');
      await alice.send(xml('presence', { to: `${room}/Sister Maren` }));
      const npc = await alice.waitFor((el) => el.name === 'presence' && el.attrs.type === 'error' && el.attrs.from === `${room}/Sister Maren`);
      expect(errorOf(npc)).to.equal('conflict');
      expect(bob.received.slice(-5).some(presenceFrom(`${room}/Annika`, 'unavailable'))).to.equal(false);
    });

    it('frees the old nick for someone else, who gets a new character', async function () {
      const cat = await world.player('cat');
      const stanzas = await joinWith(cat, room, 'Ann');
      expect(stanzas.some((el) => el.attrs.type === 'error')).to.equal(false);
      const description = bodyOf(await cat.waitFor((el) => el.attrs.from === room && /^Town Square/.test(bodyOf(el) ?? '')))!;
      expect(description).to.match(/^Town Square/);
    });

    it('answers a join with the recent lines of the place the joiner stands in, stamped, before the subject, as many as asked', async function () {
      // Ben stands in the Town Square; lines said there are its history.
      for (const line of ['first', 'second', 'third']) {
        bob.mark();
        bob.say(room, `say ${line}`);
        await bob.waitFor((el) => el.attrs.from === `${room}/Ben` && bodyOf(el) === line);
      }
      const dan = await world.player('dan');
      const stanzas = await joinWith(dan, room, 'Dan', xml('history', { maxstanzas: '2' }));
      const history = stanzas.filter((el) => el.name === 'message' && el.getChild('delay', NS_DELAY) !== undefined);
      expect(history.map(bodyOf)).to.deep.equal(['second', 'third']);
      expect(history.every((el) => el.attrs.from === `${room}/Ben` && el.attrs.type === 'groupchat')).to.equal(true);
      expect(new Date(history[0]!.getChild('delay', NS_DELAY)!.attrs.stamp!).getTime()).to.be.closeTo(Date.now(), 60_000);
      const subjectAt = stanzas.findIndex((el) => el.getChild('subject') !== undefined);
      const selfAt = stanzas.findIndex(presenceFrom(`${room}/Dan`));
      expect(stanzas.indexOf(history[0]!)).to.be.greaterThan(selfAt).and.lessThan(subjectAt);

      const eve = await world.player('eve');
      const none = await joinWith(eve, room, 'Eve', xml('history', { maxchars: '0' }));
      expect(none.filter((el) => el.getChild('delay', NS_DELAY) !== undefined)).to.deep.equal([]);
    });

    it('keeps what was said in one place out of the history of another', async function () {
      alice.mark();
      alice.say(room, 'say up at the gate');
      await alice.waitFor((el) => bodyOf(el) === 'up at the gate');
      const fay = await world.player('fay');
      const stanzas = await joinWith(fay, room, 'Fay');
      const history = stanzas.filter((el) => el.getChild('delay', NS_DELAY) !== undefined).map(bodyOf);
      expect(history).to.include('third').and.not.to.include('up at the gate');
    });

    it('is one occupant through several sessions: one presence for the others, every line to each session', async function () {
      const second = await world.player('ben', 'phone');
      const aliceSaw = alice.received.length;
      const stanzas = await joinWith(second, room, 'Ben');
      expect(codesOf(stanzas.find(presenceFrom(`${room}/Ben`))!)).to.deep.equal(['110']);
      const first = bob;
      first.mark();
      second.mark();
      first.say(room, 'say from the laptop');
      await first.waitFor((el) => bodyOf(el) === 'from the laptop');
      await second.waitFor((el) => bodyOf(el) === 'from the laptop');
      expect(alice.received.slice(aliceSaw).some(presenceFrom(`${room}/Ben`)), 'no second presence for the same occupant').to.equal(false);
      // One client cannot rename the character the other clients play.
      await second.send(xml('presence', { to: `${room}/Benedict` }));
      const refused = await second.waitFor((el) => el.name === 'presence' && el.attrs.type === 'error');
      expect(errorOf(refused)).to.equal('not-acceptable');
      // Leaving from one session keeps the occupant.
      await second.send(xml('presence', { to: `${room}/Ben`, type: 'unavailable' }));
      await second.waitFor(presenceFrom(`${room}/Ben`, 'unavailable'));
      first.mark();
      first.say(room, 'look');
      await first.waitFor((el) => el.attrs.from === room && /^Town Square/.test(bodyOf(el) ?? ''));
    });

    it('passes a presence update (away, a status) to everyone without sending the join again (§7.7)', async function () {
      alice.mark();
      bob.mark();
      const before = alice.received.length;
      await alice.send(xml('presence', { to: `${room}/Annika` }, xml('show', {}, 'away'), xml('status', {}, 'brb, feeding the dog')));
      const seen = await bob.waitFor((el) => presenceFrom(`${room}/Annika`)(el) && el.getChildText('show') === 'away');
      expect(seen.getChildText('status')).to.equal('brb, feeding the dog');
      const self = await alice.waitFor((el) => presenceFrom(`${room}/Annika`)(el) && el.getChildText('show') === 'away');
      expect(codesOf(self)).to.deep.equal(['110']);
      await new Promise((r) => setTimeout(r, 200));
      const after = alice.received.slice(before);
      expect(after.filter((el) => el.getChild('subject') !== undefined), 'no subject again').to.deep.equal([]);
      expect(after.filter((el) => el.getChild('delay', NS_DELAY) !== undefined), 'no history again').to.deep.equal([]);
      // Whoever joins later sees the player as away.
      const gil = await world.player('gil');
      const stanzas = await joinWith(gil, room, 'Gil');
      expect(stanzas.find(presenceFrom(`${room}/Annika`))?.getChildText('show')).to.equal('away');
    });

    it('refuses a subject change with forbidden: the subject is the world\'s (§8.1)', async function () {
      alice.mark();
      await alice.send(xml('message', { to: room, type: 'groupchat', id: 'subj' }, xml('subject', {}, 'Mine now')));
      const refused = await alice.waitFor((el) => el.attrs.id === 'subj' && el.attrs.type === 'error');
      expect(errorOf(refused)).to.equal('forbidden');
    });

    it('passes an occupant\'s invitation on from the room (§7.8.2), and refuses one from someone not in it', async function () {
      const ivy = await world.player('ivy');
      ivy.mark();
      await alice.send(xml('message', { to: room },
        xml('x', { xmlns: NS_MUC_USER }, xml('invite', { to: ivy.jid }, xml('reason', {}, 'come find the bell')))));
      const invited = await ivy.waitFor((el) => el.name === 'message' && el.attrs.from === room && el.getChild('x', NS_MUC_USER) !== undefined);
      const invite = invited.getChild('x', NS_MUC_USER)!.getChild('invite')!;
      expect(invite.attrs.from).to.equal(alice.jid.split('/')[0]);
      expect(invite.getChildText('reason')).to.equal('come find the bell');
      expect(bodyOf(invited)).to.contain(room);
      await ivy.send(xml('message', { to: room, id: 'inv' }, xml('x', { xmlns: NS_MUC_USER }, xml('invite', { to: alice.jid }))));
      const refused = await ivy.waitFor((el) => el.attrs.id === 'inv' && el.attrs.type === 'error');
      expect(errorOf(refused)).to.equal('not-acceptable');
    });

    it('acts on a command typed right after a nick change, before the change is saved', async function () {
      alice.mark();
      await alice.send(xml('presence', { to: `${room}/Anya` }));
      alice.say(room, 'inventory');
      const answer = await alice.waitFor((el) => el.attrs.from === room && /^You are carrying/.test(bodyOf(el) ?? ''));
      expect(bodyOf(answer)).to.match(/Health: \d+\/\d+\.$/);
      await alice.waitFor(presenceFrom(`${room}/Anya`));
    });

    it('replays its command log, nick changes included, to exactly the stored state', async function () {
      await world.service.rooms.get('realm')!.drain();
      const kernel = compileKernel();
      const r = (await replayRoom(world.service.db, 'realm', (map) => KernelEngine.wasm(kernel, map, 4096), pino({ level: 'silent' })))!;
      expect(r.divergence).to.equal(null);
      expect(r.replayed.characters.map((c) => c.nick)).to.include.members(['Anya', 'Ann', 'Ben']);
    });
  });

  describe('a non-anonymous world', function () {
    let nonDb: TestDatabase;
    let nonWorld: World;

    before(async function () {
      nonDb = await createTestDatabase('embedded');
      const worlds = mkdtempSync(path.join(os.tmpdir(), 'flux-worlds-'));
      const realm = readFileSync(path.join('config', 'worlds', 'realm.yaml'), 'utf8');
      writeFileSync(path.join(worlds, 'realm.yaml'), realm.replace(/^start:/m, 'anonymity: non\nstart:'));
      nonWorld = await startWorld(nonDb, { FLUX_WORLDS_DIR: worlds }, server);
    });

    after(async function () {
      await nonWorld?.stop();
      await nonDb?.drop();
    });

    it('sends 110 and 100 to the joiner, shows real JIDs to everyone and says muc_nonanonymous', async function () {
      const gil = await nonWorld.player('gil');
      const hal = await nonWorld.player('hal');
      await joinWith(gil, nonWorld.roomJid, 'Gil');
      gil.mark();
      const stanzas = await joinWith(hal, nonWorld.roomJid, 'Hal');
      const self = stanzas.find(presenceFrom(`${nonWorld.roomJid}/Hal`))!;
      expect(codesOf(self)).to.have.members(['110', '100']);
      expect(itemOf(stanzas.find(presenceFrom(`${nonWorld.roomJid}/Gil`))!)?.attrs.jid).to.equal(gil.jid);
      const seen = await gil.waitFor(presenceFrom(`${nonWorld.roomJid}/Hal`));
      expect(itemOf(seen)?.attrs.jid).to.equal(hal.jid);
      const info = await gil.iq(nonWorld.roomJid, 'get', xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' }));
      expect(info.getChild('query')!.getChildren('feature').map((f) => f.attrs.var)).to.include('muc_nonanonymous');
    });
  });
});
