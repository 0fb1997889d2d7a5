// Who is in a room right now. XEP-0045 (as Prosody's mod_muc): an occupant is a
// nick held by one bare JID, present through one or more sessions (full JIDs).
import { SESSIONS_PER_OCCUPANT_MAX } from '../constants.ts';
import type { Availability } from './stanzas.ts';

export interface Occupant {
  nick: string;
  readonly bareJid: string;
  readonly sessions: Set<string>;
  /** Availability the player last broadcast (XEP-0045 §7.7: <show/> and <status/>), shown on their presences. */
  availability: Availability;
}

export class Occupants {
  private readonly byNick = new Map<string, Occupant>();
  private readonly bySession = new Map<string, Occupant>();

  get size(): number {
    return this.byNick.size;
  }

  all(): IterableIterator<Occupant> {
    return this.byNick.values();
  }

  byNickname(nick: string): Occupant | undefined {
    return this.byNick.get(nick);
  }

  bySessionJid(fullJid: string): Occupant | undefined {
    return this.bySession.get(fullJid);
  }

  /** Adds a session; returns the occupant and whether it is new (first session). */
  add(nick: string, bareJid: string, fullJid: string): { occupant: Occupant; first: boolean } | null {
    const existing = this.byNick.get(nick);
    if (existing) {
      if (existing.sessions.size >= SESSIONS_PER_OCCUPANT_MAX && !existing.sessions.has(fullJid)) return null;
      existing.sessions.add(fullJid);
      this.bySession.set(fullJid, existing);
      return { occupant: existing, first: false };
    }
    const occupant: Occupant = { nick, bareJid, sessions: new Set([fullJid]), availability: {} };
    this.byNick.set(nick, occupant);
    this.bySession.set(fullJid, occupant);
    return { occupant, first: true };
  }

  /** XEP-0045 §7.6: the occupant goes by `nick` from now on, with all its sessions. */
  rename(occupant: Occupant, nick: string): void {
    this.byNick.delete(occupant.nick);
    occupant.nick = nick;
    this.byNick.set(nick, occupant);
  }

  /** Removes a session; returns the occupant and whether that was its last session. */
  remove(fullJid: string): { occupant: Occupant; last: boolean } | null {
    const occupant = this.bySession.get(fullJid);
    if (!occupant) return null;
    this.bySession.delete(fullJid);
    occupant.sessions.delete(fullJid);
    if (occupant.sessions.size > 0) return { occupant, last: false };
    this.byNick.delete(occupant.nick);
    return { occupant, last: true };
  }
}
