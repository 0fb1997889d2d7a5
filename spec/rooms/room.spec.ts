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
import { Room } from '../../lib/rooms/index.ts';
import { ROOT_DIR } from '../../lib/config/index.ts';
import type { Message } from '../../lib/effects/index.ts';
import type { Submission } from '../../lib/negotiation/index.ts';

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

  async function openRoom() {
    const loaded = (await loadRoom(db, 'realm'))!;
    const delivered: Message[] = [];
    const refused: { batch: readonly Submission[]; reason: string }[] = [];
    const room = new Room({
      db, log, loaded, engine: KernelEngine.wasm(compileKernel(), loaded.world, 16), tickMs: 5, batchMax: 16, npcTickMs: 0,
      deliver: (_r, { messages }) => delivered.push(...messages),
      refuse: (_r, batch, reason) => refused.push({ batch, reason }),
    });
    return { room, delivered, refused };
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
});
