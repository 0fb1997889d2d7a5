// The fuzz campaign's world: a private Prosody with an anonymous virtual host
// beside the accounts' one (hostile clients get a new bare JID per connection),
// and Flux in this process, as startWorld() starts it, with its log kept.
import path from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { loadConfig, readDefaults, type Config } from '../../lib/config/index.ts';
import { startService, type Service } from '../../lib/service.ts';
import type { Room, StageTimes } from '../../lib/rooms/index.ts';
import type { Submission } from '../../lib/negotiation/index.ts';
import { startPrivateProsody } from '../../lib/demo/prosody.ts';
import type { PrivateXmppServer } from '../../lib/demo/private-server.ts';
import { COMPONENT_DOMAIN, type TestDatabase } from '../support/flux.ts';
import { connectPlayer, type Player } from '../support/player.ts';

/** The virtual host where anyone logs in with SASL ANONYMOUS. */
export const ANON_HOST = 'anon.localhost';
export const PASSWORD = 'secret-password';
/** Log lines kept per message at warn and above; the rest are only counted. */
const LINES_PER_PROBLEM_KEPT = 3;

/** Flux's own log, counted by message, with the first lines of each message at warn and above. */
export class FluxLog {
  readonly byMessage = new Map<string, number>();
  /** Per message at warn and above: its highest level and its first lines. */
  readonly problems = new Map<string, { level: number; lines: string[] }>();
  readonly stream = new Writable({
    write: (chunk: Buffer, _encoding, done) => {
      for (const line of chunk.toString('utf8').split('\n')) if (line !== '') this.take(line);
      done();
    },
  });

  count(msg: string): number {
    return this.byMessage.get(msg) ?? 0;
  }

  /** Warnings and errors by message, except the ones listed as expected. */
  unexpected(expected: ReadonlySet<string>): Map<string, number> {
    const out = new Map<string, number>();
    for (const msg of this.problems.keys()) if (!expected.has(msg)) out.set(msg, this.count(msg));
    return out;
  }

  /** The first line of each unexpected message. */
  examples(expected: ReadonlySet<string>): string[] {
    return [...this.problems].filter(([msg]) => !expected.has(msg)).map(([, p]) => p.lines[0]!);
  }

  private take(line: string): void {
    let parsed: { level?: number; msg?: string };
    try {
      parsed = JSON.parse(line) as { level?: number; msg?: string };
    } catch {
      parsed = { level: 50, msg: `unparsable log line: ${line.slice(0, 200)}` };
    }
    const msg = parsed.msg ?? '(no msg)';
    const level = parsed.level ?? 30;
    this.byMessage.set(msg, (this.byMessage.get(msg) ?? 0) + 1);
    if (level < 40) return;
    const p = this.problems.get(msg) ?? { level, lines: [] };
    p.level = Math.max(p.level, level);
    if (p.lines.length < LINES_PER_PROBLEM_KEPT) p.lines.push(line.slice(0, 2000));
    this.problems.set(msg, p);
  }
}

/** Batches as onBatch sees them: how many, how big, and the slowest of each stage. */
export class BatchLog {
  batches = 0;
  commands = 0;
  largest = 0;
  readonly slowestMs: Record<string, number> = {};
  readonly totalMs: Record<string, number> = {};
  /** Batches that threw (runBatch), with their commands: what to reproduce a failure with. */
  readonly failed: { error: string; commands: unknown[] }[] = [];

  take(size: number, times: StageTimes): void {
    this.batches++;
    this.commands += size;
    this.largest = Math.max(this.largest, size);
    for (const [stage, ms] of Object.entries(times)) {
      this.slowestMs[stage] = Math.max(this.slowestMs[stage] ?? 0, ms);
      this.totalMs[stage] = (this.totalMs[stage] ?? 0) + ms;
    }
  }

  /**
   * Wraps the room's runBatch (a private method: a spec's look inside, changing
   * nothing) to keep the commands of a batch that throws.
   */
  watch(room: Room): void {
    const r = room as unknown as { runBatch?: (batch: Submission[], progress: unknown) => Promise<void> };
    const original = r.runBatch;
    if (typeof original !== 'function') return;
    r.runBatch = async (batch, progress) => {
      try {
        return await original.call(room, batch, progress);
      } catch (err) {
        if (this.failed.length < 5) this.failed.push({ error: (err as Error).message, commands: batch.map((s) => s.command) });
        throw err;
      }
    };
  }
}

/**
 * Times each read the component takes from Prosody (parse, route, and every
 * handler run synchronously in between): the reads that held Flux's event loop
 * longest, with the start of what they carried.
 */
export class ReadLog {
  reads = 0;
  /** CPU time (process-wide, so the database thread's too) spent during the reads, in ms. */
  cpuMs = 0;
  bytes = 0;
  readonly slowest: { ms: number; cpuMs: number; bytes: number; head: string }[] = [];

  /** Wraps the 'data' listeners of the component's socket (xmpp.js binds them when it attaches the socket). */
  watch(service: Service): void {
    const c = (service.edge as unknown as { xmpp?: { socket?: NodeJS.EventEmitter | null } }).xmpp;
    const socket = c?.socket;
    if (!socket) return;
    for (const listener of socket.listeners('data') as ((data: Buffer) => void)[]) {
      socket.removeListener('data', listener);
      socket.on('data', (data: Buffer) => {
        const t0 = performance.now();
        const c0 = process.cpuUsage();
        try {
          listener(data);
        } finally {
          const c = process.cpuUsage(c0);
          this.take(performance.now() - t0, (c.user + c.system) / 1000, data);
        }
      });
    }
  }

  private take(ms: number, cpuMs: number, data: Buffer): void {
    this.reads++;
    this.cpuMs += cpuMs;
    this.bytes += data.length;
    if (this.slowest.length >= SLOW_READS_KEPT && ms <= this.slowest[this.slowest.length - 1]!.ms) return;
    this.slowest.push({ ms, cpuMs, bytes: data.length, head: data.subarray(0, 300).toString('utf8').replace(/(<a>)+/g, '<a>...') });
    this.slowest.sort((a, b) => b.ms - a.ms);
    this.slowest.length = Math.min(this.slowest.length, SLOW_READS_KEPT);
  }
}
const SLOW_READS_KEPT = 5;

export interface FuzzWorld {
  readonly xmpp: PrivateXmppServer;
  readonly service: Service;
  readonly config: Config;
  readonly roomJid: string;
  readonly log: FluxLog;
  readonly batchLog: BatchLog;
  readonly readLog: ReadLog;
  /** c2s service URL, xmpp://127.0.0.1:PORT */
  readonly c2s: string;
  /** Registers `name` (unless register() did) and logs in as an ordinary, recording test player. */
  player(name: string): Promise<Player>;
  /** Registers an account (for the hostile process, which logs in with it). */
  register(name: string): Promise<{ username: string; password: string }>;
  stop(): Promise<void>;
}

/** Prosody (with an anonymous host) and Flux in this process, as startWorld() does, with Flux's log captured. */
export async function startFuzzWorld(db: TestDatabase, env: Record<string, string> = {}): Promise<FuzzWorld> {
  const secret = `component-${Math.random().toString(36).slice(2)}`;
  const xmpp = await startPrivateProsody({ dir: path.join(db.dataDir, 'prosody'), componentDomain: COMPONENT_DOMAIN, componentSecret: secret, anonymousHost: ANON_HOST });
  const config = loadConfig({
    FLUX_XMPP_SERVICE: `xmpp://127.0.0.1:${xmpp.componentPort}`, FLUX_XMPP_DOMAIN: COMPONENT_DOMAIN,
    FLUX_XMPP_SECRET: secret, DATABASE_URL: db.databaseUrl, FLUX_DATA_DIR: path.join(db.dataDir, 'flux'),
    FLUX_TICK_MS: '20', FLUX_NPC_TICK_MS: '0', ...env,
  }, readDefaults());
  const fluxLog = new FluxLog();
  const log = pino({ level: 'info' }, fluxLog.stream);
  const batchLog = new BatchLog();
  let service: Service;
  try {
    service = await startService({ config, log, clock: { nowMs: () => Date.now() }, onBatch: (_room, size, times) => batchLog.take(size, times) });
  } catch (err) {
    await xmpp.stop();
    throw err;
  }
  for (const room of service.rooms.values()) batchLog.watch(room);
  const readLog = new ReadLog();
  readLog.watch(service);
  const c2s = `xmpp://127.0.0.1:${xmpp.c2sPort}`;
  const players: Player[] = [];
  const registered = new Set<string>();
  const register = async (name: string) => {
    if (!registered.has(name)) await xmpp.registerUser(name, PASSWORD);
    registered.add(name);
    return { username: name, password: PASSWORD };
  };
  return {
    xmpp, service, config, roomJid: `realm@${COMPONENT_DOMAIN}`, log: fluxLog, batchLog, readLog, c2s,
    player: async (name) => {
      await register(name);
      const p = await connectPlayer({ service: c2s, domain: xmpp.host, username: name, password: PASSWORD });
      players.push(p);
      return p;
    },
    register,
    stop: async () => {
      await Promise.all(players.map((p) => p.stop()));
      await service.stop();
      await xmpp.stop();
    },
  };
}

