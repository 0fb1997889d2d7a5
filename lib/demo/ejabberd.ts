// A private, throwaway ejabberd (Debian's package, 23.01) for end-to-end specs: the
// same PrivateXmppServer interface as ./prosody.ts, on a second server implementation.
// Everything it writes (config, Mnesia spool, logs, Erlang cookie) stays in the folder
// the caller gives; /etc/ejabberd is never read. The node uses no epmd: this machine's
// epmd serves other Erlang nodes (RabbitMQ), which it must neither see nor disturb.
// startPrivateEjabberdCluster starts several such nodes joined in one Mnesia cluster.
// Debian's ejabberdctl runs only as root or as the 'ejabberd' user; specs run as root.
import { execFile, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  allAccept, checkPort, findOnPath, freePort, isExecutable, isRunning, readFrom, settlesWithin, sleep,
  PrivateServerProcess, spawnServer, type LogOffsets, type PrivateServerOptions, type PrivateXmppServer,
  WEBSOCKET_PATH, type WebOptions,
} from './private-server.ts';

/** Bound on VM boot, Mnesia and both listeners after spawning (the first start also creates the schema). */
export const STARTUP_MS_MAX = 30000;
/** Bound on a graceful shutdown (SIGTERM: listeners closed, Mnesia written) before SIGKILL. */
export const STOP_MS_MAX = 10000;
/** Bound on one ejabberdctl command (it boots a hidden Erlang node that calls ours). */
export const EJABBERDCTL_MS_MAX = 15000;
/** Largest stanza either listener accepts: specs send 1 MB bodies to the component. */
const MAX_STANZA_BYTES = 2 * 1024 * 1024;
/**
 * Stanzas queued for one connection before ejabberd drops it; its default (10000)
 * could cut off a component that a load run outpaces.
 */
const MAX_FSM_QUEUE = 100000;
/** ejabberd 23.01 listens with a backlog of 5, which drops a crowd of players logging in at once. */
const LISTEN_BACKLOG = 1024;
const POLL_MS = 50;
const ERROR_LINE = /\[(?:error|critical)\]/;
const LOOPBACK = '127.0.0.1';
/** Where Debian installs ejabberdctl; often not on a non-root PATH. */
const SYSTEM_SBIN = '/usr/sbin';
const COOKIE_BYTES = 20;
const NODE_HASH_CHARS = 12;
/**
 * ejabberdctl is bash that word-splits the spool path and hands it to Erlang inside
 * double quotes, and its config is sourced as shell: only plain path characters survive.
 */
const SAFE_DIR = /^[A-Za-z0-9._/+-]+$/;
/** ejabberdctl's answer to `register` for an existing account. */
const CONFLICT_MARK = 'already registered';
/** Where a node (or a cluster) keeps its Erlang cookie; its folder is the VM's $HOME. */
const COOKIE_FILE = '.erlang.cookie';
/** The host part of a lone node's name. */
const LONE_NODE_HOST = 'localhost';
/** Cluster node i (from 1) distributes on 127.0.0.<i>, so 127.0.0.254 is the last: see startPrivateEjabberdCluster. */
const CLUSTER_NODES_MAX = 254;
/** Starts of a whole cluster when a port found free was taken before a node bound it. */
const CLUSTER_START_ATTEMPTS = 3;

export interface PrivateEjabberdOptions extends PrivateServerOptions {
  /** More entries for `listen:`, as YAML list items (the README's snippet, in its spec). */
  extraListeners?: string;
  /** A second virtual host where anyone logs in with SASL ANONYMOUS (load generators). */
  anonymousHost?: string;
  /**
   * More XEP-0114 components (the bench's echo component), each on a listener of its
   * own: ejabberd routes every host of a listener to each component connected to it,
   * so two components sharing one would each get half of the other's stanzas.
   */
  extraComponents?: readonly ExtraComponent[];
  /** ejabberd's own MUC (mod_muc) at this domain: the peer the bench compares Flux with. */
  mucDomain?: string;
  /** XEP-0033 Extended Stanza Addressing (mod_multicast), the bench's alternative to plain fan-out. */
  multicast?: MulticastOptions;
}

/**
 * mod_multicast serves `multicast.<host>` for one virtual host. It delivers itself
 * only to addresses on that host; for any other domain it asks that domain's disco
 * for a multicast service first and sends one stanza per address meanwhile.
 */
export interface MulticastOptions {
  /** The virtual host whose users it reaches; default the main host. */
  readonly host?: string;
  /**
   * Addresses one stanza may carry, for every sender, messages and presences alike.
   * Default ejabberd's own: 100 from a local sender, 20 from a remote one, and a
   * component's domain is remote (it is not in `hosts:`).
   */
  readonly recipientsMax?: number | 'infinite';
}

export interface ExtraComponent {
  readonly domain: string;
  readonly secret: string;
  /** Its own component port on 127.0.0.1. */
  readonly port: number;
}

/** Occupants one mod_muc room may hold (ejabberd's default is 200): the bench puts a thousand in one. */
const MUC_USERS_MAX = 10000;

interface Paths {
  readonly dir: string;
  /** $HOME of the VM and of every ejabberdctl command: the folder of the cookie. */
  readonly home: string;
  readonly config: string;
  readonly ctlConfig: string;
  readonly inetrc: string;
  readonly cookie: string;
  readonly spool: string;
  readonly logs: string;
  readonly log: string;
  readonly stdout: string;
}

interface Settings {
  readonly host: string;
  readonly componentDomain: string;
  readonly componentSecret: string;
  readonly c2sPort: number;
  readonly componentPort: number;
  readonly dist: Distribution;
  readonly verbose: boolean;
  readonly extraListeners: string;
  readonly anonymousHost: string | undefined;
  readonly extraComponents: readonly ExtraComponent[];
  readonly mucDomain: string | undefined;
  readonly multicast: MulticastOptions | undefined;
  readonly registrationHost: string | undefined;
  readonly web: WebOptions | undefined;
}

/**
 * Erlang distribution: the channel ejabberdctl uses to reach the node, and cluster
 * nodes each other. Without epmd, a node listens on `port` at `address`.
 */
interface Distribution {
  /** The Erlang node name, fixed per folder (the Mnesia schema belongs to it). */
  readonly node: string;
  readonly address: string;
  readonly port: number;
  /** The folder holding the cookie: the node's own, or the cluster's, shared by its nodes. */
  readonly home: string;
}

/** A node of a private cluster: a PrivateXmppServer that also answers for Mnesia. */
export interface PrivateEjabberdNode extends PrivateXmppServer {
  /** Its Erlang node name, e.g. flux-0123456789ab@127.0.0.2. */
  readonly node: string;
  /** The running nodes of its Mnesia cluster, itself included (`ejabberdctl list_cluster`). */
  clusterNodes(): Promise<string[]>;
}

export type PrivateEjabberdClusterOptions =
  // Ports are each node's own (free ones), hence no fixed port, and no option that carries one.
  Omit<PrivateEjabberdOptions, 'c2sPort' | 'componentPort' | 'extraListeners' | 'extraComponents' | 'web'> & {
    /** How many ejabberd nodes, each in its own subfolder node1, node2...; at least 1. */
    readonly nodes: number;
  };

export interface PrivateEjabberdCluster {
  /** In start order; every node joined the first one. Each can be stopped and restarted on its own. */
  readonly nodes: readonly PrivateEjabberdNode[];
  /** Stops every node; idempotent. */
  stop(): Promise<void>;
}

/** Path of ejabberdctl (on PATH, else in /usr/sbin), or null if ejabberd is not installed. */
export function ejabberdBinary(): string | null {
  const sbin = path.join(SYSTEM_SBIN, 'ejabberdctl');
  return findOnPath('ejabberdctl') ?? (isExecutable(sbin) ? sbin : null);
}

export async function startPrivateEjabberd(opts: PrivateEjabberdOptions): Promise<PrivateXmppServer> {
  const ctl = requireEjabberdctl();
  const dir = checkedDir(opts.dir);
  const dist = { node: nodeName(dir, LONE_NODE_HOST), address: LOOPBACK, port: await freePort(), home: dir };
  const server = await prepareNode(ctl, { ...opts, dir }, dist);
  await server.start();
  return server;
}

/**
 * Several private ejabberd nodes in one Mnesia cluster: accounts, rosters and the
 * routes of components are shared, so a user registered on one node logs in on any,
 * and a component domain connected to any node is reached from all. Node i lives in
 * `<dir>/node<i>` with its own ports and spool; the cookie is `<dir>/.erlang.cookie`.
 *
 * Still no epmd. In ejabberdctl's epmd-less mode (ERL_DIST_PORT, i.e. erl's
 * -erl_epmd_port) a node assumes that every other node listens on that same port,
 * at the address of its host name; two nodes on one address would need the one port.
 * So each node gets its own loopback address and they all share one port: node i is
 * flux-<hash>@127.0.0.<i>, listening on 127.0.0.<i>:<port>. Linux routes all of
 * 127.0.0.0/8 to the loopback interface, so these addresses need no setup. A private
 * epmd on a private port (ERL_EPMD_PORT) would work too, but is one more process
 * whose life outlasts any one node's; this needs none.
 */
export async function startPrivateEjabberdCluster(opts: PrivateEjabberdClusterOptions): Promise<PrivateEjabberdCluster> {
  const ctl = requireEjabberdctl();
  const dir = checkedDir(opts.dir);
  if (!Number.isInteger(opts.nodes) || opts.nodes < 1 || opts.nodes > CLUSTER_NODES_MAX) {
    throw new Error(`nodes: ${opts.nodes} is not a count from 1 to ${CLUSTER_NODES_MAX}`);
  }
  // A port found free may be taken before a node binds it (by any outgoing connection's
  // ephemeral port, or while join_cluster restarts a node's listeners): then the whole
  // cluster starts again on fresh ports, in fresh folders (a half-joined Mnesia is not reused).
  for (let attempt = 1; ; attempt++) {
    try {
      return await startClusterIn(ctl, opts, dir, attempt === 1 ? dir : path.join(dir, `attempt${attempt}`));
    } catch (err) {
      if (attempt >= CLUSTER_START_ATTEMPTS || !/address already in use|eaddrinuse/i.test((err as Error).message)) throw err;
    }
  }
}

async function startClusterIn(ctl: string, opts: PrivateEjabberdClusterOptions, home: string, dir: string): Promise<PrivateEjabberdCluster> {
  // Checked free on 127.0.0.1 only: nothing else on the machine is expected to listen on 127.0.0.2 and up.
  const port = await freePort();
  const nodes: PrivateEjabberdServer[] = [];
  for (let i = 1; i <= opts.nodes; i++) {
    const nodeDir = path.join(dir, `node${i}`);
    const address = `127.0.0.${i}`;
    nodes.push(await prepareNode(ctl, { ...opts, dir: nodeDir }, { node: nodeName(nodeDir, address), address, port, home }));
  }
  const stop = async (): Promise<void> => {
    await Promise.all(nodes.map((node) => node.stop()));
  };
  try {
    await Promise.all(nodes.map((node) => node.start()));
    const [first, ...others] = nodes;
    // One at a time: each join copies the first node's tables, and two at once would contend for them.
    for (const other of others) await other.joinCluster(first!.node);
  } catch (err) {
    await stop();
    throw err;
  }
  return { nodes, stop };
}

function requireEjabberdctl(): string {
  const ctl = ejabberdBinary();
  if (ctl === null) throw new Error(`ejabberd is not installed: no "ejabberdctl" on PATH nor in ${SYSTEM_SBIN}`);
  return ctl;
}

function checkedDir(given: string): string {
  const dir = path.resolve(given);
  if (!SAFE_DIR.test(dir)) throw new Error(`ejabberd folder ${dir}: only letters, digits and . _ / + - are allowed`);
  return dir;
}

/** Writes one node's files (config, inetrc, the cookie if missing) and returns it, not started. */
async function prepareNode(ctl: string, opts: PrivateEjabberdOptions, dist: Distribution): Promise<PrivateEjabberdServer> {
  const dir = opts.dir;
  const settings: Settings = {
    host: opts.host ?? 'localhost',
    componentDomain: opts.componentDomain,
    componentSecret: opts.componentSecret,
    c2sPort: checkPort(opts.c2sPort ?? (await freePort()), 'c2sPort'),
    componentPort: checkPort(opts.componentPort ?? (await freePort()), 'componentPort'),
    dist,
    verbose: opts.verbose ?? false,
    extraListeners: opts.extraListeners ?? '',
    anonymousHost: opts.anonymousHost,
    extraComponents: opts.extraComponents ?? [],
    mucDomain: opts.mucDomain,
    multicast: opts.multicast,
    registrationHost: opts.registrationHost,
    web: opts.web === undefined ? undefined : { dir: path.resolve(opts.web.dir), httpPort: checkPort(opts.web.httpPort, 'httpPort') },
  };
  const extraPorts = [...settings.extraComponents.map((c) => checkPort(c.port, `${c.domain} port`)), ...(settings.web ? [settings.web.httpPort] : [])];
  const ports = new Set([settings.c2sPort, settings.componentPort, dist.port, ...extraPorts]);
  if (ports.size !== 3 + extraPorts.length) throw new Error('c2sPort, componentPort, the HTTP port, the extra components\' ports and the distribution port must differ');
  const paths = pathsIn(dir, dist.home);
  await mkdir(paths.spool, { recursive: true });
  await mkdir(paths.logs, { recursive: true });
  await writeFile(paths.config, renderConfig(settings));
  await writeFile(paths.ctlConfig, renderCtlConfig(settings));
  await writeFile(paths.inetrc, INETRC);
  await ensureCookie(paths.cookie);
  return new PrivateEjabberdServer(ctl, paths, settings);
}

class PrivateEjabberdServer extends PrivateServerProcess implements PrivateEjabberdNode {
  constructor(
    private readonly ctl: string,
    private readonly paths: Paths,
    private readonly settings: Settings,
  ) {
    super('ejabberd', { ...settings, dir: paths.dir }, { log: paths.log, stdout: paths.stdout, errorLine: ERROR_LINE });
  }

  get node(): string {
    return this.settings.dist.node;
  }

  protected spawnServer(): Promise<ChildProcess> {
    return spawnEjabberd(this.ctl, this.paths);
  }

  protected waitUntilReady(wrapper: ChildProcess, offsets: LogOffsets): Promise<void> {
    return waitUntilReady(wrapper, this.settings, this.paths, offsets);
  }

  protected terminate(wrapper: ChildProcess): Promise<void> {
    return terminate(wrapper);
  }

  protected override serverPids(wrapper: ChildProcess): number[] {
    return vmPids(wrapper);
  }

  async registerUser(user: string, password: string): Promise<void> {
    const registered = await this.#account('register', user, password);
    if (registered.ok) return;
    if (!registered.output.includes(CONFLICT_MARK)) throw this.#failure('register', user, registered.output);
    // change_password (mod_admin_extra) refuses unknown accounts, hence register first.
    const changed = await this.#account('change_password', user, password);
    if (!changed.ok) throw this.#failure('change_password', user, changed.output);
  }

  async clusterNodes(): Promise<string[]> {
    const listed = await runEjabberdctl(this.ctl, this.paths, ['list_cluster']);
    if (!listed.ok) throw new Error(`ejabberdctl list_cluster failed on ${this.node}:\n${listed.output}`);
    // One node a line, as an Erlang atom: 'flux-0123456789ab@127.0.0.2'.
    return listed.output.split('\n').map((line) => line.trim().replace(/^'(.*)'$/, '$1')).filter((line) => line !== '');
  }

  /**
   * Joins the Mnesia cluster of `peer` (a running node), unless already in it. ejabberd
   * stops itself on this node, swaps its own Mnesia schema for the cluster's and starts
   * again in the same VM, listeners included.
   */
  async joinCluster(peer: string): Promise<void> {
    if ((await this.clusterNodes()).includes(peer)) return;
    await this.readyAgainAfter(async () => {
      const joined = await runEjabberdctl(this.ctl, this.paths, ['join_cluster', peer]);
      if (!joined.ok) throw new Error(`ejabberdctl join_cluster ${peer} failed on ${this.node}:\n${joined.output}`);
    });
  }

  #account(command: string, user: string, password: string): Promise<CtlResult> {
    // The password travels on the command line: acceptable for throwaway local accounts only.
    return runEjabberdctl(this.ctl, this.paths, [command, user, this.host, password]);
  }

  #failure(command: string, user: string, output: string): Error {
    return new Error(`ejabberdctl ${command} ${user} ${this.host} failed:\n${output}`);
  }
}

/**
 * ejabberdctl's options for this folder, all of them, so that nothing comes from
 * /etc/ejabberd or the caller's environment (EJABBERD_CONFIG_PATH...). --config-dir
 * also moves inetrc and vm.args here.
 */
function ctlArgs(paths: Paths): string[] {
  return [
    '--config-dir', paths.dir, '--config', paths.config, '--ctl-config', paths.ctlConfig,
    '--logs', paths.logs, '--spool', paths.spool,
  ];
}

/** Erlang reads its cookie from $HOME/.erlang.cookie: the folder's own (or the cluster's), for the server and every command. */
function ctlEnv(paths: Paths): NodeJS.ProcessEnv {
  return { ...process.env, HOME: paths.home };
}

function spawnEjabberd(ctl: string, paths: Paths): Promise<ChildProcess> {
  // -quiet: logs/ejabberd.log has everything; the console copy would only double it. The output
  // file gets what comes before the logger is up (bad config, VM boot failures).
  return spawnServer(ctl, [...ctlArgs(paths), 'foreground-quiet'], { cwd: paths.dir, env: ctlEnv(paths) }, paths.stdout, killTree);
}

/**
 * ejabberdctl (bash) runs the Erlang VM as its child and waits for it instead of exec'ing
 * it, so a signal for the server must reach the VM: the wrapper alone would die and
 * orphan it. Linux's /proc lists the children (the Debian package is Linux-only anyway).
 */
function vmPids(wrapper: ChildProcess): number[] {
  const pid = wrapper.pid;
  if (pid === undefined) return [];
  try {
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8');
    return children.split(' ').filter((s) => s !== '').map(Number);
  } catch {
    return []; // the wrapper is gone
  }
}

async function terminate(wrapper: ChildProcess): Promise<void> {
  if (!isRunning(wrapper)) return;
  const exited = once(wrapper, 'exit');
  // SIGTERM makes the VM run init:stop (listeners closed, Mnesia written); the wrapper
  // exits right after it. Before ejabberdctl has forked the VM, the wrapper is the target.
  const vm = vmPids(wrapper);
  if (vm.length > 0) signalAll(vm, 'SIGTERM');
  else wrapper.kill('SIGTERM');
  if (await settlesWithin(exited, STOP_MS_MAX)) return;
  killTree(wrapper);
  await exited;
}

/** The VM's own helpers (erl_child_setup, eimp) exit when it dies. */
function killTree(wrapper: ChildProcess): void {
  signalAll(vmPids(wrapper), 'SIGKILL');
  wrapper.kill('SIGKILL');
}

function signalAll(pids: readonly number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // Exited in the meantime.
    }
  }
}

/** Polls until ejabberd reports itself started with both listeners, and both ports accept TCP. */
async function waitUntilReady(wrapper: ChildProcess, settings: Settings, paths: Paths, offsets: LogOffsets): Promise<void> {
  const marks = readinessMarks(settings);
  const ports = [settings.c2sPort, settings.componentPort, ...settings.extraComponents.map((c) => c.port), ...(settings.web ? [settings.web.httpPort] : [])];
  const deadline = Date.now() + STARTUP_MS_MAX;
  while (Date.now() < deadline) {
    // ejabberd halts when a listener cannot bind, so a taken port shows up here, with the reason in the log.
    const exited = exitDescription(wrapper);
    if (exited !== null) throw new Error(exited);
    const log = await readFrom(paths.log, offsets.log);
    // The log marks guard against a foreign listener that took one of our ports.
    if (marks.every((mark) => log.includes(mark)) && (await allAccept(ports))) return;
    await sleep(POLL_MS);
  }
  throw new Error(`not started on ports ${ports.join(' and ')} after ${STARTUP_MS_MAX} ms`);
}

/** ejabberd logs "is started" before the listeners open, so all three lines are needed. */
function readinessMarks(settings: Settings): string[] {
  const accepting = (port: number, module: string): string =>
    `Start accepting TCP connections at ${LOOPBACK}:${port} for ${module}`;
  return [
    `is started in the node '${settings.dist.node}'`,
    accepting(settings.c2sPort, 'ejabberd_c2s'),
    accepting(settings.componentPort, 'ejabberd_service'),
    ...settings.extraComponents.map((c) => accepting(c.port, 'ejabberd_service')),
    ...(settings.web ? [accepting(settings.web.httpPort, 'ejabberd_http')] : []),
  ];
}

function exitDescription(wrapper: ChildProcess): string | null {
  if (isRunning(wrapper)) return null;
  if (wrapper.pid === undefined) return 'ejabberdctl could not be spawned';
  return `ejabberd exited early (code ${wrapper.exitCode}, signal ${wrapper.signalCode})`;
}

interface CtlResult {
  readonly ok: boolean;
  readonly output: string;
}

/** Resolves with a non-zero exit too (ejabberdctl's answer, e.g. a conflict); rejects on a timeout or spawn failure. */
function runEjabberdctl(ctl: string, paths: Paths, command: string[]): Promise<CtlResult> {
  const options = { cwd: paths.dir, env: ctlEnv(paths), timeout: EJABBERDCTL_MS_MAX };
  return new Promise((resolve, reject) => {
    execFile(ctl, [...ctlArgs(paths), ...command], options, (err, stdout, stderr) => {
      const output = `${stdout}${stderr}`;
      if (err === null) return resolve({ ok: true, output });
      if (typeof err.code === 'number' && !err.killed) return resolve({ ok: false, output });
      const shown = command.slice(0, -1).join(' '); // not the password
      reject(new Error(`ejabberdctl ${shown} failed: ${err.message}\n${output}`));
    });
  });
}

/**
 * One node name per folder: the Mnesia schema in the spool belongs to the node that
 * created it, so restarts (and later runs on the same folder) must reuse the name,
 * while instances in different folders never share one. A host with a dot (an
 * address) makes it a long name, which ejabberdctl sees and passes as -name.
 */
function nodeName(dir: string, host: string): string {
  const hash = createHash('sha256').update(dir).digest('hex').slice(0, NODE_HASH_CHARS);
  return `flux-${hash}@${host}`;
}

/** Created once per folder and kept, like the Mnesia data it protects. */
async function ensureCookie(file: string): Promise<void> {
  try {
    // Erlang refuses a cookie file that others can read.
    await writeFile(file, randomBytes(COOKIE_BYTES).toString('hex'), { mode: 0o400, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}

/** YAML for ejabberd 23.01: loopback only, no TLS, no s2s, no throttling; HTTP only for the console page (`web`). */
function renderConfig(settings: Settings): string {
  const q = yamlString;
  return `# Generated by Flux (lib/demo/ejabberd.ts) for a private, throwaway ejabberd. Do not edit.
hosts:
  - ${q(settings.host)}
${settings.anonymousHost === undefined ? '' : `  - ${q(settings.anonymousHost)}\n`}${settings.registrationHost === undefined ? '' : `  - ${q(settings.registrationHost)}\n`}loglevel: ${settings.verbose ? 'debug' : 'info'}
# Never rotated: the harness reads each run's log from the offset where the run began.
log_rotate_size: infinity

# Plain text over TCP is acceptable only because both listeners are on 127.0.0.1.
# No TLS, so no certificate; no s2s; an HTTP listener only for the console page. "shaper: none" on c2s and components:
# Debian's stock config throttles clients to a few KB/s.
listen:
  -
    module: ejabberd_c2s
    ip: ${q(LOOPBACK)}
    port: ${settings.c2sPort}
    starttls: false
    shaper: none
    max_stanza_size: ${MAX_STANZA_BYTES}
    max_fsm_queue: ${MAX_FSM_QUEUE}
    backlog: ${LISTEN_BACKLOG}
  -
    module: ejabberd_service
    ip: ${q(LOOPBACK)}
    port: ${settings.componentPort}
    shaper: none
    max_stanza_size: ${MAX_STANZA_BYTES}
    max_fsm_queue: ${MAX_FSM_QUEUE}
    hosts:
      ${q(settings.componentDomain)}:
        password: ${q(settings.componentSecret)}
${settings.extraComponents.map((c) => renderComponentListener(c)).join('')}${settings.web === undefined ? '' : renderHttpListener(settings.web, settings.host)}${settings.extraListeners}
# No federation: a message for a foreign domain bounces at once instead of waiting on DNS.
s2s_access: none

auth_method: internal
# Hashed at rest. ejabberd then offers SCRAM-SHA-1 (xmpp.js's choice; package.json pins a
# synchronous sasl-scram-sha-1) and PLAIN, checked against the hash; DIGEST-MD5 is obsolete.
auth_password_format: scram
disable_sasl_mechanisms:
  - "DIGEST-MD5"
  - "X-OAUTH2"

# No mod_muc: the component is the MUC (the bench adds one below, the peer it compares with).
# No mod_offline, so a message to an absent player is bounced, not kept for later runs.
# No mod_stream_mgmt, so a dropped client is gone at once.
modules:
  mod_admin_extra: {} # change_password, for registerUser
  mod_disco: {}
  mod_ping: {}
  mod_roster: {}
${settings.web === undefined ? '' : renderFileServer(settings.web)}${renderHostConfig(settings)}${renderAppendHostConfig(settings)}`;
}

function renderComponentListener(c: ExtraComponent): string {
  return `  -
    module: ejabberd_service
    ip: ${yamlString(LOOPBACK)}
    port: ${c.port}
    shaper: none
    max_stanza_size: ${MAX_STANZA_BYTES}
    max_fsm_queue: ${MAX_FSM_QUEUE}
    hosts:
      ${yamlString(c.domain)}:
        password: ${yamlString(c.secret)}
`;
}

/** The console page at `/` and the websocket endpoint (RFC 7395), on 127.0.0.1. */
function renderHttpListener(web: WebOptions, host: string): string {
  // The page is asked for as 127.0.0.1, which names no host: default_host answers it.
  return `  -
    module: ejabberd_http
    ip: ${yamlString(LOOPBACK)}
    port: ${web.httpPort}
    default_host: ${yamlString(host)}
    request_handlers:
      ${yamlString(WEBSOCKET_PATH)}: ejabberd_http_ws
      "/": mod_http_fileserver
`;
}

function renderFileServer(web: WebOptions): string {
  return `  mod_http_fileserver:
    docroot: ${yamlString(web.dir)}
    directory_indices:
      - index.html
    content_types:
      .json: application/json
`;
}

/**
 * Load clients log in on the anonymous host without accounts (XEP-0175); the
 * console page's guests make accounts in-band on the registration host (XEP-0077),
 * as often as they like: these servers listen on 127.0.0.1 only.
 */
function renderHostConfig(settings: Settings): string {
  const anonymous = settings.anonymousHost === undefined ? '' : `
  ${yamlString(settings.anonymousHost)}:
    auth_method: anonymous
    anonymous_protocol: sasl_anon`;
  const registration = settings.registrationHost === undefined ? '' : '\n# One registration per address per 10 minutes by default; the specs make many from 127.0.0.1.\nregistration_timeout: infinity\n';
  if (anonymous === '') return registration;
  return `${registration}
host_config:${anonymous}
`;
}

/**
 * Modules of one host only (append_host_config adds to the global `modules:`; host_config
 * would replace them). One entry per host: YAML refuses a key twice, so modules that
 * share a host (mod_muc and mod_multicast on the main one) go under the same entry.
 */
function renderAppendHostConfig(settings: Settings): string {
  const byHost = new Map<string, string[]>();
  const add = (host: string, modules: string) => byHost.set(host, [...(byHost.get(host) ?? []), modules]);
  if (settings.registrationHost !== undefined) add(settings.registrationHost, REGISTRATION_MODULE);
  if (settings.mucDomain !== undefined) add(settings.host, renderMuc(settings.mucDomain));
  if (settings.multicast !== undefined) add(settings.multicast.host ?? settings.host, renderMulticast(settings.multicast));
  if (byHost.size === 0) return '';
  const hosts = [...byHost].map(([host, modules]) => `\n  ${yamlString(host)}:\n    modules:\n${modules.join('')}`);
  return `\nappend_host_config:${hosts.join('')}\n`;
}

const REGISTRATION_MODULE = `      mod_register:
        access: all
        ip_access: all
        password_strength: 0
`;

/**
 * mod_muc on the main host only (on every host, each would claim the same domain),
 * sized for a thousand occupants in one room; no archive, no room log.
 */
function renderMuc(mucDomain: string): string {
  return `      mod_muc:
        hosts:
          - ${yamlString(mucDomain)}
        access_create: all
        max_users: ${MUC_USERS_MAX}
        max_users_presence: ${MUC_USERS_MAX}
        default_room_options:
          max_users: ${MUC_USERS_MAX}
          mam: false
          logging: false
`;
}

/**
 * XEP-0033 at multicast.<host>, open to every sender (access: all, its default). The
 * same bound for local and remote senders, since a component counts as remote.
 */
function renderMulticast(multicast: MulticastOptions): string {
  const max = multicast.recipientsMax;
  if (max === undefined) return '      mod_multicast: {}\n';
  if (max !== 'infinite' && !(Number.isInteger(max) && max >= 0)) throw new Error(`multicast.recipientsMax: ${max} is not a count`);
  const limit = `{message: ${max}, presence: ${max}}`;
  return `      mod_multicast:
        limits:
          local: ${limit}
          remote: ${limit}
`;
}

/** Sourced (as bash) by ejabberdctl for the server and for every command. */
function renderCtlConfig(settings: Settings): string {
  return `# Generated by Flux (lib/demo/ejabberd.ts) for a private, throwaway ejabberd. Do not edit.

# Run as root, Debian's ejabberdctl would switch to the 'ejabberd' user (su), who cannot
# read this folder. It decides before sourcing this file, so this line has the last word.
EXEC_CMD=as_current_user

ERLANG_NODE=${settings.dist.node}
# A fixed distribution port: ejabberd starts no epmd, and ejabberdctl's own short-lived
# nodes connect straight to this port instead of asking one (as do the other nodes of
# a cluster, which all share the port, each on its own loopback address).
ERL_DIST_PORT=${settings.dist.port}
# With ERL_DIST_PORT the VM still registers its name with a running epmd (RabbitMQ's),
# but carries on when none answers. Nothing can listen on port 0, so none ever does.
export ERL_EPMD_PORT=0
# Distribution (cookie-protected, but a remote shell) listens on loopback only.
ERL_OPTIONS="-kernel inet_dist_use_interface ${erlangAddress(settings.dist.address)}"
`;
}

/** ejabberdctl points ERL_INETRC into the config folder; without the file Erlang logs an error on every run. */
const INETRC = `%% Generated by Flux (lib/demo/ejabberd.ts). "localhost", the host part of the node
%% name, resolves to 127.0.0.1 whatever /etc/hosts says about ::1.
{host, {127,0,0,1}, ["localhost"]}.
{lookup, [file, native]}.
`;

/** 127.0.0.2 as an Erlang tuple, {127,0,0,2}. */
function erlangAddress(address: string): string {
  const parts = address.split('.').map(Number);
  if (parts.length !== 4 || !parts.every((p) => Number.isInteger(p) && p >= 0 && p <= 255)) throw new Error(`not an IPv4 address: ${address}`);
  return `{${parts.join(',')}}`;
}

/** A double-quoted YAML scalar: JSON's string syntax is a subset of it. */
function yamlString(value: string): string {
  return JSON.stringify(value);
}

function pathsIn(dir: string, home: string): Paths {
  const logs = path.join(dir, 'logs');
  return {
    dir,
    home,
    config: path.join(dir, 'ejabberd.yml'),
    ctlConfig: path.join(dir, 'ejabberdctl.cfg'),
    inetrc: path.join(dir, 'inetrc'),
    cookie: path.join(home, COOKIE_FILE),
    spool: path.join(dir, 'database'),
    logs,
    log: path.join(logs, 'ejabberd.log'),
    stdout: path.join(dir, 'ejabberd.stdout.log'),
  };
}

