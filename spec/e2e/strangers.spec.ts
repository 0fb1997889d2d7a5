// Strangers at the door, through a real XMPP server: limits keyed by the bare JID
// that a leave and a rejoin do not reset, nicks that compare equal under RFC 8266,
// bounded invitations, and a world's output budget that holds one room back only.
import { expect } from 'chai';
import { bodyOf, xml, type Element, type Player } from '../support/player.ts';
import { createTestDatabase, SERVER_NAMES, serverVariants, startWorld, type TestDatabase, type World } from '../support/flux.ts';
import { INVITEES_PER_HOUR_MAX } from '../../lib/constants.ts';

const NS_MUC_USER = 'http://jabber.org/protocol/muc#user';
const NS_STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';
const conditionOf = (el: Element) => el.getChild('error')?.getChildElements().find((c) => c.attrs.xmlns === NS_STANZAS)?.name;
const refusal = async (join: Promise<unknown>) => join.then(() => 'joined', (err: Error) => /refused: ([a-z-]+)/.exec(err.message)?.[1] ?? err.message);

for (const { db: kind, server } of serverVariants()) {
  describe(`strangers through ${SERVER_NAMES[server]} (${kind} database)`, function () {
    let db: TestDatabase;
    let world: World;
    let ann: Player;
    let bea: Player;

    before(async function () {
      db = await createTestDatabase(kind);
      world = await startWorld(db, { FLUX_COMMANDS_PER_S: '2' }, server);
      ann = await world.player('ann');
      bea = await world.player('bea');
      await ann.join(world.roomJid, 'Ann');
    });

    after(async function () {
      await world?.stop();
      await db?.drop();
    });

    it('refuses a nick that compares equal to a player\'s, and names the form to ask for', async function () {
      expect(await refusal(bea.join(world.roomJid, 'ann'))).to.equal('conflict');
      // Prosody's resourceprep (NFKC, zero-width space mapped to nothing) makes these "ANN" and "Ann"
      // before Flux sees them, a conflict; ejabberd passes them on as typed, and Flux refuses the form.
      expect(await refusal(bea.join(world.roomJid, 'ＡＮＮ'))).to.be.oneOf(['conflict', 'jid-malformed']);
      expect(await refusal(bea.join(world.roomJid, 'An\u200bn'))).to.be.oneOf(['conflict', 'jid-malformed']);
      // A bidi override: Flux refuses it (jid-malformed); ejabberd's resourceprep already refuses it (bad-request).
      expect(await refusal(bea.join(world.roomJid, 'A\u202enn'))).to.be.oneOf(['jid-malformed', 'bad-request']);
      await bea.join(world.roomJid, 'Bea');
    });

    it('keeps a bare JID\'s token bucket across a leave and a rejoin', async function () {
      await new Promise((r) => setTimeout(r, 10_000)); // the bucket full again (burst 20 at 2/s)
      for (let i = 0; i < 30; i++) bea.say(world.roomJid, 'i');
      await bea.waitFor((el) => el.attrs.from === world.roomJid && /^Slow down/.test(bodyOf(el) ?? ''));
      await bea.send(xml('presence', { to: `${world.roomJid}/Bea`, type: 'unavailable' }));
      await bea.waitFor((el) => el.name === 'presence' && el.attrs.type === 'unavailable' && el.attrs.from === `${world.roomJid}/Bea`);
      expect(await refusal(bea.join(world.roomJid, 'Bea')), 'a rejoin refills nothing').to.equal('resource-constraint');
      await new Promise((r) => setTimeout(r, 1500));
      await bea.join(world.roomJid, 'Bea');
    });

    it('passes at most a bounded number of invitations from one player an hour, never twice to one person', async function () {
      await new Promise((r) => setTimeout(r, 10_000));
      ann.mark();
      const invite = (to: string) => ann.send(xml('message', { to: world.roomJid }, xml('x', { xmlns: NS_MUC_USER }, xml('invite', { to }))));
      await invite('friend@example.org');
      await invite('friend@example.org');
      const again = await ann.waitFor((el) => el.attrs.type === 'error' && el.name === 'message');
      expect(conditionOf(again)).to.equal('policy-violation');
      for (let i = 1; i <= INVITEES_PER_HOUR_MAX; i++) {
        await new Promise((r) => setTimeout(r, 600)); // within the token rate
        await invite(`friend${i}@example.org`);
      }
      const past = await ann.waitFor((el) => el.attrs.type === 'error' && /different people an hour/.test(el.getChild('error')?.getChildText('text', NS_STANZAS) ?? ''), 10_000);
      expect(conditionOf(past)).to.equal('policy-violation');
    });
  });
}
