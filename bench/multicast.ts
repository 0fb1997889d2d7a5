// XEP-0033 (Extended Stanza Addressing) against plain fan-out, through one private
// ejabberd with mod_multicast. A raw component connection hands the server M
// messages for N connected clients, each message either as N stanzas from
// room@domain/Nick to each full JID (what Flux writes today, one socket write per
// message) or as one stanza to the multicast service with N bcc addresses (or
// several, each with at most `chunk` addresses: ejabberd's default bound for a
// component is 20). Per variant: the server's CPU per delivered stanza, the bytes the
// component wrote per delivered stanza, and the time until every client had every
// message. Every delivery is counted: a run where one is missing is reported as
// failed, not as a figure. The variants alternate within each run, the order
// reversed every other run, on a machine that may be shared. Part of `make bench`
// (BENCH_ONLY=multicast, about 30 s); `npm run bench:multicast` alone;
// BENCH_MULTICAST_CLIENTS=200,1000 and BENCH_MULTICAST_DELIVERIES=20000 move the sizes.
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startPrivateEjabberd } from '../lib/demo/ejabberd.ts';
import type { PrivateXmppServer } from '../lib/demo/private-server.ts';
import { Crowd } from '../lib/load/index.ts';
import { groupchatWire, wireBody, wireText } from '../lib/xmpp/wire.ts';
import { cpuMeter } from './proc.ts';
import { settle } from './settle.ts';

const GAME = 'game.localhost';
const GUESTS = 'anon.localhost';
const SERVICE = `multicast.${GUESTS}`;
const SPEAKER = `realm@${GAME}/Speaker`;
const SECRET = 'bench';
const NS_ADDRESS = 'http://jabber.org/protocol/address';
/** ejabberd's bound on the addresses of one stanza from a remote sender, which a component is. */
export const REMOTE_RECIPIENTS_DEFAULT = 20;
/** No delivery for this long: what is missing will not come. */
const STALL_MS_MAX = 10000;
const POLL_MS = 5;
const COMPONENT_MS_MAX = 10000;

const require = createRequire(import.meta.url);
interface RawComponent {
  start(): Promise<unknown>;
  stop(): Promise<unknown>;
  on(event: 'stanza', f: (el: { name: string; attrs: Record<string, string | undefined> }) => void): void;
  on(event: 'error', f: (err: Error) => void): void;
  readonly reconnect: { stop(): void };
  readonly socket: { write(chunk: string): boolean } | null;
}
const { component } = require('@xmpp/component') as { component(o: { service: string; domain: string; password: string }): RawComponent };

export interface MulticastSizes {
  /** Recipients of every message, one measurement each; the largest is how many clients log in. */
  readonly recipients: readonly number[];
  /**
   * Deliveries per measurement (messages x recipients): the server's CPU time is read
   * in 10 ms clock ticks, so a measurement must last long enough for them to count.
   */
  readonly deliveries: number;
  readonly runs: number;
}

export function multicastSizes(quick: boolean, env: NodeJS.ProcessEnv): MulticastSizes {
  const recipients = env.BENCH_MULTICAST_CLIENTS?.split(',').map(Number).filter((n) => Number.isInteger(n) && n > 0);
  const deliveries = Number(env.BENCH_MULTICAST_DELIVERIES) || (quick ? 2000 : 20000);
  return { recipients: recipients?.length ? recipients : quick ? [50] : [200, 1000], deliveries, runs: quick ? 1 : 3 };
}

/** Messages per measurement for `recipients`, at least one. */
export function messagesFor(s: MulticastSizes, recipients: number): number {
  return Math.max(1, Math.round(s.deliveries / recipients));
}

/** How a message leaves the component: one stanza per recipient, or XEP-0033 stanzas of at most `chunk` addresses. */
export type Variant = { readonly name: 'fanout' } | { readonly name: string; readonly chunk: number };

export const VARIANTS: readonly Variant[] = [
  { name: 'fanout' },
  { name: 'xep0033', chunk: Infinity },
  { name: `xep0033/${REMOTE_RECIPIENTS_DEFAULT}`, chunk: REMOTE_RECIPIENTS_DEFAULT },
];

export interface Measurement {
  readonly variant: string;
  readonly run: number;
  readonly recipients: number;
  readonly messages: number;
  /** Stanzas the component wrote. */
  readonly written: number;
  readonly delivered: number;
  readonly expected: number;
  /** Errors the server sent the component back. */
  readonly errors: number;
  /** null when a delivery was missing or doubled: such a run measures nothing. */
  readonly serverUsPerStanza: number | null;
  readonly bytesPerStanza: number;
  readonly deliveryMs: number | null;
  /**
   * CPU this process (the clients, which parse every delivery, and the component) used
   * until the last delivery, as a share of one core: near 1, the clients bound deliveryMs.
   */
  readonly generatorCpuShare: number;
}

export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

export interface MulticastFigures {
  readonly sizes: MulticastSizes;
  readonly clients: number;
  readonly measurements: readonly Measurement[];
  /** recipients -> variant -> the spread of each figure over the runs that delivered everything. */
  readonly summary: Record<string, Record<string, { serverUsPerStanza: Spread | null; bytesPerStanza: Spread | null; deliveryMs: Spread | null }>>;
}

export async function benchMulticast(s: MulticastSizes, log: (line: string) => void): Promise<MulticastFigures> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'flux-bench-multicast-'));
  try {
    const server = await startPrivateEjabberd({
      dir: path.join(dir, 'ejabberd'), componentDomain: GAME, componentSecret: SECRET, anonymousHost: GUESTS,
      multicast: { host: GUESTS, recipientsMax: 'infinite' },
    });
    try {
      return await withServer(server, s, log);
    } finally {
      await server.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function withServer(server: PrivateXmppServer, s: MulticastSizes, log: (line: string) => void): Promise<MulticastFigures> {
  const clients = Math.max(...s.recipients);
  const crowd = await Crowd.login({ service: `xmpp://127.0.0.1:${server.c2sPort}`, domain: GUESTS, target: GAME, kind: 'echo', clients, progress: log });
  const game = component({ service: `xmpp://127.0.0.1:${server.componentPort}`, domain: GAME, password: SECRET });
  game.reconnect.stop();
  let errors = 0;
  game.on('error', () => {});
  game.on('stanza', (el) => { if (el.attrs.type === 'error') errors++; });
  try {
    if (crowd.size < clients) throw new Error(`${clients - crowd.size} of ${clients} clients did not log in`);
    await withTimeout(game.start(), COMPONENT_MS_MAX, 'component handshake');
    const counter = new DeliveryCounter(crowd);
    const measurements: Measurement[] = [];
    for (let run = 0; run < s.runs; run++) {
      for (const recipients of s.recipients) {
        const jids = crowd.jids().slice(0, recipients);
        const order = run % 2 === 0 ? VARIANTS : [...VARIANTS].reverse();
        for (const variant of order) {
          await settle(server.processIds());
          const errorsBefore = errors;
          const m = await measure({ server, game, counter, jids, variant, run, messages: messagesFor(s, recipients) });
          measurements.push({ ...m, errors: errors - errorsBefore });
          log(`  run ${run + 1} ${String(recipients).padStart(5)} recipients ${variant.name.padEnd(11)} ${describe(m)}`);
        }
      }
    }
    return { sizes: s, clients: crowd.size, measurements, summary: summarize(measurements) };
  } finally {
    await game.stop().catch(() => {});
    await crowd.stop();
  }
}

interface MeasureInput {
  readonly server: PrivateXmppServer;
  readonly game: RawComponent;
  readonly counter: DeliveryCounter;
  readonly jids: readonly string[];
  readonly variant: Variant;
  readonly run: number;
  readonly messages: number;
}

/** One variant once: every message written (one socket write each), then waited for at every client. */
async function measure(i: MeasureInput): Promise<Omit<Measurement, 'errors'>> {
  const tag = `[${i.variant.name} ${i.run} ${i.jids.length}]`;
  const chunks = Array.from({ length: i.messages }, (_, k) => render(i.variant, i.jids, `${tag} say number ${k} from a player with <odd> & "quoted" text`));
  const expected = i.jids.length * i.messages;
  const written = chunks.reduce((n, c) => n + c.stanzas, 0);
  const bytes = chunks.reduce((n, c) => n + Buffer.byteLength(c.wire), 0);
  i.counter.expect(tag);
  const socket = i.game.socket;
  if (socket === null) throw new Error('the component is not connected');
  const cpu = cpuMeter(i.server.processIds());
  const generatorBefore = process.cpuUsage();
  const startedMs = performance.now();
  for (const chunk of chunks) socket.write(chunk.wire);
  const deliveredMs = await i.counter.waitFor(expected, STALL_MS_MAX);
  const serverUs = cpu.stop();
  const generator = process.cpuUsage(generatorBefore);
  const generatorCpuShare = (generator.user + generator.system) / 1000 / Math.max(1, performance.now() - startedMs);
  // Checked after the quiet that the next measurement waits for anyway: late or doubled deliveries show up here.
  await sleep(200);
  const counts = i.counter.done();
  const exact = i.jids.every((jid) => counts.get(jid) === i.messages) && counts.size === i.jids.length;
  const delivered = [...counts.values()].reduce((n, c) => n + c, 0);
  return {
    variant: i.variant.name, run: i.run + 1, recipients: i.jids.length, messages: i.messages, written, delivered, expected,
    serverUsPerStanza: exact && serverUs !== null ? serverUs / expected : null,
    bytesPerStanza: bytes / expected,
    deliveryMs: exact && deliveredMs !== null ? deliveredMs - startedMs : null,
    generatorCpuShare: Math.round(generatorCpuShare * 100) / 100,
  };
}

/** One message to every jid, as one socket write: the stanzas and their wire form. */
export function render(variant: Variant, jids: readonly string[], body: string): { wire: string; stanzas: number } {
  const from = wireText(SPEAKER);
  const text = wireBody(body);
  if (!('chunk' in variant)) return { wire: jids.map((jid) => groupchatWire(from, wireText(jid), text)).join(''), stanzas: jids.length };
  const parts: string[] = [];
  for (let at = 0; at < jids.length; at += Math.min(variant.chunk, jids.length)) {
    const addresses = jids.slice(at, at + variant.chunk).map((jid) => `<address type="bcc" jid="${wireText(jid)}"/>`).join('');
    // XEP-0033 §4: to the service, the addresses first; what the recipients get is the rest, as Flux renders it.
    parts.push(`<message type="groupchat" from="${from}" to="${SERVICE}"><addresses xmlns="${NS_ADDRESS}">${addresses}</addresses><body>${text}</body></message>`);
  }
  return { wire: parts.join(''), stanzas: parts.length };
}

/** Counts, per client, the messages of the measurement under way (its tag starts each body). */
class DeliveryCounter {
  private tag: string | null = null;
  private counts = new Map<string, number>();
  private total = 0;
  private lastAtMs = 0;

  constructor(crowd: Crowd) {
    crowd.onStanza((jid, el) => {
      if (this.tag === null || el.name !== 'message' || el.attrs.type !== 'groupchat') return;
      if (!(el.getChildText('body') ?? '').startsWith(this.tag)) return;
      this.counts.set(jid, (this.counts.get(jid) ?? 0) + 1);
      this.total++;
      this.lastAtMs = performance.now();
    });
  }

  expect(tag: string): void {
    this.tag = tag;
    this.counts = new Map();
    this.total = 0;
    this.lastAtMs = performance.now();
  }

  /** When the `expected`-th delivery came, or null when deliveries stalled for stallMs before it. */
  async waitFor(expected: number, stallMs: number): Promise<number | null> {
    while (this.total < expected) {
      if (performance.now() - this.lastAtMs > stallMs) return null;
      await sleep(POLL_MS);
    }
    return this.lastAtMs;
  }

  done(): Map<string, number> {
    this.tag = null;
    return this.counts;
  }
}

function summarize(ms: readonly Measurement[]): MulticastFigures['summary'] {
  const out: MulticastFigures['summary'] = {};
  for (const m of ms) {
    const byVariant = (out[m.recipients] ??= {});
    if (byVariant[m.variant] !== undefined) continue;
    const same = ms.filter((o) => o.recipients === m.recipients && o.variant === m.variant && o.serverUsPerStanza !== null);
    byVariant[m.variant] = {
      serverUsPerStanza: spread(same.map((o) => o.serverUsPerStanza!)),
      bytesPerStanza: spread(same.map((o) => o.bytesPerStanza)),
      deliveryMs: spread(same.map((o) => o.deliveryMs!)),
    };
  }
  return out;
}

function spread(values: readonly number[]): Spread | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return { median: sorted[Math.floor((sorted.length - 1) / 2)]!, min: sorted[0]!, max: sorted.at(-1)! };
}

function describe(m: Omit<Measurement, 'errors'>): string {
  const lost = m.delivered === m.expected ? '' : `, DELIVERED ${m.delivered} of ${m.expected}`;
  const us = m.serverUsPerStanza === null ? 'no figure' : `${m.serverUsPerStanza.toFixed(1)} µs`;
  return `${m.written} stanzas written, ${us} of ejabberd CPU and ${m.bytesPerStanza.toFixed(1)} bytes per delivered stanza, `
    + `all ${m.expected} delivered in ${m.deliveryMs === null ? '-' : `${Math.round(m.deliveryMs)} ms`}${lost}; clients ${Math.round(m.generatorCpuShare * 100)}% of a core`;
}

export function printMulticast(f: MulticastFigures): void {
  const lines = [`XEP-0033 through ejabberd's mod_multicast against plain fan-out (${f.sizes.deliveries.toLocaleString('en')} deliveries to N clients a measurement, ${f.sizes.runs} runs; median [min-max]):`];
  const range = (sp: Spread | null, digits: number) => (sp === null ? 'none' : `${sp.median.toFixed(digits)} [${sp.min.toFixed(digits)}-${sp.max.toFixed(digits)}]`);
  for (const [recipients, byVariant] of Object.entries(f.summary)) {
    const fanout = byVariant.fanout?.serverUsPerStanza?.median;
    for (const [variant, v] of Object.entries(byVariant)) {
      const ratio = fanout && v.serverUsPerStanza ? ` (${(v.serverUsPerStanza.median / fanout).toFixed(2)}x fan-out)` : '';
      lines.push(`  N=${recipients} ${variant.padEnd(11)} ejabberd µs/stanza ${range(v.serverUsPerStanza, 1)}${ratio}, bytes/stanza ${range(v.bytesPerStanza, 1)}, all delivered in ms ${range(v.deliveryMs, 0)}`);
    }
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what} took over ${ms} ms`)), ms); });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const startedMs = Date.now();
  const log = (line: string) => process.stdout.write(`${line}  [${Math.round((Date.now() - startedMs) / 1000)} s]\n`);
  const f = await benchMulticast(multicastSizes(process.env.BENCH_QUICK === '1', process.env), log);
  printMulticast(f);
  if (process.env.BENCH_MULTICAST_JSON) process.stdout.write(`${JSON.stringify(f)}\n`);
}
