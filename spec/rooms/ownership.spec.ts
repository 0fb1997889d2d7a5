// One instance serves a room at a time: advisory locks per room on a
// dedicated connection, and a second instance that takes over a room within
// seconds when the first dies. PostgreSQL only: the embedded database belongs to
// one process. (spec/rooms/room.spec.ts shows the version fence refusing a
// second writer that got past the locks.)
import { FORWARD_WAIT_MS_MAX } from '../../lib/constants.ts';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { expect } from 'chai';
import pg from 'pg';
import { pino } from 'pino';
import { postgresLocks } from '../../lib/rooms/index.ts';
import { ROOT_DIR } from '../../lib/config/index.ts';
import { startPrivateProsody } from '../../lib/demo/prosody.ts';
import { type PrivateXmppServer } from '../../lib/demo/private-server.ts';
import { bodyOf, connectPlayer, type Element } from '../support/player.ts';
import { COMPONENT_DOMAIN, createTestDatabase, startWorld, type TestDatabase, type World } from '../support/flux.ts';
import { describeOnPostgres } from '../support/postgres.ts';
import { until } from '../support/until.ts';

const log = pino({ level: 'silent' });
const ROOM = `realm@${COMPONENT_DOMAIN}`;
const fromRoomOf = (room: string, re: RegExp) => (el: Element) => el.name === 'message' && el.attrs.from === room && re.test(bodyOf(el) ?? '');
const fromRoom = (re: RegExp) => (el: Element) => el.name === 'message' && el.attrs.from === ROOM && re.test(bodyOf(el) ?? '');

describeOnPostgres('room ownership across instances (PostgreSQL)', function () {
  let db: TestDatabase;

  before(async function () {
    db = await createTestDatabase('postgresql');
  });

  after(async function () {
    await db?.drop();
  });

  it('lets one holder at a time take a room, and frees it when the holder\'s connection dies', async function () {
    const a = postgresLocks(db.databaseUrl, log);
    const b = postgresLocks(db.databaseUrl, log);
    const admin = new pg.Client({ connectionString: db.databaseUrl });
    await admin.connect();
    try {
      expect(await a.acquire('realm')).to.equal('held');
      expect(await a.acquire('realm'), 'asking again is fine').to.equal('held');
      expect(await b.acquire('realm')).to.equal('taken');
      expect(await b.acquire('other-room'), 'other rooms are free').to.equal('held');
      const lost = new Promise<string[]>((resolve) => a.onLost(resolve));
      // The holder of realm's lock: an advisory lock's 64-bit key is split into classid (high) and objid (low).
      const killed = await admin.query(
        `SELECT pg_terminate_backend(pid) FROM pg_locks
         WHERE locktype = 'advisory' AND granted AND ((classid::bigint << 32) | objid::bigint) = hashtextextended(current_schema() || '.realm', 0)`);
      expect(killed.rowCount).to.equal(1);
      expect(await lost).to.include('realm');
      expect(a.holds('realm')).to.equal(false);
      expect(await b.acquire('realm'), 'the room is free once its holder is gone').to.equal('held');
      expect(await a.acquire('realm')).to.equal('taken');
    } finally {
      await a.close();
      await b.close();
      await admin.end();
    }
  });

  it('an instance that loses its lock to another stops serving the room: its players are told, and it writes nothing more', async function () {
    const world = await startWorld(db);
    const admin = new pg.Client({ connectionString: db.databaseUrl });
    await admin.connect();
    try {
      const dana = await world.player('dana');
      await dana.join(world.roomJid, 'Dana');
      await dana.waitFor(fromRoomOf(world.roomJid, /^Town Square/));
      const version = (await admin.query<{ version: string }>("SELECT version FROM rooms WHERE id = 'realm'")).rows[0]!.version;
      dana.mark();
      // Kill the holder's lock connection and take the lock in the same breath, before it can come back for it.
      await admin.query(`SELECT pg_terminate_backend(pid), pg_advisory_lock(hashtextextended(current_schema() || '.realm', 0)) FROM pg_locks
        WHERE locktype = 'advisory' AND granted AND ((classid::bigint << 32) | objid::bigint) = hashtextextended(current_schema() || '.realm', 0)`);
      await until(() => !world.service.rooms.has('realm'), 5000);
      const gone = await dana.waitFor((el) => el.name === 'presence' && el.attrs.type === 'unavailable');
      expect(gone.getChild('x', 'http://jabber.org/protocol/muc#user')!.getChildren('status').map((st) => st.attrs.code)).to.include('332');
      dana.say(world.roomJid, 'e');
      // Nobody serves the room now (the lock is held outside Flux): the stanza waits for an owner, then its sender hears so.
      const refused = await dana.waitFor((el) => el.name === 'message' && el.attrs.type === 'error', FORWARD_WAIT_MS_MAX + 5000);
      // The world exists; this instance just does not serve it any more: wait and try again, not "no such world".
      expect(refused.getChild('error')!.getChild('service-unavailable', 'urn:ietf:params:xml:ns:xmpp-stanzas')).not.to.equal(undefined);
      expect(refused.getChild('error')!.getChildText('text', 'urn:ietf:params:xml:ns:xmpp-stanzas')).to.match(/not served here right now/);
      const after = (await admin.query<{ version: string }>("SELECT version FROM rooms WHERE id = 'realm'")).rows[0]!.version;
      expect(after, 'nothing was written after the lock was lost').to.equal(version);
    } finally {
      await admin.end();
      await world.stop();
    }
  });

  describe('two instances on one database', function () {
    let prosody: PrivateXmppServer;
    let first: ChildProcess | undefined;
    let second: World;

    before(async function () {
      prosody = await startPrivateProsody({ dir: path.join(db.dataDir, 'prosody-1'), componentDomain: COMPONENT_DOMAIN, componentSecret: 'first' });
      await prosody.registerUser('carol', 'pw-carol');
      first = spawn(path.join(ROOT_DIR, 'bin/flux'), ['serve'], {
        env: {
          ...process.env, FLUX_XMPP_SERVICE: `xmpp://127.0.0.1:${prosody.componentPort}`, FLUX_XMPP_DOMAIN: COMPONENT_DOMAIN,
          FLUX_XMPP_SECRET: 'first', DATABASE_URL: db.databaseUrl, FLUX_DATA_DIR: path.join(db.dataDir, 'flux-1'), FLUX_NPC_TICK_MS: '0', LOG_LEVEL: 'info',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      await new Promise<void>((resolve) => first!.stdout!.on('data', (d: Buffer) => d.toString().includes('"serving"') && resolve()));
      second = await startWorld(db); // its own Prosody, the same database
    });

    after(async function () {
      first?.kill('SIGKILL');
      await second?.stop();
      await prosody?.stop();
    });

    it('serves each room from one instance; the other takes it over within seconds when the first dies', async function () {
      expect(second.service.rooms.has('realm'), 'the second instance waits: the first holds realm').to.equal(false);
      const carol = await connectPlayer({ service: `xmpp://127.0.0.1:${prosody.c2sPort}`, domain: prosody.host, username: 'carol', password: 'pw-carol' });
      try {
        await carol.join(ROOM, 'Carol');
        await carol.waitFor(fromRoom(/^Town Square/));
        carol.say(ROOM, 'e');
        await carol.waitFor(fromRoom(/^Market Row/));
      } finally {
        await carol.stop();
      }
      const died = Date.now();
      first!.kill('SIGKILL');
      await once(first!, 'exit');
      first = undefined;
      await until(() => second.service.rooms.has('realm'), 10_000);
      const takeoverMs = Date.now() - died;
      process.stdout.write(`      [ownership] the second instance served realm ${takeoverMs} ms after the first died\n`);
      expect(takeoverMs).to.be.below(10_000);
      const again = await second.player('carol');
      await again.join(second.roomJid, 'Carol');
      const view = bodyOf(await again.waitFor((el) => el.name === 'message' && el.attrs.from === second.roomJid && /^Market Row/.test(bodyOf(el) ?? '')))!;
      expect(view.split('\n').pop()).to.equal('Exits: south, west, up');
    });
  });
});
