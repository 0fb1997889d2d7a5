// Guests through a real Prosody with an anonymous virtual host (SASL ANONYMOUS): a
// guest's character is released FLUX_GUEST_RELEASE_S after it leaves, so the nick
// and the things it carried do not stay taken by someone who can never come back.
import { expect } from 'chai';
import { bodyOf, type Player } from '../support/player.ts';
import { createTestDatabase, startWorld, type TestDatabase, type World } from '../support/flux.ts';

const GUEST_HOST = 'guest.localhost';
const RELEASE_S = 2;
const refusal = async (join: Promise<unknown>) => join.then(() => 'joined', (err: Error) => /refused: ([a-z-]+)/.exec(err.message)?.[1] ?? err.message);

describe('guests released, through Prosody with an anonymous host (embedded database)', function () {
  let db: TestDatabase;
  let world: World;
  let ann: Player;

  before(async function () {
    db = await createTestDatabase('embedded');
    world = await startWorld(db, { FLUX_GUEST_DOMAINS: GUEST_HOST, FLUX_GUEST_RELEASE_S: String(RELEASE_S) }, 'prosody', { anonymousHost: GUEST_HOST });
    ann = await world.player('ann');
    await ann.join(world.roomJid, 'Ann');
  });

  after(async function () {
    await world?.stop();
    await db?.drop();
  });

  const fromRoom = (p: Player, pattern: RegExp, ms?: number) => p.waitFor((el) => el.attrs.from === world.roomJid && pattern.test(bodyOf(el) ?? ''), ms);

  it('frees an anonymous player\'s nick a while after it leaves, and leaves what it carried where it stood', async function () {
    const guest = await world.guest();
    expect(guest.jid, 'a fresh JID on the anonymous host').to.include(`@${GUEST_HOST}/`);
    await guest.join(world.roomJid, 'Gus');
    guest.say(world.roomJid, 'take handbill');
    await fromRoom(guest, /^You take the torn handbill\.$/);
    ann.mark();
    await guest.stop(); // the anonymous session ends: that JID never comes back
    await ann.waitFor((el) => el.name === 'presence' && el.attrs.type === 'unavailable' && el.attrs.from === `${world.roomJid}/Gus`);

    const bob = await world.player('bob');
    expect(await refusal(bob.join(world.roomJid, 'Gus')), 'held while the guest may still come back').to.equal('conflict');

    const faded = await fromRoom(ann, /fades from the world/, (RELEASE_S + 5) * 1000);
    expect(bodyOf(faded)).to.equal('Gus fades from the world, leaving the torn handbill here.');

    bob.mark();
    await bob.join(world.roomJid, 'Gus');
    const description = await fromRoom(bob, /^Town Square\n/);
    expect(bodyOf(description)).to.include('You see: torn handbill');
    bob.say(world.roomJid, 'take handbill');
    await fromRoom(bob, /^You take the torn handbill\.$/);
    bob.say(world.roomJid, 'who');
    const who = await fromRoom(bob, /^Players in /);
    expect(bodyOf(who)).to.match(/\(2\):/);
  });

  it('never releases a registered player, however long they are away', async function () {
    const cy = await world.player('cy');
    await cy.join(world.roomJid, 'Cy');
    await cy.stop();
    await new Promise((r) => setTimeout(r, (RELEASE_S + 2) * 1000));
    const cyAgain = await world.player('cy');
    expect(await refusal(cyAgain.join(world.roomJid, 'Cy'))).to.equal('joined');
    expect(world.service.rooms.get('realm')!.character('Cy')?.jid).to.equal('cy@localhost');
  });
});
