// Guests: a server host with anonymous logins (SASL ANONYMOUS, RFC 4505) gives every
// login a fresh bare JID, so once a guest's last session has left, its character is
// never played again and would hold its nick and its things for ever. A room lets
// such a character go a while later (a `release` command): its things drop where it
// stood and its nick is free. Which domains are guest hosts is the operator's word
// (FLUX_GUEST_DOMAINS): Prosody 0.12 and ejabberd answer disco#info (XEP-0030) on an
// anonymous host exactly as on any other, so the server cannot be asked.
import { jid as parseJid } from '@xmpp/jid';
import { GUEST_SWEEP_MS } from '../constants.ts';
import { nickKey, type Clock } from '../negotiation/index.ts';

export interface GuestPolicy {
  /** Server domains whose JIDs are guests. */
  readonly domains: readonly string[];
  /** How long after its last session left a guest's character is released. */
  readonly releaseS: number;
}

/** Nobody is a guest. */
export const NO_GUESTS: GuestPolicy = { domains: [], releaseS: 0 };

interface Due {
  readonly nick: string;
  readonly bareJid: string;
  readonly atMs: number;
}

/**
 * One room's guest characters waiting to be released. Time comes from the injected
 * clock; a timer only looks at it every GUEST_SWEEP_MS while something is due, and
 * `sweep()` may be called directly (specs with a fake clock).
 */
export class Guests {
  private readonly domains: ReadonlySet<string>;
  /** Nick key -> the character waiting; one entry per character, so the world's character limit bounds it. */
  private readonly due = new Map<string, Due>();
  private timer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    private readonly policy: GuestPolicy,
    private readonly clock: Clock,
    /** Time is up for `nick`: the room decides whether it still goes (it may have come back). */
    private readonly release: (nick: string, bareJid: string) => void,
  ) {
    this.domains = new Set(policy.domains.map((d) => d.toLowerCase()));
  }

  isGuest(bareJid: string): boolean {
    if (this.domains.size === 0) return false;
    try {
      return this.domains.has(parseJid(bareJid).domain.toLowerCase());
    } catch {
      return false;
    }
  }

  /** The last session of `nick` left (or, at startup, nobody is there): a guest's character goes after the policy's time. */
  left(nick: string, bareJid: string): void {
    if (this.closed || !this.isGuest(bareJid)) return;
    this.due.set(nickKey(nick), { nick, bareJid, atMs: this.clock.nowMs() + this.policy.releaseS * 1000 });
    if (this.timer === null) {
      this.timer = setInterval(() => this.sweep(), GUEST_SWEEP_MS);
      this.timer.unref();
    }
  }

  /** Characters waiting to be released. */
  get waiting(): number {
    return this.due.size;
  }

  /** Hands every character whose time is up to the room. */
  sweep(): void {
    const now = this.clock.nowMs();
    for (const [key, due] of this.due) {
      if (due.atMs > now) continue;
      this.due.delete(key);
      this.release(due.nick, due.bareJid);
    }
    if (this.due.size === 0) this.stopTimer();
  }

  /** Shutdown: nothing more is released by this process; a restart schedules absent guests again. */
  close(): void {
    this.closed = true;
    this.due.clear();
    this.stopTimer();
  }

  private stopTimer(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }
}
