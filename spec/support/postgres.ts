// A private, throwaway PostgreSQL cluster for the fault specs that restart the
// database: initdb and pg_ctl from the Debian package, its own folder,
// port and socket, trust auth on 127.0.0.1. The machine's shared server is never
// touched. PostgreSQL refuses to run as root, so as root it runs as `postgres`.
import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../../lib/demo/private-server.ts';

const run = promisify(execFile);
/** Bound on initdb, start, stop. */
const PG_CTL_MS_MAX = 60_000;

export interface PrivatePostgres {
  readonly url: string;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** Where Debian keeps the server binaries, newest version first; null when there is no server package. */
export function postgresBinDir(): string | null {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root).filter((v) => existsSync(path.join(root, v, 'bin', 'pg_ctl'))).sort((a, b) => Number(b) - Number(a));
  return versions.length === 0 ? null : path.join(root, versions[0]!, 'bin');
}

/**
 * describe() for a suite that runs on PostgreSQL only (DATABASE_URL). Without
 * DATABASE_URL it cannot run: with CI set (CI promises PostgreSQL) that is one
 * failing test saying so; elsewhere the suite is skipped with one line saying
 * why. `unmet` names another missing precondition, which only skips.
 */
export function describeOnPostgres(title: string, body: (this: Mocha.Suite) => void, unmet: string | null = null): void {
  if (!process.env.DATABASE_URL) {
    if (process.env.CI) {
      describe(title, function () {
        it('needs DATABASE_URL: PostgreSQL only', function () {
          throw new Error(`DATABASE_URL is required: this suite runs on PostgreSQL only, and under CI (CI=${process.env.CI}) it must not be skipped`);
        });
      });
      return;
    }
    unmet = 'DATABASE_URL is not set (PostgreSQL only; with CI set this fails)';
  }
  if (unmet !== null) {
    describe(title, function () {
      it(`skipped: ${unmet}`); // a pending test: the spec reporter prints its title as the one line
    });
    return;
  }
  describe(title, body);
}

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const bin = postgresBinDir();
  if (!bin) throw new Error('no PostgreSQL server binaries under /usr/lib/postgresql (apt-get install postgresql)');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'flux-pg-'));
  const data = path.join(dir, 'data');
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const { uid, gid } = await idsOf('postgres');
    chownSync(dir, uid, gid);
  }
  const as = async (command: string, args: string[]) => {
    const [file, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', path.join(bin, command), ...args]] : [path.join(bin, command), args];
    await run(file, argv, { timeout: PG_CTL_MS_MAX });
  };
  const port = await freePort();
  await as('initdb', ['-D', data, '--auth=trust', '--username=postgres', '--no-sync', '-E', 'UTF8']);
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`;
  const start = () => as('pg_ctl', ['-D', data, '-l', path.join(dir, 'server.log'), '-o', options, '-w', 'start']);
  const stop = () => as('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
  await start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    restart: async () => {
      await stop();
      await start();
    },
    stop: async () => {
      try {
        await stop();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

async function idsOf(user: string): Promise<{ uid: number; gid: number }> {
  const [uid, gid] = await Promise.all([run('id', ['-u', user]), run('id', ['-g', user])]);
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}
