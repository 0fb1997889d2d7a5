// The sample world config/samples/lighthouse.yaml (docs/worlds.md), installed and
// played as an operator and a player would: `flux world import` takes it, `flux
// world export` gives it back so that importing the export gives the same file,
// a scripted player meets the locked door, fetches the key and the oil and
// finishes the keeper's quest, and `flux replay` rebuilds the room from its log.
// It lives outside config/worlds, so servers and specs that install that folder
// still have realm alone.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { pino } from 'pino';
import { ROOT_DIR } from '../../lib/config/index.ts';
import { readWorldFile } from '../../lib/world/index.ts';
import { openDb } from '../../lib/db/index.ts';
import { loadRoom } from '../../lib/contextualization/index.ts';
import { compileKernel, KernelEngine } from '../../lib/engines/index.ts';
import { Room } from '../../lib/rooms/index.ts';
import { parseBody } from '../../lib/negotiation/index.ts';
import type { Message } from '../../lib/effects/index.ts';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../support/flux.ts';

const run = promisify(execFile);
const FLUX = path.join(ROOT_DIR, 'bin/flux');
const LIGHTHOUSE = path.join(ROOT_DIR, 'config/samples/lighthouse.yaml');
const log = pino({ level: 'silent' });

async function flux(db: TestDatabase, dataDir: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...process.env, DATABASE_URL: db.databaseUrl, FLUX_DATA_DIR: dataDir, LOG_LEVEL: 'error' };
  try {
    return { code: 0, ...(await run(FLUX, args, { env, timeout: 60_000 })) };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('config/samples/lighthouse.yaml', function () {
  it('is a small world with a locked way, a quest and things, outside the default worlds folder', function () {
    const world = readWorldFile(LIGHTHOUSE);
    expect(world.id).to.equal('lighthouse');
    expect(world.locations.length).to.be.within(5, 8);
    expect(world.locations.filter((l) => Object.keys(l.locked).length > 0)).to.have.length(1);
    expect(world.npcs.filter((n) => n.wants !== undefined)).to.have.length(1);
    expect(readdirSync(path.join(ROOT_DIR, 'config/worlds')), 'serve installs only realm by default').to.deep.equal(['realm.yaml']);
  });
});

for (const kind of databaseKinds()) {
  describe(`the lighthouse sample, installed with bin/flux and played (${kind} database)`, function () {
    let db: TestDatabase;
    let work: string;
    let dataDir: string;

    before(async function () {
      db = await createTestDatabase(kind);
      work = mkdtempSync(path.join(os.tmpdir(), 'flux-sample-'));
      dataDir = path.join(work, 'data');
    });

    after(async function () {
      await db?.drop();
      rmSync(work, { recursive: true, force: true });
    });

    it('imports with `flux world import`, and exports a file that imports back the same', async function () {
      const imported = await flux(db, dataDir, 'world', 'import', LIGHTHOUSE);
      expect(imported.code, imported.stderr).to.equal(0);
      expect(imported.stdout).to.match(/^installed lighthouse: 7 locations, 3 items, 1 NPCs/);
      const first = path.join(work, 'first.yaml');
      const exported = await flux(db, dataDir, 'world', 'export', 'lighthouse', first);
      expect(exported.code, exported.stderr).to.equal(0);
      expect(readWorldFile(first)).to.deep.equal(readWorldFile(LIGHTHOUSE));
      const copy = path.join(work, 'copy.yaml');
      writeFileSync(copy, readFileSync(first, 'utf8').replace(/^id: lighthouse$/m, 'id: lighthouse-copy'));
      expect((await flux(db, dataDir, 'world', 'import', copy)).code).to.equal(0);
      const second = path.join(work, 'second.yaml');
      expect((await flux(db, dataDir, 'world', 'export', 'lighthouse-copy', second)).code).to.equal(0);
      expect(readFileSync(second, 'utf8').replace(/lighthouse-copy/g, 'lighthouse')).to.equal(readFileSync(first, 'utf8'));
    });

    it('is played through: the locked door, the key, the oil, the keeper\'s thanks; then `flux replay` matches', async function () {
      const store = await openDb({ databaseUrl: db.databaseUrl, dataDir, log });
      try {
        const loaded = (await loadRoom(store, 'lighthouse'))!;
        const heard: Message[] = [];
        const room = new Room({
          db: store, log, loaded, engine: KernelEngine.wasm(compileKernel(), loaded.world, 16), tickMs: 5, batchMax: 16, npcTickMs: 0,
          deliver: (_r, { messages }) => heard.push(...messages), refuse: () => {},
        });
        room.submit({ command: { kind: 'join', nick: 'Ada', jid: 'ada@example.org' } });
        await room.drain();
        const ada = room.character('Ada')!.id;
        expect(heard.find((m) => m.to === ada)?.body.split('\n')[0]).to.equal('Harbour Quay');
        /** One typed command, one batch: what Ada is told. */
        const act = async (body: string) => {
          const parsed = parseBody(body, 'Ada');
          if (!parsed.ok) throw new Error(`${body}: ${parsed.reply}`);
          heard.length = 0;
          room.submit({ command: parsed.command });
          await room.drain();
          return heard.filter((m) => m.to === ada).map((m) => m.body).join('\n');
        };
        expect(await act('e')).to.match(/^Boathouse\n/);
        expect(await act('take oil')).to.equal('You take the can of lamp oil.');
        expect(await act('w')).to.match(/^Harbour Quay\n/);
        expect(await act('n')).to.match(/^Cliff Path\n[\s\S]*You see: gull feather/);
        expect(await act('n')).to.match(/^Foot of the Lighthouse\n[\s\S]*Exits: south, up$/);
        expect(await act('u')).to.match(/^The way up is locked/);
        expect(await act('s')).to.match(/^Cliff Path\n/);
        expect(await act('w')).to.match(/^Keeper's Cottage\n/);
        expect(await act('get key')).to.equal('You take the brass key.');
        expect(await act('e')).to.match(/^Cliff Path\n/);
        expect(await act('n')).to.match(/^Foot of the Lighthouse\n/);
        expect(await act('u')).to.match(/^Spiral Stair\n/);
        expect(await act('u')).to.match(/^Lamp Room\n[\s\S]*Also here: Keeper Annis/);
        expect(await act('give oil to keeper')).to.equal([
          'You give the can of lamp oil to Keeper Annis.',
          'Keeper Annis says: "Oil at last! Hand it here - there are boats out past the Teeth tonight, and they\'ll want a light to steer by."',
          'Quest complete!',
        ].join('\n'));
        const row = await store.query<{ quest: boolean }>("SELECT quest FROM characters WHERE room_id = 'lighthouse' AND nick = 'Ada'");
        expect(row.rows).to.deep.equal([{ quest: true }]);
      } finally {
        await store.close();
      }
      const replay = await flux(db, dataDir, 'replay', 'lighthouse');
      expect(replay.code, replay.stderr).to.equal(0);
      expect(replay.stdout).to.include('lighthouse: replayed 15 batches (15 commands) to version 15');
      expect(replay.stdout).to.include('the replayed state matches the stored state');
    });
  });
}
