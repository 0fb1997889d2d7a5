// When the XMPP server goes away, the component tries again after a pause that
// doubles with each failed attempt, up to a ceiling, with jitter: many Flux
// instances (or one restarted with its server) do not knock all at once.
import { RECONNECT_DELAY_MS_MAX, RECONNECT_DELAY_MS_MIN } from '../constants.ts';

export class Backoff {
  private attempt = 0;

  constructor(
    private readonly minMs = RECONNECT_DELAY_MS_MIN,
    private readonly maxMs = RECONNECT_DELAY_MS_MAX,
    private readonly random: () => number = Math.random,
  ) {}

  /** The pause before the next attempt: between half and all of min * 2^attempt, capped at max. */
  next(): number {
    const ceiling = Math.min(this.maxMs, this.minMs * 2 ** this.attempt);
    this.attempt = Math.min(this.attempt + 1, 30);
    return Math.round(ceiling / 2 + (ceiling / 2) * this.random());
  }

  /** Connected again: the next outage starts from the shortest pause. */
  reset(): void {
    this.attempt = 0;
  }
}
