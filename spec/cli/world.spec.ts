// bin/flux world import|export and replay, as an operator runs them, on each database.
// A world round-trips (export, import elsewhere, export again: the same file); a
// world file with an error is refused with its file, line and reason, and nothing
// is written.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { ROOT_DIR } from '../../lib/config/index.ts';
import { parseWorld, readWorldFile } from '../../lib/world/index.ts';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../support/flux.ts';
import { openDb } from '../../lib/db/index.ts';
import { loadRoom } from '../../lib/contextualization/index.ts';
import { compileKernel, KernelEngine } from '../../lib/engines/index.ts';
import { Room } from '../../lib/rooms/index.ts';
import type { Command } from '../../lib/negotiation/index.ts';
import { pino } from 'pino';

const run = promisify(execFile);
const FLUX = path.join(ROOT_DIR, 'bin/flux');
const REALM = path.join(ROOT_DIR, 'config/worlds/realm.yaml');

interface Outcome { code: number; stdout: string; stderr: string }

async function flux(db: TestDatabase, dataDir: string, ...args: string[]): Promise<Outcome> {
  const env = { ...process.env, DATABASE_URL: db.databaseUrl, FLUX_DATA_DIR: dataDir, LOG_LEVEL: 'error' };
  try {
    const { stdout, stderr } = await run(FLUX, args, { env, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

for (const kind of databaseKinds()) {
  describe(`bin/flux world and replay (${kind} database)`, function () {
    let db: TestDatabase;
    let work: string;

    before(async function () {
      db = await createTestDatabase(kind);
      work = mkdtempSync(path.join(os.tmpdir(), 'flux-world-'));
    });

    after(async function () {
      await db?.drop();
      rmSync(work, { recursive: true, force: true });
    });

    const dataDir = (name: string) => path.join(work, name);

    it('imports a world file, and refuses the same room twice', async function () {
      const imported = await flux(db, dataDir('a'), 'world', 'import', REALM);
      expect(imported.code, imported.stderr).to.equal(0);
      expect(imported.stdout).to.match(/^installed realm: 14 locations, 11 items, 4 NPCs/);
      const again = await flux(db, dataDir('a'), 'world', 'import', REALM);
      expect(again.code).to.equal(1);
      expect(again.stderr).to.include('a room called realm already exists; nothing was written');
    });

    it('exports a world that imports back the same: export, import elsewhere, export again gives the same file', async function () {
      const first = path.join(work, 'first.yaml');
      const exported = await flux(db, dataDir('a'), 'world', 'export', 'realm', first);
      expect(exported.code, exported.stderr).to.equal(0);
      expect(readWorldFile(first)).to.deep.equal(readWorldFile(REALM));
      // A second database: a renamed copy of the export goes in, comes out the same.
      const renamed = path.join(work, 'copy.yaml');
      writeFileSync(renamed, readFileSync(first, 'utf8').replace(/^id: realm$/m, 'id: realm-copy'));
      expect((await flux(db, dataDir('a'), 'world', 'import', renamed)).code).to.equal(0);
      const second = path.join(work, 'second.yaml');
      expect((await flux(db, dataDir('a'), 'world', 'export', 'realm-copy', second)).code).to.equal(0);
      expect(readFileSync(second, 'utf8').replace(/realm-copy/g, 'realm')).to.equal(readFileSync(first, 'utf8'));
      expect(parseWorld(readFileSync(second, 'utf8'), second).id).to.equal('realm-copy');
    });

    it('installs the owners of a world file and exports them back: import, export, import elsewhere, export again', async function () {
      const withOwners = path.join(work, 'owned.yaml');
      writeFileSync(withOwners, readFileSync(REALM, 'utf8').replace(/^id: realm$/m, 'id: owned').replace(/^start:/m, 'owners: [Olga@example.org, pete@example.org]\nstart:'));
      expect((await flux(db, dataDir('a'), 'world', 'import', withOwners)).code).to.equal(0);
      const first = path.join(work, 'owned-first.yaml');
      expect((await flux(db, dataDir('a'), 'world', 'export', 'owned', first)).code).to.equal(0);
      expect(readWorldFile(first).owners).to.deep.equal(['olga@example.org', 'pete@example.org']);
      expect(readWorldFile(first)).to.deep.equal(readWorldFile(withOwners));
      const copy = path.join(work, 'owned-copy.yaml');
      writeFileSync(copy, readFileSync(first, 'utf8').replace(/^id: owned$/m, 'id: owned-copy'));
      expect((await flux(db, dataDir('a'), 'world', 'import', copy)).code).to.equal(0);
      const second = path.join(work, 'owned-second.yaml');
      expect((await flux(db, dataDir('a'), 'world', 'export', 'owned-copy', second)).code).to.equal(0);
      expect(readFileSync(second, 'utf8').replace(/owned-copy/g, 'owned')).to.equal(readFileSync(first, 'utf8'));
    });

    it('refuses a world with an error, naming the file, line and reason, and writes nothing', async function () {
      const cases: [string, (s: string) => string, RegExp][] = [
        ['dangling exit', (s) => s.replace('exits: { south: square, north: road }', 'exits: { south: square, north: nowhere }'), /leads to unknown location "nowhere"/],
        ['duplicate id', (s) => s.replace('  tankard:\n', '  apple:\n'), /unique/i],
        ['unknown key', (s) => s.replace('    weight: 8\n', '    weight: 8\n    colour: black\n'), /unknown key "colour"/],
      ];
      for (const [what, edit, reason] of cases) {
        const source = edit(readFileSync(REALM, 'utf8').replace(/^id: realm$/m, 'id: broken'));
        const file = path.join(work, `${what.replace(/ /g, '-')}.yaml`);
        writeFileSync(file, source);
        const out = await flux(db, dataDir('a'), 'world', 'import', file);
        expect(out.code, what).to.equal(1);
        expect(out.stderr, what).to.match(new RegExp(`^flux: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+: `));
        expect(out.stderr, what).to.match(reason);
      }
      const exported = await flux(db, dataDir('a'), 'world', 'export', 'broken', path.join(work, 'none.yaml'));
      expect(exported.code).to.equal(1);
      expect(exported.stderr).to.include('there is no room called broken');
    });

    it('replay reports that an untouched room matches its empty log', async function () {
      const out = await flux(db, dataDir('a'), 'replay', 'realm');
      expect(out.code, out.stderr).to.equal(0);
      expect(out.stdout).to.include('realm: replayed 0 batches (0 commands) to version 0');
      expect(out.stdout).to.include('the replayed state matches the stored state');
    });

    it('replay rebuilds a room where a guest was released and someone else took its nick', async function () {
      const log = pino({ level: 'silent' });
      const store = await openDb({ databaseUrl: db.databaseUrl, dataDir: dataDir('a'), log });
      try {
        const loaded = (await loadRoom(store, 'realm'))!;
        const room = new Room({
          db: store, log, loaded, engine: KernelEngine.wasm(compileKernel(), loaded.world, 16), tickMs: 5, batchMax: 16, npcTickMs: 0,
          deliver: () => {}, refuse: () => {},
        });
        const commands: Command[] = [
          { kind: 'join', nick: 'Gus', jid: 'x7q@guest.localhost' }, { kind: 'take', nick: 'Gus', what: 'handbill' }, { kind: 'leave', nick: 'Gus' },
          { kind: 'release', nick: 'Gus' }, { kind: 'join', nick: 'Gus', jid: 'gus@localhost' },
        ];
        for (const command of commands) {
          room.submit({ command });
          await room.drain(); // one batch each: the nick is free only once the release has committed
        }
        expect(room.character('Gus')?.jid).to.equal('gus@localhost');
      } finally {
        await store.close();
      }
      const out = await flux(db, dataDir('a'), 'replay', 'realm');
      expect(out.code, out.stderr).to.equal(0);
      expect(out.stdout).to.include('realm: replayed 5 batches (5 commands) to version 5');
      expect(out.stdout).to.include('the replayed state matches the stored state');
    });

    it('replay names the first difference when the stored state is not what the log gives', async function () {
      const tamper = await openDb({ databaseUrl: db.databaseUrl, dataDir: dataDir('a'), log: pino({ level: 'silent' }) });
      try {
        await tamper.query("UPDATE characters SET hp = 3 WHERE room_id = 'realm' AND nick = 'giant rat'");
      } finally {
        await tamper.close();
      }
      const out = await flux(db, dataDir('a'), 'replay', 'realm');
      expect(out.code).to.equal(1);
      expect(out.stdout).to.include('DIVERGED: character 1 (giant rat) hp: replayed 6, stored 3');
    });
  });
}
