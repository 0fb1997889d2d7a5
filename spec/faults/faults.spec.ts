// Faults, for real: a scripted load of players keeps playing while the
// spec kills the component, kills its database connections, restarts PostgreSQL
// and restarts the XMPP server. Afterwards the clients' records are audited
// against the database: no phantom effect, no lost batch, gapless versions, and
// a command log that replays to the stored state. Each prints its counts.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import pg from 'pg';
import { pino } from 'pino';
import { migrate, openDb, type Db } from '../../lib/db/index.ts';
import { installWorlds } from '../../lib/world/index.ts';
import { ROOT_DIR } from '../../lib/config/index.ts';
import { startPrivateProsody } from '../../lib/demo/prosody.ts';
import { type PrivateXmppServer } from '../../lib/demo/private-server.ts';
import { connectPlayer } from '../support/player.ts';
import { COMPONENT_DOMAIN, createTestDatabase, SERVER_NAMES, serverVariants, startWorld, type ServerKind, type TestDatabase, type World } from '../support/flux.ts';
import { audit, ScriptedLoad } from '../support/load.ts';
import { describeOnPostgres, postgresBinDir, startPrivatePostgres, type PrivatePostgres } from '../support/postgres.ts';
import { until } from '../support/until.ts';

const NAMES = ['ann', 'ben', 'cy', 'dee'];
const ROOM = `realm@${COMPONENT_DOMAIN}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = pino({ level: 'silent' });

/** Lets the last commands' batches commit and their effects arrive. */
async function settle(load: ScriptedLoad): Promise<void> {
  await load.stop();
  await sleep(1500);
}

function worldLoad(world: World): ScriptedLoad {
  return new ScriptedLoad({ roomJid: world.roomJid, names: NAMES, connect: (name) => world.player(name) });
}

/** For the enclosing suite: a world on a fresh database and its scripted load, torn down afterwards. */
function loadedWorld(kind: 'embedded' | 'postgresql', server: ServerKind = 'prosody'): { db: TestDatabase; world: World; load: ScriptedLoad } {
  const suite = {} as { db: TestDatabase; world: World; load: ScriptedLoad };
  before(async function () {
    suite.db = await createTestDatabase(kind);
    suite.world = await startWorld(suite.db, {}, server);
    suite.load = worldLoad(suite.world);
  });
  after(async function () {
    await suite.load?.close();
    await suite.world?.stop();
    await suite.db?.drop();
  });
  return suite;
}

describeOnPostgres('faults: the database connections are killed again and again (pg_terminate_backend)', function () {
  const suite = loadedWorld('postgresql');

  it('loses nothing and shows nothing that did not commit', async function () {
    const { db, world, load } = suite;
    await load.start();
    const admin = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await admin.connect();
    let faults = 0;
    try {
      for (let i = 0; i < 12; i++) {
        await sleep(400);
        const killed = await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [db.applicationName]);
        faults += killed.rowCount ?? 0;
      }
    } finally {
      await admin.end();
    }
    await settle(load);
    expect(faults, 'connections were killed').to.be.above(0);
    const result = await audit(world.service.db, load, faults, 'pg_terminate_backend');
    expect(result.tokensCommitted, 'the world kept playing').to.be.above(40);
  });
});

describeOnPostgres('faults: PostgreSQL restarts mid-game (a private cluster)', function () {
  let server: PrivatePostgres;
  let world: World;
  let load: ScriptedLoad;
  let dir: string;

  before(async function () {
    server = await startPrivatePostgres();
    dir = mkdtempSync(path.join(os.tmpdir(), 'flux-pgrestart-'));
    world = await startWorld({ label: 'private cluster', databaseUrl: server.url, dataDir: dir, applicationName: '', drop: async () => {} });
    load = worldLoad(world);
  });

  after(async function () {
    await load?.close();
    await world?.stop();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('loses nothing and shows nothing that did not commit, across two restarts', async function () {
    await load.start();
    let faults = 0;
    for (let i = 0; i < 2; i++) {
      await sleep(1500);
      await server.restart();
      faults++;
    }
    const sentBefore = new Set(load.sent);
    await sleep(2000); // the world takes commands again once the database is back
    await settle(load);
    const result = await audit(world.service.db, load, faults, 'PostgreSQL restart');
    const later = [...load.echoed].filter((t) => !sentBefore.has(t));
    expect(later.length, 'commands sent after the last restart commit and come back').to.be.above(0);
    expect(result.tokensCommitted).to.be.above(20);
  });
}, postgresBinDir() ? null : 'no PostgreSQL server binaries under /usr/lib/postgresql to start a private cluster with (apt-get install postgresql)');

describeOnPostgres('faults: the component is SIGKILLed mid-batch and started again', function () {
  let db: TestDatabase;
  let prosody: PrivateXmppServer;
  let flux: ChildProcess | undefined;
  let load: ScriptedLoad;
  const secret = 'kill-secret';

  const startFlux = async () => {
    const child = spawn(path.join(ROOT_DIR, 'bin/flux'), ['serve'], {
      env: {
        ...process.env, FLUX_XMPP_SERVICE: `xmpp://127.0.0.1:${prosody.componentPort}`, FLUX_XMPP_DOMAIN: COMPONENT_DOMAIN,
        FLUX_XMPP_SECRET: secret, DATABASE_URL: db.databaseUrl, FLUX_DATA_DIR: path.join(db.dataDir, 'flux'),
        FLUX_TICK_MS: '40', FLUX_NPC_TICK_MS: '0', LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const online = new Promise<void>((resolve) => child.stdout!.on('data', (d: Buffer) => d.toString().includes('"serving"') && resolve()));
    await Promise.race([online, once(child, 'exit').then(() => { throw new Error('flux exited before serving'); })]);
    flux = child;
  };

  before(async function () {
    db = await createTestDatabase('postgresql');
    prosody = await startPrivateProsody({ dir: path.join(db.dataDir, 'prosody'), componentDomain: COMPONENT_DOMAIN, componentSecret: secret });
    for (const name of NAMES) await prosody.registerUser(name, `pw-${name}`);
    await startFlux();
    load = new ScriptedLoad({
      roomJid: ROOM, names: NAMES,
      connect: (name) => connectPlayer({ service: `xmpp://127.0.0.1:${prosody.c2sPort}`, domain: prosody.host, username: name, password: `pw-${name}` }),
    });
  });

  after(async function () {
    await load?.close();
    flux?.kill('SIGKILL');
    await prosody?.stop();
    await db?.drop();
  });

  it('loses nothing and shows nothing that did not commit, across three kills', async function () {
    await load.start();
    let faults = 0;
    for (let i = 0; i < 3; i++) {
      await sleep(1200 + 137 * i); // lands anywhere in a 40 ms batch cycle
      flux!.kill('SIGKILL');
      await once(flux!, 'exit');
      faults++;
      await startFlux();
      await load.rejoin(); // the clients' side of XEP-0410: the world forgot them, they join again
    }
    await sleep(1500);
    await settle(load);
    flux!.kill('SIGTERM');
    await once(flux!, 'exit');
    flux = undefined;
    const check: Db = await openDb({ databaseUrl: db.databaseUrl, dataDir: path.join(db.dataDir, 'check'), log });
    try {
      const result = await audit(check, load, faults, 'component SIGKILL');
      expect(result.tokensCommitted).to.be.above(40);
    } finally {
      await check.close();
    }
  });
});

for (const { db: kind, server } of serverVariants()) {
  describe(`faults: the XMPP server (${SERVER_NAMES[server]}) restarts mid-game (${kind} database)`, function () {
    const suite = loadedWorld(kind, server);

    it('loses nothing and shows nothing that did not commit, across two restarts', async function () {
      const { world, load } = suite;
      await load.start();
      let faults = 0;
      for (let i = 0; i < 2; i++) {
        await sleep(1500);
        await world.xmpp.restart();
        faults++;
        await until(() => world.service.edge.online, 15_000);
        await load.rejoin();
      }
      await sleep(1000);
      await settle(load);
      const result = await audit(world.service.db, load, faults, `${SERVER_NAMES[server]} restart, ${kind}`);
      expect(result.tokensCommitted).to.be.above(30);
    });
  });
}

describe('faults: the audit itself', function () {
  it('catches a phantom effect, a committed effect never shown, and a version gap (it can fail)', async function () {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'flux-audit-'));
    const db = await openDb({ databaseUrl: '', dataDir: dir, log });
    try {
      await migrate(db);
      await installWorlds(db, path.join(ROOT_DIR, 'config/worlds'));
      const load = new ScriptedLoad({ roomJid: ROOM, names: [], connect: () => { throw new Error('no players here'); } });
      load.heard.add('tok-ann-1');
      const phantom = await audit(db, load, 0, 'audit self-check').then(() => null, (err: Error) => err);
      expect(phantom?.message).to.match(/phantom effects/);
      load.heard.clear();
      // A batch that committed, shown to nobody: its sender is still connected as when it sent it.
      await db.query("INSERT INTO command_log (room_id, version, batch_id, commands) VALUES ('realm', 1, gen_random_uuid(), $1)", [JSON.stringify([{ kind: 'say', nick: 'Ann', text: 'tok-ann-7' }])]);
      await db.query("UPDATE rooms SET version = 1 WHERE id = 'realm'");
      load.sentIn.set('tok-ann-7', 0);
      const unshown = await audit(db, load, 0, 'audit self-check').then(() => null, (err: Error) => err);
      expect(unshown?.message).to.match(/committed but never shown/);
      load.sentIn.clear();
      await db.query("UPDATE rooms SET version = 2 WHERE id = 'realm'");
      const gap = await audit(db, load, 0, 'audit self-check').then(() => null, (err: Error) => err);
      expect(gap?.message).to.match(/versions are gapless/);
    } finally {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
