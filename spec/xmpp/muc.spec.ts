// lib/xmpp/muc.ts with a real room on the embedded database and the stanzas it
// sends collected: the paths an end-to-end run cannot force, such as a nick
// change whose batch does not commit.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { pino } from 'pino';
import { openDb, migrate, type Db } from '../../lib/db/index.ts';
import { installWorlds } from '../../lib/world/index.ts';
import { loadRoom } from '../../lib/contextualization/index.ts';
import { compileKernel, KernelEngine } from '../../lib/engines/index.ts';
import { Room } from '../../lib/rooms/index.ts';
import { ROOT_DIR } from '../../lib/config/index.ts';
import { noTelemetry } from '../../lib/metrics/index.ts';
import { MucRoom } from '../../lib/xmpp/muc.ts';
import { NS_MUC, NS_MUC_USER, NS_STANZAS, xml, type Element } from '../../lib/xmpp/stanzas.ts';
import { CHARACTERS_PER_JID_MAX, INVITEES_PER_HOUR_MAX, OCCUPANTS_PER_JID_MAX } from '../../lib/constants.ts';
import { stanzasOf } from '../support/wire.ts';

const log = pino({ level: 'silent' });
const ROOM = 'realm@game.localhost';
const ANN = 'ann@localhost/phone';

describe('xmpp MucRoom on a real room (embedded database)', function () {
  let dir: string;
  let db: Db;
  let room: Room;
  let muc: MucRoom;
  const sent: Element[] = [];

  before(async function () {
    dir = mkdtempSync(path.join(os.tmpdir(), 'flux-muc-'));
    db = await openDb({ databaseUrl: '', dataDir: dir, log });
    await migrate(db);
    await installWorlds(db, path.join(ROOT_DIR, 'config/worlds'));
    const loaded = (await loadRoom(db, 'realm'))!;
    room = new Room({
      db, log, loaded, engine: KernelEngine.wasm(compileKernel(), loaded.world, 16), tickMs: 5, batchMax: 16, npcTickMs: 0,
      deliver: (_r, rendered, batch) => muc.deliver(rendered, batch),
      refuse: (_r, batch, reason) => muc.refuse(batch, reason),
    });
    muc = new MucRoom(room, {
      domain: 'game.localhost', log, clock: { nowMs: () => Date.now() },
      limits: { bodyBytesMax: 1024, commandsPerS: 10, occupantsMax: 10, charactersMax: 100, outputBytesPerS: 1 << 20, newCharactersPerDomainPerMin: 100 },
      write: (wire) => sent.push(...stanzasOf(wire)), telemetry: noTelemetry, shedding: () => false, joinBudget: () => 1 << 20,
    });
  });

  after(async function () {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const presenceTo = (nick: string) => xml('presence', { from: ANN, to: `${ROOM}/${nick}` }, xml('x', { xmlns: NS_MUC }));

  it('tells the player a nick change did not commit, keeps the old nick and frees the asked one', async function () {
    muc.join(presenceTo('Ann'), 'Ann');
    await room.drain();
    expect(room.character('Ann')).to.not.equal(undefined);
    await db.query('ALTER TABLE command_log RENAME TO command_log_away'); // every batch fails to commit, and says so
    sent.length = 0;
    muc.join(xml('presence', { from: ANN, to: `${ROOM}/Anna` }), 'Anna');
    await room.drain();
    const error = sent.find((el) => el.name === 'presence' && el.attrs.type === 'error');
    expect(error?.attrs.from).to.equal(`${ROOM}/Anna`);
    expect(error?.getChild('error')?.getChild('internal-server-error', NS_STANZAS)).to.not.equal(undefined);
    expect(sent.some((el) => el.name === 'presence' && el.attrs.type === 'unavailable'), 'no 303: nothing changed').to.equal(false);
    expect(muc.occupants.byNickname('Ann')?.sessions.has(ANN)).to.equal(true);
    expect(room.character('Ann')).to.not.equal(undefined);
    // Asking again is a new attempt, not "still being saved".
    sent.length = 0;
    muc.join(xml('presence', { from: ANN, to: `${ROOM}/Anna` }), 'Anna');
    expect(sent.filter((el) => el.attrs.type === 'error')).to.deep.equal([]);
    await db.query('ALTER TABLE command_log_away RENAME TO command_log');
    await room.drain();
    expect(sent.find((el) => el.name === 'presence' && el.attrs.from === `${ROOM}/Anna` && el.attrs.type === undefined), 'now it commits').to.not.equal(undefined);
    expect(room.character('Anna')?.jid).to.equal('ann@localhost');
  });
});

describe('xmpp MucRoom: strangers at the door (embedded database, a clock that stands still)', function () {
  let dir: string;
  let db: Db;
  let room: Room;
  const now = { ms: 1_000_000 };
  const sent: Element[] = [];
  const rooms: MucRoom[] = [];
  let muc: MucRoom;

  const open = (limits: { commandsPerS?: number; charactersMax?: number; outputBytesPerS?: number; newCharactersPerDomainPerMin?: number } = {}, behind = () => false, joinBudget = () => (behind() ? 0 : 1 << 20)) => {
    const m = new MucRoom(room, {
      domain: 'game.localhost', log, clock: { nowMs: () => now.ms },
      limits: { bodyBytesMax: 1024, commandsPerS: limits.commandsPerS ?? 10, occupantsMax: 50, charactersMax: limits.charactersMax ?? 1000, outputBytesPerS: limits.outputBytesPerS ?? (1 << 20),
        newCharactersPerDomainPerMin: limits.newCharactersPerDomainPerMin ?? 1000 },
      write: (wire) => sent.push(...stanzasOf(wire)), telemetry: noTelemetry, shedding: (bytesPerS) => behind() && bytesPerS > 0, joinBudget,
    });
    rooms.push(m);
    return m;
  };

  before(async function () {
    dir = mkdtempSync(path.join(os.tmpdir(), 'flux-muc-strangers-'));
    db = await openDb({ databaseUrl: '', dataDir: dir, log });
    await migrate(db);
    await installWorlds(db, path.join(ROOT_DIR, 'config/worlds'));
    const loaded = (await loadRoom(db, 'realm'))!;
    room = new Room({
      db, log, loaded, engine: KernelEngine.wasm(compileKernel(), loaded.world, 16), tickMs: 5, batchMax: 16, npcTickMs: 0,
      deliver: (_r, rendered, batch) => muc.deliver(rendered, batch),
      refuse: (_r, batch, reason) => muc.refuse(batch, reason),
      unanswerable: (_r, commands) => muc.unanswerable(commands),
    });
  });

  after(async function () {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const join = (from: string, nick: string) => muc.join(xml('presence', { from, to: `${ROOM}/${nick}` }, xml('x', { xmlns: NS_MUC })), nick);
  const leave = (from: string) => muc.leave(from);
  const say = (from: string, text: string) => muc.command(xml('message', { from, to: ROOM, type: 'groupchat' }, xml('body', {}, text)));
  const errorsTo = (to: string) => sent.filter((el) => el.attrs.to === to && el.attrs.type === 'error').map((el) => ({
    condition: el.getChild('error')?.getChildElements().find((c) => c.attrs.xmlns === NS_STANZAS)?.name,
    text: el.getChild('error')?.getChildText('text', NS_STANZAS),
  }));
  const bodiesTo = (to: string) => sent.filter((el) => el.attrs.to === to && el.name === 'message' && el.attrs.type !== 'error').map((el) => el.getChildText('body'));

  it('announces a join to the others only after it commits; a join that fails leaves nothing and says why', async function () {
    muc = open();
    sent.length = 0;
    join('ann@localhost/a', 'Ann');
    expect(sent.filter((el) => el.name === 'presence'), 'nothing before COMMIT').to.deep.equal([]);
    await room.drain();
    expect(sent.some((el) => el.name === 'presence' && el.attrs.to === 'ann@localhost/a' && el.attrs.from === `${ROOM}/Ann`)).to.equal(true);
    await db.query('ALTER TABLE command_log RENAME TO command_log_away');
    sent.length = 0;
    join('bo@localhost/b', 'Bo');
    await room.drain();
    await db.query('ALTER TABLE command_log_away RENAME TO command_log');
    expect(sent.filter((el) => el.attrs.to === 'ann@localhost/a' && el.name === 'presence'), 'Ann never heard of Bo').to.deep.equal([]);
    expect(errorsTo('bo@localhost/b').map((e) => e.condition)).to.deep.equal(['internal-server-error']);
    expect(errorsTo('bo@localhost/b')[0]!.text).to.match(/not joined/);
    expect(muc.occupants.byNickname('Bo'), 'no ghost').to.equal(undefined);
    expect(room.character('Bo')).to.equal(undefined);
    sent.length = 0;
    say('bo@localhost/b', 'look');
    expect(errorsTo('bo@localhost/b').map((e) => e.condition), 'a later command is answered').to.deep.equal(['not-acceptable']);
    leave('ann@localhost/a');
    await room.drain();
  });

  it('keeps the token bucket of a bare JID across leave and rejoin, and spends it on joins', async function () {
    muc = open();
    join('cat@localhost/a', 'Cat');
    await room.drain();
    sent.length = 0;
    for (let i = 0; i < 25; i++) say('cat@localhost/a', 'look');
    expect(bodiesTo('cat@localhost/a').filter((b) => /^Slow down/.test(b ?? ''))).to.have.length(1);
    leave('cat@localhost/a');
    sent.length = 0;
    join('cat@localhost/other', 'Cat');
    expect(errorsTo('cat@localhost/other').map((e) => e.condition), 'rejoining refills nothing').to.deep.equal(['resource-constraint']);
    now.ms += 60_000;
    join('cat@localhost/other', 'Cat');
    await room.drain();
    expect(muc.occupants.byNickname('Cat')?.joined).to.equal(true);
    leave('cat@localhost/other');
    await room.drain();
  });

  it('treats nicks that compare equal under RFC 8266 as one nick, and asks for the enforced form', async function () {
    muc = open();
    join('dee@localhost/a', 'Dee');
    await room.drain();
    sent.length = 0;
    join('eve@localhost/a', 'dee');
    join('eve@localhost/b', 'DEE');
    join('eve@localhost/c', 'Ｄｅｅ');
    join('eve@localhost/d', 'De\u200de');
    expect(errorsTo('eve@localhost/a').map((e) => e.condition)).to.deep.equal(['conflict']);
    expect(errorsTo('eve@localhost/b').map((e) => e.condition)).to.deep.equal(['conflict']);
    expect(errorsTo('eve@localhost/c')[0]).to.deep.include({ condition: 'jid-malformed' });
    expect(errorsTo('eve@localhost/c')[0]!.text).to.contain('"Dee"');
    expect(errorsTo('eve@localhost/d')[0]).to.deep.equal({ condition: 'jid-malformed', text: 'A nick may not contain invisible or direction-changing characters.' });
    leave('dee@localhost/a');
    await room.drain();
    join('eve@localhost/a', 'dee');
    expect(errorsTo('eve@localhost/a').map((e) => e.condition), 'the character stays Dee\'s').to.deep.equal(['conflict', 'conflict']);
  });

  it('bounds the characters of one JID and of the world, and the occupants of one JID', async function () {
    muc = open({ commandsPerS: 1000 });
    sent.length = 0;
    for (const nick of ['Fa', 'Fb', 'Fc', 'Fd']) {
      join(`fay@localhost/${nick}`, nick);
      await room.drain();
      leave(`fay@localhost/${nick}`);
      await room.drain();
    }
    join('fay@localhost/e', 'Fe');
    expect(errorsTo('fay@localhost/e')[0]!.condition).to.equal('policy-violation');
    expect(errorsTo('fay@localhost/e')[0]!.text).to.contain(`at most ${CHARACTERS_PER_JID_MAX} characters`);
    join('fay@localhost/a', 'Fa');
    join('fay@localhost/b', 'Fb');
    join('fay@localhost/c', 'Fc');
    expect(errorsTo('fay@localhost/c')[0]!.text).to.contain(`at most ${OCCUPANTS_PER_JID_MAX} characters here at once`);
    await room.drain();
    muc.evictAll([]);
    await room.drain();
    muc = open({ charactersMax: room.characterCount });
    join('gus@localhost/a', 'Gus');
    expect(errorsTo('gus@localhost/a')[0]!.condition).to.equal('resource-constraint');
    expect(errorsTo('gus@localhost/a')[0]!.text).to.match(/no room for a new one/);
    join('fay@localhost/a', 'Fa');
    await room.drain();
    expect(muc.occupants.byNickname('Fa')?.joined, 'a character one has can still come back').to.equal(true);
    muc.evictAll([]);
    await room.drain();
  });

  it('bounds how fast one server\'s JIDs make new characters (anonymous logins are a fresh JID each)', async function () {
    muc = open({ newCharactersPerDomainPerMin: 3 });
    sent.length = 0;
    for (let i = 0; i < 4; i++) join(`guest${i}@anon.example/x`, `Guest${i}`);
    expect(errorsTo('guest3@anon.example/x')[0]!.text).to.match(/at most 3 a minute/);
    join('kim@elsewhere.example/x', 'Kim');
    expect(errorsTo('kim@elsewhere.example/x'), 'another server is not held up').to.deep.equal([]);
    await room.drain();
    now.ms += 60_000;
    join('guest3@anon.example/x', 'Guest3');
    await room.drain();
    expect(muc.occupants.byNickname('Guest3')?.joined).to.equal(true);
    muc.evictAll([]);
    await room.drain();
  });

  it('lets one JID invite a bounded number of people an hour, never the same one twice in a row', async function () {
    muc = open({ commandsPerS: 1000 });
    join('hal@localhost/a', 'Hal');
    await room.drain();
    const invite = (to: string) => muc.invite(xml('message', { from: 'hal@localhost/a', to: ROOM }, xml('x', { xmlns: NS_MUC_USER }, xml('invite', { to }))));
    sent.length = 0;
    invite('friend0@example.org');
    invite('friend0@example.org');
    expect(errorsTo('hal@localhost/a').map((e) => e.condition)).to.deep.equal(['policy-violation']);
    for (let i = 1; i < INVITEES_PER_HOUR_MAX + 3; i++) invite(`friend${i}@example.org`);
    const invited = new Set(sent.filter((el) => el.name === 'message' && el.attrs.from === ROOM && el.getChild('x', NS_MUC_USER)).map((el) => el.attrs.to));
    expect(invited.size).to.equal(INVITEES_PER_HOUR_MAX);
    leave('hal@localhost/a');
    await room.drain();
    join('hal@localhost/a', 'Hal');
    await room.drain();
    sent.length = 0;
    invite('stranger@example.org');
    expect(errorsTo('hal@localhost/a').map((e) => e.condition), 'leaving forgets nothing').to.deep.equal(['policy-violation']);
    now.ms += 3600_000;
    invite('stranger@example.org');
    expect(sent.some((el) => el.attrs.to === 'stranger@example.org')).to.equal(true);
    muc.evictAll([]);
    await room.drain();
  });

  it('refuses new commands in a room that spent its output budget, holds its joins, while another room goes on', async function () {
    const quiet = open();
    muc = open({ outputBytesPerS: 4096, commandsPerS: 1000 });
    join('ivy@localhost/a', 'Ivy');
    await room.drain();
    for (let i = 0; i < 40; i++) say('ivy@localhost/a', 'look'); // 40 descriptions: well past 2 s of 4 KB/s
    await room.drain();
    sent.length = 0;
    say('ivy@localhost/a', 'look');
    expect(bodiesTo('ivy@localhost/a'), 'one stanza answers it: no line in the room besides').to.deep.equal([]);
    expect(errorsTo('ivy@localhost/a'), 'the message itself is marked not taken, and why').to.deep.equal([
      { condition: 'resource-constraint', text: 'The world is very busy right now; this command was not taken. Try it again in a moment.' },
    ]);
    expect(quiet.busy).to.equal(false);
    join('wes@localhost/a', 'Wes');
    join('ivy@localhost/b', 'Ivy');
    await room.drain();
    expect(errorsTo('wes@localhost/a'), 'a join waits its turn').to.deep.equal([]);
    expect(room.characterByKey('wes'), 'held, not in a batch').to.equal(undefined);
    expect(errorsTo('ivy@localhost/b').map((e) => e.condition), 'another session would get the occupant list at once: refused').to.deep.equal(['resource-constraint']);
    now.ms += 10_000;
    expect(muc.busy, 'the budget refills').to.equal(false);
    muc.releaseHeld(1 << 20);
    await room.drain();
    expect(room.characterByKey('wes')?.present, 'let in once the budget refilled').to.equal(true);
    muc.evictAll([]);
    await room.drain();
  });

  it('lets held joins in as the server reads: one at a time when one costs more than its room, never waiting for one another when several fit', async function () {
    const server = { budget: 0 };
    muc = open({}, () => false, () => server.budget);
    for (const nick of ['Pia', 'Tam', 'Uma', 'Vic']) join(`${nick.toLowerCase()}@localhost/a`, nick);
    await room.drain();
    const present = () => ['pia', 'tam', 'uma', 'vic'].filter((k) => room.characterByKey(k)?.present === true);
    expect(present(), 'no room at the server: all held').to.deep.equal([]);
    server.budget = 1;
    muc.releaseHeld(server.budget);
    muc.releaseHeld(server.budget);
    await room.drain();
    expect(present(), 'a byte of room lets one in, and only one while it is in a batch').to.deep.equal(['pia']);
    muc.releaseHeld(server.budget);
    await room.drain();
    expect(present(), 'the next once it was announced').to.deep.equal(['pia', 'tam']);
    server.budget = 1 << 20;
    muc.releaseHeld(server.budget);
    await room.drain();
    expect(present(), 'a wide window lets the rest in together, in order').to.deep.equal(['pia', 'tam', 'uma', 'vic']);
    expect(errorsTo('vic@localhost/a')).to.deep.equal([]);
    muc.evictAll([]);
    await room.drain();
  });

  it('answers "busy" to new commands while the server is behind and the room is writing; holds joins, in order, until it caught up', async function () {
    const server = { behind: false };
    muc = open({}, () => server.behind);
    join('jan@localhost/a', 'Jan');
    await room.drain();
    say('jan@localhost/a', 'look');
    await room.drain();
    server.behind = true;
    sent.length = 0;
    say('jan@localhost/a', 'look');
    expect(bodiesTo('jan@localhost/a')).to.deep.equal([]);
    expect(errorsTo('jan@localhost/a').map((e) => e.condition)).to.deep.equal(['resource-constraint']);
    join('quill@localhost/a', 'Quill');
    join('rue@localhost/a', 'Rue');
    join('sol@localhost/a', 'Sol');
    await room.drain();
    expect(errorsTo('quill@localhost/a'), 'held, not refused').to.deep.equal([]);
    expect(room.characterByKey('quill'), 'not in a batch yet').to.equal(undefined);
    join('other@localhost/a', 'Quill');
    expect(errorsTo('other@localhost/a').map((e) => e.condition), 'a held join keeps its nick').to.deep.equal(['conflict']);
    leave('rue@localhost/a');
    server.behind = false;
    muc.releaseHeld(1 << 20);
    await room.drain();
    expect(room.characterByKey('quill')?.present, 'released once the server caught up').to.equal(true);
    expect(room.characterByKey('sol')?.present).to.equal(true);
    expect(room.characterByKey('rue'), 'a held join whose player left never reached the world').to.equal(undefined);
    expect(sent.some((el) => el.attrs.to === 'quill@localhost/a' && el.name === 'presence' && el.attrs.from === `${ROOM}/Quill`), 'Quill got the room').to.equal(true);
    sent.length = 0;
    say('jan@localhost/a', 'look');
    await room.drain();
    expect(bodiesTo('jan@localhost/a').some((b) => /Exits:/.test(b ?? ''))).to.equal(true);
    muc.evictAll([]);
    await room.drain();
  });
});
