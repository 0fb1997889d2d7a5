// Starts the real thing for end-to-end specs: a private Prosody or ejabberd, the Flux service
// in this process, on a fresh database (a private schema of DATABASE_URL, or a
// new embedded one in a temp folder). Always stopped in after().
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { pino } from 'pino';
import { loadConfig, readDefaults, type Config } from '../../lib/config/index.ts';
import { startService, type Service } from '../../lib/service.ts';
import { SERVER_KINDS, XMPP_SERVERS, type ServerKind } from '../../lib/demo/servers.ts';
import { buildPage, installPage } from '../../lib/web/index.ts';
import { freePort, WEBSOCKET_PATH, type PrivateXmppServer } from '../../lib/demo/private-server.ts';
import { connectPlayer, type Player } from './player.ts';

export interface TestDatabase {
  readonly label: string;
  readonly databaseUrl: string;
  readonly dataDir: string;
  /** PostgreSQL: the application_name of Flux's connections, so a spec can find (and kill) them. */
  readonly applicationName: string;
  /** Runs SQL against this test's database (the embedded one only while Flux is stopped). */
  drop(): Promise<void>;
}

/** The databases every end-to-end spec runs against: embedded always, PostgreSQL when DATABASE_URL is set. */
export function databaseKinds(): ('embedded' | 'postgresql')[] {
  return process.env.DATABASE_URL ? ['embedded', 'postgresql'] : ['embedded'];
}

export async function createTestDatabase(kind: 'embedded' | 'postgresql'): Promise<TestDatabase> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'flux-spec-'));
  if (kind === 'embedded') {
    return { label: 'embedded PGlite', databaseUrl: '', dataDir: path.join(dir, 'data'), applicationName: '', drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const base = process.env.DATABASE_URL!;
  const schema = `flux_spec_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.end();
  const url = new URL(base);
  url.searchParams.set('options', `-c search_path=${schema}`);
  url.searchParams.set('application_name', schema);
  return {
    label: 'PostgreSQL (DATABASE_URL)', databaseUrl: url.toString(), dataDir: dir, applicationName: schema,
    drop: async () => {
      const c = new pg.Client({ connectionString: base });
      await c.connect();
      await c.query(`DROP SCHEMA ${schema} CASCADE`);
      await c.end();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The XMPP servers the end-to-end scenarios run against, each a private instance from its Debian package. */
export { SERVER_KINDS, type ServerKind };
export const SERVER_NAMES = Object.fromEntries(SERVER_KINDS.map((k) => [k, XMPP_SERVERS[k].name])) as Record<ServerKind, string>;

export interface World {
  /** The private XMPP server (Prosody unless the spec asked for ejabberd). */
  readonly xmpp: PrivateXmppServer;
  readonly server: ServerKind;
  /** The Flux service now serving (restartFlux() replaces it). */
  readonly service: Service;
  readonly config: Config;
  readonly roomJid: string;
  /** Registers `name` (again: the password stays the same) and logs in, as `resource` when given. */
  player(name: string, resource?: string): Promise<Player>;
  /** Logs in anonymously on the server's anonymous host (startWorld's `anonymousHost`): a fresh JID each time. */
  guest(): Promise<Player>;
  /** With startWorld's `web`: the console page (`http://127.0.0.1:PORT/`), and the host its guests register on. */
  readonly web?: { readonly url: string; readonly websocket: string; readonly guestHost: string };
  /** Stops Flux as SIGTERM would (332 to everyone) and starts it again on the same database and XMPP server. */
  restartFlux(): Promise<void>;
  stop(): Promise<void>;
}

/** Each database with Prosody, and the embedded one with ejabberd: every scenario meets both servers. */
export function serverVariants(): { db: 'embedded' | 'postgresql'; server: ServerKind }[] {
  return [...databaseKinds().map((db) => ({ db, server: 'prosody' as const })), { db: 'embedded', server: 'ejabberd' }];
}

export const COMPONENT_DOMAIN = 'game.localhost';
const PASSWORD = 'secret-password';

/** The console page's guests register here (startWorld's `web`). */
export const GUEST_HOST = 'guest.localhost';

interface WebSetup {
  readonly dir: string;
  readonly httpPort: number;
}

async function startServer(kind: ServerKind, dir: string, secret: string, anonymousHost: string | undefined, web: WebSetup | undefined): Promise<PrivateXmppServer> {
  const server = XMPP_SERVERS[kind];
  if (!server.installed()) throw new Error(`${server.name} is not installed: apt-get install -y ${server.package} (CI installs it)`);
  return server.start({
    dir, componentDomain: COMPONENT_DOMAIN, componentSecret: secret, ...(anonymousHost === undefined ? {} : { anonymousHost }),
    ...(web === undefined ? {} : { web, registrationHost: GUEST_HOST }),
  });
}

/** The page built into the test's folder, with its config.json, on a free port. */
async function setUpPage(dataDir: string): Promise<WebSetup> {
  const dir = path.join(dataDir, 'web');
  await installPage(dir, { websocket: WEBSOCKET_PATH, domain: GUEST_HOST, mucDomain: COMPONENT_DOMAIN, login: 'register' }, await buildPage(path.join(dataDir, 'web-build')));
  return { dir, httpPort: await freePort() };
}

/**
 * `anonymousHost`: a second virtual host of the XMPP server where anyone logs in with SASL ANONYMOUS (World.guest).
 * `web`: the server also serves the console page and a websocket, and its guests register on GUEST_HOST (World.web).
 */
export async function startWorld(db: TestDatabase, env: Record<string, string> = {}, server: ServerKind = 'prosody', options: { anonymousHost?: string; web?: boolean } = {}): Promise<World> {
  const secret = `component-${Math.random().toString(36).slice(2)}`;
  const web = options.web ? await setUpPage(db.dataDir) : undefined;
  const xmpp = await startServer(server, path.join(db.dataDir, server), secret, options.anonymousHost, web);
  const config = loadConfig({
    FLUX_XMPP_SERVICE: `xmpp://127.0.0.1:${xmpp.componentPort}`, FLUX_XMPP_DOMAIN: COMPONENT_DOMAIN,
    FLUX_XMPP_SECRET: secret, DATABASE_URL: db.databaseUrl, FLUX_DATA_DIR: path.join(db.dataDir, 'flux'),
    FLUX_TICK_MS: '20', FLUX_NPC_TICK_MS: '0', ...env, // NPCs stand still unless a spec lets them wander
  }, readDefaults());
  const log = pino({ level: process.env.LOG_LEVEL ?? 'silent' });
  const start = () => startService({ config, log, clock: { nowMs: () => Date.now() } });
  let service = await start();
  const players: Player[] = [];
  return {
    xmpp, server, config, roomJid: `realm@${COMPONENT_DOMAIN}`,
    ...(web === undefined ? {} : {
      web: {
        url: `http://${XMPP_SERVERS[server].pageHost}:${web.httpPort}/`, websocket: `ws://${XMPP_SERVERS[server].pageHost}:${web.httpPort}${WEBSOCKET_PATH}`, guestHost: GUEST_HOST,
      },
    }),
    get service() {
      return service;
    },
    player: async (name, resource) => {
      await xmpp.registerUser(name, PASSWORD);
      const p = await connectPlayer({ service: `xmpp://127.0.0.1:${xmpp.c2sPort}`, domain: xmpp.host, username: name, password: PASSWORD, ...(resource ? { resource } : {}) });
      players.push(p);
      return p;
    },
    guest: async () => {
      if (options.anonymousHost === undefined) throw new Error('startWorld was not given an anonymousHost');
      const p = await connectPlayer({ service: `xmpp://127.0.0.1:${xmpp.c2sPort}`, domain: options.anonymousHost });
      players.push(p);
      return p;
    },
    restartFlux: async () => {
      await service.stop();
      service = await start();
    },
    stop: async () => {
      await Promise.all(players.map((p) => p.stop()));
      await service.stop();
      await xmpp.stop();
    },
  };
}
