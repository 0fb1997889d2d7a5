// A private, throwaway Prosody (0.12) for the demo command and end-to-end specs.
// Everything it writes (config, data, logs, pidfile) stays in the folder the caller
// gives; the system configuration in /etc/prosody is never read or touched.
import { execFile, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  allAccept, checkPort, findOnPath, freePort, isExecutable, isRunning, LOOPBACK, readFrom, settlesWithin, sleep,
  PrivateServerProcess, spawnServer, WEBSOCKET_PATH, type LogOffsets, type PrivateServerOptions, type PrivateXmppServer, type ServerAddress,
  type WebOptions,
} from './private-server.ts';

/** Bound on waiting for both ports to accept connections after spawning. */
export const STARTUP_MS_MAX = 15000;
/** Bound on a graceful SIGTERM shutdown before SIGKILL. */
export const STOP_MS_MAX = 5000;
/** Bound on one prosodyctl run (it reads the config and writes one account file). */
export const PROSODYCTL_MS_MAX = 10000;
const POLL_MS = 50;
/** Largest client stanza Prosody passes on (its default is 256 KiB). */
const C2S_STANZA_BYTES_MAX = 2 * 1024 * 1024;
/** Prosody 0.12 keeps running when a bind fails, so the log is the only place to see it. */
const BIND_FAILURE_MARK = 'Failed to open server port';

export interface PrivateProsodyOptions extends PrivateServerOptions {
  /** A second virtual host where anyone logs in with SASL ANONYMOUS (load generators). */
  anonymousHost?: string;
  /** More XEP-0114 components on the same component port (the bench's echo component). */
  extraComponents?: readonly { readonly domain: string; readonly secret: string }[];
  /** Lua appended to the config as it is (the README's snippet, in its spec). */
  extraConfig?: string;
  /** Prosody's own MUC (mod_muc) at this domain: the peer the bench compares Flux with. */
  mucDomain?: string;
}

interface Paths {
  readonly config: string;
  readonly data: string;
  readonly certs: string;
  readonly log: string;
  readonly stdout: string;
  readonly pid: string;
}

interface Settings {
  readonly host: string;
  readonly componentDomain: string;
  readonly componentSecret: string;
  readonly c2sPort: number;
  readonly componentPort: number;
  readonly verbose: boolean;
  readonly anonymousHost: string | undefined;
  readonly extraComponents: readonly { readonly domain: string; readonly secret: string }[];
  readonly extraConfig: string;
  readonly mucDomain: string | undefined;
  readonly registrationHost: string | undefined;
  readonly web: WebOptions | undefined;
}

/** Path of the prosody executable on PATH, or null if Prosody is not installed. */
export function prosodyBinary(): string | null {
  return findOnPath('prosody');
}

export async function startPrivateProsody(opts: PrivateProsodyOptions): Promise<PrivateXmppServer> {
  const binary = prosodyBinary();
  if (binary === null) throw new Error('Prosody is not installed: no "prosody" executable on PATH');
  const ctl = prosodyctlBinary(binary);
  if (ctl === null) throw new Error(`prosodyctl not found next to ${binary} nor on PATH`);
  const dir = path.resolve(opts.dir);
  const settings: Settings = {
    host: opts.host ?? 'localhost',
    componentDomain: opts.componentDomain,
    componentSecret: opts.componentSecret,
    c2sPort: checkPort(opts.c2sPort ?? (await freePort()), 'c2sPort'),
    componentPort: checkPort(opts.componentPort ?? (await freePort()), 'componentPort'),
    verbose: opts.verbose ?? false,
    anonymousHost: opts.anonymousHost,
    extraComponents: opts.extraComponents ?? [],
    extraConfig: opts.extraConfig ?? '',
    mucDomain: opts.mucDomain,
    registrationHost: opts.registrationHost,
    web: opts.web === undefined ? undefined : { dir: path.resolve(opts.web.dir), httpPort: checkPort(opts.web.httpPort, 'httpPort') },
  };
  if (settings.c2sPort === settings.componentPort) throw new Error('c2sPort and componentPort must differ');
  const paths = pathsIn(dir);
  await mkdir(paths.data, { recursive: true });
  await mkdir(paths.certs, { recursive: true });
  await writeFile(paths.config, renderConfig(settings, paths));
  const server = new PrivateProsodyServer(binary, ctl, paths, { ...settings, dir });
  await server.start();
  return server;
}

class PrivateProsodyServer extends PrivateServerProcess {
  constructor(
    private readonly binary: string,
    private readonly ctl: string,
    private readonly paths: Paths,
    address: ServerAddress,
  ) {
    super('Prosody', address, paths);
  }

  protected spawnServer(): Promise<ChildProcess> {
    return spawnProsody(this.binary, this.paths);
  }

  protected waitUntilReady(child: ChildProcess, offsets: LogOffsets): Promise<void> {
    return waitUntilListening(child, { c2s: this.c2sPort, component: this.componentPort }, this.paths, offsets);
  }

  protected terminate(child: ChildProcess): Promise<void> {
    return terminate(child);
  }

  async registerUser(user: string, password: string): Promise<void> {
    // The password travels on the command line: acceptable for throwaway local accounts only.
    const args = ['--config', this.paths.config, 'register', user, this.host, password];
    await runProsodyctl(this.ctl, args, this.dir);
  }
}

function spawnProsody(binary: string, paths: Paths): Promise<ChildProcess> {
  // -F instead of the config option: `daemonize` is deprecated in 0.12 and only warns.
  // Its output file gets what Prosody says before logging is up (config syntax errors, missing Lua modules).
  return spawnServer(binary, ['--config', paths.config, '-F'], { cwd: path.dirname(paths.config) }, paths.stdout);
}

async function terminate(child: ChildProcess): Promise<void> {
  if (!isRunning(child)) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  if (await settlesWithin(exited, STOP_MS_MAX)) return;
  child.kill('SIGKILL');
  await exited;
}

interface Ports {
  readonly c2s: number;
  readonly component: number;
}

/** Polls until both ports accept TCP; fails early if Prosody exits or reports a failed bind. */
async function waitUntilListening(
  child: ChildProcess, ports: Ports, paths: Paths, offsets: LogOffsets,
): Promise<void> {
  const exit = exitDescription(child);
  const deadline = Date.now() + STARTUP_MS_MAX;
  while (Date.now() < deadline) {
    const exited = exit.value();
    if (exited !== null) throw new Error(exited);
    const log = await readFrom(paths.log, offsets.log);
    if (log.includes(BIND_FAILURE_MARK)) throw new Error('a port could not be bound');
    // The log check guards against a foreign listener that took one of our ports.
    if (listensOn(log, 'c2s', ports.c2s) && listensOn(log, 'component', ports.component)
      && (await allAccept([ports.c2s, ports.component]))) return;
    await sleep(POLL_MS);
  }
  throw new Error(`ports ${ports.c2s} and ${ports.component} not listening after ${STARTUP_MS_MAX} ms`);
}

function listensOn(log: string, service: string, port: number): boolean {
  const activated = new RegExp(`Activated service '${service}' on [^\\n]*\\[${LOOPBACK}\\]:${port}\\b`);
  return activated.test(log);
}

function exitDescription(child: ChildProcess): { value(): string | null } {
  let description: string | null = null;
  child.once('exit', (code, signal) => {
    description = `Prosody exited early (code ${code}, signal ${signal})`;
  });
  child.once('error', (err) => {
    description = `Prosody could not be spawned: ${err.message}`;
  });
  // The child may have died (or failed to spawn) before these listeners were attached.
  const late = (): string | null => (isRunning(child) ? null
    : `Prosody exited early (code ${child.exitCode}, signal ${child.signalCode}, pid ${child.pid})`);
  return { value: () => description ?? late() };
}

function runProsodyctl(ctl: string, args: string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(ctl, args, { cwd, timeout: PROSODYCTL_MS_MAX }, (err, stdout, stderr) => {
      if (err === null) return resolve();
      const shown = args.slice(0, -1).join(' '); // not the password
      reject(new Error(`prosodyctl ${shown} failed: ${err.message}\n${stdout}${stderr}`));
    });
  });
}

/** Lua config for Prosody 0.12: loopback only, no TLS, no s2s; HTTP only for the console page (`web`). */
function renderConfig(settings: Settings, paths: Paths): string {
  const q = luaString;
  const loopback = `{ ${q(LOOPBACK)} }`;
  return `-- Generated by Flux (lib/demo/prosody.ts) for a private, throwaway Prosody. Do not edit.

-- Test machines run as root. mod_posix refuses to start as root without this, and
-- prosodyctl would otherwise switch to the 'prosody' user and lose access to this folder.
run_as_root = true

pidfile = ${q(paths.pid)}
data_path = ${q(paths.data)}
-- An empty folder: there is no TLS here; pointing at it keeps certmanager from complaining.
certificates = ${q(paths.certs)}
log = { { levels = { min = ${q(settings.verbose ? 'debug' : 'info')} }, to = "file", filename = ${q(paths.log)} } }

interfaces = ${loopback}
local_interfaces = ${loopback}
c2s_interfaces = ${loopback}
component_interfaces = ${loopback}
c2s_ports = { ${settings.c2sPort} }
component_ports = { ${settings.componentPort} }
c2s_direct_tls_ports = { }
legacy_ssl_ports = { }
s2s_ports = { }
${settings.web === undefined ? 'http_ports = { }' : renderWeb(settings.web, settings.host)}
https_ports = { }

-- No "tls": without it Prosody offers no STARTTLS and needs no certificate.
modules_enabled = { "roster", "saslauth", "disco", "ping"${settings.web === undefined ? '' : ', "websocket", "http_files"'} }
-- No federation; no offline storage, so a message to an absent player is bounced, not kept for later runs.
modules_disabled = { "s2s", "offline" }

-- Prosody refuses client stanzas over 256 KiB itself; above that here, so that the
-- specs can show Flux refusing a 1 MB stanza on its own (STANZA_BYTES_MAX).
c2s_stanza_size_limit = ${C2S_STANZA_BYTES_MAX}

-- Plain text over TCP is acceptable only because every interface above is 127.0.0.1.
c2s_require_encryption = false
allow_unencrypted_plain_auth = true
-- SCRAM-SHA-1 stays on (desktop clients prefer it; package.json pins a synchronous
-- sasl-scram-sha-1 for xmpp.js 0.13); DIGEST-MD5 is obsolete.
disable_sasl_mechanisms = { "DIGEST-MD5" }
authentication = "internal_hashed"
storage = "internal"

VirtualHost ${q(settings.host)}

Component ${q(settings.componentDomain)}
  component_secret = ${q(settings.componentSecret)}
${settings.extraComponents.map((c) => `
Component ${q(c.domain)}
  component_secret = ${q(c.secret)}
`).join('')}${settings.anonymousHost === undefined ? '' : `
VirtualHost ${q(settings.anonymousHost)}
  authentication = "anonymous"
`}${settings.registrationHost === undefined ? '' : `
-- Anyone may make an account here in-band (XEP-0077): the console page's guests.
-- mod_register_limits lets 127.0.0.1 register without a throttle.
VirtualHost ${q(settings.registrationHost)}
  modules_enabled = { "register" }
  allow_registration = true
`}${settings.mucDomain === undefined ? '' : renderMuc(settings.mucDomain)}${settings.extraConfig === '' ? '' : `\n${settings.extraConfig}\n`}`;
}

/**
 * The console page and the websocket endpoint on one loopback HTTP port. The page
 * is asked for as 127.0.0.1, which names no VirtualHost, so the main host answers
 * it (http_default_host). SASL over ws:// is offered only when Prosody is told the
 * websocket counts as secure; here it is loopback, as c2s above.
 */
function renderWeb(web: WebOptions, host: string): string {
  const q = luaString;
  return `http_ports = { ${web.httpPort} }
http_interfaces = { ${q(LOOPBACK)} }
http_default_host = ${q(host)}
consider_websocket_secure = true
http_files_dir = ${q(web.dir)}
http_paths = { files = "/", websocket = ${q(WEBSOCKET_PATH)} }`;
}

/**
 * mod_muc as a bench peer: a room opens on its first join (XEP-0045 §10.1.1, an
 * instant room) instead of staying locked until its creator configures it, which a
 * load client never does.
 */
function renderMuc(domain: string): string {
  return `
Component ${luaString(domain)} "muc"
  muc_room_locking = false
  restrict_room_creation = false
`;
}

/** A double-quoted Lua string literal; control characters as decimal escapes. */
function luaString(value: string): string {
  let out = '"';
  for (const ch of value) {
    const code = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (code < 0x20 || code === 0x7f) out += `\\${String(code).padStart(3, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

function pathsIn(dir: string): Paths {
  return {
    config: path.join(dir, 'prosody.cfg.lua'),
    data: path.join(dir, 'data'),
    certs: path.join(dir, 'certs'),
    log: path.join(dir, 'prosody.log'),
    stdout: path.join(dir, 'prosody.stdout.log'),
    pid: path.join(dir, 'prosody.pid'),
  };
}

function prosodyctlBinary(prosody: string): string | null {
  const sibling = path.join(path.dirname(prosody), 'prosodyctl');
  return isExecutable(sibling) ? sibling : findOnPath('prosodyctl');
}

