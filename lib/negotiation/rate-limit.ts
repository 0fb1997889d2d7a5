// Token buckets (DESIGN §1): a steady rate with a small burst, for commands per
// bare JID and output bytes per room. The clock is injected so specs can drive time.
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

  /** Tokens now (negative after charges past the balance). */
  get level(): number {
    const now = this.clock.nowMs();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.updatedMs) * this.perS) / 1000);
    this.updatedMs = now;
    return this.tokens;
  }

  /** Takes `n` tokens if there are that many. */
  take(n = 1): boolean {
    if (this.level < n) return false;
    this.tokens -= n;
    this.warned = false;
    return true;
  }

  /** Spends `n` tokens even past the balance: for what must happen anyway (committed output, a leave); later takes wait for the debt. */
  charge(n: number): void {
    this.tokens = this.level - n;
  }

  /** Back to a full burst: nothing is owed and nothing is remembered. */
  get full(): boolean {
    return this.level >= this.burst;
  }
}

/**
 * A token bucket per key (a bare JID, a domain), bounded in number: past `keysMax`,
 * buckets that are full again (owed nothing) are forgotten, which changes no answer.
 */
export class KeyedBuckets {
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(private readonly perS: number, private readonly burst: number, private readonly clock: Clock, private readonly keysMax: number) {}

  of(key: string): TokenBucket {
    let b = this.buckets.get(key);
    if (b) return b;
    if (this.buckets.size >= this.keysMax) for (const [k, old] of this.buckets) if (old.full) this.buckets.delete(k);
    b = new TokenBucket(this.perS, this.burst, this.clock);
    this.buckets.set(key, b);
    return b;
  }
}

/** A recent rate: events (bytes, stanzas) per second, decaying with a time constant of TAU_MS. */
export class RateMeter {
  private static readonly TAU_MS = 1000;
  private value = 0;
  private updatedMs: number;

  constructor(private readonly clock: Clock) {
    this.updatedMs = clock.nowMs();
  }

  add(n: number): void {
    this.value = this.decayed() + n;
  }

  get perS(): number {
    this.value = this.decayed();
    return (this.value * 1000) / RateMeter.TAU_MS;
  }

  private decayed(): number {
    const now = this.clock.nowMs();
    const v = this.value * Math.exp(-(now - this.updatedMs) / RateMeter.TAU_MS);
    this.updatedMs = now;
    return v;
  }
}
