// How far behind the XMPP server is in reading what Flux writes to it. A server
// reads the component stream in order, so a stanza Flux addresses to its own
// domain comes back only once the server has read and routed everything written
// before it: the time it takes is the queue in front of the server, which no
// socket counter shows (the kernel's buffers hide it). A probe is a headline
// message from the domain to itself; while one is out, the lag is at least how
// long it has been out. What was written after the last probe that came back is
// not known to be read yet: that is the bytes in flight. Under load a probe
// follows every PROBE_SPACING_BYTES written (at most PROBES_OUT_MAX out), so what
// is in flight is confirmed as the server reads it, not a whole round trip late.
import type { Clock } from '../negotiation/index.ts';
import { IN_FLIGHT_BYTES_MAX, IN_FLIGHT_BYTES_CEILING, IN_FLIGHT_WORK_MS, PROBE_RESEND_MS, PROBE_SPACING_BYTES, PROBES_OUT_MAX } from '../constants.ts';
import { wireText } from './wire.ts';

/** Each probe back, the read-rate estimate keeps this share of itself unless the new sample is higher. */
const READ_RATE_KEEP = 0.75;
/** A read-rate sample spans at least this long: a server reads in bursts, and probes a burst apart would say it reads infinitely fast. */
const READ_RATE_SPAN_MS = 20;

const PROBE_ID_PREFIX = 'flux-lag-';

export class ServerLag {
  private seq = 0;
  /** Probes out, oldest first; `atMs` of the oldest is when the server was first seen owing an answer. */
  private outs: { id: string; atMs: number; bytes: number }[] = [];
  /** When the last probe was sent, and the bytes written before it. */
  private lastSent = { atMs: 0, bytes: 0 };
  private lastMs = 0;
  /** Bytes written before the last probe that came back: the server has read them. */
  private read = 0;
  /** Where the read rate's current sample began: bytes read, and when. */
  private rateFrom = { bytes: 0, atMs: 0 };
  /** Bytes per ms the server has been seen to read Flux's stream while it had a backlog: a recent maximum. */
  private readRate = 0;
  /** The server answered a probe with an error: it does not route a domain's stanzas back to it. */
  unsupported = false;

  /**
   * `written()`: every byte handed to `write` so far, in order. `tag` names this
   * instance in its probes' ids: behind a cluster the server may hand a probe to
   * another instance of the domain, which passes it back by that tag.
   */
  constructor(private readonly domain: string, private readonly write: (wire: string) => void, private readonly written: () => number, private readonly clock: Clock, private readonly tag = '') {}

  /** The tag of the instance that sent `stanza`, if it is a probe and not this instance's own; else null. */
  static foreignProbe(stanza: { name: string; attrs: Record<string, unknown> }, domain: string, mine: string): string | null {
    const id = stanza.attrs.id;
    if (stanza.name !== 'message' || stanza.attrs.from !== domain || typeof id !== 'string' || !id.startsWith(PROBE_ID_PREFIX)) return null;
    const tag = id.slice(PROBE_ID_PREFIX.length, Math.max(PROBE_ID_PREFIX.length, id.lastIndexOf('.')));
    return tag === mine ? null : tag;
  }

  /** Bytes written that the server is not known to have read yet. */
  get inFlightBytes(): number {
    return this.unsupported ? 0 : this.written() - this.read;
  }

  /**
   * How many bytes may be in flight before the server counts as behind: what it
   * reads in IN_FLIGHT_WORK_MS at the rate it has been seen to read, within
   * [IN_FLIGHT_BYTES_MAX, IN_FLIGHT_BYTES_CEILING]. A fast reader (ejabberd) gets a
   * wider window than a slow one (Prosody); a server never seen busy, or slowed by
   * others, keeps the floor.
   */
  get windowBytes(): number {
    return Math.min(IN_FLIGHT_BYTES_CEILING, Math.max(IN_FLIGHT_BYTES_MAX, Math.round(this.readRate * IN_FLIGHT_WORK_MS)));
  }

  /** Milliseconds the server is behind: the last probe's round trip, or the age of the oldest still out if that is longer. */
  get ms(): number {
    return Math.max(this.lastMs, this.outs.length > 0 ? this.clock.nowMs() - this.outs[0]!.atMs : 0);
  }

  /**
   * Each probe period: sends a probe when none is out, or when none came back for
   * PROBE_RESEND_MS (a lost probe: the next one that comes back settles it).
   */
  probe(): void {
    const now = this.clock.nowMs();
    if (this.outs.length === 0 || now - this.lastSent.atMs >= PROBE_RESEND_MS) this.send(now);
  }

  /** After a write: a probe if PROBE_SPACING_BYTES were written since the last one and fewer than PROBES_OUT_MAX are out. */
  wrote(): void {
    if (this.written() - this.lastSent.bytes >= PROBE_SPACING_BYTES && this.outs.length < PROBES_OUT_MAX) this.send(this.clock.nowMs());
  }

  private send(now: number): void {
    if (this.unsupported) return;
    const id = `${PROBE_ID_PREFIX}${this.tag}.${++this.seq}`;
    this.lastSent = { atMs: now, bytes: this.written() };
    this.outs.push({ id, ...this.lastSent });
    const domain = wireText(this.domain);
    this.write(`<message from="${domain}" to="${domain}" type="headline" id="${id}"/>`);
  }

  /** Whether `stanza` is a probe coming back (the edge then drops it); the lag is recorded. */
  returned(stanza: { name: string; attrs: Record<string, unknown> }): boolean {
    const id = stanza.attrs.id;
    if (stanza.name !== 'message' || stanza.attrs.from !== this.domain || typeof id !== 'string' || !id.startsWith(`${PROBE_ID_PREFIX}${this.tag}.`)) return false;
    if (stanza.attrs.type === 'error') {
      this.unsupported = true;
      this.outs = [];
      return true;
    }
    const at = this.outs.findIndex((p) => p.id === id);
    if (at < 0) return true; // a later one came back first: this one says nothing new
    // The stream is read in order: the probes before this one were read too (or lost).
    const probe = this.outs[at]!;
    this.outs.splice(0, at + 1);
    const now = this.clock.nowMs();
    this.lastMs = now - probe.atMs;
    this.read = probe.bytes;
    // Only a backlog (a quarter window or more) says how fast the server reads: a
    // trickle would only show how little Flux wrote.
    const span = now - this.rateFrom.atMs;
    if (span < READ_RATE_SPAN_MS) return true;
    const readBytes = this.read - this.rateFrom.bytes;
    const sample = readBytes >= IN_FLIGHT_BYTES_MAX / 4 ? readBytes / span : 0;
    this.readRate = Math.max(sample, this.readRate * READ_RATE_KEEP);
    this.rateFrom = { bytes: this.read, atMs: now };
    return true;
  }

  /** A new stream: nothing is in flight and nothing is known. */
  reset(): void {
    this.outs = [];
    this.lastMs = 0;
    this.read = this.written();
    this.lastSent = { atMs: this.clock.nowMs(), bytes: this.read };
    this.rateFrom = { bytes: this.read, atMs: this.clock.nowMs() };
    this.readRate = 0;
  }
}

/**
 * Which rooms refuse new work while the server is behind: those writing at least
 * the mean rate of the rooms that write. The heaviest room always does, so the
 * load that made the server fall behind is the load that stops; a quiet room
 * never does.
 */
export function sheds(bytesPerS: number, rates: Iterable<number>): boolean {
  if (bytesPerS <= 0) return false;
  let sum = 0;
  let writing = 0;
  for (const rate of rates) {
    if (rate <= 0) continue;
    sum += rate;
    writing++;
  }
  return writing === 0 || bytesPerS * writing >= sum;
}
