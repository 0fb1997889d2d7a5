// Honest players for the fuzz campaign: each plays on through it (look, say,
// walk), one command at a time, and records how long each took to be answered.
import type { Element, Player } from '../support/player.ts';
import { bodyOf, errorTextOf } from '../support/player.ts';

/** A command not answered within this is counted unanswered. */
export const ANSWER_MS_MAX = 10000;
/** Pause between one player's commands: about 3 a second, well under the rate limit. */
const PAUSE_MS = 250;
/** Stanzas a player keeps for the spec helpers' waitFor; the campaign sends them many. */
const RECEIVED_KEPT_MAX = 2000;
/** Replies that answer a command but say it was not taken (load shedding, a failed batch). */
const REFUSAL = /very busy|too busy|Slow down|Something went wrong|could not save|shutting down|not in this world/;

export interface Latencies {
  readonly samples: number[];
  unanswered: string[];
  refused: string[];
}

export interface Stats {
  readonly n: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

export function stats(samples: readonly number[]): Stats {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
  return { n: sorted.length, p50: at(0.5), p99: at(0.99), max: sorted.length === 0 ? NaN : sorted[sorted.length - 1]! };
}

interface Pending {
  readonly matches: (el: Element) => boolean;
  readonly done: (el: Element | null) => void;
}

export class HonestPlayer {
  private readonly byPhase = new Map<string, Latencies>();
  private pending: Pending | null = null;
  private running: Promise<void> | null = null;
  private stopRequested = false;
  private step = 0;
  private lastExits: string[] = [];

  constructor(readonly player: Player, readonly nick: string, readonly room: string) {
    player.onStanza((el) => {
      if (this.pending?.matches(el)) this.pending.done(el);
    });
  }

  latencies(phase: string): Latencies {
    let l = this.byPhase.get(phase);
    if (!l) this.byPhase.set(phase, (l = { samples: [], unanswered: [], refused: [] }));
    return l;
  }

  /** Plays until stop(), recording under `phase`. */
  start(phase: string): void {
    this.stopRequested = false;
    this.running = this.loop(this.latencies(phase));
  }

  /** Finishes the command in flight, then stops. */
  async stop(): Promise<void> {
    this.stopRequested = true;
    await this.running;
    this.running = null;
  }

  /** One command, answered or not: the latency in ms, or null. */
  async command(into: Latencies): Promise<number | null> {
    const kind = this.step++ % 3;
    const fromRoom = (el: Element) => el.name === 'message' && el.attrs.from === this.room && el.attrs.type !== 'error';
    // A command not taken because the world is busy is answered by an error on the message alone.
    const refusedByError = (el: Element) => el.name === 'message' && el.attrs.from === this.room && el.attrs.type === 'error' && REFUSAL.test(errorTextOf(el));
    let body: string;
    let answer: (el: Element) => boolean;
    if (kind === 1) {
      body = `say tok-${this.nick}-${this.step}`;
      const text = body.slice(4);
      answer = (el) => (el.attrs.from === `${this.room}/${this.nick}` && bodyOf(el) === text) || (fromRoom(el) && REFUSAL.test(bodyOf(el) ?? '')) || refusedByError(el);
    } else {
      body = kind === 0 || this.lastExits.length === 0 ? 'look' : this.lastExits[this.step % this.lastExits.length]!;
      answer = (el) => fromRoom(el) && /^Exits: |^You can't go|^The way \w+ is locked|^You wake up/m.test(bodyOf(el) ?? '') || (fromRoom(el) && REFUSAL.test(bodyOf(el) ?? '')) || refusedByError(el);
    }
    this.trim();
    const started = performance.now();
    const el = await new Promise<Element | null>((resolve) => {
      const timer = setTimeout(() => finish(null), ANSWER_MS_MAX);
      const finish = (got: Element | null) => {
        clearTimeout(timer);
        this.pending = null;
        resolve(got);
      };
      this.pending = { matches: answer, done: finish };
      this.player.say(this.room, body);
    });
    if (el === null) {
      into.unanswered.push(body);
      return null;
    }
    const ms = performance.now() - started;
    const text = el.attrs.type === 'error' ? errorTextOf(el) : bodyOf(el) ?? '';
    if (el.attrs.from === this.room && REFUSAL.test(text)) into.refused.push(`${body} -> ${text.slice(0, 80)}`);
    else into.samples.push(ms);
    const exits = /^Exits: (.*)$/m.exec(text)?.[1];
    if (exits !== undefined) this.lastExits = exits === 'none' ? [] : exits.split(', ').map((e) => e.trim());
    return ms;
  }

  private async loop(into: Latencies): Promise<void> {
    while (!this.stopRequested) {
      await this.command(into);
      await new Promise((r) => setTimeout(r, PAUSE_MS));
    }
  }

  /** The spec helpers keep every stanza; the campaign sends thousands. */
  private trim(): void {
    if (this.player.received.length <= RECEIVED_KEPT_MAX) return;
    this.player.received.length = 0;
    this.player.mark();
  }
}

/**
 * Pings (XEP-0199) an address every PROBE_MS and records the round trip: the
 * server itself ('localhost') shows whether Prosody is slow, the component's
 * domain whether Flux's edge is, beside the players' command latency.
 */
export class Probe {
  private readonly byPhase = new Map<string, Latencies>();
  private running: Promise<void> | null = null;
  private stopRequested = false;

  constructor(private readonly player: Player, readonly to: string, private readonly ping: () => Element) {}

  latencies(phase: string): Latencies {
    let l = this.byPhase.get(phase);
    if (!l) this.byPhase.set(phase, (l = { samples: [], unanswered: [], refused: [] }));
    return l;
  }

  start(phase: string): void {
    this.stopRequested = false;
    const into = this.latencies(phase);
    this.running = (async () => {
      while (!this.stopRequested) {
        const started = performance.now();
        try {
          const reply = await this.player.iq(this.to, 'get', this.ping());
          if (reply.attrs.type === 'result') into.samples.push(performance.now() - started);
          else into.refused.push(reply.toString().slice(0, 100));
        } catch {
          into.unanswered.push('ping');
        }
        await new Promise((r) => setTimeout(r, PROBE_MS));
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopRequested = true;
    await this.running;
  }
}

const PROBE_MS = 200;
