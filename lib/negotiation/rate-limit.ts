// Token bucket per occupant (DESIGN §1): a steady rate with a small burst. The
// clock is injected so specs can drive time.
export interface Clock {
  nowMs(): number;
}

export class TokenBucket {
  private tokens: number;
  private updatedMs: number;
  /** Whether the "slow down" reply was already sent since the bucket last had a token. */
  warned = false;

  constructor(private readonly perS: number, private readonly burst: number, private readonly clock: Clock) {
    this.tokens = burst;
    this.updatedMs = clock.nowMs();
  }

  take(): boolean {
    const now = this.clock.nowMs();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.updatedMs) * this.perS) / 1000);
    this.updatedMs = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    this.warned = false;
    return true;
  }
}
