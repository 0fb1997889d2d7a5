// A scripted load for the fault specs: players who keep saying numbered
// tokens and walking, while the spec breaks things. Every token sent, every token
// a sender saw come back (its effect, shown only after COMMIT) and every token
// anybody heard is recorded, so the audit can compare what clients saw with what
// the database committed.
import { expect } from 'chai';
import { pino } from 'pino';
import type { Queryable } from '../../lib/db/index.ts';
import { compileKernel, KernelEngine } from '../../lib/engines/index.ts';
import { replayRoom } from '../../lib/rooms/index.ts';
import { bodyOf, errorTextOf, type Element, type Player } from './player.ts';

const TOKEN = /^tok-([a-z]+)-(\d+)$/;
/** What Flux says when a batch's fate cannot be shown as its effects: it committed but showing failed, or nobody knows. */
const OUTCOME_NOTICE = /could not tell whether that was saved|That was done, but we could not show you/;
/** Pause between one player's commands: under the 10 commands/s bucket. */
const COMMAND_MS = 120;

export interface LoadOptions {
  readonly roomJid: string;
  readonly names: readonly string[];
  /** Logs in (again) as `name`. */
  readonly connect: (name: string) => Promise<Player>;
}

export class ScriptedLoad {
  readonly sent = new Set<string>();
  /** Tokens whose sender saw them come back: the players were told these happened. */
  readonly echoed = new Set<string>();
  /** Tokens anybody received. */
  readonly heard = new Set<string>();
  /** Every error a player was sent from the room, as "name: text" (what a spec shows when a token did not come back). */
  readonly errors: string[] = [];
  /** Each token's sender's connection (its generation) when it was sent. */
  readonly sentIn = new Map<string, number>();
  /** When each token was sent (Date.now()). */
  readonly sentAt = new Map<string, number>();
  /** Per player: the generation of its current connection, and the generations in which it was told an outcome notice. */
  private readonly generation = new Map<string, number>();
  readonly noticed = new Map<string, Set<number>>();
  private readonly players = new Map<string, Player>();
  private readonly counters = new Map<string, number>();
  private running = false;
  private readonly listeners: ((el: Element) => void)[] = [];
  private loops: Promise<void>[] = [];

  constructor(private readonly options: LoadOptions) {}

  /**
   * Tokens that committed but whose sender, still on the connection it sent them
   * from, neither saw them come back nor was told why: effects that were lost.
   */
  unshown(committed: ReadonlySet<string>): string[] {
    return [...this.sentIn].filter(([token, generation]) => {
      const name = TOKEN.exec(token)![1]!;
      return committed.has(token) && !this.echoed.has(token) && generation === (this.generation.get(name) ?? 0) && !this.noticed.get(name)?.has(generation);
    }).map(([token]) => token);
  }

  /** Connects and joins every player, then starts their loops. */
  async start(): Promise<void> {
    await Promise.all(this.options.names.map((name) => this.enter(name)));
    this.running = true;
    this.loops = this.options.names.map((name) => this.loop(name));
  }

  /** Starts the loops again after `stop`, with the players as they are. */
  async resume(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.loops = this.options.names.map((name) => this.loop(name));
  }

  /** Calls `listener` with every stanza any of the players receives from now on (players who log in again too). */
  onStanza(listener: (el: Element) => void): void {
    this.listeners.push(listener);
    for (const player of this.players.values()) player.onStanza(listener);
  }

  /** Stops the loops; the players stay connected. */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  /**
   * After a fault: each player logs in again if its connection is gone, and joins
   * again (the client's side of XEP-0410: a world that forgot you is rejoined).
   */
  async rejoin(): Promise<void> {
    await Promise.all(this.options.names.map(async (name) => {
      await this.players.get(name)?.stop();
      await this.enter(name);
    }));
  }

  async close(): Promise<void> {
    await this.stop();
    await Promise.all([...this.players.values()].map((p) => p.stop()));
  }

  private async enter(name: string): Promise<void> {
    const player = await this.options.connect(name);
    this.players.set(name, player);
    const generation = (this.generation.get(name) ?? 0) + 1;
    this.generation.set(name, generation);
    const record = (el: Element) => {
      const body = bodyOf(el);
      if (body !== null && el.attrs.from === this.options.roomJid && OUTCOME_NOTICE.test(body)) {
        if (!this.noticed.has(name)) this.noticed.set(name, new Set());
        this.noticed.get(name)!.add(generation);
      }
      if (el.attrs.type === 'error' && String(el.attrs.from ?? '').startsWith(this.options.roomJid)) this.errors.push(`${name}: ${errorTextOf(el)}`);
      const m = body === null ? null : TOKEN.exec(body);
      if (!m || el.attrs.type === 'error') return;
      this.heard.add(body!);
      if (m[1] === name && el.attrs.from === `${this.options.roomJid}/${nickOf(name)}`) this.echoed.add(body!);
    };
    player.onStanza(record);
    for (const listener of this.listeners) player.onStanza(listener);
    for (let attempt = 1; ; attempt++) {
      try {
        await player.join(this.options.roomJid, nickOf(name));
        return;
      } catch (err) {
        if (attempt >= 20) throw err;
        await new Promise((r) => setTimeout(r, 250)); // the component may still be coming back
      }
    }
  }

  private async loop(name: string): Promise<void> {
    let step = 0;
    while (this.running) {
      const player = this.players.get(name)!;
      if (step % 5 === 4) player.say(this.options.roomJid, step % 10 === 4 ? 'n' : 's');
      else {
        const n = (this.counters.get(name) ?? 0) + 1;
        this.counters.set(name, n);
        const token = `tok-${name}-${n}`;
        this.sent.add(token);
        this.sentIn.set(token, this.generation.get(name)!);
        this.sentAt.set(token, Date.now());
        player.say(this.options.roomJid, `say ${token}`);
      }
      step++;
      await new Promise((r) => setTimeout(r, COMMAND_MS));
    }
  }
}

const nickOf = (name: string) => name.charAt(0).toUpperCase() + name.slice(1);

export interface Audit {
  readonly batches: number;
  readonly phantomEffects: number;
  readonly lostBatches: number;
  readonly tokensCommitted: number;
}

/**
 * What the clients saw against what the database holds:
 * - a phantom effect is a token somebody received that no committed batch said;
 * - a lost batch is a version missing from the gapless command log, a token a
 *   sender was shown as done that the log does not have, or a token that committed
 *   but its sender (still connected as when it sent it) was never shown, nor told why;
 * and the log must replay to the stored state.
 */
export async function audit(db: Queryable, load: ScriptedLoad, faults: number, label: string, roomId = 'realm'): Promise<Audit> {
  const committed = new Set((await db.query<{ text: string }>(
    "SELECT c->>'text' AS text FROM command_log, jsonb_array_elements(commands) c WHERE room_id = $1 AND c->>'kind' = 'say'", [roomId])).rows.map((r) => r.text));
  const versions = (await db.query<{ version: number }>('SELECT version FROM command_log WHERE room_id = $1 ORDER BY version', [roomId])).rows.map((r) => Number(r.version));
  const room = (await db.query<{ version: number }>('SELECT version FROM rooms WHERE id = $1', [roomId])).rows[0]!;
  const gaps = room.version - versions.filter((v, i) => v === i + 1).length;
  const phantom = [...load.heard].filter((t) => !committed.has(t));
  const unlogged = [...load.echoed].filter((t) => !committed.has(t));
  const unshown = load.unshown(committed);
  const result = { batches: room.version, phantomEffects: phantom.length, lostBatches: gaps + unlogged.length + unshown.length, tokensCommitted: committed.size };
  process.stdout.write(`      [${label}] faults injected: ${faults}, batches committed: ${result.batches}, tokens sent: ${load.sent.size}, `
    + `committed: ${committed.size}, echoed: ${load.echoed.size}, phantom effects: ${result.phantomEffects}, lost batches: ${result.lostBatches}\n`);
  expect(phantom, 'phantom effects: tokens seen that never committed').to.deep.equal([]);
  expect(unlogged, 'tokens shown as done but not in the log').to.deep.equal([]);
  expect(unshown, 'tokens committed but never shown to their sender, nor explained').to.deep.equal([]);
  expect(gaps, 'versions are gapless').to.equal(0);
  const replay = await replayRoom(db, roomId, (map) => KernelEngine.wasm(compileKernel(), map, 4096), pino({ level: 'silent' }));
  expect(replay?.divergence, 'the log replays to the stored state').to.equal(null);
  return result;
}
