// How far behind the XMPP server is in reading what Flux writes to it. A server
// reads the component stream in order, so a stanza Flux addresses to its own
// domain comes back only once the server has read and routed everything written
// before it: the time it takes is the queue in front of the server, which no
// socket counter shows (the kernel's buffers hide it). A probe is a headline
// message from the domain to itself, one at a time; while one is out, the lag is
// at least how long it has been out. What was written after the last probe
// that came back is not known to be read yet: that is the bytes in flight.
import type { Clock } from '../negotiation/index.ts';
import { IN_FLIGHT_BYTES_MAX, IN_FLIGHT_BYTES_CEILING, IN_FLIGHT_WORK_MS, PROBE_RESEND_MS } from '../constants.ts';
import { wireText } from './wire.ts';

/** Each probe back, the read-rate estimate keeps this share of itself unless the new sample is higher. */
const READ_RATE_KEEP = 0.75;

const PROBE_ID_PREFIX = 'flux-lag-';

export class ServerLag {
  private seq = 0;
  private out: { id: string; atMs: number; bytes: number; resent: number } | null = null;
  private lastMs = 0;
  /** Bytes written before the last probe that came back: the server has read them. */
  private read = 0;
  /** When the last probe came back (or the stream began). */
  private readAtMs = 0;
  /** Bytes per ms the server has been seen to read Flux's stream while it had a backlog: a recent maximum. */
  private readRate = 0;
  /** The server answered a probe with an error: it does not route a domain's stanzas back to it. */
  unsupported = false;

  /** `written()`: every byte handed to `write` so far, in order. */
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

  /** Milliseconds the server is behind: the last probe's round trip, or the one still out if that is longer. */
  get ms(): number {
    return Math.max(this.lastMs, this.out ? this.clock.nowMs() - this.out.atMs : 0);
  }

  /** Sends a probe unless one is out (one out for PROBE_RESEND_MS is taken for lost and sent again). */
  probe(): void {
    const now = this.clock.nowMs();
    if ((this.out && now - this.out.atMs < PROBE_RESEND_MS * (this.out.resent + 1)) || this.unsupported) return;
    const id = `${PROBE_ID_PREFIX}${this.tag}.${++this.seq}`;
    // A resent probe keeps the first one's time: the lag is how long the server has been seen behind.
    this.out = { id, atMs: this.out?.atMs ?? now, bytes: this.written(), resent: this.out ? this.out.resent + 1 : 0 };
    const domain = wireText(this.domain);
    this.write(`<message from="${domain}" to="${domain}" type="headline" id="${id}"/>`);
  }

  /** Whether `stanza` is a probe coming back (the edge then drops it); the lag is recorded. */
  returned(stanza: { name: string; attrs: Record<string, unknown> }): boolean {
    const id = stanza.attrs.id;
    if (stanza.name !== 'message' || stanza.attrs.from !== this.domain || typeof id !== 'string' || !id.startsWith(`${PROBE_ID_PREFIX}${this.tag}.`)) return false;
    if (stanza.attrs.type === 'error') {
      this.unsupported = true;
      this.out = null;
    } else if (this.out?.id === id) {
      const now = this.clock.nowMs();
      this.lastMs = now - this.out.atMs;
      // The bytes between the last probe and this one were read since the last came back.
      // Only a backlog (a quarter window or more) says how fast the server reads: a
      // trickle would only show how little Flux wrote.
      const readBytes = this.out.bytes - this.read;
      const sample = readBytes >= IN_FLIGHT_BYTES_MAX / 4 && now > this.readAtMs ? readBytes / (now - this.readAtMs) : 0;
      this.readRate = Math.max(sample, this.readRate * READ_RATE_KEEP);
      this.read = this.out.bytes;
      this.readAtMs = now;
      this.out = null;
    }
    return true;
  }

  /** A new stream: nothing is in flight and nothing is known. */
  reset(): void {
    this.out = null;
    this.lastMs = 0;
    this.read = this.written();
    this.readAtMs = this.clock.nowMs();
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
