// Every command of the game (DESIGN §1) played through a real XMPP client, Prosody
// and Flux, against each database: what the actor reads, what others there read,
// and what the database keeps.
import { expect } from 'chai';
import { bodyOf, xml, type Element, type Player } from '../support/player.ts';
import { createTestDatabase, databaseKinds, startWorld, type TestDatabase, type World } from '../support/flux.ts';

const NS_MUC_USER = 'http://jabber.org/protocol/muc#user';

for (const kind of databaseKinds()) {
  describe(`the game through Prosody (${kind} database)`, function () {
    let db: TestDatabase;
    let world: World;
    let ivy: Player;
    let jay: Player;
    const fromRoom = (re: RegExp) => (el: Element) => el.name === 'message' && el.attrs.from === world.roomJid && re.test(bodyOf(el) ?? '');
    const fromPlayer = (nick: string, body: string) => (el: Element) => el.name === 'message' && el.attrs.from === `${world.roomJid}/${nick}` && bodyOf(el) === body;
    /** Sends a command and waits for the room's answer matching `re`. */
    const act = async (p: Player, command: string, re: RegExp) => {
      p.mark();
      p.say(world.roomJid, command);
      return bodyOf(await p.waitFor(fromRoom(re)))!;
    };
    const row = async (sql: string, values: unknown[] = []) => (await world.service.db.query<Record<string, unknown>>(sql, values)).rows[0];

    before(async function () {
      db = await createTestDatabase(kind);
      world = await startWorld(db);
      ivy = await world.player('ivy');
      jay = await world.player('jay');
      await ivy.join(world.roomJid, 'Ivy');
      await ivy.waitFor(fromRoom(/^Town Square/));
      await jay.join(world.roomJid, 'Jay');
      await jay.waitFor(fromRoom(/^Town Square/));
    });

    after(async function () {
      await world?.stop();
      await db?.drop();
    });

    it('look shows the things and people here; look <thing>, examine and x describe one', async function () {
      const view = await act(ivy, 'look', /^Town Square/);
      expect(view).to.match(/^You see: torn handbill\.$/m);
      expect(view).to.match(/^Also here: stray dog, Jay$/m);
      expect(await act(ivy, 'look handbill', /^Torn handbill: /)).to.include('Sister Maren');
      expect(await act(ivy, 'x dog', /mutt/)).to.match(/Health: 5\/5\.$/);
      expect(await act(ivy, 'examine Jay', /^Jay is a traveller/)).to.include('Health: 10/10.');
      expect(await act(ivy, 'examine dragon', /see that/)).to.equal("You don't see that here.");
    });

    it('take (get), inventory (i) and drop move a thing, and the others there see it', async function () {
      jay.mark();
      expect(await act(ivy, 'take the handbill', /take/)).to.equal('You take the torn handbill.');
      await jay.waitFor(fromRoom(/^Ivy takes the torn handbill\.$/));
      expect(await act(ivy, 'i', /^You are carrying/)).to.equal('You are carrying: torn handbill (weight 1 of 10).\nHealth: 10/10.');
      expect(await act(ivy, 'take handbill', /see that/)).to.equal("You don't see that here.");
      expect(await act(ivy, 'drop bill', /drop/)).to.equal('You drop the torn handbill.');
      expect(await act(ivy, 'drop bill', /carrying/)).to.equal("You aren't carrying that.");
      expect(await act(ivy, 'get paper', /take/)).to.equal('You take the torn handbill.');
      expect(await row("SELECT place FROM items WHERE key = 'handbill'")).to.deep.equal({ place: -(world.service.rooms.get('realm')!.character('Ivy')!.id) - 1 });
    });

    it('give hands a thing to someone here; both can check', async function () {
      jay.mark();
      expect(await act(ivy, 'give handbill to Jay', /give/)).to.equal('You give the torn handbill to Jay.');
      await jay.waitFor(fromRoom(/^Ivy gives the torn handbill to you\.$/));
      expect(await act(jay, 'inventory', /^You are carrying/)).to.match(/^You are carrying: torn handbill/);
      expect(await act(ivy, 'give handbill to Jay', /carrying/)).to.equal("You aren't carrying that.");
      expect(await act(jay, 'give handbill to nobody', /nobody/)).to.equal('There is nobody like that here.');
    });

    it("say (') and emote (:) come from the speaker; emote as a /me action", async function () {
      jay.mark();
      ivy.say(world.roomJid, "'hello there");
      await jay.waitFor(fromPlayer('Ivy', 'hello there'));
      ivy.say(world.roomJid, ':waves at Jay');
      await jay.waitFor(fromPlayer('Ivy', '/me waves at Jay'));
      await ivy.waitFor(fromPlayer('Ivy', '/me waves at Jay'));
    });

    it('whisper reaches one player as a private message; a MUC private message to room/Nick is a whisper too', async function () {
      jay.mark();
      expect(await act(ivy, 'whisper Jay meet me at the gate', /whisper/)).to.equal('You whisper to Jay: meet me at the gate');
      const pm = await jay.waitFor((el) => el.name === 'message' && el.attrs.type === 'chat' && el.attrs.from === `${world.roomJid}/Ivy`);
      expect(bodyOf(pm)).to.equal('meet me at the gate');
      expect(pm.getChild('x', NS_MUC_USER), 'marked as a MUC private message').not.to.equal(undefined);
      ivy.mark();
      jay.mark();
      await jay.send(xml('message', { to: `${world.roomJid}/Ivy`, type: 'chat' }, xml('body', {}, 'see you there')));
      const back = await ivy.waitFor((el) => el.name === 'message' && el.attrs.type === 'chat' && el.attrs.from === `${world.roomJid}/Jay`);
      expect(bodyOf(back)).to.equal('see you there');
      jay.say(world.roomJid, 'who'); // after the whisper's batch: Jay got no "You whisper" copy of his own private message
      await jay.waitFor(fromRoom(/^Players in/));
      expect(jay.received.map(bodyOf)).not.to.include('You whisper to Ivy: see you there');
      await jay.send(xml('message', { to: `${world.roomJid}/Nobody`, type: 'chat', id: 'pm1' }, xml('body', {}, 'hello?')));
      const error = await jay.waitFor((el) => el.name === 'message' && el.attrs.type === 'error' && el.attrs.id === 'pm1');
      expect(error.getChild('error')!.getChild('item-not-found', 'urn:ietf:params:xml:ns:xmpp-stanzas')).not.to.equal(undefined);
      expect(await act(ivy, 'whisper Ivy hi', /yourself/)).to.equal("You can't do that to yourself.");
    });

    it('who lists the players and where they are; help lists every command or explains one', async function () {
      const who = await act(ivy, 'who', /^Players in/);
      expect(who.split('\n')).to.include.members(['  Ivy - Town Square', '  Jay - Town Square']);
      expect(who).not.to.include('stray dog');
      const help = await act(ivy, 'help', /^Commands:/);
      for (const word of ['look', 'go', 'say', 'emote', 'whisper', 'who', 'inventory', 'take', 'drop', 'give', 'examine', 'attack', 'help']) {
        expect(help).to.match(new RegExp(`^  ${word}`, 'm'));
      }
      expect(await act(ivy, 'help give', /^give/)).to.match(/^give <thing> to <nick> - /);
      expect(await act(ivy, 'tkae key', /Did you mean/)).to.match(/Did you mean take\?/);
    });

    it('a locked way stays shut without its key', async function () {
      await act(ivy, 'w', /^The Leaning Lantern/);
      expect(await act(ivy, 'd', /locked/)).to.match(/^The way down is locked/);
      await act(ivy, 'e', /^Town Square/);
    });

    it('attack: a creature fights back until one of them falls; the dead one wakes at home', async function () {
      expect(await act(ivy, 'attack me', /yourself/)).to.equal("You can't do that to yourself.");
      jay.mark();
      let killed = false;
      for (let round = 0; round < 40 && !killed; round++) {
        const blow = await act(ivy, 'attack dog', /stray dog/);
        expect(blow).to.match(/^You (hit|swing at) the stray dog/);
        await act(ivy, 'who', /^Players in/); // a barrier: everything the blow caused has arrived
        killed = ivy.received.some((el) => /You have killed the stray dog!/.test(bodyOf(el) ?? ''));
        await new Promise((r) => setTimeout(r, 200)); // inside the 10 commands/s bucket
      }
      expect(killed, 'the dog died within 40 blows').to.equal(true);
      await jay.waitFor(fromRoom(/^Ivy has killed the stray dog!$/));
      await jay.waitFor(fromRoom(/^The stray dog appears\.$/));
      expect(await row("SELECT c.hp FROM characters c JOIN npcs n ON n.room_id = c.room_id AND n.id = c.id WHERE n.key = 'dog'")).to.deep.equal({ hp: 5 });
      const ivyHp = (await row("SELECT hp FROM characters WHERE nick = 'Ivy'"))!.hp as number;
      expect(ivyHp).to.be.within(1, 10);
      expect(await act(ivy, 'i', /Health/)).to.include(`Health: ${ivyHp}/10.`);
    });

    it('a player who dies drops what they carry where they fell and wakes at the start', async function () {
      await act(jay, 'e', /^Market Row/);
      await act(ivy, 'e', /^Market Row/);
      jay.mark();
      let dead = false;
      for (let round = 0; round < 60 && !dead; round++) {
        await act(ivy, 'attack jay', /Jay/);
        await act(ivy, 'who', /^Players in/);
        dead = ivy.received.some((el) => /You have killed Jay!/.test(bodyOf(el) ?? ''));
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(dead, 'Jay died within 60 blows').to.equal(true);
      await jay.waitFor(fromRoom(/^Ivy has killed you!$/));
      await jay.waitFor(fromRoom(/^You wake up in Town Square/));
      await jay.waitFor(fromRoom(/^Town Square/));
      expect(await row("SELECT l.key FROM items i JOIN locations l ON l.room_id = i.room_id AND l.idx = i.place WHERE i.key = 'handbill'")).to.deep.equal({ key: 'market' });
      expect(await row("SELECT hp, location FROM characters WHERE nick = 'Jay'")).to.deep.equal({ hp: 10, location: 0 });
      const market = await act(ivy, 'look', /^Market Row/);
      expect(market).to.match(/^You see: .*torn handbill/m);
    });
  });
}
