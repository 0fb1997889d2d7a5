// Operator configuration (DESIGN §2): config/default.json, overridden by the
// environment. Validation happens before anything connects; a ConfigError is
// reported by the CLI as one line with exit code 2.
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../errors.ts';
import {
  BATCH_COMMANDS_MAX, BODY_BYTES_MAX, CHARACTERS_PER_ROOM_MAX, GUEST_DOMAINS_MAX, GUEST_RELEASE_S_DEFAULT, GUEST_RELEASE_S_MAX, HEARTBEAT_MS_DEFAULT, HEARTBEAT_MS_MAX, HEARTBEAT_MS_MIN,
  NEW_CHARACTERS_PER_DOMAIN_PER_MIN_MAX, OCCUPANTS_MAX,
} from '../constants.ts';

export type EngineName = 'wasm' | 'js' | 'model';
export const ENGINE_NAMES: readonly EngineName[] = ['wasm', 'js', 'model'];
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface Config {
  readonly xmppService: string;
  readonly xmppDomain: string;
  readonly xmppSecret: string;
  /** Empty: use the embedded database in dataDir. */
  readonly databaseUrl: string;
  readonly dataDir: string;
  readonly tickMs: number;
  /** How often wandering NPCs move while players are in a room; 0 turns them to statues. */
  readonly npcTickMs: number;
  readonly batchCommandsMax: number;
  readonly engine: EngineName;
  readonly logLevel: LogLevel;
  readonly commandsPerS: number;
  readonly bodyBytesMax: number;
  readonly occupantsMax: number;
  /** Characters one world keeps (every nick that ever joined is one); joins that would make more are refused. */
  readonly charactersMax: number;
  /** Output budget per room, bytes per second. */
  readonly roomOutputBytesPerS: number;
  /** New characters per minute from one server domain (a burst of as many). */
  readonly newCharactersPerDomainPerMin: number;
  /** Server domains whose JIDs are guests (anonymous logins), lower case; empty: nobody is a guest. */
  readonly guestDomains: readonly string[];
  /** A guest's character is released this long after its last session left. */
  readonly guestReleaseS: number;
  readonly worldsDir: string;
  /** Prometheus metrics, /healthz and /readyz on metricsHost:metricsPort; port 0 turns them off. */
  readonly metricsPort: number;
  /** The address the metrics port binds: an IP address or a host name. */
  readonly metricsHost: string;
  /** How often this instance writes its row in the instances table (bin/flux status). */
  readonly heartbeatMs: number;
  /**
   * host:port of the link to the other instances of the domain (lib/cluster): a
   * private address; port 0 takes a free one. 'off': no link; 'auto' (default):
   * 127.0.0.1:0 with PostgreSQL, off with the embedded database (one process owns it).
   */
  readonly peerListen: string;
  /** The secret the instances prove to each other on the link; '' (default): the component secret. */
  readonly peerSecret: string;
}

/** Environment variable -> config key (DESIGN §2). */
const ENV_KEYS: Record<string, keyof Config> = {
  FLUX_XMPP_SERVICE: 'xmppService',
  FLUX_XMPP_DOMAIN: 'xmppDomain',
  FLUX_XMPP_SECRET: 'xmppSecret',
  DATABASE_URL: 'databaseUrl',
  FLUX_DATA_DIR: 'dataDir',
  FLUX_TICK_MS: 'tickMs',
  FLUX_NPC_TICK_MS: 'npcTickMs',
  FLUX_BATCH_MAX: 'batchCommandsMax',
  FLUX_ENGINE: 'engine',
  LOG_LEVEL: 'logLevel',
  FLUX_COMMANDS_PER_S: 'commandsPerS',
  FLUX_BODY_BYTES_MAX: 'bodyBytesMax',
  FLUX_OCCUPANTS_MAX: 'occupantsMax',
  FLUX_CHARACTERS_MAX: 'charactersMax',
  FLUX_ROOM_OUTPUT_BYTES_PER_S: 'roomOutputBytesPerS',
  FLUX_NEW_CHARACTERS_PER_DOMAIN_PER_MIN: 'newCharactersPerDomainPerMin',
  FLUX_GUEST_DOMAINS: 'guestDomains',
  FLUX_GUEST_RELEASE_S: 'guestReleaseS',
  FLUX_WORLDS_DIR: 'worldsDir',
  FLUX_METRICS_PORT: 'metricsPort',
  FLUX_METRICS_HOST: 'metricsHost',
  FLUX_HEARTBEAT_MS: 'heartbeatMs',
  FLUX_PEER_LISTEN: 'peerListen',
  FLUX_PEER_SECRET: 'peerSecret',
};

export const ROOT_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export function readDefaults(file = path.join(ROOT_DIR, 'config/default.json')): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new ConfigError(`cannot read ${file}: ${(err as Error).message}`);
  }
}

/** Merge defaults with the environment and validate; throws ConfigError naming the setting. */
export function loadConfig(env: NodeJS.ProcessEnv, defaults = readDefaults()): Config {
  const raw: Record<string, unknown> = { ...defaults };
  for (const [name, key] of Object.entries(ENV_KEYS)) {
    const value = env[name];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  const config: Config = {
    xmppService: serviceUrl(raw.xmppService, 'FLUX_XMPP_SERVICE'),
    xmppDomain: domain(raw.xmppDomain, 'FLUX_XMPP_DOMAIN'),
    xmppSecret: text(raw.xmppSecret, 'FLUX_XMPP_SECRET'),
    databaseUrl: databaseUrl(raw.databaseUrl),
    dataDir: text(raw.dataDir, 'FLUX_DATA_DIR'),
    tickMs: integer(raw.tickMs, 'FLUX_TICK_MS', 1, 60000),
    npcTickMs: integer(raw.npcTickMs, 'FLUX_NPC_TICK_MS', 0, 3600000),
    batchCommandsMax: integer(raw.batchCommandsMax, 'FLUX_BATCH_MAX', 1, BATCH_COMMANDS_MAX),
    engine: oneOf(raw.engine, 'FLUX_ENGINE', ENGINE_NAMES),
    logLevel: oneOf(raw.logLevel, 'LOG_LEVEL', LOG_LEVELS),
    commandsPerS: integer(raw.commandsPerS, 'FLUX_COMMANDS_PER_S', 1, 100000),
    bodyBytesMax: integer(raw.bodyBytesMax, 'FLUX_BODY_BYTES_MAX', 16, BODY_BYTES_MAX),
    occupantsMax: integer(raw.occupantsMax, 'FLUX_OCCUPANTS_MAX', 1, OCCUPANTS_MAX),
    charactersMax: integer(raw.charactersMax, 'FLUX_CHARACTERS_MAX', 1, CHARACTERS_PER_ROOM_MAX),
    roomOutputBytesPerS: integer(raw.roomOutputBytesPerS, 'FLUX_ROOM_OUTPUT_BYTES_PER_S', 4096, 1024 * 1024 * 1024),
    newCharactersPerDomainPerMin: integer(raw.newCharactersPerDomainPerMin, 'FLUX_NEW_CHARACTERS_PER_DOMAIN_PER_MIN', 1, NEW_CHARACTERS_PER_DOMAIN_PER_MIN_MAX),
    guestDomains: domains(raw.guestDomains ?? '', 'FLUX_GUEST_DOMAINS'),
    guestReleaseS: integer(raw.guestReleaseS ?? GUEST_RELEASE_S_DEFAULT, 'FLUX_GUEST_RELEASE_S', 1, GUEST_RELEASE_S_MAX),
    worldsDir: text(raw.worldsDir, 'FLUX_WORLDS_DIR'),
    metricsPort: integer(raw.metricsPort, 'FLUX_METRICS_PORT', 0, 65535),
    metricsHost: bindAddress(raw.metricsHost ?? '127.0.0.1', 'FLUX_METRICS_HOST'),
    heartbeatMs: integer(raw.heartbeatMs ?? HEARTBEAT_MS_DEFAULT, 'FLUX_HEARTBEAT_MS', HEARTBEAT_MS_MIN, HEARTBEAT_MS_MAX),
    peerListen: peerEndpoint(raw.peerListen ?? 'auto', 'FLUX_PEER_LISTEN'),
    peerSecret: text(raw.peerSecret ?? '', 'FLUX_PEER_SECRET'),
  };
  if (!['auto', 'off'].includes(config.peerListen) && config.databaseUrl === '') {
    throw new ConfigError('FLUX_PEER_LISTEN needs DATABASE_URL: instances share rooms through PostgreSQL');
  }
  if (config.dataDir === '' && config.databaseUrl === '') {
    throw new ConfigError('FLUX_DATA_DIR must be set when DATABASE_URL is not');
  }
  return config;
}

/** serve needs the shared secret; migrate does not. */
export function requireSecret(config: Config): void {
  if (config.xmppSecret === '') {
    throw new ConfigError('FLUX_XMPP_SECRET is empty: set the component secret the XMPP server expects');
  }
}

function text(value: unknown, name: string): string {
  if (typeof value !== 'string') throw new ConfigError(`${name} must be a string, got ${JSON.stringify(value)}`);
  return value;
}

function integer(value: unknown, name: string, min: number, max: number): number {
  const n = typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return n;
}

function oneOf<T extends string>(value: unknown, name: string, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !allowed.includes(value as T)) {
    throw new ConfigError(`${name} must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`);
  }
  return value as T;
}

/** xmpp://host:port, or several separated by commas (the nodes of a cluster, tried in turn when one goes away). */
function serviceUrl(value: unknown, name: string): string {
  const s = text(value, name);
  const refuse = () => new ConfigError(`${name} must look like xmpp://host:5347 (or several, comma-separated: the nodes of a cluster), got ${JSON.stringify(s)}`);
  for (const one of s.split(',')) {
    let url: URL;
    try {
      url = new URL(one.trim());
    } catch {
      throw refuse();
    }
    if (url.protocol !== 'xmpp:' || url.hostname === '' || url.port === '') throw refuse();
  }
  return s.split(',').map((one) => one.trim()).join(',');
}

/** RFC 7622 domainpart: labels of letters, digits and hyphens (IDNs as A-labels). */
const DOMAIN_NAME = /^[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?)*$/i;

function domain(value: unknown, name: string): string {
  const s = text(value, name);
  if (!DOMAIN_NAME.test(s)) {
    throw new ConfigError(`${name} must be a domain name like game.example.org, got ${JSON.stringify(s)}`);
  }
  return s.toLowerCase();
}

/** A comma-separated list of domains (a JSON array in the defaults file), lower case, without repeats. */
function domains(value: unknown, name: string): string[] {
  const list: unknown[] = Array.isArray(value) ? value : text(value, name).split(',');
  const parts = list.map((d) => (typeof d === 'string' ? d.trim() : d)).filter((d) => d !== '');
  const refuse = (why: string) => new ConfigError(`${name} must be ${why}, got ${JSON.stringify(value)}`);
  if (parts.length > GUEST_DOMAINS_MAX) throw refuse(`at most ${GUEST_DOMAINS_MAX} domains`);
  if (!parts.every((d) => typeof d === 'string' && DOMAIN_NAME.test(d))) throw refuse('comma-separated domain names like guest.example.org');
  return [...new Set((parts as string[]).map((d) => d.toLowerCase()))];
}

/** An address to listen on: an IPv4 or IPv6 literal (0.0.0.0 and :: for every interface) or a host name. */
/** With PostgreSQL the peer link listens on loopback unless told: instances on one host find each other with no setting. */
const PEER_LISTEN_AUTO = '127.0.0.1:0';

/** Where the peer link listens, or null for none. */
export function peerListenAddress(config: Config): string | null {
  if (config.peerListen === 'off') return null;
  if (config.peerListen === 'auto') return config.databaseUrl === '' ? null : PEER_LISTEN_AUTO;
  return config.peerListen;
}

function peerEndpoint(value: unknown, name: string): string {
  const s = text(value, name).trim();
  if (s === 'auto' || s === 'off') return s;
  const at = s.lastIndexOf(':');
  const host = s.slice(0, Math.max(at, 0)).replace(/^\[(.*)\]$/, '$1');
  const port = Number(s.slice(at + 1));
  const hostOk = host !== '' && (isIP(host) !== 0 || (DOMAIN_NAME.test(host) && !/^[\d.]+$/.test(host)));
  if (at <= 0 || !hostOk || !/^\d+$/.test(s.slice(at + 1)) || port > 65535) {
    throw new ConfigError(`${name} must be host:port, a private address of this host (port 0 takes a free one), 'auto' or 'off', got ${JSON.stringify(s)}`);
  }
  return s;
}

function bindAddress(value: unknown, name: string): string {
  const s = text(value, name).trim();
  // A dotted number that is not an IPv4 address (999.0.0.1) would pass as a host name and fail only at listen().
  if (isIP(s) === 0 && (!DOMAIN_NAME.test(s) || /^[\d.]+$/.test(s))) {
    throw new ConfigError(`${name} must be an IP address like 127.0.0.1 or ::1, or a host name, got ${JSON.stringify(s)}`);
  }
  return s;
}

function databaseUrl(value: unknown): string {
  const s = text(value, 'DATABASE_URL');
  if (s === '') return s;
  if (!/^postgres(ql)?:\/\//.test(s)) {
    // Only the scheme is echoed: the rest may hold a password.
    throw new ConfigError(`DATABASE_URL must start with postgres:// or postgresql://, got ${JSON.stringify(s.split(':')[0])}:...`);
  }
  return s;
}
