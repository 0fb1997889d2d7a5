// Starts the real thing for end-to-end specs: a private Prosody, the Flux service
// in this process, on a fresh database (a private schema of DATABASE_URL, or a
// new embedded one in a temp folder). Always stopped in after().
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { pino } from 'pino';
import { loadConfig, readDefaults, type Config } from '../../lib/config/index.ts';
import { startService, type Service } from '../../lib/service.ts';
import { startPrivateProsody, prosodyBinary, type PrivateProsody } from '../../lib/demo/prosody.ts';
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

export interface World {
  readonly prosody: PrivateProsody;
  readonly service: Service;
  readonly config: Config;
  readonly roomJid: string;
  /** Registers `name` (again: the password stays the same) and logs in, as `resource` when given. */
  player(name: string, resource?: string): Promise<Player>;
  stop(): Promise<void>;
}

export const COMPONENT_DOMAIN = 'game.localhost';
const PASSWORD = 'secret-password';

export async function startWorld(db: TestDatabase, env: Record<string, string> = {}): Promise<World> {
  if (!prosodyBinary()) throw new Error('Prosody is not installed: apt-get install -y prosody (CI installs it)');
  const secret = `component-${Math.random().toString(36).slice(2)}`;
  const prosody = await startPrivateProsody({ dir: path.join(db.dataDir, 'prosody'), componentDomain: COMPONENT_DOMAIN, componentSecret: secret });
  const config = loadConfig({
    FLUX_XMPP_SERVICE: `xmpp://127.0.0.1:${prosody.componentPort}`, FLUX_XMPP_DOMAIN: COMPONENT_DOMAIN,
    FLUX_XMPP_SECRET: secret, DATABASE_URL: db.databaseUrl, FLUX_DATA_DIR: path.join(db.dataDir, 'flux'),
    FLUX_TICK_MS: '20', FLUX_NPC_TICK_MS: '0', ...env, // NPCs stand still unless a spec lets them wander
  }, readDefaults());
  const log = pino({ level: process.env.LOG_LEVEL ?? 'silent' });
  const service = await startService({ config, log, clock: { nowMs: () => Date.now() } });
  const players: Player[] = [];
  return {
    prosody, service, config, roomJid: `realm@${COMPONENT_DOMAIN}`,
    player: async (name, resource) => {
      await prosody.registerUser(name, PASSWORD);
      const p = await connectPlayer({ service: `xmpp://127.0.0.1:${prosody.c2sPort}`, domain: prosody.host, username: name, password: PASSWORD, ...(resource ? { resource } : {}) });
      players.push(p);
      return p;
    },
    stop: async () => {
      await Promise.all(players.map((p) => p.stop()));
      await service.stop();
      await prosody.stop();
    },
  };
}
