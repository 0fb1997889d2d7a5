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
import { NS_MUC, NS_STANZAS, xml, type Element } from '../../lib/xmpp/stanzas.ts';

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
      domain: 'game.localhost', log, clock: { nowMs: () => Date.now() }, limits: { bodyBytesMax: 1024, commandsPerS: 10, occupantsMax: 10 },
      send: (el) => sent.push(el), telemetry: noTelemetry, congested: () => false,
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
