// XEP-0045 roles and affiliations as real clients see them through a
// private Prosody and a private ejabberd: the world file's owner grants admin,
// member and outcast and reads the lists; others are refused; a kick (307) and a ban (301) with the actor and the
// reason; a banned JID is refused on join, also after the component restarted;
// moderators see real JIDs in a semi-anonymous world and participants do not; the
// command log replays to the stored state (affiliations included) in every engine.
import { expect } from 'chai';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { xml, type Element, type Player } from '../support/player.ts';
import { until } from '../support/until.ts';
import { createTestDatabase, SERVER_KINDS, SERVER_NAMES, startWorld, type TestDatabase, type World } from '../support/flux.ts';
import { replayInEveryEngine } from '../support/replay.ts';

const NS_MUC_USER = 'http://jabber.org/protocol/muc#user';
const NS_ADMIN = 'http://jabber.org/protocol/muc#admin';
const NS_OWNER = 'http://jabber.org/protocol/muc#owner';

const itemOf = (el: Element) => el.getChild('x', NS_MUC_USER)?.getChild('item');
const codesOf = (el: Element) => (el.getChild('x', NS_MUC_USER)?.getChildren('status') ?? []).map((s) => s.attrs.code);
const errorOf = (el: Element) => el.getChild('error')?.getChildElements().find((c) => c.name !== 'text')?.name;
const presenceFrom = (from: string, type?: string) => (el: Element) => el.name === 'presence' && el.attrs.from === from && el.attrs.type === type;
const admin = (...items: Element[]) => xml('query', { xmlns: NS_ADMIN }, ...items);
const listOf = (reply: Element) => reply.getChild('query')!.getChildren('item').map((i) => `${i.attrs.jid} ${i.attrs.affiliation}`);

const kind = process.env.DATABASE_URL ? 'postgresql' : 'embedded';

for (const server of SERVER_KINDS) describe(`roles and affiliations (XEP-0045 §8-§10) through ${SERVER_NAMES[server]}, ${kind} database`, function () {
  let db: TestDatabase;
  let world: World;
  let room: string;
  let host: string;
  let olga: Player; // owner, from the world file
  let pete: Player; // participant, later admin
  let mia: Player; // member
  let kurt: Player; // kicked
  let bart: Player; // banned

  before(async function () {
    db = await createTestDatabase(kind);
    const worlds = mkdtempSync(path.join(os.tmpdir(), 'flux-worlds-'));
    const realm = readFileSync(path.join('config', 'worlds', 'realm.yaml'), 'utf8');
    // The private servers' users live on 'localhost' (lib/demo/prosody.ts, lib/demo/ejabberd.ts).
    writeFileSync(path.join(worlds, 'realm.yaml'), realm.replace(/^start:/m, 'owners: [Olga@localhost]\nstart:'));
    world = await startWorld(db, { FLUX_WORLDS_DIR: worlds }, server);
    room = world.roomJid;
    host = world.xmpp.host;
    [olga, pete, mia, kurt, bart] = await Promise.all(['olga', 'pete', 'mia', 'kurt', 'bart'].map((n) => world.player(n)));
  });

  after(async function () {
    await world?.stop();
    await db?.drop();
  });

  it('shows the owner as a moderator and, in a semi-anonymous world, real JIDs to moderators only', async function () {
    await pete.join(room, 'Pete');
    const seenByOlga = await olga.join(room, 'Olga');
    const self = seenByOlga.find(presenceFrom(`${room}/Olga`))!;
    expect(itemOf(self)?.attrs).to.include({ affiliation: 'owner', role: 'moderator' });
    // The moderator sees Pete's real JID; Pete, a participant, does not see Olga's.
    expect(itemOf(seenByOlga.find(presenceFrom(`${room}/Pete`))!)?.attrs.jid).to.equal(pete.jid);
    const olgaSeenByPete = await pete.waitFor(presenceFrom(`${room}/Olga`));
    expect(itemOf(olgaSeenByPete)?.attrs).to.include({ affiliation: 'owner', role: 'moderator' });
    expect(itemOf(olgaSeenByPete)?.attrs.jid).to.equal(undefined);
  });

  it('refuses a participant every admin request: forbidden', async function () {
    const grant = await pete.iq(room, 'set', admin(xml('item', { affiliation: 'admin', jid: `pete@${host}` })));
    expect(errorOf(grant)).to.equal('forbidden');
    const list = await pete.iq(room, 'get', admin(xml('item', { affiliation: 'outcast' })));
    expect(errorOf(list)).to.equal('forbidden');
    const kick = await pete.iq(room, 'set', admin(xml('item', { nick: 'Olga', role: 'none' })));
    expect(errorOf(kick)).to.equal('forbidden');
  });

  it('lets the owner grant admin and member, shows the new roles to everyone and lists them (muc#admin and muc#owner)', async function () {
    pete.mark();
    const grant = await olga.iq(room, 'set', admin(xml('item', { affiliation: 'admin', jid: `pete@${host}` }), xml('item', { affiliation: 'member', jid: `mia@${host}` })));
    expect(grant.attrs.type).to.equal('result');
    const promoted = await pete.waitFor((el) => presenceFrom(`${room}/Pete`)(el) && itemOf(el)?.attrs.role === 'moderator');
    expect(itemOf(promoted)?.attrs.affiliation).to.equal('admin');
    const admins = await olga.iq(room, 'get', xml('query', { xmlns: NS_OWNER }, xml('item', { affiliation: 'admin' })));
    expect(listOf(admins)).to.deep.equal([`pete@${host} admin`]);
    const members = await pete.iq(room, 'get', admin(xml('item', { affiliation: 'member' })));
    expect(listOf(members)).to.deep.equal([`mia@${host} member`]);
    const owners = await pete.iq(room, 'get', admin(xml('item', { affiliation: 'owner' })));
    expect(listOf(owners)).to.deep.equal([`olga@${host} owner`]);
    // The new moderator now sees real JIDs; a member joining is a participant.
    const seen = await mia.join(room, 'Mia');
    expect(itemOf(seen.find(presenceFrom(`${room}/Mia`))!)?.attrs).to.include({ affiliation: 'member', role: 'participant' });
    const miaSeenByPete = await pete.waitFor(presenceFrom(`${room}/Mia`));
    expect(itemOf(miaSeenByPete)?.attrs.jid).to.equal(mia.jid);
  });

  it('refuses what the XEP refuses: an admin making an admin, kicking an owner, the last owner leaving ownership', async function () {
    expect(errorOf(await pete.iq(room, 'set', admin(xml('item', { affiliation: 'admin', jid: `mia@${host}` }))))).to.equal('forbidden');
    expect(errorOf(await pete.iq(room, 'set', admin(xml('item', { affiliation: 'outcast', jid: `olga@${host}` }))))).to.equal('not-allowed');
    expect(errorOf(await pete.iq(room, 'set', admin(xml('item', { nick: 'Olga', role: 'none' }))))).to.equal('not-allowed');
    expect(errorOf(await olga.iq(room, 'set', admin(xml('item', { affiliation: 'none', jid: `olga@${host}` }))))).to.equal('conflict');
    expect(errorOf(await olga.iq(room, 'set', admin(xml('item', { affiliation: 'wizard', jid: `mia@${host}` }))))).to.equal('bad-request');
    expect(errorOf(await olga.iq(room, 'set', admin(xml('item', { nick: 'Nobody', role: 'none' }))))).to.equal('item-not-found');
  });

  it('kicks (§8.2): 307 with actor and reason to the kicked player and to the others; the player may come back', async function () {
    await kurt.join(room, 'Kurt');
    kurt.mark();
    mia.mark();
    const kick = await pete.iq(room, 'set', admin(xml('item', { nick: 'Kurt', role: 'none' }, xml('reason', {}, 'shouting'))));
    expect(kick.attrs.type).to.equal('result');
    for (const who of [kurt, mia]) {
      const gone = await who.waitFor(presenceFrom(`${room}/Kurt`, 'unavailable'));
      expect(codesOf(gone)).to.include('307');
      expect(itemOf(gone)?.attrs.role).to.equal('none');
      expect(itemOf(gone)?.getChild('actor')?.attrs.nick).to.equal('Pete');
      expect(itemOf(gone)?.getChildText('reason')).to.equal('shouting');
    }
    expect(codesOf(await kurt.waitFor(presenceFrom(`${room}/Kurt`, 'unavailable')))).to.include('110');
    expect(world.service.edge.room('realm')!.occupants.byNickname('Kurt')).to.equal(undefined);
    await kurt.join(room, 'Kurt'); // a kick is not a ban
  });

  it('bans (§9.1): 301 to every session of the JID and the others, lists the outcast, and refuses a later join with forbidden', async function () {
    await bart.join(room, 'Bart');
    const second = await world.player('bart', 'second');
    await second.join(room, 'Bart');
    bart.mark();
    second.mark();
    mia.mark();
    const ban = await olga.iq(room, 'set', admin(xml('item', { affiliation: 'outcast', jid: `bart@${host}` }, xml('reason', {}, 'griefing'))));
    expect(ban.attrs.type).to.equal('result');
    for (const who of [bart, second, mia]) {
      const gone = await who.waitFor(presenceFrom(`${room}/Bart`, 'unavailable'));
      expect(codesOf(gone)).to.include('301');
      expect(itemOf(gone)?.attrs).to.include({ affiliation: 'outcast', role: 'none' });
      expect(itemOf(gone)?.getChildText('reason')).to.equal('griefing');
    }
    const outcasts = await pete.iq(room, 'get', admin(xml('item', { affiliation: 'outcast' })));
    expect(listOf(outcasts)).to.deep.equal([`bart@${host} outcast`]);
    expect(outcasts.getChild('query')!.getChild('item')!.getChildText('reason')).to.equal('griefing');
    const again = await bart.join(room, 'Bart').then(() => 'joined', (err: Error) => err.message);
    expect(again).to.match(/refused: forbidden/);
  });

  it('keeps the ban and the affiliations across a component restart', async function () {
    await world.restartFlux();
    await until(() => world.service.edge.online, 15000);
    const again = await bart.join(room, 'Bart').then(() => 'joined', (err: Error) => err.message);
    expect(again).to.match(/refused: forbidden/);
    const seen = await pete.join(room, 'Pete');
    expect(itemOf(seen.find(presenceFrom(`${room}/Pete`))!)?.attrs).to.include({ affiliation: 'admin', role: 'moderator' });
    // Lifting the ban lets the JID back in.
    expect((await pete.iq(room, 'set', admin(xml('item', { affiliation: 'none', jid: `bart@${host}` })))).attrs.type).to.equal('result');
    await bart.join(room, 'Bart');
  });

  it('replays the command log (kicks, bans, affiliations) to exactly the stored state in wasm, js and model', async function () {
    for (const [name, r] of await replayInEveryEngine(world, 'realm')) {
      expect(r.divergence, name).to.equal(null);
      const logged = await world.service.db.query<{ commands: { kind: string }[] }>('SELECT commands FROM command_log WHERE room_id = $1', ['realm']);
      const kinds = new Set(logged.rows.flatMap((row) => row.commands.map((c) => c.kind)));
      expect([...kinds], name).to.include.members(['kick', 'affiliate']);
    }
  });
});
