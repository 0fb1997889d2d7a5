// Mediated invitations (XEP-0045 §7.8.2) go out from the room's JID to anyone on
// the federation, so a room must not become a relay for spam: one bare JID may
// invite at most INVITEES_PER_HOUR_MAX distinct people in an hour, and the same
// person again only after INVITE_REPEAT_MS_MIN. Kept per inviter across leaves.
import type { Clock } from '../negotiation/index.ts';
import { INVITEES_PER_HOUR_MAX, INVITE_REPEAT_MS_MIN, JID_BUCKETS_PER_ROOM_MAX } from '../constants.ts';

const HOUR_MS = 3600 * 1000;

export class Invitations {
  /** Inviter -> invitee -> when last invited. */
  private readonly sent = new Map<string, Map<string, number>>();

  constructor(private readonly clock: Clock) {}

  /** Null when `inviter` may invite `invitee` now (and it is recorded); otherwise the reply saying why not. */
  refusal(inviter: string, invitee: string): string | null {
    const now = this.clock.nowMs();
    const mine = this.recent(inviter, now);
    const last = mine.get(invitee);
    if (last !== undefined && now - last < INVITE_REPEAT_MS_MIN) {
      return `You invited ${invitee} a moment ago; you can invite them again in ${Math.ceil((INVITE_REPEAT_MS_MIN - (now - last)) / 60000)} minutes.`;
    }
    if (last === undefined && mine.size >= INVITEES_PER_HOUR_MAX) {
      return `You can invite at most ${INVITEES_PER_HOUR_MAX} different people an hour from this world.`;
    }
    mine.set(invitee, now);
    return null;
  }

  /** The inviter's invitations of the last hour (older ones forgotten). */
  private recent(inviter: string, now: number): Map<string, number> {
    let mine = this.sent.get(inviter);
    if (!mine) {
      if (this.sent.size >= JID_BUCKETS_PER_ROOM_MAX) this.forgetOld(now);
      this.sent.set(inviter, (mine = new Map()));
    }
    for (const [who, at] of mine) if (now - at >= HOUR_MS) mine.delete(who);
    return mine;
  }

  private forgetOld(now: number): void {
    for (const [inviter, mine] of this.sent) {
      if ([...mine.values()].every((at) => now - at >= HOUR_MS)) this.sent.delete(inviter);
    }
  }
}
