// The XMPP server goes away mid-game: Flux reconnects, committed state is kept, a
// player who comes back finds their character where they left it, and the session
// that died with the server is dropped once the server bounces our stanzas to it.
import { expect } from 'chai';
import { bodyOf, xml, type Element, type Player } from '../support/player.ts';
import { until } from '../support/until.ts';
import { createTestDatabase, SERVER_KINDS, SERVER_NAMES, startWorld, type TestDatabase, type World } from '../support/flux.ts';

for (const server of SERVER_KINDS) describe(`restarts mid-game: ${SERVER_NAMES[server]}, then the component (embedded database)`, function () {
  let db: TestDatabase;
  let world: World;
  const fromRoom = (re: RegExp) => (el: Element) => el.attrs.from === world.roomJid && re.test(bodyOf(el) ?? '');

  before(async function () {
    db = await createTestDatabase('embedded');
    world = await startWorld(db, {}, server);
  });

  after(async function () {
    await world?.stop();
    await db?.drop();
  });

  it('keeps the world, lets the player back in where they were, and drops the dead session', async function () {
    const first: Player = await world.player('frank');
    await first.join(world.roomJid, 'Frank');
    first.say(world.roomJid, 'east');
    await first.waitFor(fromRoom(/^Market Row/));
    const gina = await world.player('gina');
    await gina.join(world.roomJid, 'Gina');
    await gina.waitFor(fromRoom(/^Town Square/));

    await world.xmpp.restart();
    await until(() => world.service.edge.online, 15000);

    const again = await world.player('frank');
    const gina2 = await world.player('gina');
    await again.join(world.roomJid, 'Frank');
    const view = bodyOf(await again.waitFor(fromRoom(/^Market Row/)))!;
    expect(view.split('\n').pop()).to.equal('Exits: south, west, up');
    await gina2.join(world.roomJid, 'Gina');
    gina2.say(world.roomJid, 'e');
    await gina2.waitFor(fromRoom(/^Market Row/));
    const occupants = world.service.edge.room('realm')!.occupants;
    await until(() => occupants.byNickname('Frank')?.sessions.size === 1 && occupants.byNickname('Gina')?.sessions.size === 1, 5000);
    expect([...occupants.byNickname('Frank')!.sessions]).to.deep.equal([again.jid]);
  });

  it('drops a session the server says is gone (a ghost left by a missed unavailable presence)', async function () {
    const occupants = world.service.edge.room('realm')!.occupants;
    const frank = occupants.byNickname('Frank')!;
    // A session that died while the component was away: Prosody never told us.
    occupants.add('Frank', frank.key, frank.bareJid, `${frank.bareJid}/vanished`);
    expect(occupants.byNickname('Frank')!.sessions.size).to.equal(2);
    // Anything sent to Frank's sessions now bounces from the vanished one.
    world.service.edge.room('realm')!.room.submit({ command: { kind: 'look', nick: 'Frank' } });
    await until(() => occupants.byNickname('Frank')?.sessions.size === 1, 5000);
    expect(occupants.byNickname('Frank')!.sessions.has(`${frank.bareJid}/vanished`)).to.equal(false);
  });

  it('after a component restart, tells everyone (332), answers a stale self-ping with not-acceptable, and takes the player back where they were', async function () {
    const hana = await world.player('hana');
    await hana.join(world.roomJid, 'Hana');
    hana.say(world.roomJid, 'south');
    await hana.waitFor(fromRoom(/^Chapel/));
    hana.mark();
    await world.restartFlux();
    const gone = await hana.waitFor((el) => el.name === 'presence' && el.attrs.from === `${world.roomJid}/Hana` && el.attrs.type === 'unavailable');
    expect(gone.getChild('x', 'http://jabber.org/protocol/muc#user')!.getChildren('status').map((c) => c.attrs.code)).to.include('332');
    await until(() => world.service.edge.online, 15000);
    // XEP-0410 §3: a client that missed the 332 pings itself in the room and learns it is no longer joined.
    const ping = await hana.iq(`${world.roomJid}/Hana`, 'get', xml('ping', { xmlns: 'urn:xmpp:ping' }));
    expect(ping.attrs.type).to.equal('error');
    expect(ping.getChild('error')!.getChild('not-acceptable', 'urn:ietf:params:xml:ns:xmpp-stanzas')).to.not.equal(undefined);
    hana.mark();
    await hana.join(world.roomJid, 'Hana');
    const view = bodyOf(await hana.waitFor(fromRoom(/^Chapel/)))!;
    expect(view.split('\n')[0]).to.match(/Chapel/);
    const pong = await hana.iq(`${world.roomJid}/Hana`, 'get', xml('ping', { xmlns: 'urn:xmpp:ping' }));
    expect(pong.attrs.type).to.equal('result');
  });
});
