// How far behind the XMPP server is in reading what Flux writes to it. A server
// reads the component stream in order, so a stanza Flux addresses to its own
// domain comes back only once the server has read and routed everything written
// before it: the time it takes is the queue in front of the server, which no
// socket counter shows (the kernel's buffers hide it). A probe is a headline
// message from the domain to itself, one at a time; while one is out, the lag is
// at least how long it has been out. What was written after the last probe
// that came back is not known to be read yet: that is the bytes in flight.
import type { Clock } from '../negotiation/index.ts';
import { wireText } from './wire.ts';

const PROBE_ID_PREFIX = 'flux-lag-';

export class ServerLag {
  private seq = 0;
  private out: { id: string; atMs: number; bytes: number } | null = null;
  private lastMs = 0;
  /** Bytes written before the last probe that came back: the server has read them. */
  private read = 0;
  /** The server answered a probe with an error: it does not route a domain's stanzas back to it. */
  unsupported = false;

  /** `written()`: every byte handed to `write` so far, in order. */
  constructor(private readonly domain: string, private readonly write: (wire: string) => void, private readonly written: () => number, private readonly clock: Clock) {}

  /** Bytes written that the server is not known to have read yet. */
  get inFlightBytes(): number {
    return this.unsupported ? 0 : this.written() - this.read;
  }

  /** Milliseconds the server is behind: the last probe's round trip, or the one still out if that is longer. */
  get ms(): number {
    return Math.max(this.lastMs, this.out ? this.clock.nowMs() - this.out.atMs : 0);
  }

  /** Sends a probe unless one is out. */
  probe(): void {
    if (this.out || this.unsupported) return;
    const id = `${PROBE_ID_PREFIX}${++this.seq}`;
    this.out = { id, atMs: this.clock.nowMs(), bytes: this.written() };
    const domain = wireText(this.domain);
    this.write(`<message from="${domain}" to="${domain}" type="headline" id="${id}"/>`);
  }

  /** Whether `stanza` is a probe coming back (the edge then drops it); the lag is recorded. */
  returned(stanza: { name: string; attrs: Record<string, unknown> }): boolean {
    const id = stanza.attrs.id;
    if (stanza.name !== 'message' || stanza.attrs.from !== this.domain || typeof id !== 'string' || !id.startsWith(PROBE_ID_PREFIX)) return false;
    if (stanza.attrs.type === 'error') {
      this.unsupported = true;
      this.out = null;
    } else if (this.out?.id === id) {
      this.lastMs = this.clock.nowMs() - this.out.atMs;
      this.read = this.out.bytes;
      this.out = null;
    }
    return true;
  }

  /** A new stream: nothing is in flight and nothing is known. */
  reset(): void {
    this.out = null;
    this.lastMs = 0;
    this.read = this.written();
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
