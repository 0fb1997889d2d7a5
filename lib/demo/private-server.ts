// What the private XMPP servers of the demo, the specs and the bench share: the
// interface both give (Prosody in ./prosody.ts, ejabberd in ./ejabberd.ts) and the
// small process, port and log helpers both start and watch their server with.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { accessSync, constants as fsConstants, statSync } from 'node:fs';
import { open, readFile, stat } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';

export const LOOPBACK = '127.0.0.1';
/** Bound on one TCP probe of a port. */
const PROBE_MS_MAX = 500;

/** What every private server is asked for; each server adds its own options. */
export interface PrivateServerOptions {
  /** Private folder: config, data and logs go here (created if missing). */
  dir: string;
  /** XEP-0114 component domain, e.g. 'game.localhost'. */
  componentDomain: string;
  componentSecret: string;
  /** The virtual host users live on; default 'localhost'. */
  host?: string;
  /** Default: a free port on 127.0.0.1. */
  c2sPort?: number;
  /** Default: a free port on 127.0.0.1. */
  componentPort?: number;
  /** Log every stanza (the server's debug level); default false (info). */
  verbose?: boolean;
  /** A virtual host where anyone may make an account in-band (XEP-0077): the console page's guests. */
  registrationHost?: string;
  /** HTTP on 127.0.0.1: the console page's folder at `/` and the websocket endpoint (RFC 7395) at WEBSOCKET_PATH. */
  web?: WebOptions;
}

export interface WebOptions {
  /** The folder served at `/`. */
  readonly dir: string;
  readonly httpPort: number;
}

/** Where both servers take websocket connections, and the page's config.json points. */
export const WEBSOCKET_PATH = '/xmpp-websocket';

export interface PrivateXmppServer extends ServerAddress {
  /** Creates the account, or overwrites its password if it exists. */
  registerUser(user: string, password: string): Promise<void>;
  /** SIGTERM, wait for exit (SIGKILL after STOP_MS_MAX); idempotent. */
  stop(): Promise<void>;
  /** stop() then start again on the same ports and data. */
  restart(): Promise<void>;
  /** The server's own processes (not a wrapper script), for the bench's CPU readings; empty when stopped. */
  processIds(): number[];
}

/** Where a server run's output starts in its log files: restart() appends to the same files. */
export interface LogOffsets {
  readonly log: number;
  readonly stdout: number;
}

/** A server's own log, and the file its stdout and stderr go to (what it says before its logging is up). */
export interface LogFiles {
  readonly log: string;
  readonly stdout: string;
  /** Lines of the log worth showing first when a start fails (the cause scrolls out of a long tail). */
  readonly errorLine?: RegExp;
}

/** Lines of each log file shown when a start fails. */
const LOG_TAIL_LINES = 40;
const ERROR_LINES_SHOWN = 10;

/** What a server is reached at, fixed for its life (restart keeps it). */
export interface ServerAddress {
  readonly host: string;
  readonly c2sPort: number;
  readonly componentPort: number;
  readonly componentDomain: string;
  readonly componentSecret: string;
  readonly dir: string;
}

/**
 * The lifecycle both private servers share: one process at a time; start() waits
 * until it is ready or fails with what its log said; concurrent stop() calls share
 * one shutdown; restart() keeps ports and data. Each server says how to spawn, wait
 * and terminate, and where its logs are.
 */
export abstract class PrivateServerProcess implements PrivateXmppServer {
  readonly host: string;
  readonly c2sPort: number;
  readonly componentPort: number;
  readonly componentDomain: string;
  readonly componentSecret: string;
  readonly dir: string;
  #process: ChildProcess | null = null;
  #stopping: Promise<void> | null = null;

  constructor(private readonly name: string, address: ServerAddress, private readonly logs: LogFiles) {
    ({ host: this.host, c2sPort: this.c2sPort, componentPort: this.componentPort, componentDomain: this.componentDomain,
      componentSecret: this.componentSecret, dir: this.dir } = address);
  }

  abstract registerUser(user: string, password: string): Promise<void>;
  protected abstract spawnServer(): Promise<ChildProcess>;
  protected abstract waitUntilReady(child: ChildProcess, offsets: LogOffsets): Promise<void>;
  protected abstract terminate(child: ChildProcess): Promise<void>;

  async start(): Promise<void> {
    if (this.#process !== null && isRunning(this.#process)) throw new Error(`${this.name} is already running`);
    const offsets = await this.#logOffsets();
    const child = await this.spawnServer();
    this.#process = child;
    this.#stopping = null;
    try {
      await this.waitUntilReady(child, offsets);
    } catch (err) {
      await this.terminate(child);
      throw new Error(`private ${this.name} did not start: ${(err as Error).message}\n${await this.logTail(offsets)}`);
    }
  }

  /**
   * Runs `change`, which restarts the running server in place (the process stays, its
   * listeners close and open again), then waits until it is ready again.
   */
  protected async readyAgainAfter(change: () => Promise<void>): Promise<void> {
    const child = this.#process;
    if (child === null || !isRunning(child)) throw new Error(`${this.name} is not running`);
    const offsets = await this.#logOffsets();
    await change();
    try {
      await this.waitUntilReady(child, offsets);
    } catch (err) {
      throw new Error(`private ${this.name} did not come back: ${(err as Error).message}\n${await this.logTail(offsets)}`);
    }
  }

  async #logOffsets(): Promise<LogOffsets> {
    return { log: await sizeOf(this.logs.log), stdout: await sizeOf(this.logs.stdout) };
  }

  /** What this run wrote, for an error message: the log's first errors, then the tail of each file. */
  private async logTail(offsets: LogOffsets): Promise<string> {
    const { log, stdout, errorLine } = this.logs;
    const text = await readFrom(log, offsets.log);
    const errors = errorLine ? text.split('\n').filter((line) => errorLine.test(line)).slice(0, ERROR_LINES_SHOWN).join('\n') : '';
    return `${errors === '' ? '' : `--- ${log} (first errors) ---\n${errors}\n`}--- ${log} (tail) ---\n${lastLines(text, LOG_TAIL_LINES)}\n`
      + `--- ${stdout} (tail) ---\n${lastLines(await readFrom(stdout, offsets.stdout), LOG_TAIL_LINES)}`;
  }

  stop(): Promise<void> {
    if (this.#process === null) return Promise.resolve();
    // Concurrent callers share one shutdown instead of signalling twice.
    this.#stopping ??= this.terminate(this.#process);
    return this.#stopping;
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  processIds(): number[] {
    if (this.#process === null || !isRunning(this.#process)) return [];
    return this.serverPids(this.#process);
  }

  /** The spawned process is the server itself, unless a server says otherwise. */
  protected serverPids(child: ChildProcess): number[] {
    return child.pid === undefined ? [] : [child.pid];
  }
}

/**
 * Spawns a server in the foreground, its stdout and stderr appended to `outputFile`
 * (what it says before its own logging is up), killed with `kill` if Node exits
 * first: a server outliving the test run would hold its ports and confuse the next.
 */
export async function spawnServer(command: string, args: readonly string[], options: { cwd: string; env?: NodeJS.ProcessEnv },
  outputFile: string, kill: (child: ChildProcess) => void = (child) => child.kill('SIGKILL')): Promise<ChildProcess> {
  const out = await open(outputFile, 'a');
  try {
    const child = spawn(command, args, { ...options, stdio: ['ignore', out.fd, out.fd] });
    const onExit = (): void => {
      if (isRunning(child)) kill(child);
    };
    process.on('exit', onExit);
    child.once('exit', () => process.removeListener('exit', onExit));
    // A failed spawn (ENOENT, EACCES) emits 'error' and maybe no 'exit'; without a listener it would crash Node.
    child.once('error', () => process.removeListener('exit', onExit));
    return child;
  } finally {
    await out.close();
  }
}

/** Ports this process has handed out; the kernel may offer a port again as soon as it is closed. */
const portsHandedOut = new Set<number>();
/** Bound on kernel offers of a port this process already handed out, before giving up. */
const PORT_OFFERS_MAX = 64;

/**
 * A port on 127.0.0.1 that was free at that moment and that this process has not
 * handed out before: two calls in a row (a server's c2s and component ports, a
 * metrics port and then a server's) never get the same one. Offers already handed
 * out stay bound until a new port is found, so the kernel cannot offer them again.
 */
export async function freePort(): Promise<number> {
  const held: net.Server[] = [];
  try {
    for (let offer = 0; offer < PORT_OFFERS_MAX; offer++) {
      const server = net.createServer();
      server.listen(0, LOOPBACK);
      await once(server, 'listening');
      held.push(server);
      const address = server.address();
      if (address === null || typeof address === 'string') throw new Error('freePort: no TCP address');
      if (portsHandedOut.has(address.port)) continue;
      portsHandedOut.add(address.port);
      return address.port;
    }
    throw new Error(`freePort: the kernel offered only ports already handed out, ${PORT_OFFERS_MAX} times`);
  } finally {
    await Promise.all(held.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  }
}

export function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null && child.pid !== undefined;
}

export async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export async function allAccept(ports: readonly number[]): Promise<boolean> {
  const results = await Promise.all(ports.map(accepts));
  return results.every(Boolean);
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: LOOPBACK, port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(PROBE_MS_MAX, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export function checkPort(port: number, name: string): number {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`${name}: invalid port ${port}`);
  return port;
}

function lastLines(text: string, count: number): string {
  return text.trimEnd().split('\n').slice(-count).join('\n');
}

export async function readFrom(file: string, offset: number): Promise<string> {
  try {
    return (await readFile(file)).subarray(offset).toString('utf8');
  } catch {
    return '';
  }
}

async function sizeOf(file: string): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch {
    return 0;
  }
}

export function findOnPath(name: string): string | null {
  for (const folder of (process.env.PATH ?? '').split(path.delimiter)) {
    if (folder === '') continue;
    const candidate = path.join(folder, name);
    if (isExecutable(candidate)) return candidate;
  }
  return null;
}

export function isExecutable(file: string): boolean {
  try {
    accessSync(file, fsConstants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
