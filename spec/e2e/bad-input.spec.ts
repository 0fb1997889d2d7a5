// Bad input gets a clear reply and changes nothing; the service's own faces
// (disco, chat to the domain) answer as an XMPP client expects.
import { expect } from 'chai';
import { bodyOf, xml, type Element, type Player } from '../support/player.ts';
import { COMPONENT_DOMAIN, createTestDatabase, SERVER_NAMES, serverVariants, startWorld, type TestDatabase, type World } from '../support/flux.ts';

const NS_STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';
const errorCondition = (el: Element) => el.getChild('error')?.getChildElements().find((c) => c.attrs.xmlns === NS_STANZAS)?.name;

for (const { db: kind, server } of serverVariants()) {
  describe(`bad input and service faces (${SERVER_NAMES[server]}, ${kind} database)`, function () {
    let db: TestDatabase;
    let world: World;
    let dave: Player;
    let erin: Player;
    const version = async () => (await world.service.db.query<{ version: number }>("SELECT version FROM rooms WHERE id = 'realm'")).rows[0]!.version;
    const fromRoom = (re: RegExp) => (el: Element) => el.attrs.from === world.roomJid && re.test(bodyOf(el) ?? '');

    before(async function () {
      db = await createTestDatabase(kind);
      world = await startWorld(db, { FLUX_BODY_BYTES_MAX: '200', FLUX_COMMANDS_PER_S: '5', FLUX_OCCUPANTS_MAX: '2' }, server);
      dave = await world.player('dave');
      erin = await world.player('erin');
      await dave.join(world.roomJid, 'Dave');
      await dave.waitFor(fromRoom(/^Town Square/));
    });

    after(async function () {
      await world?.stop();
      await db?.drop();
    });

    it('answers a message to a world that does not exist with item-not-found', async function () {
      erin.mark();
      await erin.send(xml('message', { to: `nowhere@${COMPONENT_DOMAIN}`, type: 'groupchat', id: 'm1' }, xml('body', {}, 'look')));
      const error = await erin.waitFor((el) => el.name === 'message' && el.attrs.type === 'error' && el.attrs.id === 'm1');
      expect(errorCondition(error)).to.equal('item-not-found');
    });

    it('refuses commands from someone who has not joined with not-acceptable (XEP-0045 §7.4)', async function () {
      erin.mark();
      await erin.send(xml('message', { to: world.roomJid, type: 'groupchat', id: 'm2' }, xml('body', {}, 'look')));
      const error = await erin.waitFor((el) => el.attrs.type === 'error' && el.attrs.id === 'm2');
      expect(errorCondition(error)).to.equal('not-acceptable');
    });

    it('never answers a stanza of type error', async function () {
      erin.mark();
      await erin.send(xml('message', { to: world.roomJid, type: 'error', id: 'm3' }, xml('body', {}, 'look')));
      await erin.send(xml('message', { to: COMPONENT_DOMAIN, type: 'chat', id: 'm4' }, xml('body', {}, 'rooms')));
      await erin.waitFor((el) => el.attrs.from === COMPONENT_DOMAIN && el.attrs.type === 'chat');
      expect(erin.received.filter((el) => el.attrs.id === 'm3')).to.have.length(0);
    });

    it('refuses an over-long body and an empty one with a reply, and commits nothing', async function () {
      const before = await version();
      dave.mark();
      dave.say(world.roomJid, `say ${'x'.repeat(300)}`);
      await dave.waitFor(fromRoom(/too long \(304 bytes; the limit is 200\)/));
      dave.say(world.roomJid, '   ');
      await dave.waitFor(fromRoom(/^Type a command/));
      await new Promise((r) => setTimeout(r, 100));
      expect(await version()).to.equal(before);
    });

    it('carries markup and multi-byte text as plain text, intact', async function () {
      dave.mark();
      const text = '<b>bold?</b> & "quotes" héllo 🌍 世界';
      dave.say(world.roomJid, `say ${text}`);
      const heard = await dave.waitFor((el) => el.attrs.from === `${world.roomJid}/Dave` && bodyOf(el) !== null);
      expect(bodyOf(heard)).to.equal(text);
    });

    it('throttles a flood: one visible slow-down line, and each refused message answered with an error', async function () {
      await new Promise((r) => setTimeout(r, 1200)); // let the bucket fill from the earlier specs
      dave.mark();
      const start = dave.received.length;
      for (let i = 0; i < 40; i++) dave.say(world.roomJid, 'look');
      await dave.waitFor(fromRoom(/^Slow down/));
      await new Promise((r) => setTimeout(r, 500));
      const received = dave.received.slice(start);
      const slowDowns = received.filter(fromRoom(/^Slow down/)).length;
      const looks = received.filter(fromRoom(/^Town Square/)).length;
      expect(slowDowns).to.equal(1);
      expect(looks).to.be.within(5, 26);
      const refused = received.filter((el) => el.attrs.type === 'error' && el.getChild('error')?.getChild('resource-constraint', 'urn:ietf:params:xml:ns:xmpp-stanzas') !== undefined);
      expect(looks + refused.length, 'no command goes unanswered').to.equal(40);
    });

    it('answers help and rooms in a chat to the domain', async function () {
      erin.mark();
      await erin.send(xml('message', { to: COMPONENT_DOMAIN, type: 'chat' }, xml('body', {}, 'rooms')));
      const rooms = await erin.waitFor((el) => el.attrs.from === COMPONENT_DOMAIN && /Worlds here/.test(bodyOf(el) ?? ''));
      expect(bodyOf(rooms)).to.contain(`${world.roomJid} - The Realm of Flux (1 playing)`);
      await erin.send(xml('message', { to: COMPONENT_DOMAIN, type: 'chat' }, xml('body', {}, 'help')));
      await erin.waitFor((el) => el.attrs.from === COMPONENT_DOMAIN && /rooms/.test(bodyOf(el) ?? '') && /Flux/.test(bodyOf(el) ?? ''));
    });

    it('describes itself over disco#info and lists its rooms over disco#items (XEP-0030)', async function () {
      const info = await erin.iq(COMPONENT_DOMAIN, 'get', xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' }));
      const query = info.getChild('query')!;
      expect(query.getChild('identity')!.attrs).to.include({ category: 'conference', type: 'text' });
      expect(query.getChildren('feature').map((f) => f.attrs.var)).to.include('http://jabber.org/protocol/muc');
      const items = await erin.iq(COMPONENT_DOMAIN, 'get', xml('query', { xmlns: 'http://jabber.org/protocol/disco#items' }));
      expect(items.getChild('query')!.getChildren('item').map((i) => i.attrs.jid)).to.deep.equal([world.roomJid]);
      const roomInfo = await erin.iq(world.roomJid, 'get', xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' }));
      expect(roomInfo.getChild('query')!.getChildren('feature').map((f) => f.attrs.var)).to.include.members(['muc_persistent', 'muc_open', 'muc_semianonymous']);
      const unknown = await erin.iq(COMPONENT_DOMAIN, 'get', xml('query', { xmlns: 'urn:example:nothing' }));
      expect(unknown.attrs.type).to.equal('error');
      expect(errorCondition(unknown)).to.equal('service-unavailable');
    });

    it('refuses a 1 MB stanza with policy-violation, reads none of it, and goes on', async function () {
      const before = await version();
      dave.mark();
      await dave.send(xml('message', { to: world.roomJid, type: 'groupchat', id: 'huge' }, xml('body', {}, `say ${'ü'.repeat(512 * 1024)}`)));
      const refused = await dave.waitFor((el) => el.attrs.type === 'error' && el.attrs.id === 'huge', 15000);
      expect(errorCondition(refused)).to.equal('policy-violation');
      expect(refused.getChild('error')!.getChildText('text', NS_STANZAS)).to.match(/too large/);
      expect(refused.toString().length, 'the refusal does not carry the stanza back').to.be.below(1000);
      await new Promise((r) => setTimeout(r, 100));
      expect(await version(), 'nothing committed').to.equal(before);
      dave.say(world.roomJid, 'look');
      await dave.waitFor(fromRoom(/^Town Square/));
    });

    it('refuses a join to a full world with service-unavailable (XEP-0045 §7.2.10), and takes it once someone leaves', async function () {
      const fred = await world.player('fred');
      await fred.join(world.roomJid, 'Fred');
      const gus = await world.player('gus');
      const refused = await gus.join(world.roomJid, 'Gus').then(() => null, (err: Error) => err);
      expect(refused?.message).to.match(/refused: service-unavailable/);
      await fred.send(xml('presence', { to: `${world.roomJid}/Fred`, type: 'unavailable' }));
      await fred.waitFor((el) => el.name === 'presence' && el.attrs.type === 'unavailable');
      await gus.join(world.roomJid, 'Gus');
      await gus.send(xml('presence', { to: `${world.roomJid}/Gus`, type: 'unavailable' }));
    });

    it('passes a flood of presence updates on no faster than commands: each would be copied to everyone', async function () {
      const hal = await world.player('hal');
      await hal.join(world.roomJid, 'Hal');
      const seenBefore = hal.received.length;
      for (let i = 0; i < 100; i++) await dave.send(xml('presence', { to: `${world.roomJid}/Dave` }, xml('status', {}, `status ${i}`)));
      await new Promise((r) => setTimeout(r, 1000));
      const copies = hal.received.slice(seenBefore).filter((el) => el.name === 'presence' && el.attrs.from === `${world.roomJid}/Dave`);
      expect(copies.length).to.be.within(1, 35); // the bucket: a burst of 20, then 5 a second
      await hal.send(xml('presence', { to: `${world.roomJid}/Hal`, type: 'unavailable' }));
    });

    it('answers ping (XEP-0199), version (XEP-0092), self-ping (XEP-0410) and unknown disco nodes (XEP-0030) as the XEPs say', async function () {
      const ping = xml('ping', { xmlns: 'urn:xmpp:ping' });
      expect((await erin.iq(COMPONENT_DOMAIN, 'get', ping)).attrs.type).to.equal('result');
      expect((await erin.iq(world.roomJid, 'get', xml('ping', { xmlns: 'urn:xmpp:ping' }))).attrs.type).to.equal('result');
      const version = await erin.iq(COMPONENT_DOMAIN, 'get', xml('query', { xmlns: 'jabber:iq:version' }));
      expect(version.getChild('query')!.getChildText('name')).to.equal('Flux');
      // XEP-0410 §3: the occupant's own session gets a result; anyone else is told they are not joined.
      expect((await dave.iq(`${world.roomJid}/Dave`, 'get', xml('ping', { xmlns: 'urn:xmpp:ping' }))).attrs.type).to.equal('result');
      const stranger = await erin.iq(`${world.roomJid}/Dave`, 'get', xml('ping', { xmlns: 'urn:xmpp:ping' }));
      expect(errorCondition(stranger)).to.equal('not-acceptable');
      const node = await erin.iq(COMPONENT_DOMAIN, 'get', xml('query', { xmlns: 'http://jabber.org/protocol/disco#info', node: 'urn:example:no-such-node' }));
      expect(errorCondition(node)).to.equal('item-not-found');
      const set = await erin.iq(COMPONENT_DOMAIN, 'set', xml('query', { xmlns: 'jabber:iq:version' }));
      expect(errorCondition(set)).to.equal('service-unavailable');
    });
  });
}
