// Flux as its own process (bin/flux serve), as an operator runs it beside the XMPP
// server: its CPU and memory are then its own, readable in /proc, and a crash of it
// is a failed step of the bench, not the end of the bench.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { ROOT_DIR } from '../lib/config/index.ts';
import { schemaUrl } from './databases.ts';

/** Bound on Flux's start: migrations and the worlds on a fresh database. */
const START_MS_MAX = 60000;
/** Bound on a graceful stop before SIGKILL. */
const STOP_MS_MAX = 10000;
/** Log lines kept to explain an early exit. */
const STDERR_CHARS_MAX = 4000;

export interface FluxProcess {
  readonly pid: number;
  /** Its PostgreSQL URL (a private schema), or '' on the embedded database. */
  readonly databaseUrl: string;
  /** Resolves once the process is gone; safe to call twice. */
  stop(): Promise<void>;
}

export interface FluxSettings {
  readonly componentPort: number;
  readonly domain: string;
  readonly secret: string;
  /** The embedded database's folder when DATABASE_URL is not set. */
  readonly dataDir: string;
  /** Settings over the bench's own (BENCH_ENV). */
  readonly env?: Record<string, string>;
}

/**
 * Settings that keep the bench measuring Flux, not its guards against abuse: the
 * whole crowd comes from one server domain (the anonymous host), which the guard
 * against floods of new characters would stop after a few dozen.
 */
const BENCH_ENV = {
  FLUX_TICK_MS: '50', FLUX_COMMANDS_PER_S: '1000', FLUX_OCCUPANTS_MAX: '5000', FLUX_NPC_TICK_MS: '0',
  FLUX_NEW_CHARACTERS_PER_DOMAIN_PER_MIN: '1000000',
  // info: the "serving" line is how the bench knows Flux is up.
  LOG_LEVEL: 'info',
};

export async function startFlux(s: FluxSettings): Promise<FluxProcess> {
  const database = await schemaUrl();
  const child = spawn(path.join(ROOT_DIR, 'bin/flux'), ['serve'], {
    env: {
      ...process.env, ...BENCH_ENV, FLUX_XMPP_SERVICE: `xmpp://127.0.0.1:${s.componentPort}`, FLUX_XMPP_DOMAIN: s.domain,
      FLUX_XMPP_SECRET: s.secret, DATABASE_URL: database.url, FLUX_DATA_DIR: s.dataDir, ...s.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // A bench that dies must not leave Flux holding the server's component port.
  const onExit = () => child.kill('SIGKILL');
  process.on('exit', onExit);
  child.once('exit', () => process.removeListener('exit', onExit));
  let stopping: Promise<void> | null = null;
  const stop = () => (stopping ??= terminate(child).finally(() => database.drop().catch(() => {})));
  try {
    await untilServing(child);
  } catch (err) {
    await stop();
    throw err;
  }
  return { pid: child.pid!, databaseUrl: database.url, stop };
}

/** Resolves on Flux's "serving" log line; rejects with the end of its stderr when it exits first. */
function untilServing(child: ChildProcess): Promise<void> {
  let stderr = '';
  // Both pipes are read for the whole life of the process, so that neither fills and blocks it.
  child.stderr!.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-STDERR_CHARS_MAX); });
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`flux did not serve within ${START_MS_MAX} ms`)), START_MS_MAX);
    child.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('"serving"')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`flux exited (code ${code}, signal ${signal}): ${stderr.trim().split('\n').slice(-5).join(' | ')}`));
    });
  });
}

async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_MS_MAX);
  await exited;
  clearTimeout(timer);
}

/** Whether Flux is still running: a step that killed it says so instead of measuring a corpse. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
