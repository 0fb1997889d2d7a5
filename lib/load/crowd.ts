// A crowd of real XMPP clients in one process: they log in, join one room (a Flux
// world or a server's own MUC) or talk to the echo component, and send commands at
// an offered rate while every answer is matched to its command (./answers.ts).
// Nothing here rejects for a client's failure: a login or a join that fails is
// counted and its client left out, so a bad run reports what happened instead of
// taking the generator down.
import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import { LOAD_CLIENTS_MAX, LOAD_CONNECT_MS_MAX } from '../constants.ts';
import { classifyRoomLine, commandFor, commandId, Meter, quantile, tokenSeq, type Command, type CommandKind, type Mix } from './answers.ts';

/** Logins in flight at once: SASL and resource binding are CPU work for the server too. */
const LOGINS_IN_FLIGHT_MAX = 25;
/** Joins in flight at once; the same for Flux and a MUC, so their join times compare. */
const JOINS_IN_FLIGHT_MAX = 50;
/** Bound on a whole crowd's joining, unless the caller gives another. */
const JOIN_WINDOW_MS_DEFAULT = 120000;
/** No stanza for this long: whatever a step left queued has been delivered. */
const QUIET_MS = 500;
/** Bound on waiting for quiet before a step; a backlog that outlasts it is reported, not waited out. */
const DRAIN_MS_MAX = 20000;
/** Bound on waiting for the last answers after a step's sending window. */
const ANSWER_WAIT_MS_MAX = 2000;
/** How often the waits above look again. */
const POLL_MS = 50;
/** Bound on one client's logout. */
const STOP_MS_MAX = 5000;
/** Random steps each Flux client takes to stand somewhere in the world. */
const SPREAD_STEPS = 6;
const SPREAD_STEP_MS = 300;
/** Join failure reasons kept for the report (the first ones; the rest are counted). */
const REASONS_MAX = 5;

const NS_MUC = 'http://jabber.org/protocol/muc';

const require = createRequire(import.meta.url);
interface El {
  name: string;
  attrs: Record<string, string | undefined>;
  children: (El | string)[];
  getChildText(name: string): string | null;
  getChild(name: string): El | undefined;
}
interface XmppClient {
  readonly jid: { toString(): string } | null;
  connect(service: string): Promise<unknown>;
  open(o: { domain: string }): Promise<unknown>;
  stop(): Promise<unknown>;
  send(el: El): Promise<void>;
  on(e: 'stanza', f: (el: El) => void): void;
  on(e: 'error' | 'online', f: (arg: never) => void): void;
  removeListener(e: string, f: (arg: never) => void): void;
  reconnect: { stop(): void };
}
const xmppClient = require('@xmpp/client') as {
  client(o: { service: string; domain: string; username?: string; password?: string }): XmppClient;
  xml(name: string, attrs?: Record<string, string>, ...children: unknown[]): El;
};
const { xml } = xmppClient;

/** What the crowd talks to: a Flux world, a server's own MUC room, or the echo component. */
export type TargetKind = 'flux' | 'muc' | 'echo';

export interface CrowdOptions {
  /** c2s service, e.g. xmpp://127.0.0.1:5222 */
  readonly service: string;
  /** The host the clients log in to. */
  readonly domain: string;
  /** A room JID (Flux or MUC), or the echo component's JID. */
  readonly target: string;
  readonly kind: TargetKind;
  readonly clients: number;
  /** Numbered accounts `${prefix}${i}` with this password; default SASL ANONYMOUS. */
  readonly accounts?: { readonly prefix: string; readonly password: string };
  readonly progress?: (line: string) => void;
}

export interface JoinReport {
  readonly clients: number;
  readonly joined: number;
  readonly failed: number;
  /** From the first join sent until the last one settled. */
  readonly seconds: number;
  readonly reasons: string[];
}

export interface StepReport {
  readonly clients: number;
  readonly offeredPerS: number;
  /** The sending window. */
  readonly seconds: number;
  readonly sent: number;
  /** Commands whose own answer came back (refusals not included). */
  readonly answered: number;
  /** Commands answered by a refusal (an error naming the command: "busy", a flood), and the p99 of those answers. */
  readonly refused: number;
  readonly refusedP99Ms: number | null;
  /** Commands that got no answer at all within the step and its wait. */
  readonly unanswered: number;
  readonly errors: number;
  readonly sentPerS: number;
  readonly answeredPerS: number;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
  readonly maxMs: number | null;
  /** Stanzas the clients received during the step, presences included. */
  readonly stanzasIn: number;
  /** Whether what the step before left queued had drained when this one began. */
  readonly drainedBefore: boolean;
  /**
   * CPU this process (the load generator) used over the step, as a share of one core:
   * near 1, the generator itself may be what bounds the step.
   */
  readonly generatorCpuShare: number;
  readonly kinds: Record<CommandKind, { sent: number; answered: number }>;
}

interface Member {
  readonly index: number;
  readonly client: XmppClient;
  readonly nick: string;
  seq: number;
  joined: boolean;
  /** Token-carrying commands not answered yet: seq -> sent at (ms). */
  readonly pendingTokens: Map<number, { kind: CommandKind; atMs: number }>;
  /** Other commands not answered yet, oldest first. */
  pendingLines: { kind: CommandKind; atMs: number; seq: number }[];
  settleJoin?: (failure: string | null) => void;
}

export class Crowd {
  private members: Member[] = [];
  private meter: Meter | null = null;
  private lastStanzaAtMs = performance.now();
  private listeners: ((jid: string, el: El) => void)[] = [];
  loginFailed = 0;
  /** Why the first few logins failed. */
  readonly loginReasons: string[] = [];

  private constructor(private readonly o: CrowdOptions) {}

  /** Logs every client in (a bounded number at once); the ones that fail are counted in loginFailed. */
  static async login(o: CrowdOptions): Promise<Crowd> {
    if (!(o.clients >= 1 && o.clients <= LOAD_CLIENTS_MAX)) throw new Error(`clients must be 1..${LOAD_CLIENTS_MAX}`);
    const crowd = new Crowd(o);
    // Nicks new to the world each run: a character is bound to the JID that made it, and anonymous JIDs change.
    const run = Math.random().toString(36).slice(2, 7);
    const logged = await pool(o.clients, LOGINS_IN_FLIGHT_MAX, (i) => crowd.loginOne(i, `load-${run}-${i}`));
    crowd.members = logged.filter((m): m is Member => m !== null);
    crowd.loginFailed = o.clients - crowd.members.length;
    o.progress?.(`  ${crowd.members.length}/${o.clients} clients logged in${crowd.loginFailed > 0 ? ` (${crowd.loginFailed} failed)` : ''}`);
    return crowd;
  }

  get size(): number {
    return this.members.length;
  }

  /** Each logged-in client's full JID, in order: for a sender that addresses the crowd itself (bench/multicast.ts). */
  jids(): string[] {
    return this.members.map((m) => m.client.jid?.toString() ?? '');
  }

  /** Calls `listener` with every stanza a client receives from now on, and that client's full JID. */
  onStanza(listener: (jid: string, el: El) => void): void {
    this.listeners.push(listener);
  }

  private async loginOne(index: number, nick: string): Promise<Member | null> {
    const { service, domain, accounts } = this.o;
    const account = accounts ? { username: `${accounts.prefix}${index}`, password: accounts.password } : {};
    const client = xmppClient.client({ service, domain, ...account });
    client.reconnect.stop();
    client.on('error', () => {}); // a dead connection shows as unanswered commands
    const member: Member = { index, client, nick, seq: 0, joined: false, pendingTokens: new Map(), pendingLines: [] };
    client.on('stanza', (el) => this.received(member, el));
    try {
      await withTimeout(startClient(client, service, domain), LOAD_CONNECT_MS_MAX, `client ${index} login`);
      await client.send(xml('presence'));
      return member;
    } catch (err) {
      if (this.loginReasons.length < REASONS_MAX) this.loginReasons.push((err as Error).message);
      await withTimeout(client.stop(), STOP_MS_MAX, 'logout').catch(() => {});
      return null;
    }
  }

  /**
   * Every client joins the room (a bounded number at once); failures are counted,
   * never thrown. A join not done `windowMs` after the first counts as failed, and
   * its client logs out, so that the room holds only the clients that are measured.
   */
  async join(windowMs = JOIN_WINDOW_MS_DEFAULT): Promise<JoinReport> {
    const reasons: string[] = [];
    const startedMs = performance.now();
    const deadlineMs = startedMs + windowMs;
    const outcomes = await pool(this.members.length, JOINS_IN_FLIGHT_MAX, async (i) => {
      const failure = await this.joinOne(this.members[i]!, deadlineMs);
      if (failure !== null && reasons.length < REASONS_MAX) reasons.push(failure);
      return failure === null;
    });
    const seconds = (performance.now() - startedMs) / 1000;
    const joined = outcomes.filter(Boolean).length;
    const failed = this.members.filter((m) => !m.joined);
    this.members = this.members.filter((m) => m.joined);
    await Promise.all(failed.map((m) => withTimeout(m.client.stop(), STOP_MS_MAX, 'logout').catch(() => {})));
    this.o.progress?.(`  ${joined}/${outcomes.length} joined ${this.o.target} in ${seconds.toFixed(1)} s`);
    return { clients: outcomes.length, joined, failed: outcomes.length - joined, seconds, reasons };
  }

  /** Resolves with null once joined, or with why not; never rejects. */
  private async joinOne(m: Member, deadlineMs: number): Promise<string | null> {
    const leftMs = Math.min(LOAD_CONNECT_MS_MAX, deadlineMs - performance.now());
    if (leftMs <= 0) return `client ${m.index}: the join window had closed`;
    const settled = new Promise<string | null>((resolve) => { m.settleJoin = resolve; });
    // No history (§7.2.15, maxstanzas 0): Flux and a MUC then send a joiner the same kinds of stanzas.
    const presence = xml('presence', { to: `${this.o.target}/${m.nick}` }, xml('x', { xmlns: NS_MUC }, xml('history', { maxstanzas: '0' })));
    const sent = m.client.send(presence).then(() => null, (err: Error) => `client ${m.index} could not send its join: ${err.message}`);
    const failure = await sent ?? await withTimeout(settled, leftMs, `client ${m.index} join`).catch((err: Error) => err.message);
    m.settleJoin = undefined;
    m.joined = failure === null;
    return failure;
  }

  /** Flux only: each client takes a few random steps, so the crowd stands all over the world. */
  async spread(): Promise<void> {
    const directions = ['n', 'e', 's', 'w', 'u', 'd'];
    for (let step = 0; step < SPREAD_STEPS; step++) {
      for (const m of this.members) {
        const d = directions[Math.floor(Math.random() * directions.length)]!;
        void m.client.send(xml('message', { to: this.o.target, type: 'groupchat' }, xml('body', {}, d))).catch(() => {});
      }
      await sleep(SPREAD_STEP_MS);
    }
  }

  /** Waits until no stanza has arrived for QUIET_MS (at most maxMs); true when it got there. */
  async quiet(maxMs = DRAIN_MS_MAX): Promise<boolean> {
    const deadline = performance.now() + maxMs;
    while (performance.now() < deadline) {
      if (performance.now() - this.lastStanzaAtMs >= QUIET_MS) return true;
      await sleep(POLL_MS);
    }
    return false;
  }

  /**
   * One measured step: `offeredPerS` commands a second in all, for `seconds`, the
   * n-th from client n mod N at its due time (an open loop: a slow answer does not
   * slow the sending), then the last answers.
   */
  async drive(offeredPerS: number, seconds: number, mix: Mix): Promise<StepReport> {
    const drainedBefore = await this.quiet();
    for (const m of this.members) {
      m.pendingTokens.clear();
      m.pendingLines = [];
    }
    const meter = new Meter();
    this.meter = meter;
    const cpuBefore = process.cpuUsage();
    const startedMs = performance.now();
    const windowS = await this.sendFor(offeredPerS, seconds, mix, meter);
    await this.lastAnswers();
    this.meter = null;
    const cpu = process.cpuUsage(cpuBefore);
    const generatorCpuShare = (cpu.user + cpu.system) / 1000 / Math.max(1, performance.now() - startedMs);
    return report(meter, { clients: this.members.length, offeredPerS, windowS, drainedBefore, generatorCpuShare });
  }

  private async sendFor(offeredPerS: number, seconds: number, mix: Mix, meter: Meter): Promise<number> {
    if (!(offeredPerS > 0) || this.members.length === 0) return 0;
    const intervalMs = 1000 / offeredPerS;
    const startedMs = performance.now();
    const endMs = startedMs + seconds * 1000;
    let n = 0;
    for (let next = startedMs; next < endMs && this.members.length > 0; next += intervalMs, n++) {
      const waitMs = next - performance.now();
      if (waitMs >= 1) await sleep(waitMs); // timers are ms-grained: what is due sooner goes now
      this.sendOne(this.members[n % this.members.length]!, mix, meter);
    }
    return (performance.now() - startedMs) / 1000;
  }

  private sendOne(m: Member, mix: Mix, meter: Meter): void {
    m.seq++;
    const command: Command = commandFor(mix, m.index, m.seq, this.o.kind === 'muc');
    const atMs = performance.now();
    if (command.token) m.pendingTokens.set(m.seq, { kind: command.kind, atMs });
    else m.pendingLines.push({ kind: command.kind, atMs, seq: m.seq });
    meter.sentOne(command.kind);
    const type = this.o.kind === 'echo' ? 'chat' : 'groupchat';
    void m.client.send(xml('message', { to: this.o.target, type, id: commandId(m.index, m.seq) }, xml('body', {}, command.body))).catch(() => meter.errors++);
  }

  private async lastAnswers(): Promise<void> {
    const deadline = performance.now() + ANSWER_WAIT_MS_MAX;
    const pending = () => this.members.some((m) => m.pendingTokens.size > 0 || m.pendingLines.length > 0);
    while (pending() && performance.now() < deadline) await sleep(POLL_MS);
  }

  private received(m: Member, el: El): void {
    this.lastStanzaAtMs = performance.now();
    if (this.listeners.length > 0) {
      const jid = m.client.jid?.toString() ?? '';
      for (const listener of this.listeners) listener(jid, el);
    }
    if (m.settleJoin) this.joinProgress(m, el);
    const meter = this.meter;
    if (meter === null) return;
    meter.stanzasIn++;
    if (el.name === 'message' && el.attrs.type === 'error' && this.refusalCame(m, String(el.attrs.id ?? ''), meter)) return;
    if (el.attrs.type === 'error') meter.errors++;
    if (el.name !== 'message') return;
    const body = el.getChildText('body');
    if (body === null) return;
    const seq = tokenSeq(body, m.index);
    if (seq !== null) return this.tokenCame(m, seq, meter);
    if (this.o.kind === 'flux' && el.attrs.from === this.o.target) this.lineCame(m, body, meter);
  }

  private tokenCame(m: Member, seq: number, meter: Meter): void {
    const pending = m.pendingTokens.get(seq);
    if (pending === undefined) return;
    m.pendingTokens.delete(seq);
    meter.answered(pending.kind, performance.now() - pending.atMs);
  }

  /** An error stanza naming one of this client's pending commands: that command was refused. */
  private refusalCame(m: Member, id: string, meter: Meter): boolean {
    const seq = tokenSeq(id, m.index);
    if (seq === null) return false;
    const token = m.pendingTokens.get(seq);
    if (token !== undefined) {
      m.pendingTokens.delete(seq);
      meter.refusedOne(performance.now() - token.atMs);
      return true;
    }
    const at = m.pendingLines.findIndex((p) => p.seq === seq);
    if (at < 0) return false;
    meter.refusedOne(performance.now() - m.pendingLines[at]!.atMs);
    m.pendingLines.splice(at, 1);
    return true;
  }

  private lineCame(m: Member, body: string, meter: Meter): void {
    if (classifyRoomLine(body) !== 'answer') return;
    const oldest = m.pendingLines.shift();
    if (oldest !== undefined) meter.answered(oldest.kind, performance.now() - oldest.atMs);
  }

  /**
   * Joined: Flux once the place's description arrives (the character is in the world);
   * a MUC once its subject arrives, the last stanza of a join (XEP-0045 §7.2.16).
   * Refused: an error presence from the room.
   */
  private joinProgress(m: Member, el: El): void {
    const from = el.attrs.from ?? '';
    if (from !== this.o.target && !from.startsWith(`${this.o.target}/`)) return;
    if (el.name === 'presence' && el.attrs.type === 'error') {
      return m.settleJoin!(`client ${m.index} could not join: ${errorOf(el)}`);
    }
    if (el.name !== 'message' || from !== this.o.target) return;
    const done = this.o.kind === 'flux' ? el.getChildText('body') !== null : el.getChild('subject') !== undefined;
    if (done) m.settleJoin!(null);
  }

  async stop(): Promise<void> {
    await Promise.all(this.members.map((m) => withTimeout(m.client.stop(), STOP_MS_MAX, 'logout').catch(() => {})));
    this.members = [];
  }
}

function report(meter: Meter, o: { clients: number; offeredPerS: number; windowS: number; drainedBefore: boolean; generatorCpuShare: number }): StepReport {
  const sorted = [...meter.latenciesMs].sort((a, b) => a - b);
  const refusedSorted = [...meter.refusedLatenciesMs].sort((a, b) => a - b);
  const perS = (n: number) => (o.windowS > 0 ? Math.round(n / o.windowS) : 0);
  return {
    clients: o.clients, offeredPerS: o.offeredPerS, seconds: o.windowS, sent: meter.sent, answered: meter.answeredCount,
    refused: meter.refusedLatenciesMs.length, refusedP99Ms: quantile(refusedSorted, 0.99), unanswered: meter.sent - meter.answeredCount - meter.refusedLatenciesMs.length,
    errors: meter.errors, sentPerS: perS(meter.sent), answeredPerS: perS(meter.answeredCount),
    p50Ms: quantile(sorted, 0.5), p99Ms: quantile(sorted, 0.99),
    maxMs: sorted.at(-1) ?? null, stanzasIn: meter.stanzasIn, drainedBefore: o.drainedBefore, kinds: meter.kinds,
    generatorCpuShare: Math.round(o.generatorCpuShare * 100) / 100,
  };
}

/**
 * xmpp.js's start() as it is (connect, then open the stream and wait for 'online'),
 * with one repair: start() makes its wait for 'online' before opening and drops it
 * when the opening fails, so a connection reset during a login (a busy server) left
 * an unhandled rejection behind, which ends a Node process. Here every wait is observed.
 */
async function startClient(client: XmppClient, service: string, domain: string): Promise<void> {
  await client.connect(service);
  const online = new Promise<void>((resolve, reject) => {
    const done = (err?: Error) => {
      client.removeListener('online', onOnline);
      client.removeListener('error', onError);
      if (err) reject(err);
      else resolve();
    };
    const onOnline = () => done();
    const onError = (err: Error) => done(err);
    client.on('online', onOnline);
    client.on('error', onError);
  });
  online.catch(() => {}); // observed now: open() may fail first and be the one reported
  await client.open({ domain });
  await online;
}

/** An error stanza's condition and text (RFC 6120 §8.3), for a join refusal's reason. */
function errorOf(el: El): string {
  const error = el.getChild('error');
  const condition = error?.children.find((c): c is El => typeof c !== 'string' && c.name !== 'text')?.name ?? 'error';
  const text = error?.getChildText('text');
  return text ? `${condition} (${text})` : condition;
}

/** Runs fn(0..count-1) with at most `limit` in flight; fn must not reject. */
async function pool<T>(count: number, limit: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(count);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < count; i = next++) out[i] = await fn(i);
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker));
  return out;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([p, new Promise<T>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what} took over ${Math.round(ms)} ms`)), ms); })])
    .finally(() => clearTimeout(timer));
}
