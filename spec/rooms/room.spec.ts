// A room's batch end to end without XMPP, on a real (embedded) database: effects
// only after COMMIT, and the version fence refusing a writer that fell behind.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { pino } from 'pino';
import { openDb, migrate, type Db } from '../../lib/db/index.ts';
import { installWorlds } from '../../lib/world/index.ts';
import { loadRoom } from '../../lib/contextualization/index.ts';
import { compileKernel, KernelEngine } from '../../lib/engines/index.ts';
import { recordOwner, releaseOwner, Room } from '../../lib/rooms/index.ts';
import { ROOT_DIR } from '../../lib/config/index.ts';
import type { Message } from '../../lib/effects/index.ts';
import type { Submission } from '../../lib/negotiation/index.ts';
import { ROOM_QUEUE_COMMANDS_MAX } from '../../lib/constants.ts';

const log = pino({ level: 'silent' });

describe('room (lib/rooms) on the embedded database', function () {
  let dir: string;
  let db: Db;

  before(async function () {
    dir = mkdtempSync(path.join(os.tmpdir(), 'flux-room-'));
    db = await openDb({ databaseUrl: '', dataDir: dir, log });
    await migrate(db);
    await installWorlds(db, path.join(ROOT_DIR, 'config/worlds'));
  });

  after(async function () {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function openRoom(options: { deliverThrows?: boolean; epoch?: number; lost?: () => void } = {}) {
    const loaded = (await loadRoom(db, 'realm'))!;
    const delivered: Message[] = [];
    const refused: { batch: readonly Submission[]; reason: string }[] = [];
    const unanswered: Submission[] = [];
    const room = new Room({
      db, log, loaded, engine: KernelEngine.wasm(compileKernel(), loaded.world, 16), tickMs: 5, batchMax: 16, npcTickMs: 0,
      deliver: (_r, { messages }) => {
        if (options.deliverThrows) throw new Error('the socket went away while delivering');
        delivered.push(...messages);
      },
      refuse: (_r, batch, reason) => refused.push({ batch, reason }),
      unanswerable: (_r, commands) => unanswered.push(...commands),
      ...(options.epoch === undefined ? {} : { epoch: options.epoch }), ...(options.lost ? { lost: options.lost } : {}),
    });
    return { room, delivered, refused, unanswered };
  }

  it('lets only one of two writers of a room commit a version; the loser shows nothing, reloads and goes on', async function () {
    const a = await openRoom();
    const b = await openRoom(); // loaded at the same version as a
    a.room.submit({ command: { kind: 'join', nick: 'Ann', jid: 'ann@example.org' }, origin: { from: 'ann@example.org/x' } });
    await a.room.drain();
    expect(a.delivered.map((m) => m.body.split('\n')[0])).to.deep.equal(['Town Square']);

    b.room.submit({ command: { kind: 'join', nick: 'Ben', jid: 'ben@example.org' }, origin: { from: 'ben@example.org/x' } });
    await b.room.drain();
    expect(b.delivered, 'no effect for a batch that did not commit').to.deep.equal([]);
    expect(b.refused).to.have.length(1);
    expect(b.refused[0]!.reason).to.match(/nothing happened/);
    expect(b.room.projection.version).to.equal(1);
    expect(b.room.character('Ann')?.jid).to.equal('ann@example.org');

    b.room.submit({ command: { kind: 'join', nick: 'Ben', jid: 'ben@example.org' } });
    await b.room.drain();
    const ann = b.room.character('Ann')!.id;
    const ben = b.room.character('Ben')!.id;
    expect(ben).to.equal(ann + 1);
    expect(b.delivered.map((m) => m.to)).to.deep.equal([ann, ben]);
    expect(b.delivered[0]!.body).to.equal('Ben has entered the world.');
    expect(b.delivered[1]!.body).to.match(/Also here: .*Ann/);
    const rows = await db.query<{ nick: string; present: boolean }>("SELECT nick, present FROM characters WHERE room_id = 'realm' AND jid <> '' ORDER BY id");
    expect(rows.rows).to.deep.equal([{ nick: 'Ann', present: true }, { nick: 'Ben', present: true }]);
    const versions = await db.query<{ version: number }>("SELECT version FROM command_log WHERE room_id = 'realm' ORDER BY version");
    expect(versions.rows.map((r) => r.version)).to.deep.equal([1, 2]);
  });

  it('fences an owner whose room was claimed since (a partition): at the current version it still writes nothing, shows nothing and gives the room up', async function () {
    const first = await recordOwner(db, 'realm', 'instance-a', '10.0.0.1:7400');
    let lost = 0;
    const a = await openRoom({ epoch: first.epoch, lost: () => lost++ });
    // Another instance claims the room while a is cut off; it has written nothing yet, so a's version is still current.
    const second = await recordOwner(db, 'realm', 'instance-b', '10.0.0.2:7400');
    expect(second).to.deep.equal({ epoch: first.epoch + 1, previous: 'instance-a' });
    const before = await db.query<{ version: number; n: number }>("SELECT version, (SELECT count(*) FROM command_log WHERE room_id = 'realm')::int AS n FROM rooms WHERE id = 'realm'");
    expect(Number(before.rows[0]!.version)).to.equal(a.room.projection.version);
    a.room.submit({ command: { kind: 'say', nick: 'Ann', text: 'written after the room was lost' }, origin: { from: 'ann@example.org/x' } });
    await a.room.drain();
    expect(a.delivered, 'no effect shown').to.deep.equal([]);
    expect(a.refused.map((r) => r.reason)).to.deep.equal(['This world moved to another server before that was saved, so nothing happened. Please try again.']);
    expect(lost, 'the caller is told to stop serving the room').to.equal(1);
    expect(a.room.submit({ command: { kind: 'look', nick: 'Ann' } }), 'it takes nothing more').to.equal(false);
    const after = await db.query<{ version: number; n: number }>("SELECT version, (SELECT count(*) FROM command_log WHERE room_id = 'realm')::int AS n FROM rooms WHERE id = 'realm'");
    expect(after.rows, 'nothing it tried to write survives').to.deep.equal(before.rows);
    await releaseOwner(db, 'realm', second.epoch);
  });

  it('writes only the command log and the version for a batch that changes no character', async function () {
    const { room } = await openRoom();
    const before = await db.query<{ nick: string; location: number }>("SELECT nick, location FROM characters ORDER BY id");
    room.submit({ command: { kind: 'look', nick: 'Ann' } });
    room.submit({ command: { kind: 'say', nick: 'Ann', text: 'hello' } });
    await room.drain();
    const after = await db.query<{ nick: string; location: number }>("SELECT nick, location FROM characters ORDER BY id");
    expect(after.rows).to.deep.equal(before.rows);
    const last = await db.query<{ commands: { kind: string }[] }>("SELECT commands FROM command_log WHERE room_id = 'realm' ORDER BY version DESC LIMIT 1");
    expect(last.rows[0]!.commands.map((c) => c.kind)).to.deep.equal(['look', 'say']);
  });

  it('finds a player who joins in the same batch as a whisper to them, and renames a character for good', async function () {
    const { room, delivered } = await openRoom();
    room.submit({ command: { kind: 'join', nick: 'Cy', jid: 'cy@example.org' } });
    room.submit({ command: { kind: 'whisper', nick: 'Ann', whom: 'cy', text: 'welcome' } });
    room.submit({ command: { kind: 'rename', nick: 'Cy', whom: 'Cyrus' } });
    await room.drain();
    const cy = room.character('Cyrus')!;
    expect(delivered.find((m) => m.to === cy.id && m.private)?.body).to.equal('welcome');
    expect(room.character('Cy')).to.equal(undefined);
    const rows = await db.query<{ nick: string }>("SELECT nick FROM characters WHERE room_id = 'realm' AND id = $1", [cy.id]);
    expect(rows.rows).to.deep.equal([{ nick: 'Cyrus' }]);
    room.submit({ command: { kind: 'whisper', nick: 'Ann', whom: 'cyrus', text: 'again' } });
    await room.drain();
    expect(delivered.filter((m) => m.to === cy.id && m.private).map((m) => m.body)).to.deep.equal(['welcome', 'again']);
  });

  it('never tells players "nothing happened" about a batch that committed but could not be shown', async function () {
    const { room, refused } = await openRoom({ deliverThrows: true });
    const version = room.projection.version;
    room.submit({ command: { kind: 'go', nick: 'Ann', direction: 0 }, origin: { from: 'ann@example.org/x' } });
    await room.drain();
    expect(room.projection.version, 'it committed').to.equal(version + 1);
    expect(refused).to.have.length(1);
    expect(refused[0]!.reason).to.not.match(/nothing happened/);
    expect(refused[0]!.reason).to.match(/was done.*look/);
    const fresh = await openRoom();
    expect(fresh.room.character('Ann')!.location, 'and the committed move stays').to.equal(room.character('Ann')!.location);
    room.submit({ command: { kind: 'go', nick: 'Ann', direction: 2 } });
    await room.drain();
  });

  it('answers a command whose player is not in the world, and a join racing another JID for a nick made in the same batch', async function () {
    const { room, unanswered, delivered } = await openRoom();
    room.submit({ command: { kind: 'look', nick: 'Nobody' }, origin: { from: 'nobody@example.org/x' } });
    room.submit({ command: { kind: 'join', nick: 'Zed', jid: 'zed@example.org' }, origin: { from: 'zed@example.org/x' } });
    room.submit({ command: { kind: 'leave', nick: 'Zed' } });
    room.submit({ command: { kind: 'join', nick: 'Zed', jid: 'mallory@example.org' }, origin: { from: 'mallory@example.org/x' } });
    await room.drain();
    expect(unanswered.map((s) => s.origin?.from)).to.deep.equal(['nobody@example.org/x', 'mallory@example.org/x']);
    expect(room.character('Zed')?.jid).to.equal('zed@example.org');
    expect(delivered.every((m) => room.projection.characters[m.to]?.jid !== 'mallory@example.org')).to.equal(true);
  });

  it('queues a leave even when the queue is full, and stops its tick once abandoned', async function () {
    const { room } = await openRoom();
    room.submit({ command: { kind: 'join', nick: 'Flo', jid: 'flo@example.org' } });
    await room.drain();
    room.abandon();
    let accepted = 0;
    for (let i = 0; i < ROOM_QUEUE_COMMANDS_MAX; i++) if (room.submit({ command: { kind: 'look', nick: 'Flo' } })) accepted++;
    expect(accepted, 'an abandoned room takes nothing').to.equal(0);
    const live = await openRoom();
    let queued = 0;
    while (queued <= 2 * ROOM_QUEUE_COMMANDS_MAX && live.room.submit({ command: { kind: 'look', nick: 'Flo' } })) queued++;
    expect(queued, 'the queue filled up').to.be.within(ROOM_QUEUE_COMMANDS_MAX, ROOM_QUEUE_COMMANDS_MAX + 16);
    expect(live.room.submit({ command: { kind: 'leave', nick: 'Flo' } }, { always: true }), 'a leave is never refused').to.equal(true);
    await live.room.drain();
    expect(live.room.character('Flo')!.present).to.equal(false);
  });
});
