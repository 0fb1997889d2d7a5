// Who is in a room right now. XEP-0045 (as Prosody's mod_muc): an occupant is a
// nick held by one bare JID, present through one or more sessions (full JIDs).
// An occupant is announced (`joined`) only once its join has committed; until
// then its nick is held, but nobody else is told of it.
import { SESSIONS_PER_OCCUPANT_MAX } from '../constants.ts';
import type { Availability } from './stanzas.ts';
import type { PresenceWire } from './wire.ts';

export interface Occupant {
  nick: string;
  /** The nick's comparison key (RFC 8266 §2.4). */
  key: string;
  readonly bareJid: string;
  readonly sessions: Set<string>;
  /** Availability the player last broadcast (XEP-0045 §7.7: <show/> and <status/>), shown on their presences. */
  availability: Availability;
  /** The join committed and everyone was told (XEP-0045 §7.2.3). */
  joined: boolean;
  /** Wire forms for fan-out, dropped whenever nick, sessions or availability change. */
  wire?: { presence?: PresenceWire; presenceWithJid?: PresenceWire; sessions?: string[] };
}

export class Occupants {
  private readonly byNick = new Map<string, Occupant>();
  private readonly byKey = new Map<string, Occupant>();
  private readonly bySession = new Map<string, Occupant>();
  private readonly byJid = new Map<string, Set<Occupant>>();
  /** Occupants not announced yet, kept as they come and go (`unannounced`). */
  private pending = 0;
  /** Called whenever a session comes, goes, is renamed or is announced (the room's session journal listens). */
  onChange: () => void = () => {};

  get size(): number {
    return this.byNick.size;
  }

  /** Occupants whose join has not been announced yet (held, or in a batch). */
  get unannounced(): number {
    return this.pending;
  }

  all(): IterableIterator<Occupant> {
    return this.byNick.values();
  }

  byNickname(nick: string): Occupant | undefined {
    return this.byNick.get(nick);
  }

  byNickKey(key: string): Occupant | undefined {
    return this.byKey.get(key);
  }

  bySessionJid(fullJid: string): Occupant | undefined {
    return this.bySession.get(fullJid);
  }

  /** The occupants one bare JID holds here. */
  ofJid(bareJid: string): ReadonlySet<Occupant> {
    return this.byJid.get(bareJid) ?? new Set();
  }

  sessionsOfJid(bareJid: string): number {
    let n = 0;
    for (const o of this.ofJid(bareJid)) n += o.sessions.size;
    return n;
  }

  /** Adds a session; returns the occupant and whether it is new (first session). */
  add(nick: string, key: string, bareJid: string, fullJid: string): { occupant: Occupant; first: boolean } | null {
    const existing = this.byNick.get(nick);
    if (existing) {
      if (existing.sessions.size >= SESSIONS_PER_OCCUPANT_MAX && !existing.sessions.has(fullJid)) return null;
      existing.sessions.add(fullJid);
      existing.wire = undefined;
      this.bySession.set(fullJid, existing);
      this.onChange();
      return { occupant: existing, first: false };
    }
    const occupant: Occupant = { nick, key, bareJid, sessions: new Set([fullJid]), availability: {}, joined: false };
    this.byNick.set(nick, occupant);
    this.byKey.set(key, occupant);
    this.bySession.set(fullJid, occupant);
    this.pending++;
    this.onChange();
    let mine = this.byJid.get(bareJid);
    if (!mine) this.byJid.set(bareJid, (mine = new Set()));
    mine.add(occupant);
    return { occupant, first: true };
  }

  /** XEP-0045 §7.6: the occupant goes by `nick` from now on, with all its sessions. */
  rename(occupant: Occupant, nick: string, key: string): void {
    this.byNick.delete(occupant.nick);
    this.byKey.delete(occupant.key);
    occupant.nick = nick;
    occupant.key = key;
    occupant.wire = undefined;
    this.byNick.set(nick, occupant);
    this.byKey.set(key, occupant);
    this.onChange();
  }

  /** XEP-0045 §7.2.3: the occupant's join committed and everyone was told. */
  announced(occupant: Occupant): void {
    if (!occupant.joined) this.pending--;
    occupant.joined = true;
    this.onChange();
  }

  /** Removes a session; returns the occupant and whether that was its last session. */
  remove(fullJid: string): { occupant: Occupant; last: boolean } | null {
    const occupant = this.bySession.get(fullJid);
    if (!occupant) return null;
    this.bySession.delete(fullJid);
    occupant.sessions.delete(fullJid);
    occupant.wire = undefined;
    this.onChange();
    if (occupant.sessions.size > 0) return { occupant, last: false };
    this.byNick.delete(occupant.nick);
    this.byKey.delete(occupant.key);
    if (!occupant.joined) this.pending--;
    const mine = this.byJid.get(occupant.bareJid);
    mine?.delete(occupant);
    if (mine?.size === 0) this.byJid.delete(occupant.bareJid);
    return { occupant, last: true };
  }
}
