// The hostile side of the fuzz campaign, in its own process (forked by
// spec/fuzz/fuzz.spec.ts) so that generating and sending 100,000 stanzas, and
// parsing what comes back, neither takes Flux's event loop nor counts in its RSS.
//
// Lanes, each a loop drawing from one shared budget at one shared rate:
// - occupant lanes: registered accounts joined before the campaign;
// - stranger lanes: anonymous connections (a new bare JID each), recycled now and
//   then in the mixed phase, so joins and leaves come from ever new JIDs;
// - raw lanes: sockets that log in by hand and write malformed bytes.
import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import { HostileClient, RawSession } from '../support/hostile.ts';
import { xml, type Element } from '../support/player.ts';
import { arbitraries, oversizedArbitrary, rawPayload, type Action, type Arbitraries, type RawPayload, type Sender } from './arbitraries.ts';
import type { Account, FromHostile, HostileSetup, Phase, PhaseReport, PhaseRun, RawTally, ToHostile } from './protocol.ts';

const NS_MUC = 'http://jabber.org/protocol/muc';
const NS_MUC_USER = 'http://jabber.org/protocol/muc#user';
/** Actions drawn from fast-check at a time (a few ms of generation). */
const CHUNK_ACTIONS = 32;
/** One action in this many is a stanza over Flux's size gate instead. */
const OVERSIZED_ONE_IN = 1000;
/** A stranger lane of the mixed phase logs in again (a new JID) after about this many actions. */
const RECYCLE_ACTIONS = 120;
/** A lane waits while this much is unwritten on its socket. */
const BACKLOG_BYTES_MAX = 1024 * 1024;
/** How long Prosody may take to close a stream after a fatal payload. */
const CLOSE_MS_MAX = 5000;
/** After random bytes, how long to watch whether the stream is closed. */
const RANDOM_BYTES_WATCH_MS = 500;
const JOIN_MS_MAX = 10000;

/** mulberry32: a small seeded PRNG for the lanes' own choices. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Endless values of `arb`, drawn in chunks, reproducible from `seed`. */
function* stream<T>(arb: fc.Arbitrary<T>, seed: number): Generator<T, never> {
  for (let chunk = 0; ; chunk++) {
    for (const v of fc.sample(arb, { seed: (seed + chunk * 7919) | 0, numRuns: CHUNK_ACTIONS })) yield v;
  }
}

class Pacer {
  private next = 0;
  constructor(private readonly perS: number) {}

  async wait(): Promise<void> {
    const now = performance.now();
    const at = Math.max(this.next, now);
    this.next = at + 1000 / this.perS;
    if (at - now >= 1) await sleep(at - now);
  }
}

/** What one phase sent and saw. */
class Tally {
  readonly sent: Record<string, number> = {};
  readonly raw: Record<string, RawTally> = {};
  failedSends = 0;
  readonly closedByServer: { lane: string; after: string; errors: string }[] = [];
  connections = 0;
  rawLoginFailures = 0;
  left: number;

  constructor(stanzas: number) {
    this.left = stanzas;
  }

  /** Takes `n` stanzas from the budget; false once it is spent. */
  take(n: number): boolean {
    if (this.left <= 0) return false;
    this.left -= n;
    return true;
  }

  count(category: string, ok = true): void {
    this.sent[category] = (this.sent[category] ?? 0) + 1;
    if (!ok) this.failedSends++;
  }

  rawResult(category: string, closed: boolean | null): void {
    const t = (this.raw[category] ??= { sent: 0, closedByServer: 0, leftOpen: 0 });
    t.sent++;
    if (closed === true) t.closedByServer++;
    if (closed === false) t.leftOpen++;
  }
}

/** Who is in the world, as the occupant lanes see it: every presence from the room. */
class Roster {
  readonly nicks = new Set<string>();

  constructor(private readonly room: string) {}

  see(el: Element): void {
    if (el.name !== 'presence') return;
    const from = String(el.attrs.from ?? '');
    if (from.split('/')[0] !== this.room || !from.includes('/')) return;
    const nick = from.slice(from.indexOf('/') + 1);
    if (el.attrs.type === 'error') return;
    if (el.attrs.type !== 'unavailable') return void this.nicks.add(nick);
    this.nicks.delete(nick);
    const item = el.getChild('x', NS_MUC_USER)?.getChild('item');
    if (item?.attrs.nick) this.nicks.add(String(item.attrs.nick));
  }
}

interface Context {
  readonly setup: HostileSetup;
  readonly arbs: Arbitraries;
  readonly roster: Roster;
  readonly jids: string[];
  readonly tally: Tally;
  readonly pacer: Pacer;
  readonly phase: Phase;
}

/** One xmpp.js connection and the nick it is joined as (followed from its self-presences). */
class XmppLane {
  client: HostileClient | null = null;
  nick: string | null = null;
  /** Stanzas received by this lane's earlier (closed) connections. */
  receivedBefore = 0;
  private readonly random: () => number;
  private readonly oversized: Generator<Action, never>;
  private actionsSeen = 0;

  constructor(readonly name: string, private readonly setup: HostileSetup, private readonly roster: Roster, private readonly seed: number, readonly account?: Account) {
    this.random = prng(seed);
    this.oversized = stream(oversizedArbitrary(setup.names), seed ^ 0x5eed);
  }

  async open(tally?: Tally): Promise<void> {
    const { c2s, serverHost, anonHost } = this.setup;
    const client = await HostileClient.connect(c2s, this.account ? { domain: serverHost, username: this.account.username, password: this.account.password } : { domain: anonHost });
    if (tally) tally.connections++;
    this.client = client;
    this.nick = null;
    client.onStanza((el) => this.follow(el));
  }

  /** Joins as the account's nick and waits for the self-presence (or the refusal). */
  async join(): Promise<void> {
    const nick = this.account!.nick;
    const client = this.client!;
    const joined = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name}: no self-presence as ${nick} within ${JOIN_MS_MAX} ms`)), JOIN_MS_MAX);
      client.onStanza((el) => {
        if (el.name !== 'presence' || el.attrs.from !== `${this.setup.room}/${nick}`) return;
        if (el.attrs.type === 'error') {
          clearTimeout(timer);
          reject(new Error(`${this.name}: join as ${nick} refused: ${el.toString().slice(0, 300)}`));
        } else if (this.nick === nick) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    await client.send(xml('presence', { to: `${this.setup.room}/${nick}` }, xml('x', { xmlns: NS_MUC })));
    await joined;
  }

  private follow(el: Element): void {
    this.roster.see(el);
    if (el.name !== 'presence') return;
    const from = String(el.attrs.from ?? '');
    if (!from.startsWith(`${this.setup.room}/`)) return;
    const x = el.getChild('x', NS_MUC_USER);
    const codes = x?.getChildren('status').map((s) => s.attrs.code) ?? [];
    if (!codes.includes('110')) return;
    if (el.attrs.type !== 'unavailable') this.nick = from.slice(this.setup.room.length + 1);
    else this.nick = codes.includes('303') ? String(x?.getChild('item')?.attrs.nick ?? '') || null : null;
  }

  private sender(): Sender {
    const { room, domain, serverHost } = this.setup;
    return { room, domain, serverHost, nick: this.nick, nicks: [...this.roster.nicks], jids: [] };
  }

  /** Sends actions from `arb` until the budget is spent. Occupant lanes of the refused phase never reconnect. */
  async run(arb: fc.Arbitrary<Action>, ctx: Context, recycle: boolean): Promise<void> {
    const actions = stream(arb, this.seed ^ (ctx.phase === 'mixed' ? 0x3c3c : 0));
    let sinceOpen = 0;
    let last = '';
    const recycleAfter = () => Math.floor(RECYCLE_ACTIONS * (0.5 + this.random()));
    let recycleAt = recycleAfter();
    for (;;) {
      const client = this.client;
      if (!client) return;
      const strangerMayOversize = this.account === undefined || ctx.phase === 'mixed';
      const action = strangerMayOversize && this.random() * OVERSIZED_ONE_IN < 1 ? this.oversized.next().value : actions.next().value;
      const sender = { ...this.sender(), jids: ctx.jids };
      const stanzas = action.build(sender);
      if (!ctx.tally.take(stanzas.length)) return;
      this.actionsSeen++;
      for (const el of stanzas) {
        await ctx.pacer.wait();
        while (client.online && client.backlogBytes > BACKLOG_BYTES_MAX) await sleep(5);
        const ok = await client.send(el);
        ctx.tally.count(action.category, ok);
        last = action.category;
      }
      sinceOpen++;
      if (!client.online) {
        ctx.tally.closedByServer.push({ lane: this.name, after: last, errors: [...client.errors.keys()].join('; ').slice(0, 300) });
        if (this.account && ctx.phase === 'refused') return; // a new login would rejoin: not refused input
        await this.reopen(ctx.tally);
        sinceOpen = 0;
      } else if (recycle && sinceOpen >= recycleAt) {
        await client.stop();
        await this.reopen(ctx.tally);
        sinceOpen = 0;
        recycleAt = recycleAfter();
      }
    }
  }

  private async reopen(tally: Tally): Promise<void> {
    this.receivedBefore += this.client?.received ?? 0;
    for (let attempt = 1; attempt <= 5; attempt++) {
      try {
        await this.open(tally);
        return;
      } catch {
        await sleep(100 * attempt);
      }
    }
    this.client = null;
  }

  async stop(): Promise<void> {
    await this.client?.stop();
  }
}

const escapeAttr = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/'/g, '&apos;').replace(/"/g, '&quot;');

/** Raw sockets, one session after another: log in, maybe join, write odd then malformed bytes, see whether Prosody closes. */
async function rawLane(index: number, ctx: Context): Promise<void> {
  const { setup, tally } = ctx;
  const refusedOnly = ctx.phase === 'refused';
  const payloads = stream(rawPayload(setup.room, setup.domain, refusedOnly), setup.seed + 104729 * (index + 1) + (refusedOnly ? 0 : 31));
  const nicks = stream(fc.string({ minLength: 1, maxLength: 12 }), setup.seed + index);
  const random = prng(setup.seed * 31 + index);
  while (tally.left > 0) {
    let session: RawSession;
    try {
      session = await RawSession.open(setup.c2sPort, setup.anonHost);
    } catch {
      tally.rawLoginFailures++;
      await sleep(200);
      continue;
    }
    tally.connections++;
    try {
      if (!refusedOnly && random() < 0.5 && tally.take(1)) {
        await ctx.pacer.wait();
        session.write(`<presence to='${setup.room}/raw-${escapeAttr(nicks.next().value.replace(/[^\x20-\x7e]/g, ''))}'><x xmlns='${NS_MUC}'/></presence>`);
        tally.count('raw-join');
      }
      const writes = 1 + Math.floor(random() * 4);
      for (let i = 0; i < writes && session.end === 'open'; i++) {
        const payload: RawPayload = payloads.next().value;
        if (!tally.take(1)) break;
        await ctx.pacer.wait();
        while (session.end === 'open' && session.backlogBytes > BACKLOG_BYTES_MAX) await sleep(5);
        session.write(payload.bytes);
        tally.count(payload.category);
        if (payload.fatal) {
          tally.rawResult(payload.category, await session.closedWithin(CLOSE_MS_MAX));
          break;
        }
        if (payload.category === 'raw-random-bytes') {
          tally.rawResult(payload.category, (await session.closedWithin(RANDOM_BYTES_WATCH_MS)) ? true : null);
          break;
        }
        tally.rawResult(payload.category, null);
      }
    } finally {
      await session.close();
    }
  }
}

class Hostile {
  private readonly roster: Roster;
  private readonly arbs: Arbitraries;
  private readonly occupants: XmppLane[];
  private readonly strangers: XmppLane[];

  constructor(private readonly setup: HostileSetup) {
    this.roster = new Roster(setup.room);
    for (const n of setup.names.honest) this.roster.nicks.add(n);
    this.arbs = arbitraries(setup.names);
    this.occupants = setup.occupants.map((a, i) => new XmppLane(`occupant ${a.nick}`, setup, this.roster, setup.seed + 1000 * (i + 1), a));
    this.strangers = Array.from({ length: setup.strangers }, (_, i) => new XmppLane(`stranger ${i}`, setup, this.roster, setup.seed + 100_000 * (i + 1)));
  }

  /** Logs every lane in and joins the occupants; resolves with the hostile bare JIDs. */
  async connect(): Promise<string[]> {
    await Promise.all([...this.occupants, ...this.strangers].map((l) => l.open()));
    for (const o of this.occupants) await o.join();
    return [...this.occupants, ...this.strangers].map((l) => l.client!.bareJid);
  }

  async run(run: PhaseRun): Promise<PhaseReport> {
    const started = performance.now();
    const tally = new Tally(run.stanzas);
    const ctx: Context = {
      setup: this.setup, arbs: this.arbs, roster: this.roster, tally, pacer: new Pacer(run.rate), phase: run.phase,
      jids: [...this.setup.honestJids, ...this.occupants.map((o) => o.client?.bareJid ?? '').filter((j) => j !== '')],
    };
    const received0 = this.received();
    const refused = run.phase === 'refused';
    await Promise.all([
      ...this.occupants.map((l) => l.run(refused ? this.arbs.refusedOccupant : this.arbs.hostile, ctx, false)),
      ...this.strangers.map((l) => l.run(refused ? this.arbs.refusedStranger : this.arbs.hostile, ctx, !refused)),
      ...Array.from({ length: this.setup.raws }, (_, i) => rawLane(i, ctx)),
    ]);
    // Lanes whose connection was lost for good get a new one for the next phase (strangers only).
    for (const s of this.strangers) if (!s.client?.online) await s.open(tally).catch(() => undefined);
    const conditions: Record<string, number> = {};
    for (const l of [...this.occupants, ...this.strangers]) {
      for (const [c, n] of l.client?.conditions ?? []) conditions[c] = (conditions[c] ?? 0) + n;
      l.client?.conditions.clear();
    }
    return {
      phase: run.phase, ms: performance.now() - started, sent: tally.sent, raw: tally.raw, failedSends: tally.failedSends,
      closedByServer: tally.closedByServer, connections: tally.connections, received: this.received() - received0, conditions,
      rawLoginFailures: tally.rawLoginFailures,
    };
  }

  private received(): number {
    return [...this.occupants, ...this.strangers].reduce((n, l) => n + l.receivedBefore + (l.client?.received ?? 0), 0);
  }

  async stop(): Promise<void> {
    await Promise.all([...this.occupants, ...this.strangers].map((l) => l.stop()));
  }
}

function reply(message: FromHostile): void {
  process.send!(message);
}

let hostile: Hostile | null = null;
process.on('message', (message: ToHostile) => {
  const handle = async (): Promise<void> => {
    switch (message.type) {
      case 'setup':
        hostile = new Hostile(message.setup);
        return reply({ type: 'ready', jids: await hostile.connect() });
      case 'run':
        return reply({ type: 'report', report: await hostile!.run(message.run) });
      case 'stop':
        await hostile?.stop();
        reply({ type: 'stopped' });
        return process.disconnect();
    }
  };
  handle().catch((err: Error) => reply({ type: 'failed', message: err.stack ?? err.message }));
});
// The spec ends this process by closing the channel; nothing else keeps it alive then.
process.on('disconnect', () => setTimeout(() => process.exit(0), 100).unref());
