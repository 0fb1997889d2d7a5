// lib/xmpp/guests.ts and the guest path of lib/xmpp/muc.ts, with a real room on
// the embedded database and a clock that moves only when the spec says: a guest
// (a JID of a guest domain) who leaves is released after FLUX_GUEST_RELEASE_S, its
// things left where it stood and its nick free; nobody else ever is.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { pino } from 'pino';
import { openDb, migrate, type Db } from '../../lib/db/index.ts';
import { installWorlds } from '../../lib/world/index.ts';
import { loadRoom } from '../../lib/contextualization/index.ts';
import { compileKernel, KernelEngine } from '../../lib/engines/index.ts';
import { Room, replayRoom } from '../../lib/rooms/index.ts';
import { ROOT_DIR } from '../../lib/config/index.ts';
import { noTelemetry } from '../../lib/metrics/index.ts';
import { MucRoom } from '../../lib/xmpp/muc.ts';
import { Guests } from '../../lib/xmpp/guests.ts';
import { NS_MUC, xml, type Element } from '../../lib/xmpp/stanzas.ts';
import { parseBody } from '../../lib/negotiation/index.ts';
import { stanzasOf } from '../support/wire.ts';

const log = pino({ level: 'silent' });
const ROOM = 'realm@game.localhost';
const RELEASE_S = 300;

describe('xmpp Guests (a clock that moves only when told)', function () {
  it('knows guests by their server domain, in any case, and nobody when no domain is named', function () {
    const guests = new Guests({ domains: ['Guest.Localhost'], releaseS: 1 }, { nowMs: () => 0 }, () => {});
    expect(guests.isGuest('x1y2@guest.localhost')).to.equal(true);
    expect(guests.isGuest('x1y2@GUEST.localhost')).to.equal(true);
    expect(guests.isGuest('ann@localhost')).to.equal(false);
    expect(guests.isGuest('not a jid@@')).to.equal(false);
    expect(new Guests({ domains: [], releaseS: 1 }, { nowMs: () => 0 }, () => {}).isGuest('x@guest.localhost')).to.equal(false);
    guests.close();
  });

  it('hands a guest to the room once its time is up, once; a second leave starts the time again; close forgets them all', function () {
    const now = { ms: 0 };
    const released: string[] = [];
    const guests = new Guests({ domains: ['guest.localhost'], releaseS: 10 }, { nowMs: () => now.ms }, (nick) => released.push(nick));
    guests.left('Gus', 'g1@guest.localhost');
    guests.left('Ann', 'ann@localhost');
    expect(guests.waiting, 'only the guest waits').to.equal(1);
    now.ms = 9_999;
    guests.sweep();
    expect(released).to.deep.equal([]);
    guests.left('Gus', 'g1@guest.localhost'); // came back and left again at 9.999 s
    now.ms = 10_000;
    guests.sweep();
    expect(released, 'the time counts from the last leave').to.deep.equal([]);
    now.ms = 19_999;
    guests.sweep();
    guests.sweep();
    expect(released).to.deep.equal(['Gus']);
    expect(guests.waiting).to.equal(0);
    guests.left('Hal', 'g2@guest.localhost');
    guests.close();
    now.ms = 1e9;
    guests.sweep();
    guests.left('Ida', 'g3@guest.localhost');
    expect(released, 'nothing after close').to.deep.equal(['Gus']);
  });
});

describe('xmpp MucRoom: guests released (embedded database, a clock that moves only when told)', function () {
  let dir: string;
  let db: Db;
  let room: Room;
  let muc: MucRoom;
  const now = { ms: 1_000_000 };
  const sent: Element[] = [];

  before(async function () {
    dir = mkdtempSync(path.join(os.tmpdir(), 'flux-guests-'));
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
    muc = new MucRoom(room, {
      domain: 'game.localhost', log, clock: { nowMs: () => now.ms },
      limits: {
        bodyBytesMax: 1024, commandsPerS: 1000, occupantsMax: 50, charactersMax: 1000, outputBytesPerS: 1 << 20, newCharactersPerDomainPerMin: 1000,
        guests: { domains: ['guest.localhost'], releaseS: RELEASE_S },
      },
      write: (wire) => sent.push(...stanzasOf(wire)), telemetry: noTelemetry, shedding: () => false, joinBudget: () => 1 << 20,
    });
  });

  after(async function () {
    muc.close();
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const join = async (from: string, nick: string) => {
    muc.join(xml('presence', { from, to: `${ROOM}/${nick}` }, xml('x', { xmlns: NS_MUC })), nick);
    await room.drain();
  };
  const leave = async (from: string) => {
    muc.leave(from);
    await room.drain();
  };
  const type = async (from: string, body: string) => {
    muc.command(xml('message', { from, to: ROOM, type: 'groupchat' }, xml('body', {}, body)));
    await room.drain();
  };
  const bodiesTo = (to: string) => sent.filter((el) => el.attrs.to === to && el.name === 'message' && el.attrs.from === ROOM).map((el) => el.getChildText('body') ?? '');
  const joinError = (to: string) => sent.find((el) => el.attrs.to === to && el.name === 'presence' && el.attrs.type === 'error');
  /** The clock moves on, and the room looks for guests whose time is up (as its timer would). */
  const wait = async (s: number) => {
    now.ms += s * 1000;
    muc.guests.sweep();
    await room.drain();
  };

  it('never takes "release" from a player: typed, it is an unknown command', function () {
    const parsed = parseBody('release Bob', 'Ann');
    expect(parsed.ok).to.equal(false);
  });

  it('releases a guest who left: the others there see it fade, its things lie where it stood, its nick is free', async function () {
    await join('ann@localhost/a', 'Ann');
    await join('x7q@guest.localhost/r1', 'Gus');
    await type('x7q@guest.localhost/r1', 'take handbill');
    expect(bodiesTo('x7q@guest.localhost/r1').at(-1)).to.equal('You take the torn handbill.');
    const characters = room.characterCount;
    await leave('x7q@guest.localhost/r1');
    sent.length = 0;
    await wait(RELEASE_S - 1);
    expect(room.character('Gus')?.released, 'not before its time').to.not.equal(true);
    expect(bodiesTo('ann@localhost/a')).to.deep.equal([]);
    await wait(1);
    expect(bodiesTo('ann@localhost/a')).to.deep.equal(['Gus fades from the world, leaving the torn handbill here.']);
    expect(room.characterCount, 'one character fewer in the world').to.equal(characters - 1);
    expect(room.charactersOwnedBy('x7q@guest.localhost')).to.equal(0);
    expect(room.character('Gus'), 'the nick names nobody now').to.equal(undefined);
    const row = await db.query<{ released: boolean }>("SELECT released FROM characters WHERE room_id = 'realm' AND nick = 'Gus'");
    expect(row.rows).to.deep.equal([{ released: true }]);
    // Someone else takes the nick, and finds the handbill lying in the square.
    await join('gus@localhost/home', 'Gus');
    expect(joinError('gus@localhost/home'), 'the nick is free').to.equal(undefined);
    expect(room.character('Gus')?.jid).to.equal('gus@localhost');
    expect(bodiesTo('gus@localhost/home').find((b) => b.startsWith('Town Square'))).to.include('You see: torn handbill');
    await type('gus@localhost/home', 'inventory');
    expect(bodiesTo('gus@localhost/home').at(-1)).to.match(/^You are carrying nothing\./);
    await leave('gus@localhost/home');
  });

  it('never releases a player of another server, however long they are away', async function () {
    await join('bea@localhost/b', 'Bea');
    await type('bea@localhost/b', 'take handbill');
    await leave('bea@localhost/b');
    await wait(100 * RELEASE_S);
    expect(room.character('Bea')?.released).to.equal(false);
    expect(muc.guests.waiting).to.equal(0);
    await join('bea@localhost/b', 'Bea');
    await type('bea@localhost/b', 'inventory');
    expect(bodiesTo('bea@localhost/b').at(-1)).to.match(/^You are carrying: torn handbill/);
  });

  it('keeps a guest who comes back before the time is up', async function () {
    await join('k9z@guest.localhost/r1', 'Kit');
    await leave('k9z@guest.localhost/r1');
    await wait(RELEASE_S / 2);
    await join('k9z@guest.localhost/r2', 'Kit');
    sent.length = 0;
    await wait(RELEASE_S);
    expect(room.character('Kit')?.released).to.equal(false);
    expect(bodiesTo('ann@localhost/a').filter((b) => /fades/.test(b))).to.deep.equal([]);
    // Leaving again starts the time again, from then.
    await leave('k9z@guest.localhost/r2');
    await wait(RELEASE_S - 1);
    expect(room.character('Kit')).to.not.equal(undefined);
    await wait(1);
    expect(room.character('Kit')).to.equal(undefined);
    expect(bodiesTo('ann@localhost/a').at(-1)).to.equal('Kit fades from the world.');
  });

  it('is in the command log: a replay rebuilds the stored state, released guests and all', async function () {
    const logged = await db.query<{ commands: { kind: string; nick: string }[] }>("SELECT commands FROM command_log WHERE room_id = 'realm' ORDER BY version");
    expect(logged.rows.flatMap((r) => r.commands).filter((c) => c.kind === 'release').map((c) => c.nick)).to.deep.equal(['Gus', 'Kit']);
    const r = (await replayRoom(db, 'realm', (map) => KernelEngine.wasm(compileKernel(), map, 4096), log))!;
    expect(r.divergence).to.equal(null);
    expect(r.replayed.characters.filter((c) => c.released).map((c) => c.nick)).to.deep.equal(['Gus', 'Kit']);
    expect(r.replayed.characters.filter((c) => c.nick === 'Gus').map((c) => [c.jid, c.released])).to.deep.equal([['x7q@guest.localhost', true], ['gus@localhost', false]]);
  });
});
