// bin/flux load: a load generator an operator can point at any Flux world (issue
// #8). N real XMPP clients log in (SASL ANONYMOUS, or numbered accounts), join the
// room and type a command mix at a fixed rate; every `say` carries a token, and
// the time until the client sees it come back is the command -> effect latency.
// With `echo` set, the clients message a trivial echo component instead: the
// ceiling of the XMPP server itself on the same machine.
import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import { LOAD_CLIENTS_MAX, LOAD_CONNECT_MS_MAX } from '../constants.ts';

/** Random steps each client takes before measuring, to stand somewhere in the world. */
const SPREAD_STEPS = 6;

const require = createRequire(import.meta.url);
interface El { name: string; attrs: Record<string, string | undefined>; getChildText(name: string): string | null }
interface Client {
  start(): Promise<unknown>;
  stop(): Promise<unknown>;
  send(el: El): Promise<void>;
  on(e: 'stanza', f: (el: El) => void): void;
  on(e: 'error', f: (err: Error) => void): void;
  reconnect: { stop(): void };
}
const xmppClient = require('@xmpp/client') as {
  client(o: { service: string; domain: string; username?: string; password?: string }): Client;
  xml(name: string, attrs?: Record<string, string>, ...children: unknown[]): El;
};
const { xml } = xmppClient;

export interface LoadOptions {
  /** c2s service, e.g. xmpp://127.0.0.1:5222 */
  readonly service: string;
  /** The host the clients log in to. */
  readonly domain: string;
  /** A Flux room JID, or an echo component JID when `echo` is set. */
  readonly target: string;
  readonly clients: number;
  /** Commands per second, per client. */
  readonly rate: number;
  readonly seconds: number;
  /** Numbered accounts `${prefix}${i}` with this password; default SASL ANONYMOUS. */
  readonly accounts?: { readonly prefix: string; readonly password: string };
  readonly echo?: boolean;
  /** Only `say` (every command measured), as the echo target gets. */
  readonly saysOnly?: boolean;
  /** Progress lines go here (stderr for the CLI). */
  readonly progress?: (line: string) => void;
}

export interface LoadReport {
  readonly clients: number;
  readonly seconds: number;
  readonly sent: number;
  readonly answered: number;
  /** Commands sent per second (offered load). */
  readonly commandsPerS: number;
  /** Measured answers (says that came back) per second. */
  readonly answeredPerS: number;
  /** null when no answer came back at all (a latency of 0 would be a lie). */
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
  readonly maxMs: number | null;
  readonly errors: number;
}

const quantile = (sorted: number[], q: number) => (sorted.length === 0 ? null : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))]!);

/** A latency for people: "12.3 ms", or "none came back". */
export const ms = (v: number | null) => (v === null ? 'none came back' : `${v.toFixed(1)} ms`);

export async function runLoad(o: LoadOptions): Promise<LoadReport> {
  if (o.clients < 1 || o.clients > LOAD_CLIENTS_MAX) throw new Error(`clients must be 1..${LOAD_CLIENTS_MAX}`);
  const latencies: number[] = [];
  let sent = 0;
  let errors = 0;
  const clients = await connectAll(o, (el, i, pending) => {
    const body = el.getChildText('body');
    if (el.attrs.type === 'error') errors++;
    if (body === null) return;
    const token = /\bL(\d+)-(\d+)\b/.exec(body);
    if (!token || Number(token[1]) !== i) return;
    const at = pending.get(Number(token[2]));
    if (at === undefined) return;
    pending.delete(Number(token[2]));
    latencies.push(performance.now() - at);
  });
  if (!o.echo) await spread(clients.map((c) => c.client), o.target);
  o.progress?.(`${clients.length} clients connected${o.echo ? '' : ', joined and spread over the world'}; sending for ${o.seconds} s at ${o.rate}/s each`);
  const started = performance.now();
  const endAt = started + o.seconds * 1000;
  const intervalMs = 1000 / o.rate;
  await Promise.all(clients.map(async ({ client, pending }, i) => {
    let seq = 0;
    await sleep(Math.random() * intervalMs); // spread the clients over one interval
    for (let next = performance.now(); next < endAt; next += intervalMs) {
      const wait = next - performance.now();
      if (wait > 0) await sleep(wait);
      seq++;
      const body = commandFor(seq, i, o.echo === true || o.saysOnly === true);
      if (body.includes(`L${i}-`)) pending.set(seq, performance.now());
      sent++;
      void client.send(xml('message', { to: o.target, type: o.echo ? 'chat' : 'groupchat' }, xml('body', {}, body))).catch(() => errors++);
    }
  }));
  const elapsedS = (performance.now() - started) / 1000; // the sending window
  await sleep(1000); // the last answers
  await Promise.all(clients.map(({ client }) => client.stop().catch(() => {})));
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    clients: clients.length, seconds: o.seconds, sent, answered: latencies.length,
    commandsPerS: Math.round(sent / elapsedS), answeredPerS: Math.round(latencies.length / elapsedS),
    p50Ms: quantile(sorted, 0.5), p99Ms: quantile(sorted, 0.99), maxMs: sorted.at(-1) ?? null, errors,
  };
}

/**
 * Players do not all stand in one place: before the measured phase each client
 * takes a few random steps (a way that is not there costs a reply and nothing
 * else), so a say is heard by the people in one location, as in real play.
 */
async function spread(clients: Client[], target: string): Promise<void> {
  const directions = ['n', 'e', 's', 'w', 'u', 'd'];
  for (let step = 0; step < SPREAD_STEPS; step++) {
    for (const client of clients) {
      const d = directions[Math.floor(Math.random() * directions.length)]!;
      void client.send(xml('message', { to: target, type: 'groupchat' }, xml('body', {}, d))).catch(() => {});
    }
    await sleep(300);
  }
  await sleep(1000);
}

/** The mix: 60% say (measured), 25% look, 15% a step; or says only (the echo target gets says only). */
function commandFor(seq: number, client: number, saysOnly: boolean): string {
  const r = (seq * 7 + client * 13) % 20;
  if (saysOnly || r < 12) return `say L${client}-${seq}`;
  if (r < 17) return 'look';
  return seq % 2 === 0 ? 'n' : 's';
}

async function connectAll(o: LoadOptions, onStanza: (el: El, i: number, pending: Map<number, number>) => void) {
  const out: { client: Client; pending: Map<number, number> }[] = [];
  // Nicks new to the world each run: a character is bound to the JID that made it, and anonymous JIDs change.
  const run = Math.random().toString(36).slice(2, 7);
  const batch = 25; // logins at once: SCRAM and the join are CPU work for the server too
  for (let first = 0; first < o.clients; first += batch) {
    const group = await Promise.all(Array.from({ length: Math.min(batch, o.clients - first) }, async (_, k) => {
      const i = first + k;
      const client = xmppClient.client({
        service: o.service, domain: o.domain, ...(o.accounts ? { username: `${o.accounts.prefix}${i}`, password: o.accounts.password } : {}),
      });
      client.reconnect.stop();
      client.on('error', () => {});
      const pending = new Map<number, number>();
      client.on('stanza', (el) => onStanza(el, i, pending));
      await withTimeout(client.start(), LOAD_CONNECT_MS_MAX, `client ${i} login`);
      await client.send(xml('presence'));
      if (!o.echo) {
        const joined = new Promise<void>((resolve, reject) => client.on('stanza', (el) => {
          if (el.name === 'presence' && el.attrs.type === 'error') reject(new Error(`client ${i} could not join ${o.target}`));
          if (el.name === 'message' && el.attrs.from === o.target && el.attrs.type === 'groupchat' && el.getChildText('body') !== null) resolve();
        }));
        await client.send(xml('presence', { to: `${o.target}/load-${run}-${i}` }, xml('x', { xmlns: 'http://jabber.org/protocol/muc' })));
        await withTimeout(joined, LOAD_CONNECT_MS_MAX, `client ${i} join`);
      }
      return { client, pending };
    }));
    out.push(...group);
    o.progress?.(`  ${out.length}/${o.clients} connected`);
  }
  return out;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([p, new Promise<T>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what} took over ${ms} ms`)), ms); })])
    .finally(() => clearTimeout(timer));
}
