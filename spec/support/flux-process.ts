// bin/flux serve as a separate process, for specs that run several instances
// (hot standby, status): its JSON log lines kept with the time each arrived.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { ROOT_DIR } from '../../lib/config/index.ts';
import { until } from './until.ts';
import { COMPONENT_DOMAIN, type TestDatabase } from './flux.ts';
import type { PrivateXmppServer } from '../../lib/demo/private-server.ts';

export interface LogLine {
  readonly atMs: number;
  readonly msg: string;
  readonly fields: Record<string, unknown>;
}

export interface FluxProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly lines: LogLine[];
  /** The first line whose msg matches, arriving after `sinceMs`, waited for up to ms. */
  waitForLine(msg: string | RegExp, ms: number, sinceMs?: number): Promise<LogLine>;
  count(msg: string | RegExp): number;
  kill(signal: NodeJS.Signals): Promise<number | null>;
  readonly stderr: () => string;
}

const matches = (msg: string | RegExp, line: LogLine) => (typeof msg === 'string' ? line.msg === msg : msg.test(line.msg));

export function spawnFlux(name: string, env: Record<string, string>): FluxProcess {
  const child = spawn(path.join(ROOT_DIR, 'bin/flux'), ['serve'], {
    env: { ...process.env, LOG_LEVEL: 'info', ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: LogLine[] = [];
  let partial = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => {
    const atMs = Date.now();
    const parts = (partial + d.toString()).split('\n');
    partial = parts.pop()!;
    for (const text of parts) {
      try {
        const fields = JSON.parse(text) as Record<string, unknown>;
        lines.push({ atMs, msg: String(fields.msg ?? ''), fields });
      } catch {
        lines.push({ atMs, msg: text, fields: {} });
      }
    }
  });
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = once(child, 'exit');
  return {
    name, child, lines, stderr: () => stderr,
    async waitForLine(msg, ms, sinceMs = 0) {
      const find = () => lines.find((l) => l.atMs >= sinceMs && matches(msg, l));
      await until(() => find() !== undefined || child.exitCode !== null, ms).catch(() => {});
      const line = find();
      if (!line) throw new Error(`${name}: no log line ${String(msg)} within ${ms} ms (exit ${child.exitCode}); stderr: ${stderr.slice(-2000)}; last lines: ${lines.slice(-5).map((l) => l.msg).join(' | ')}`);
      return line;
    },
    count: (msg) => lines.filter((l) => matches(msg, l)).length,
    async kill(signal) {
      if (child.exitCode !== null) return child.exitCode;
      child.kill(signal);
      const [code] = await exited;
      return code as number | null;
    },
  };
}

/** One of several instances on the same domain of a private server and the same database, each with its own data folder; `env` adds to it. */
export function spawnInstance(name: string, at: { server: PrivateXmppServer; db: TestDatabase; secret: string }, env: Record<string, string> = {}): FluxProcess {
  return spawnFlux(name, {
    FLUX_XMPP_SERVICE: `xmpp://127.0.0.1:${at.server.componentPort}`, FLUX_XMPP_DOMAIN: COMPONENT_DOMAIN, FLUX_XMPP_SECRET: at.secret,
    DATABASE_URL: at.db.databaseUrl, FLUX_DATA_DIR: path.join(at.db.dataDir, name), FLUX_TICK_MS: '20', FLUX_NPC_TICK_MS: '0',
    ...env,
  });
}
