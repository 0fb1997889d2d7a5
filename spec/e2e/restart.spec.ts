// The XMPP server goes away mid-game: Flux reconnects, committed state is kept, a
// player who comes back finds their character where they left it, and the session
// that died with the server is dropped once the server bounces our stanzas to it.
import { expect } from 'chai';
import { bodyOf, type Element, type Player } from '../support/player.ts';
import { until } from '../support/until.ts';
import { createTestDatabase, startWorld, type TestDatabase, type World } from '../support/flux.ts';

describe('a Prosody restart mid-game (embedded database)', function () {
  let db: TestDatabase;
  let world: World;
  const fromRoom = (re: RegExp) => (el: Element) => el.attrs.from === world.roomJid && re.test(bodyOf(el) ?? '');

  before(async function () {
    db = await createTestDatabase('embedded');
    world = await startWorld(db);
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

    await world.prosody.restart();
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
    occupants.add('Frank', frank.bareJid, `${frank.bareJid}/vanished`);
    expect(occupants.byNickname('Frank')!.sessions.size).to.equal(2);
    // Anything sent to Frank's sessions now bounces from the vanished one.
    world.service.edge.room('realm')!.room.submit({ command: { kind: 'look', nick: 'Frank' } });
    await until(() => occupants.byNickname('Frank')?.sessions.size === 1, 5000);
    expect(occupants.byNickname('Frank')!.sessions.has(`${frank.bareJid}/vanished`)).to.equal(false);
  });
});
