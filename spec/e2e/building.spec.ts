// Building in the game as real clients see it through a private Prosody:
// the world file's owner digs, describes, makes a way, creates and locks; a player
// walks into the new place and takes the new thing; a player who is not a builder
// is refused and changes nothing; the owner's @undo takes a new thing away again;
// an admin granted in the game may build; the
// command log replays to the stored state (the grown map included) in every engine.
import { expect } from 'chai';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { xml, type Element, type Player } from '../support/player.ts';
import { createTestDatabase, startWorld, type TestDatabase, type World } from '../support/flux.ts';
import { replayInEveryEngine } from '../support/replay.ts';
import { exportWorld } from '../../lib/world/index.ts';

const NS_ADMIN = 'http://jabber.org/protocol/muc#admin';
const kind = process.env.DATABASE_URL ? 'postgresql' : 'embedded';

describe(`building in the game through Prosody, ${kind} database`, function () {
  let db: TestDatabase;
  let world: World;
  let room: string;
  let olga: Player; // owner, from the world file
  let bob: Player; // a player, later an admin

  /** Sends a command and waits for the world's answer (from the room itself, not the reflected command) that matches `re`. */
  const act = async (p: Player, command: string, re: RegExp): Promise<string> => {
    p.mark();
    p.say(room, command);
    const reply = await p.waitFor((el: Element) => el.name === 'message' && el.attrs.type === 'groupchat' && el.attrs.from === room && re.test(el.getChildText('body') ?? ''));
    return reply.getChildText('body')!;
  };

  before(async function () {
    db = await createTestDatabase(kind);
    const worlds = mkdtempSync(path.join(os.tmpdir(), 'flux-worlds-'));
    const realm = readFileSync(path.join('config', 'worlds', 'realm.yaml'), 'utf8');
    // The private Prosody's users live on 'localhost' (lib/demo/prosody.ts).
    writeFileSync(path.join(worlds, 'realm.yaml'), realm.replace(/^start:/m, 'owners: [olga@localhost]\nstart:'));
    world = await startWorld(db, { FLUX_WORLDS_DIR: worlds });
    room = world.roomJid;
    [olga, bob] = await Promise.all(['olga', 'bob'].map((n) => world.player(n)));
    await olga.join(room, 'Olga');
    await bob.join(room, 'Bob');
  });

  after(async function () {
    await world?.stop();
    await db?.drop();
  });

  it('refuses a player who is not a builder, and the world does not change', async function () {
    expect(await act(bob, '@dig up The Old Tower', /builders/)).to.equal("Only this world's builders can do that.");
    expect(await act(bob, 'help @', /./)).not.to.match(/@dig/);
    expect(await act(bob, 'look', /Exits:/)).not.to.match(/\bup\b/);
  });

  it('lets the owner dig, describe, make a way, create and lock, and shows it to the others', async function () {
    expect(await act(olga, 'help @', /@dig/)).to.match(/@create/);
    bob.mark();
    expect(await act(olga, '@dig up The Old Tower', /^You dig/)).to.equal('You dig a way up to The Old Tower; its way back leads down.');
    const seen = await bob.waitFor((el) => el.name === 'message' && /Olga digs a way up/.test(el.getChildText('body') ?? ''));
    expect(seen.attrs.from).to.equal(room);
    expect(await act(olga, 'up', /The Old Tower/)).to.match(/Exits: down/);
    await act(olga, '@describe Wind whistles through the broken slates.', /describe this place/);
    expect(await act(olga, 'look', /The Old Tower/)).to.match(/Wind whistles through the broken slates\./);
    expect(await act(olga, '@exit west nowhere-at-all', /no place by that name/)).to.match(/key or its title/);
    expect(await act(olga, '@exit east Town Square', /./)).to.match(/east/);
    await act(olga, '@create a brass lamp', /You make the brass lamp/);
    await act(olga, '@create an bronze key', /You make the bronze key/);
    await act(olga, 'take key', /You take the bronze key/);
    await act(olga, 'down', /Town Square/);
    expect(await act(olga, '@lock up key', /lock the way up/)).to.match(/bronze key/);
    await act(olga, 'drop key', /You drop the bronze key/);
  });

  it('lets a player walk into the new place with the key and take the new thing', async function () {
    expect(await act(bob, 'up', /./)).to.match(/locked|carry|bronze key/i);
    await act(bob, 'take key', /You take the bronze key/);
    expect(await act(bob, 'up', /The Old Tower/)).to.match(/brass lamp/);
    await act(bob, 'take lamp', /You take the brass lamp/);
    expect(await act(bob, 'east', /Town Square/)).to.match(/Town Square/);
  });

  it('lets an admin granted in the game build too', async function () {
    const grant = await olga.iq(room, 'set', xml('query', { xmlns: NS_ADMIN }, xml('item', { affiliation: 'admin', jid: bob.jid.split('/')[0] })));
    expect(grant.attrs.type).to.equal('result');
    expect(await act(bob, '@create a wooden stool', /./)).to.equal('You make the wooden stool.');
  });

  it('lets the owner take back a thing just made with @undo: it is gone for another player too', async function () {
    expect(await act(olga, '@create a tin cup', /tin cup/)).to.equal('You make the tin cup.');
    expect(await act(bob, 'look', /Exits:/)).to.match(/tin cup/);
    bob.mark();
    expect(await act(olga, '@undo', /undo/)).to.equal('You undo @create.');
    await bob.waitFor((el) => el.name === 'message' && /Olga undoes @create\./.test(el.getChildText('body') ?? ''));
    expect(await act(bob, 'look', /Exits:/)).not.to.match(/tin cup/);
    expect(await act(bob, 'take cup', /./)).not.to.match(/You take/);
  });

  it('exports the grown world and replays the log to the stored state in wasm, js and model', async function () {
    const grown = (await exportWorld(world.service.db, 'realm'))!;
    const tower = grown.locations.find((l) => l.title === 'The Old Tower')!;
    expect(tower.description).to.equal('Wind whistles through the broken slates.');
    expect(tower.exits).to.include({ down: 'square', east: 'square' });
    expect(grown.locations.find((l) => l.key === 'square')!.locked).to.have.property('up');
    expect(grown.items.map((i) => i.name)).to.include.members(['brass lamp', 'bronze key', 'wooden stool']);
    for (const [name, replay] of await replayInEveryEngine(world, 'realm')) expect(replay.divergence, name).to.equal(null);
  });
});
