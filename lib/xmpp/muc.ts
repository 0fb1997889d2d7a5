// The MUC face of a room (XEP-0045): joins, leaves, groupchat commands. What a
// player types becomes a Submission for the room's batch; what the batch's
// effects say comes back through deliver() after COMMIT. A join is announced
// only once it has committed. Everything a room sends is charged to its output
// budget; a room that spent it refuses new work, other rooms go on. When the XMPP
// server falls behind, the rooms writing the most refuse new work too.
import { jid as parseJid } from '@xmpp/jid';
import type { Logger } from 'pino';
import type { Room } from '../rooms/index.ts';
import type { Command, Origin } from '../negotiation/index.ts';
import type { Rendered } from '../effects/index.ts';
import { KeyedBuckets, nickKey, nickname, parseBody, RateMeter, TokenBucket, utf8Bytes, type Clock, type Submission } from '../negotiation/index.ts';
import {
  CHARACTERS_PER_JID_MAX, COMMANDS_BURST_DEFAULT, INVITES_PER_MESSAGE_MAX, JID_BUCKETS_PER_ROOM_MAX,
  OCCUPANTS_PER_JID_MAX, PRESENCE_BYTES_ESTIMATE, ROOM_OUTPUT_BURST_S, SESSIONS_PER_JID_MAX, STATUS_CHARS_MAX,
} from '../constants.ts';
import { Occupants, type Occupant } from './occupants.ts';
import { History, historyRequest, type HistoryRequest, type Line } from './history.ts';
import { Invitations } from './invitations.ts';
import { Guests, NO_GUESTS, type GuestPolicy } from './guests.ts';
import type { RefusalReason, Telemetry } from '../metrics/index.ts';
import {
  errorReply, groupchat, historyMessage, joinError, occupantPresence, reflectionOf, sanitize, subjectMessage, NS_MUC, NS_MUC_USER, STATUS_NICK_CHANGED, invitation, STATUS_NON_ANONYMOUS, STATUS_SELF, availabilityOf, xml, type Element,
  STATUS_BANNED, STATUS_KICKED,
} from './stanzas.ts';
import { groupchatWire, placeWire, presenceWire, privateWire, WireTexts, wireText, type PresenceWire } from './wire.ts';

export interface MucLimits {
  readonly bodyBytesMax: number;
  readonly commandsPerS: number;
  readonly occupantsMax: number;
  /** Characters the world keeps; a join that would make one more is refused. */
  readonly charactersMax: number;
  /** The room's output budget. */
  readonly outputBytesPerS: number;
  /** New characters one server domain may make per minute (anonymous logins give each connection a fresh JID). */
  readonly newCharactersPerDomainPerMin: number;
  /** Guests (anonymous logins): whose characters are released, and how long after they left. */
  readonly guests?: GuestPolicy;
}

export interface MucDeps {
  readonly domain: string;
  readonly log: Logger;
  readonly clock: Clock;
  readonly limits: MucLimits;
  /** Serialized stanzas for the XMPP server, in order. */
  readonly write: (wire: string) => void;
  readonly telemetry: Telemetry;
  /** Whether a room writing `bytesPerS` should refuse new work because the XMPP server is behind. */
  readonly shedding: (bytesPerS: number) => boolean;
  /** Bytes Flux may write to the XMPP server now, before it counts as behind (joins are held past it, see `releaseHeld`). */
  readonly joinBudget: () => number;
}

type Refuse = (condition: string, type: string, text: string) => void;

/** One room's occupants and the stanzas that move them. */
export class MucRoom {
  readonly occupants = new Occupants();
  private readonly history = new History();
  /** Per bare JID, across leaves and rejoins: leaving and joining again refills nothing. */
  private readonly buckets: KeyedBuckets;
  /** New characters per server domain. */
  private readonly newCharacters: KeyedBuckets;
  private readonly output: TokenBucket;
  private readonly written: RateMeter;
  private readonly invitations: Invitations;
  /** Nick changes waiting for their batch to commit: the new nick's key -> who and to what (the nick is held meanwhile). */
  private readonly renaming = new Map<string, { occupant: Occupant; nick: string }>();
  /** New characters whose join has not committed yet: nick key -> bare JID (the nick is held, the world's count includes them). */
  private readonly creating = new Map<string, string>();
  /** Sessions waiting for their join to commit, with the history they asked for. */
  private readonly awaiting = new Map<string, HistoryRequest>();
  /** Joins checked and held while the XMPP server is behind, first come first served: nick key -> the join. */
  private readonly held = new Map<string, Submission>();
  private accepting = true;
  /** Guest characters waiting to be released since their last session left. */
  readonly guests: Guests;

  constructor(readonly room: Room, private readonly deps: MucDeps) {
    const perS = deps.limits.outputBytesPerS;
    this.output = new TokenBucket(perS, perS * ROOM_OUTPUT_BURST_S, deps.clock);
    this.written = new RateMeter(deps.clock);
    this.invitations = new Invitations(deps.clock);
    const { commandsPerS } = deps.limits;
    this.buckets = new KeyedBuckets(commandsPerS, Math.max(COMMANDS_BURST_DEFAULT, commandsPerS), deps.clock, JID_BUCKETS_PER_ROOM_MAX);
    const perMin = deps.limits.newCharactersPerDomainPerMin;
    this.newCharacters = new KeyedBuckets(perMin / 60, perMin, deps.clock, JID_BUCKETS_PER_ROOM_MAX);
    this.guests = new Guests(deps.limits.guests ?? NO_GUESTS, deps.clock, (nick, bare) => this.releaseGuest(nick, bare));
  }

  get jid(): string {
    return `${this.room.id}@${this.deps.domain}`;
  }

  occupantJid(nick: string): string {
    return `${this.jid}/${nick}`;
  }

  /** Shutdown: commands are refused from now on, and no guest is released by this process (a restart schedules them again). */
  close(): void {
    this.accepting = false;
    this.guests.close();
  }

  /** Bytes a second this room has been writing lately. */
  get writtenPerS(): number {
    return this.written.perS;
  }

  /** The room spent its output budget: it refuses new commands and joins. */
  get overBudget(): boolean {
    return this.output.level < 0;
  }

  /** Over budget, or the server is behind and this room is one of those that made it so: it refuses new commands. */
  get busy(): boolean {
    return this.overBudget || this.deps.shedding(this.written.perS);
  }

  /** XEP-0045 §7.2: a join presence to room/nick (or a presence from a session already in). */
  join(stanza: Element, nick: string): void {
    const from = String(stanza.attrs.from);
    const refuse: Refuse = (condition, type, text) => this.send(joinError(stanza, condition, type, text));
    if (!this.accepting) return refuse('service-unavailable', 'wait', 'This world is shutting down.');
    const current = this.occupants.bySessionJid(from);
    if (current && current.nick !== nick) return this.changeNick(stanza, current, nick);
    if (current) {
      // Each of these is copied to someone: it spends a token like a command, or a flood of them would be amplified.
      if (!this.bucket(current.bareJid).take()) return this.deps.telemetry.commandRefused(this.room.id, 'rate-limited');
      // §7.2: a presence with <x/> from someone joined is a client that thinks it is not: the whole join again.
      if (stanza.getChild('x', NS_MUC)) return current.joined ? this.sendRoster(from, current, historyRequest(stanza)) : undefined;
      return this.availabilityChanged(current, stanza);
    }
    this.newSession(stanza, from, nick, refuse);
  }

  /** A session joins: checked against every limit, then either an extra session of a joined occupant, or a join for the batch. */
  private newSession(stanza: Element, from: string, asked: string, refuse: Refuse): void {
    const bare = parseJid(from).bare().toString();
    const checked = nickname(asked);
    if (!checked.ok) return refuse('jid-malformed', 'modify', checked.reason);
    // RFC 8266 §2.3: the nick as enforced is the one shown; a client must ask for it as such.
    if (checked.nick !== asked) return refuse('jid-malformed', 'modify', `Join as "${checked.nick}": nicks are compared after width, space and case folding (RFC 8266).`);
    const { nick, key } = checked;
    // §7.2.8: an outcast may not enter (a ban being saved counts already).
    if (this.room.affiliations.intended(bare) === 'outcast') return refuse('forbidden', 'auth', 'You are banned from this world.');
    if (!this.bucket(bare).take()) return refuse('resource-constraint', 'wait', `Slow down: joins count as commands, at most ${this.deps.limits.commandsPerS} a second.`);
    const holder = this.occupants.byNickKey(key);
    const owner = this.room.characterByKey(key);
    const creator = this.creating.get(key);
    // XEP-0045 §7.2.9: a nick in use by someone else is a conflict; a character belongs to the JID that made it,
    // and two nicks that compare equal (RFC 8266 §2.4) are one nick.
    const mine = (o: { nick: string; bareJid?: string; jid?: string } | undefined) => o === undefined || (o.nick === nick && (o.bareJid ?? o.jid) === bare);
    if (!mine(holder) || !mine(owner) || (creator !== undefined && creator !== bare) || this.renaming.has(key)) {
      return refuse('conflict', 'cancel', 'That nick belongs to another player; choose another.');
    }
    if (this.occupants.sessionsOfJid(bare) >= SESSIONS_PER_JID_MAX) return refuse('resource-constraint', 'wait', `At most ${SESSIONS_PER_JID_MAX} sessions of one account may be in this world.`);
    if (!holder) {
      const denied = this.newOccupantDenied(bare, owner === undefined && creator === undefined);
      if (denied) return refuse(...denied);
    } else if (this.overBudget) {
      // Another session gets the occupant list at once: not while the room has spent its output budget.
      return refuse('resource-constraint', 'wait', 'The world is very busy right now; join again in a moment.');
    }
    const added = this.occupants.add(nick, key, bare, from);
    if (!added) return refuse('resource-constraint', 'wait', 'Too many sessions under this nick.');
    added.occupant.availability = availabilityOf(stanza, STATUS_CHARS_MAX);
    if (!added.first) {
      // Another session of the same player (XEP-0045 §7.2, as mod_muc): the roster, then where they stand.
      if (!added.occupant.joined) return void this.awaiting.set(from, historyRequest(stanza));
      this.sendRoster(from, added.occupant, historyRequest(stanza));
      this.room.submit({ command: { kind: 'look', nick }, origin: { from } });
      return;
    }
    const submission: Submission = { command: { kind: 'join', nick, jid: bare }, origin: { from } };
    // A join costs what XEP-0045 makes it cost in any MUC. While the server is behind, or the room has
    // spent its output budget, it waits its turn, as in the server's own. Held joins are occupants
    // already: the room's occupant limit bounds them.
    if (this.held.size > 0 || this.joinsFitting(this.deps.joinBudget()) === 0) this.held.set(key, submission);
    else if (!this.room.submit(submission)) {
      this.occupants.remove(from);
      return refuse('resource-constraint', 'wait', 'This world is too busy right now; try again in a moment.');
    }
    if (owner === undefined) this.creating.set(key, bare);
    this.awaiting.set(from, historyRequest(stanza));
  }

  /**
   * Held joins go to the batch in the order they came, as many as `joinsFitting`
   * allows: the server's queue stays short enough for every command to be
   * answered quickly meanwhile, and the joins keep it busy instead of waiting
   * for one another. Returns the bytes the released joins will write.
   */
  releaseHeld(budgetBytes: number): number {
    const n = Math.min(this.held.size, this.joinsFitting(budgetBytes));
    let left = n;
    for (const [key, submission] of this.held) {
      if (left-- <= 0) break;
      this.held.delete(key);
      if (submission.command.kind !== 'join') continue;
      if (!this.room.submit(submission)) this.joinFailed(submission.command.nick, submission.command.jid, 'This world is too busy right now.');
    }
    // The server has room for them now: waiting for the tick would leave it idle.
    if (n > 0) this.room.hurry();
    return n * this.joinBytes;
  }

  /**
   * How many more joins may go to the batch when the server may be handed
   * `budgetBytes` more (`joinBytes` each; the joins already in a batch have not
   * written theirs yet). The room's output budget bounds it too, so a crowd
   * joining is paced, not refused. When no join is in a batch, one goes if the
   * server has any room at all: in a crowd one join may cost more than the
   * whole window.
   */
  private joinsFitting(budgetBytes: number): number {
    const perJoin = this.joinBytes;
    const inBatch = this.occupants.unannounced - this.held.size;
    const room = Math.min(budgetBytes, this.output.level) - inBatch * perJoin;
    if (room <= 0) return 0;
    return Math.max(inBatch === 0 ? 1 : 0, Math.floor(room / perJoin));
  }

  /** What one more join writes: its presence to every occupant and the occupant list to the joiner. */
  private get joinBytes(): number {
    return 2 * (this.occupants.size + 1) * PRESENCE_BYTES_ESTIMATE;
  }

  /** Why a JID may not become one more occupant (and maybe one more character) here, or null. */
  private newOccupantDenied(bare: string, newCharacter: boolean): Parameters<Refuse> | null {
    // XEP-0045 §7.2.10: the room is full.
    if (this.occupants.size >= this.deps.limits.occupantsMax) return ['service-unavailable', 'wait', 'This world is full.'];
    if (this.occupants.ofJid(bare).size >= OCCUPANTS_PER_JID_MAX) {
      return ['policy-violation', 'modify', `One account may play at most ${OCCUPANTS_PER_JID_MAX} characters here at once.`];
    }
    if (!newCharacter) return null;
    if (this.room.characterCount + this.creating.size >= this.deps.limits.charactersMax) {
      return ['resource-constraint', 'cancel', `This world has room for ${this.deps.limits.charactersMax} characters and has no room for a new one; join as a character you have.`];
    }
    let pending = 0;
    for (const jid of this.creating.values()) if (jid === bare) pending++;
    if (this.room.charactersOwnedBy(bare) + pending >= CHARACTERS_PER_JID_MAX) {
      return ['policy-violation', 'modify', `One account may make at most ${CHARACTERS_PER_JID_MAX} characters in this world; join as one you have.`];
    }
    if (!this.newCharacters.of(parseJid(bare).domain).take()) {
      return ['resource-constraint', 'wait', `Too many new characters from your server: at most ${this.deps.limits.newCharactersPerDomainPerMin} a minute. Try again in a minute.`];
    }
    return null;
  }

  /** §7.7: a joined player's presence update (away, back, a status text) goes to everyone, the player too (110). */
  private availabilityChanged(occupant: Occupant, stanza: Element): void {
    occupant.availability = availabilityOf(stanza, STATUS_CHARS_MAX);
    occupant.wire = undefined;
    if (!occupant.joined) return; // it shows on the presence the committed join sends
    const self = this.presenceOf(occupant, [STATUS_SELF], occupant);
    this.fanOut((other) => (other === occupant ? self : this.presenceOf(occupant, [], other)));
  }

  /**
   * XEP-0045 §7.6: a joined session asks for a new nick. The character keeps who it
   * is (place, things, quest) and takes the new name; the presences go out once the
   * batch holding the change has committed (see `renamed`).
   */
  private changeNick(stanza: Element, occupant: Occupant, asked: string): void {
    const refuse: Refuse = (condition, type, text) => this.send(joinError(stanza, condition, type, text));
    if (!occupant.joined || this.pendingNickOf(occupant) !== undefined) return refuse('not-acceptable', 'wait', 'Your last join or nick change is still being saved; try again in a moment.');
    if (!this.bucket(occupant.bareJid).take()) {
      this.deps.telemetry.commandRefused(this.room.id, 'rate-limited');
      return refuse('resource-constraint', 'wait', `Slow down: at most ${this.deps.limits.commandsPerS} commands a second.`);
    }
    const checked = nickname(asked);
    if (!checked.ok) return refuse('jid-malformed', 'modify', checked.reason);
    if (checked.nick !== asked) return refuse('jid-malformed', 'modify', `Ask for "${checked.nick}": nicks are compared after width, space and case folding (RFC 8266).`);
    // Prosody's mod_muc would split this session off as a new occupant; here a nick is a character,
    // which cannot stand in two places, so one client cannot take it away from the others.
    if (occupant.sessions.size > 1) return refuse('not-acceptable', 'cancel', 'Change your nick from one client only: leave the world from your other clients first.');
    // §7.6.2: the new nick is someone else's (a player, an NPC, or another character of yours).
    // The same key is the same nick: a change of case only is refused too, since the character would not change.
    const { key } = checked;
    if (this.occupants.byNickKey(key) || this.renaming.has(key) || this.creating.has(key) || this.room.characterByKey(key) || this.room.character(asked)) {
      return refuse('conflict', 'cancel', 'That name is taken in this world; choose another.');
    }
    const from = String(stanza.attrs.from);
    if (!this.room.submit({ command: { kind: 'rename', nick: occupant.nick, whom: asked }, origin: { from } })) {
      return refuse('resource-constraint', 'wait', 'This world is too busy right now; try again in a moment.');
    }
    this.renaming.set(key, { occupant, nick: asked });
  }

  private pendingNickOf(occupant: Occupant): string | undefined {
    for (const r of this.renaming.values()) if (r.occupant === occupant) return r.nick;
    return undefined;
  }

  /**
   * The name a command acts under. A rename queued before it is in the same batch or
   * an earlier one, so by the time the command is encoded the character has (or is
   * getting, within the batch) the new name.
   */
  actingNick(occupant: Occupant): string {
    return this.pendingNickOf(occupant) ?? occupant.nick;
  }

  /** After COMMIT of a nick change: 303 from the old nick, then presence from the new one, to everyone (§7.6.3). */
  private renamed(oldNick: string, nick: string): void {
    const key = nickKey(nick);
    const pending = this.renaming.get(key);
    this.renaming.delete(key);
    const occupant = pending?.occupant;
    if (!occupant || occupant.nick !== oldNick || !this.occupants.byNickname(oldNick)) return; // left meanwhile
    this.occupants.rename(occupant, nick, key);
    const affiliation = this.room.affiliations.of(occupant.bareJid);
    const gone = (codes: string[]) => splitAtTo(sanitize(occupantPresence(this.occupantJid(oldNick), '', { codes, unavailable: true, item: { affiliation, nick } })).toString());
    const goneToOthers = gone([STATUS_NICK_CHANGED]);
    const toSelf = [gone([STATUS_NICK_CHANGED, STATUS_SELF]), this.presenceOf(occupant, [STATUS_SELF], occupant)];
    this.fanOut((other) => (other === occupant ? toSelf : [goneToOthers, this.presenceOf(occupant, [], other)]));
  }

  /**
   * An occupant's available presence as `viewer` sees it (with `codes`: as it sees
   * itself), in wire form; cached per occupant in its two forms, with and without
   * the real JID.
   */
  private presenceOf(occupant: Occupant, codes: readonly string[], viewer: Occupant): PresenceWire {
    const withJid = this.seesJids(viewer);
    const build = () => presenceWire(this.occupantJid(occupant.nick), occupant.availability, this.itemOf(occupant, withJid), codes);
    if (codes.length > 0) return build();
    occupant.wire ??= {};
    return withJid ? (occupant.wire.presenceWithJid ??= build()) : (occupant.wire.presence ??= build());
  }

  /** §5: the occupant's affiliation and the role it gives (owners and admins moderate), and its real JID if shown. */
  private itemOf(occupant: Occupant, withJid: boolean): Record<string, string> {
    const affiliations = this.room.affiliations;
    return { affiliation: affiliations.of(occupant.bareJid), role: affiliations.roleOf(occupant.bareJid), ...(withJid ? this.realJid(occupant) : {}) };
  }

  /** §4.2, §7.2.3: everyone sees real JIDs in a non-anonymous world; in a semi-anonymous one only moderators do. */
  private seesJids(viewer: Occupant): boolean {
    return this.nonAnonymous || this.room.affiliations.isModerator(viewer.bareJid);
  }

  private get nonAnonymous(): boolean {
    return this.room.world.anonymity === 'non';
  }

  /** §7.2.4: the real JID an occupant presence carries where it is shown (the occupant's first session). */
  private realJid(occupant: Occupant): Record<string, string> {
    const first = occupant.sessions.values().next().value;
    return first !== undefined ? { jid: first } : {};
  }

  /** The occupant's sessions as they go in a `to` attribute. */
  private sessionsOf(occupant: Occupant): string[] {
    occupant.wire ??= {};
    return (occupant.wire.sessions ??= [...occupant.sessions].map(wireText));
  }

  /**
   * One presence (or several) to every session of every announced occupant but
   * `except`, built from wire parts: the O(occupants) step of joins, leaves and
   * nick changes (XEP-0045 §7.2.3, §7.14, §7.6.3), at string-concatenation cost.
   */
  private fanOut(build: (other: Occupant) => PresenceWire | PresenceWire[], except?: Occupant): void {
    const parts: string[] = [];
    for (const other of this.occupants.all()) {
      if (!other.joined || other === except) continue;
      const built = build(other);
      for (const to of this.sessionsOf(other)) {
        for (const w of Array.isArray(built) ? built : [built]) parts.push(w.head, to, w.tail);
      }
    }
    this.emit(parts.join(''));
  }

  /**
   * Other occupants first, then self-presence with 110 (§7.2.3), the history the
   * join asked for (§7.2.15), then the subject, which always comes last (§7.2.16).
   */
  private sendRoster(session: string, self: Occupant, request: HistoryRequest): void {
    const to = wireText(session);
    const parts: string[] = [];
    for (const other of this.occupants.all()) {
      if (other === self || !other.joined) continue;
      const w = this.presenceOf(other, [], self);
      parts.push(w.head, to, w.tail);
    }
    // §7.2.3: 100 tells the joiner that everyone sees their JID; 201 is never sent, as no join creates a room here.
    const mine = this.presenceOf(self, this.nonAnonymous ? [STATUS_SELF, STATUS_NON_ANONYMOUS] : [STATUS_SELF], self);
    parts.push(mine.head, to, mine.tail);
    this.emit(parts.join(''));
    const where = this.room.character(self.nick)?.location ?? this.room.world.startLocation;
    const wireOf = (l: Line) => (l.wire ??= splitAtTo(sanitize(historyMessage(this.occupantJid(l.speaker), '', l.body, l.stampMs, this.jid)).toString()));
    const lines = this.history.recent(where, request, this.deps.clock.nowMs(), (l) => wireOf(l).head.length + to.length + wireOf(l).tail.length);
    const history = lines.map((l) => { const w = wireOf(l); return w.head + to + w.tail; });
    this.emit(history.join(''));
    this.send(subjectMessage(this.jid, session, this.room.world.subject));
  }

  /** After COMMIT of a join: everyone else learns of the joiner, each of its sessions gets the room (§7.2.3). */
  private announce(nick: string): void {
    const occupant = this.occupants.byNickname(nick);
    this.creating.delete(occupant?.key ?? '');
    if (!occupant || occupant.joined) return; // left before its join committed
    this.occupants.announced(occupant);
    this.fanOut((other) => this.presenceOf(occupant, [], other), occupant);
    for (const session of occupant.sessions) {
      this.sendRoster(session, occupant, this.awaiting.get(session) ?? {});
      this.awaiting.delete(session);
    }
  }

  /** A join whose batch did not commit leaves nothing behind: the nick is free and the joiner hears why (§7.2.6-style error). */
  private joinFailed(nick: string, jid: string | undefined, reason: string): void {
    const occupant = this.occupants.byNickname(nick);
    if (jid !== undefined) for (const [key, j] of this.creating) if (j === jid && key === occupant?.key) this.creating.delete(key);
    if (!occupant || occupant.joined) return;
    for (const session of [...occupant.sessions]) {
      this.occupants.remove(session);
      this.awaiting.delete(session);
      this.send(joinError(xml('presence', { from: session, to: this.occupantJid(nick) }), 'internal-server-error', 'wait', `${reason} You have not joined; join again.`));
    }
  }

  /** XEP-0045 §7.14: an unavailable presence from a session. A leave is never refused: it spends a token, in debt if need be. */
  leave(from: string, codes: string[] = []): void {
    const removed = this.occupants.remove(from);
    if (!removed) return;
    const { occupant, last } = removed;
    this.awaiting.delete(from);
    const item = { affiliation: this.room.affiliations.of(occupant.bareJid) };
    this.send(occupantPresence(this.occupantJid(occupant.nick), from, { codes: [STATUS_SELF, ...codes], unavailable: true, item }));
    if (!last) return;
    this.bucket(occupant.bareJid).charge(1);
    if (this.held.delete(occupant.key)) {
      this.creating.delete(occupant.key); // the join never reached a batch: nothing to undo there
      return;
    }
    if (occupant.joined) {
      const gone = splitAtTo(sanitize(occupantPresence(this.occupantJid(occupant.nick), '', { codes, unavailable: true, item })).toString());
      this.fanOut(() => gone, occupant);
    }
    // A nick change still on its way: the character leaves under the name it is about to have.
    const nick = this.actingNick(occupant);
    if (nick !== occupant.nick) for (const [key, r] of this.renaming) if (r.occupant === occupant) this.renaming.delete(key);
    this.room.submit({ command: { kind: 'leave', nick } }, { always: true });
    this.guests.left(nick, occupant.bareJid);
  }

  /** A guest's time is up: unless its JID came back as it, the room lets the character go (a logged command, never refused). */
  private releaseGuest(nick: string, bareJid: string): void {
    const key = nickKey(nick);
    const character = this.room.characterByKey(key);
    if (this.occupants.byNickKey(key) || character?.jid !== bareJid) return;
    this.room.submit({ command: { kind: 'release', nick: character.nick } }, { always: true });
  }

  /** A groupchat message: a command for the room's next batch, or a reply saying why not. */
  command(stanza: Element): void {
    const from = String(stanza.attrs.from);
    const occupant = this.occupants.bySessionJid(from);
    // XEP-0045 §7.4: only occupants may send to the room.
    if (!occupant) {
      this.deps.telemetry.commandRefused(this.room.id, 'not-occupant');
      return this.send(errorReply(stanza, 'not-acceptable', 'cancel', 'Join the room before typing commands.'));
    }
    const body = stanza.getChildText('body');
    // §8.1: the subject is the world's own; occupants may not change it.
    if (body === null && stanza.getChild('subject')) return this.send(errorReply(stanza, 'forbidden', 'auth', 'The subject belongs to the world; it cannot be changed.'));
    if (body === null) return; // chat states and receipts carry no command
    const reply = (text: string) => this.send(groupchat(this.jid, from, text));
    if (!this.admit(occupant, stanza, body, reply)) return;
    const reflects = reflectionOf(stanza);
    const parsed = parseBody(body, this.actingNick(occupant), { builder: this.room.isBuilder(occupant.bareJid) });
    if (parsed.ok && (parsed.command.kind === 'say' || parsed.command.kind === 'emote')) {
      // The say or emote effect is the echo (it carries the stanza id); it is sent after COMMIT.
      return this.submit({ command: parsed.command, origin: { from, reflects } }, reply);
    }
    // XEP-0045 §7.4: the sender sees their own message reflected; only they do, it is a command.
    for (const to of occupant.sessions) this.send(groupchat(this.occupantJid(occupant.nick), to, body, reflects));
    if (!parsed.ok) {
      if (parsed.refused) this.deps.telemetry.commandRefused(this.room.id, 'not-a-command');
      return reply(parsed.reply);
    }
    this.submit({ command: parsed.command, origin: { from } }, reply);
  }

  /** XEP-0045 §7.5: a private message to room/Nick is a whisper in the game. */
  whisper(stanza: Element, toNick: string): void {
    const from = String(stanza.attrs.from);
    const occupant = this.occupants.bySessionJid(from);
    const body = stanza.getChildText('body');
    if (body === null) return;
    if (!occupant) {
      this.deps.telemetry.commandRefused(this.room.id, 'not-occupant');
      return this.send(errorReply(stanza, 'not-acceptable', 'cancel', 'Join the room before whispering.'));
    }
    if (!this.occupants.byNickname(toNick)?.joined) return this.send(errorReply(stanza, 'item-not-found', 'cancel', `Nobody called ${toNick} is in this world.`));
    const reply = (text: string) => this.send(groupchat(this.jid, from, text));
    if (!this.admit(occupant, stanza, body, reply) || body.trim() === '') return;
    this.submit({ command: { kind: 'whisper', nick: this.actingNick(occupant), whom: toNick, text: body.trim() }, origin: { from, private: true } }, reply);
  }

  /**
   * XEP-0045 §7.8.2: an occupant invites someone; the room passes the invitation on
   * from itself. The room's JID lends it weight, so each invitation spends a token,
   * and one JID reaches a bounded number of people (Invitations).
   */
  invite(stanza: Element): void {
    const from = String(stanza.attrs.from);
    const occupant = this.occupants.bySessionJid(from);
    if (!occupant?.joined) return this.send(errorReply(stanza, 'not-acceptable', 'cancel', 'Join the room before inviting anyone.'));
    const invites = stanza.getChild('x', NS_MUC_USER)!.getChildren('invite').slice(0, INVITES_PER_MESSAGE_MAX);
    for (const invite of invites) {
      if (!this.bucket(occupant.bareJid).take()) return this.deps.telemetry.commandRefused(this.room.id, 'rate-limited');
      let to: string;
      try {
        to = parseJid(String(invite.attrs.to ?? '')).bare().toString();
      } catch {
        to = '';
      }
      if (!to.includes('@')) return this.send(errorReply(stanza, 'jid-malformed', 'modify', 'An invitation needs the bare JID of the one invited.'));
      const refused = this.invitations.refusal(occupant.bareJid, to);
      if (refused) {
        this.deps.telemetry.commandRefused(this.room.id, 'rate-limited');
        return this.send(errorReply(stanza, 'policy-violation', 'wait', refused));
      }
      const reason = invite.getChildText('reason')?.trim();
      const bounded = reason ? [...reason].slice(0, STATUS_CHARS_MAX).join('') : undefined;
      this.send(invitation(this.jid, to, occupant.bareJid, this.room.world.title, bounded));
    }
  }

  /** The checks every command passes before parsing: open room, output budget, size, rate. A refusal is replied to and counted. */
  private admit(occupant: Occupant, stanza: Element, body: string, reply: (text: string) => void): boolean {
    const refuse = (reason: RefusalReason, text?: string) => {
      this.deps.telemetry.commandRefused(this.room.id, reason);
      if (text !== undefined) reply(text);
      return false;
    };
    if (!this.accepting) return refuse('shutting-down', 'This world is shutting down; your command was not taken.');
    if (this.busy) {
      // One error for one message, which clients show with the message (as for a flood): while the
      // server is behind, a second stanza to say the same in the room would cost it as much again.
      this.send(errorReply(stanza, 'resource-constraint', 'wait', 'The world is very busy right now; this command was not taken. Try it again in a moment.'));
      return refuse('server-busy');
    }
    const bytes = utf8Bytes(body);
    if (bytes > this.deps.limits.bodyBytesMax) return refuse('too-long', `That message is too long (${bytes} bytes; the limit is ${this.deps.limits.bodyBytesMax}).`);
    if (!this.bucket(occupant.bareJid).take()) {
      this.slowDown(occupant, reply);
      // Every refused message is answered, one error for one message (as mod_muc_limits does): a client marks it not sent.
      this.send(errorReply(stanza, 'resource-constraint', 'wait', `Slow down: at most ${this.deps.limits.commandsPerS} commands a second; this one was not taken.`));
      return refuse('rate-limited');
    }
    return true;
  }

  private submit(submission: Submission, reply: (text: string) => void): void {
    if (this.room.submit(submission)) return this.deps.telemetry.commandAccepted(this.room.id);
    this.deps.telemetry.commandRefused(this.room.id, 'queue-full');
    reply('The world is too busy; try that again in a moment.');
  }

  private slowDown(occupant: Occupant, reply: (text: string) => void): void {
    const bucket = this.bucket(occupant.bareJid);
    if (bucket.warned) return; // said once in the room; each refused message still gets its error
    bucket.warned = true;
    reply(`Slow down: at most ${this.deps.limits.commandsPerS} commands a second.`);
  }

  private bucket(bareJid: string): TokenBucket {
    return this.buckets.of(bareJid);
  }

  /**
   * After COMMIT: the batch's joins are announced and its nick changes shown, then
   * each message goes to every session of the character's occupant. Every body is
   * cleaned and escaped once, and the whole batch leaves as one write.
   */
  deliver({ messages, speech }: Rendered, batch: readonly Submission[]): void {
    for (const s of batch) {
      if (s.command.kind === 'rename') this.renamed(s.command.nick, s.command.whom ?? s.command.nick);
      if (s.command.kind === 'join') this.announce(s.command.nick);
      if (s.command.kind === 'affiliate') this.affiliated(s.command.jid ?? '');
      if (s.command.kind === 'kick') this.kicked(s.command, s.origin);
    }
    for (const s of batch) s.origin?.settle?.(true);
    this.history.record(speech, this.deps.clock.nowMs());
    const nicks = this.room.projection.characters;
    const texts = new WireTexts();
    const parts: string[] = [];
    let sent = 0;
    for (const m of messages) {
      const occupant = this.occupants.byNickname(nicks[m.to]?.nick ?? '');
      if (!occupant?.joined) continue; // left since; nothing to show
      if (m.answers !== undefined && batch[m.answers]?.origin?.private) continue; // the client shows its own private message
      const from = texts.attr(m.speaker === null ? this.jid : this.occupantJid(m.speaker));
      const body = texts.body(m.body);
      const reflects = m.reflects === undefined ? undefined : batch[m.reflects]?.origin?.reflects;
      const place = m.place === undefined ? '' : placeWire(m.place);
      for (const to of this.sessionsOf(occupant)) parts.push(m.private ? privateWire(from, to, body) : groupchatWire(from, to, body, reflects, place));
      sent += occupant.sessions.size;
    }
    this.emit(parts.join(''));
    this.deps.telemetry.stanzasSent(this.room.id, sent);
  }

  /**
   * A batch that did not commit, or whose outcome is unknown: its senders hear so
   * (`reason`); joins in it leave nothing behind, nick changes are undone.
   */
  refuse(batch: readonly Submission[], reason: string): void {
    const told = new Set<string>();
    for (const s of batch) {
      const from = s.origin?.from;
      s.origin?.settle?.(false, reason);
      if (s.command.kind === 'kick' || s.command.kind === 'affiliate') continue; // the iq's error says so
      if (s.command.kind === 'rename' && from) this.renameRefused(from, s.command.whom ?? s.command.nick);
      if (s.command.kind === 'join') {
        this.joinFailed(s.command.nick, s.command.jid, reason);
        continue;
      }
      if (from && !told.has(from) && this.occupants.bySessionJid(from)) {
        told.add(from);
        this.send(groupchat(this.jid, from, reason));
      }
    }
  }

  /** Commands a batch could not act on (their player was not in the world by then): each sender is told, none is dropped in silence. */
  unanswerable(batch: readonly Submission[]): void {
    for (const s of batch) {
      const from = s.origin?.from;
      // A kick of a character that is gone already: the request is done as far as it goes.
      if (s.command.kind === 'kick') s.origin?.settle?.(true);
      else if (from && s.command.kind !== 'leave') this.send(groupchat(this.jid, from, 'You are not in this world: join the room first.'));
    }
  }

  /**
   * After COMMIT of an affiliation change (§9, §10): the JID's occupants are shown
   * to everyone with their new affiliation and role. One who became a moderator in
   * a semi-anonymous world gets everyone's presence again, now with real JIDs.
   */
  private affiliated(bareJid: string): void {
    for (const occupant of this.occupants.ofJid(bareJid)) {
      if (!occupant.joined) continue;
      occupant.wire = undefined;
      const self = this.presenceOf(occupant, [STATUS_SELF], occupant);
      this.fanOut((other) => (other === occupant ? self : this.presenceOf(occupant, [], other)));
      if (this.nonAnonymous || !this.room.affiliations.isModerator(bareJid)) continue;
      const parts: string[] = [];
      for (const other of this.occupants.all()) {
        if (other === occupant || !other.joined) continue;
        const w = this.presenceOf(other, [], occupant);
        for (const to of this.sessionsOf(occupant)) parts.push(w.head, to, w.tail);
      }
      this.emit(parts.join(''));
    }
  }

  /**
   * After COMMIT of a kick (§8.2: 307) or of a ban's (§9.1: 301): every session of
   * the occupant gets its unavailable presence with the actor and the reason, then
   * everyone else does; the character has left in the same batch.
   */
  private kicked(command: Command, origin: Origin | undefined): void {
    const occupant = this.occupants.byNickname(command.nick) ?? [...this.renaming.values()].find((r) => r.nick === command.nick)?.occupant;
    if (!occupant || !this.occupants.byNickname(occupant.nick)) return; // left meanwhile
    const code = command.affiliation === 'outcast' ? STATUS_BANNED : STATUS_KICKED;
    const parts = {
      unavailable: true, item: { affiliation: this.room.affiliations.of(occupant.bareJid), role: 'none' },
      ...(origin?.actor === undefined ? {} : { actor: origin.actor }), ...(command.text === undefined ? {} : { reason: command.text }),
    };
    for (const [key, r] of this.renaming) if (r.occupant === occupant) this.renaming.delete(key);
    this.held.delete(occupant.key);
    this.creating.delete(occupant.key);
    for (const session of [...occupant.sessions]) {
      this.occupants.remove(session);
      this.awaiting.delete(session);
      this.send(occupantPresence(this.occupantJid(occupant.nick), session, { ...parts, codes: [code, STATUS_SELF] }));
    }
    if (occupant.joined) {
      const gone = splitAtTo(sanitize(occupantPresence(this.occupantJid(occupant.nick), '', { ...parts, codes: [code] })).toString());
      this.fanOut(() => gone, occupant);
    }
    this.guests.left(occupant.nick, occupant.bareJid);
  }

  /** §7.6.2: the nick change did not commit; the client keeps its old nick. */
  private renameRefused(from: string, nick: string): void {
    let found = false;
    for (const [key, r] of this.renaming) if (r.nick === nick) found = this.renaming.delete(key);
    if (!found) return;
    const asked = xml('presence', { from, to: this.occupantJid(nick) });
    this.send(errorReply(asked, 'internal-server-error', 'wait', 'The world could not save your new name; you keep the old one.'));
  }

  /** A line from the world to every session of every announced occupant. */
  notifyAll(text: string): void {
    for (const occupant of this.occupants.all()) {
      if (!occupant.joined) continue;
      for (const session of occupant.sessions) this.send(groupchat(this.jid, session, text));
    }
  }

  /** Every joined session with its occupant's nick: what the room's session journal keeps. */
  *sessionRows(): Iterable<{ session: string; nick: string }> {
    for (const occupant of this.occupants.all()) {
      if (!occupant.joined) continue;
      for (const session of occupant.sessions) yield { session, nick: occupant.nick };
    }
  }

  /**
   * Taking the room over: the sessions its last owner recorded come back as
   * joined occupants, without a presence to anyone (nothing changed for them).
   * Only those whose character is present and belongs to the session's JID.
   */
  restore(rows: Iterable<{ session: string; nick: string }>): number {
    let restored = 0;
    for (const { session, nick } of rows) {
      const character = this.room.characterByKey(nickKey(nick));
      let bare: string;
      try {
        bare = parseJid(session).bare().toString();
      } catch {
        continue;
      }
      if (!character?.present || character.jid !== bare || this.occupants.bySessionJid(session)) continue;
      const added = this.occupants.add(character.nick, nickKey(character.nick), bare, session);
      if (!added) continue;
      if (added.first) this.occupants.announced(added.occupant);
      restored++;
    }
    return restored;
  }

  /** Shutdown: every occupant gets an unavailable presence with 332 (XEP-0045 §10.2 "system shutdown"). */
  evictAll(codes: string[]): void {
    for (const occupant of [...this.occupants.all()]) {
      for (const session of [...occupant.sessions]) this.leave(session, codes);
    }
  }

  /** An element to the server, cleaned of XML-forbidden characters. */
  private send(el: Element): void {
    this.emit(sanitize(el).toString());
  }

  /** Wire bytes to the server, charged to the room's output budget (committed output is written even past it). */
  private emit(wire: string): void {
    if (wire === '') return;
    this.output.charge(wire.length);
    this.written.add(wire.length);
    this.deps.write(wire);
  }
}

/** A presence serialized with an empty `to`, cut there so any recipient can be put in. */
function splitAtTo(serialized: string): PresenceWire {
  const at = serialized.indexOf(' to=""') + ' to="'.length;
  return { head: serialized.slice(0, at), tail: serialized.slice(at) };
}
