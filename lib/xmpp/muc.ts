// The MUC face of a room (XEP-0045): joins, leaves, groupchat commands. What a
// player types becomes a Submission for the room's batch; what the batch's
// effects say comes back through deliver() after COMMIT.
import { jid as parseJid } from '@xmpp/jid';
import type { Logger } from 'pino';
import type { Room } from '../rooms/index.ts';
import type { Rendered } from '../effects/index.ts';
import { parseBody, TokenBucket, utf8Bytes, type Clock, type Submission } from '../negotiation/index.ts';
import { COMMANDS_BURST_DEFAULT, INVITES_PER_MESSAGE_MAX, NICK_CHARS_MAX, STATUS_CHARS_MAX } from '../constants.ts';
import { Occupants, type Occupant } from './occupants.ts';
import { History, historyRequest } from './history.ts';
import type { RefusalReason, Telemetry } from '../metrics/index.ts';
import {
  errorReply, groupchat, historyMessage, joinError, occupantPresence, privateMessage, reflectionOf, subjectMessage, NS_MUC, NS_MUC_USER, STATUS_NICK_CHANGED, invitation, STATUS_NON_ANONYMOUS, STATUS_SELF, availabilityOf, xml, type Element,
} from './stanzas.ts';

export interface MucLimits {
  readonly bodyBytesMax: number;
  readonly commandsPerS: number;
  readonly occupantsMax: number;
}

export interface MucDeps {
  readonly domain: string;
  readonly log: Logger;
  readonly clock: Clock;
  readonly limits: MucLimits;
  readonly send: (el: Element) => void;
  readonly telemetry: Telemetry;
  /** The XMPP server is behind on what we sent: take nothing new that would make more. */
  readonly congested: () => boolean;
}

/** One room's occupants and the stanzas that move them. */
export class MucRoom {
  readonly occupants = new Occupants();
  private readonly history = new History();
  /** Per occupant, whatever nick it goes by; dropped when its last session leaves. */
  private readonly buckets = new Map<Occupant, TokenBucket>();
  /** Nick changes waiting for their batch to commit: new nick -> occupant (the nick is held meanwhile). */
  private readonly renaming = new Map<string, Occupant>();
  private accepting = true;

  constructor(readonly room: Room, private readonly deps: MucDeps) {}

  get jid(): string {
    return `${this.room.id}@${this.deps.domain}`;
  }

  occupantJid(nick: string): string {
    return `${this.jid}/${nick}`;
  }

  /** Shutdown: commands are refused from now on. */
  close(): void {
    this.accepting = false;
  }

  /** XEP-0045 §7.2: a join presence to room/nick. */
  join(stanza: Element, nick: string): void {
    const from = String(stanza.attrs.from);
    const bare = parseJid(from).bare().toString();
    const refuse = (condition: string, type: string, text: string) => this.deps.send(joinError(stanza, condition, type, text));
    if (!this.accepting) return refuse('service-unavailable', 'wait', 'This world is shutting down.');
    if (this.deps.congested() && !this.occupants.bySessionJid(from)) return refuse('resource-constraint', 'wait', 'The world is very busy right now; join again in a moment.');
    if (nick.trim() === '' || [...nick].length > NICK_CHARS_MAX || /[\u0000-\u001f]/.test(nick)) {
      return refuse('jid-malformed', 'modify', `A nick is 1 to ${NICK_CHARS_MAX} characters.`);
    }
    const current = this.occupants.bySessionJid(from);
    if (current && current.nick !== nick) return this.changeNick(stanza, current, nick);
    if (current) {
      // §7.2: a presence with <x/> from someone joined is a client that thinks it is not: the whole join again.
      if (stanza.getChild('x', NS_MUC)) return this.sendRoster(stanza, current);
      return this.availabilityChanged(current, stanza);
    }
    const holder = this.occupants.byNickname(nick);
    const owner = this.room.character(nick);
    // XEP-0045 §7.2.9: a nick in use by someone else is a conflict; a character belongs to the JID that made it.
    if ((holder && holder.bareJid !== bare) || (owner && owner.jid !== bare) || this.renaming.has(nick)) {
      return refuse('conflict', 'cancel', 'That nick belongs to another player; choose another.');
    }
    // XEP-0045 §7.2.10: the room is full.
    if (!holder && this.occupants.size >= this.deps.limits.occupantsMax) return refuse('service-unavailable', 'wait', 'This world is full.');
    const added = this.occupants.add(nick, bare, from);
    if (!added) return refuse('resource-constraint', 'wait', 'Too many sessions under this nick.');
    added.occupant.availability = availabilityOf(stanza, STATUS_CHARS_MAX);
    if (!added.first) {
      // Another session of the same player (XEP-0045 §7.2, as mod_muc): the roster, then where they stand.
      this.sendRoster(stanza, added.occupant);
      this.room.submit({ command: { kind: 'look', nick }, origin: { from } });
      return;
    }
    if (!this.room.submit({ command: { kind: 'join', nick, jid: bare }, origin: { from } })) {
      this.occupants.remove(from);
      return refuse('resource-constraint', 'wait', 'This world is too busy right now; try again in a moment.');
    }
    for (const other of this.occupants.all()) {
      if (other !== added.occupant) this.toOccupant(other, (to) => this.available(added.occupant, to));
    }
    this.sendRoster(stanza, added.occupant);
  }

  /** §7.7: a joined player's presence update (away, back, a status text) goes to everyone, the player too (110). */
  private availabilityChanged(occupant: Occupant, stanza: Element): void {
    // Each update is copied to every occupant: it spends a token like a command, or a flood of them would be amplified.
    if (!this.bucket(occupant).take()) return this.deps.telemetry.commandRefused(this.room.id, 'rate-limited');
    occupant.availability = availabilityOf(stanza, STATUS_CHARS_MAX);
    for (const other of this.occupants.all()) this.toOccupant(other, (to) => this.available(occupant, to, other === occupant ? [STATUS_SELF] : []));
  }

  /**
   * XEP-0045 §7.6: a joined session asks for a new nick. The character keeps who it
   * is (place, things, quest) and takes the new name; the presences go out once the
   * batch holding the change has committed (see `renamed`).
   */
  private changeNick(stanza: Element, occupant: Occupant, nick: string): void {
    const refuse = (condition: string, type: string, text: string) => this.deps.send(joinError(stanza, condition, type, text));
    if (this.pendingNickOf(occupant) !== undefined) return refuse('not-acceptable', 'wait', 'Your last nick change is still being saved; try again in a moment.');
    if (!this.bucket(occupant).take()) {
      this.deps.telemetry.commandRefused(this.room.id, 'rate-limited');
      return refuse('resource-constraint', 'wait', `Slow down: at most ${this.deps.limits.commandsPerS} commands a second.`);
    }
    // Prosody's mod_muc would split this session off as a new occupant; here a nick is a character,
    // which cannot stand in two places, so one client cannot take it away from the others.
    if (occupant.sessions.size > 1) return refuse('not-acceptable', 'cancel', 'Change your nick from one client only: leave the world from your other clients first.');
    // §7.6.2: the new nick is someone else's (a player, an NPC, or another character of yours).
    if (this.occupants.byNickname(nick) || this.renaming.has(nick) || this.room.character(nick)) {
      return refuse('conflict', 'cancel', 'That name is taken in this world; choose another.');
    }
    const from = String(stanza.attrs.from);
    if (!this.room.submit({ command: { kind: 'rename', nick: occupant.nick, whom: nick }, origin: { from } })) {
      return refuse('resource-constraint', 'wait', 'This world is too busy right now; try again in a moment.');
    }
    this.renaming.set(nick, occupant);
  }

  private pendingNickOf(occupant: Occupant): string | undefined {
    for (const [nick, o] of this.renaming) if (o === occupant) return nick;
    return undefined;
  }

  /**
   * The name a command acts under. A rename queued before it is in the same batch or
   * an earlier one, so by the time the command is encoded the character has (or is
   * getting, within the batch) the new name.
   */
  private actingNick(occupant: Occupant): string {
    return this.pendingNickOf(occupant) ?? occupant.nick;
  }

  /** After COMMIT of a nick change: 303 from the old nick, then presence from the new one, to everyone (§7.6.3). */
  private renamed(oldNick: string, nick: string): void {
    const occupant = this.renaming.get(nick);
    this.renaming.delete(nick);
    if (!occupant || occupant.nick !== oldNick || !this.occupants.byNickname(oldNick)) return; // left meanwhile
    this.occupants.rename(occupant, nick);
    for (const other of this.occupants.all()) {
      const self = other === occupant ? [STATUS_SELF] : [];
      this.toOccupant(other, (to) => occupantPresence(this.occupantJid(oldNick), to, { codes: [STATUS_NICK_CHANGED, ...self], unavailable: true, item: { nick } }));
      this.toOccupant(other, (to) => this.available(occupant, to, self));
    }
  }

  /** An occupant's available presence: their real JID when the room is non-anonymous, their show and status. */
  private available(occupant: Occupant, to: string, codes: string[] = []): Element {
    return occupantPresence(this.occupantJid(occupant.nick), to, { codes, item: this.realJid(occupant), availability: occupant.availability });
  }

  private get nonAnonymous(): boolean {
    return this.room.world.anonymity === 'non';
  }

  /** §7.2.4: in a non-anonymous room occupant presences carry the real JID (the occupant's first session). */
  private realJid(occupant: Occupant): Record<string, string> {
    const first = occupant.sessions.values().next().value;
    return this.nonAnonymous && first !== undefined ? { jid: first } : {};
  }

  /**
   * Other occupants first, then self-presence with 110 (§7.2.3), the history the
   * join asked for (§7.2.15), then the subject, which always comes last (§7.2.16).
   */
  private sendRoster(join: Element, self: Occupant): void {
    const to = String(join.attrs.from);
    for (const other of this.occupants.all()) {
      if (other !== self) this.deps.send(this.available(other, to));
    }
    // §7.2.3: 100 tells the joiner that everyone sees their JID; 201 is never sent, as no join creates a room here.
    const codes = this.nonAnonymous ? [STATUS_SELF, STATUS_NON_ANONYMOUS] : [STATUS_SELF];
    this.deps.send(this.available(self, to, codes));
    const where = this.room.character(self.nick)?.location ?? this.room.world.startLocation;
    const line = (speaker: string, body: string, stampMs: number) => historyMessage(this.occupantJid(speaker), to, body, stampMs, this.jid);
    const lines = this.history.recent(where, historyRequest(join), this.deps.clock.nowMs(), (l) => line(l.speaker, l.body, l.stampMs).toString().length);
    for (const l of lines) this.deps.send(line(l.speaker, l.body, l.stampMs));
    this.deps.send(subjectMessage(this.jid, to, this.room.world.subject));
  }

  /** XEP-0045 §7.14: an unavailable presence from a session. */
  leave(from: string, codes: string[] = []): void {
    const removed = this.occupants.remove(from);
    if (!removed) return;
    const { occupant, last } = removed;
    this.deps.send(occupantPresence(this.occupantJid(occupant.nick), from, { codes: [STATUS_SELF, ...codes], unavailable: true }));
    if (!last) return;
    this.buckets.delete(occupant);
    for (const other of this.occupants.all()) {
      this.toOccupant(other, (to) => occupantPresence(this.occupantJid(occupant.nick), to, { codes, unavailable: true }));
    }
    // A nick change still on its way: the character leaves under the name it is about to have.
    const nick = this.actingNick(occupant);
    if (nick !== occupant.nick) this.renaming.delete(nick);
    this.room.submit({ command: { kind: 'leave', nick } });
  }

  /** A groupchat message: a command for the room's next batch, or a reply saying why not. */
  command(stanza: Element): void {
    const from = String(stanza.attrs.from);
    const occupant = this.occupants.bySessionJid(from);
    // XEP-0045 §7.4: only occupants may send to the room.
    if (!occupant) {
      this.deps.telemetry.commandRefused(this.room.id, 'not-occupant');
      return this.deps.send(errorReply(stanza, 'not-acceptable', 'cancel', 'Join the room before typing commands.'));
    }
    const body = stanza.getChildText('body');
    // §8.1: the subject is the world's own; occupants may not change it.
    if (body === null && stanza.getChild('subject')) return this.deps.send(errorReply(stanza, 'forbidden', 'auth', 'The subject belongs to the world; it cannot be changed.'));
    if (body === null) return; // chat states and receipts carry no command
    const reply = (text: string) => this.deps.send(groupchat(this.jid, from, text));
    if (!this.admit(occupant, body, reply)) return;
    const reflects = reflectionOf(stanza);
    const parsed = parseBody(body, this.actingNick(occupant));
    if (parsed.ok && (parsed.command.kind === 'say' || parsed.command.kind === 'emote')) {
      // The say or emote effect is the echo (it carries the stanza id); it is sent after COMMIT.
      return this.submit({ command: parsed.command, origin: { from, reflects } }, reply);
    }
    // XEP-0045 §7.4: the sender sees their own message reflected; only they do, it is a command.
    this.toOccupant(occupant, (to) => groupchat(this.occupantJid(occupant.nick), to, body, reflects));
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
      return this.deps.send(errorReply(stanza, 'not-acceptable', 'cancel', 'Join the room before whispering.'));
    }
    if (!this.occupants.byNickname(toNick)) return this.deps.send(errorReply(stanza, 'item-not-found', 'cancel', `Nobody called ${toNick} is in this world.`));
    const reply = (text: string) => this.deps.send(groupchat(this.jid, from, text));
    if (!this.admit(occupant, body, reply) || body.trim() === '') return;
    this.submit({ command: { kind: 'whisper', nick: this.actingNick(occupant), whom: toNick, text: body.trim() }, origin: { from, private: true } }, reply);
  }

  /** XEP-0045 §7.8.2: an occupant invites someone; the room passes the invitation on from itself. */
  invite(stanza: Element): void {
    const from = String(stanza.attrs.from);
    const occupant = this.occupants.bySessionJid(from);
    if (!occupant) return this.deps.send(errorReply(stanza, 'not-acceptable', 'cancel', 'Join the room before inviting anyone.'));
    const invites = stanza.getChild('x', NS_MUC_USER)!.getChildren('invite').slice(0, INVITES_PER_MESSAGE_MAX);
    for (const invite of invites) {
      if (!this.bucket(occupant).take()) return this.deps.telemetry.commandRefused(this.room.id, 'rate-limited');
      let to: string;
      try {
        to = parseJid(String(invite.attrs.to ?? '')).bare().toString();
      } catch {
        to = '';
      }
      if (!to.includes('@')) return this.deps.send(errorReply(stanza, 'jid-malformed', 'modify', 'An invitation needs the bare JID of the one invited.'));
      const reason = invite.getChildText('reason')?.trim();
      const bounded = reason ? [...reason].slice(0, STATUS_CHARS_MAX).join('') : undefined;
      this.deps.send(invitation(this.jid, to, occupant.bareJid, this.room.world.title, bounded));
    }
  }

  /** The checks every command passes before parsing: open room, size, rate. A refusal is replied to and counted. */
  private admit(occupant: Occupant, body: string, reply: (text: string) => void): boolean {
    const refuse = (reason: RefusalReason, text?: string) => {
      this.deps.telemetry.commandRefused(this.room.id, reason);
      if (text !== undefined) reply(text);
      return false;
    };
    if (!this.accepting) return refuse('shutting-down', 'This world is shutting down; your command was not taken.');
    if (this.deps.congested()) return refuse('server-busy', 'The world is very busy right now; try that again in a moment.');
    const bytes = utf8Bytes(body);
    if (bytes > this.deps.limits.bodyBytesMax) return refuse('too-long', `That message is too long (${bytes} bytes; the limit is ${this.deps.limits.bodyBytesMax}).`);
    if (!this.bucket(occupant).take()) {
      this.slowDown(occupant, reply);
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
    const bucket = this.bucket(occupant);
    if (bucket.warned) return; // counted, silently dropped until a token is back
    bucket.warned = true;
    reply(`Slow down: at most ${this.deps.limits.commandsPerS} commands a second.`);
  }

  private bucket(occupant: Occupant): TokenBucket {
    let b = this.buckets.get(occupant);
    if (!b) {
      b = new TokenBucket(this.deps.limits.commandsPerS, Math.max(COMMANDS_BURST_DEFAULT, this.deps.limits.commandsPerS), this.deps.clock);
      this.buckets.set(occupant, b);
    }
    return b;
  }

  /** After COMMIT: each message to every session of the character's occupant. */
  deliver({ messages, speech }: Rendered, batch: readonly Submission[]): void {
    for (const s of batch) if (s.command.kind === 'rename') this.renamed(s.command.nick, s.command.whom ?? s.command.nick);
    this.history.record(speech, this.deps.clock.nowMs());
    const nicks = this.room.projection.characters;
    let sent = 0;
    for (const m of messages) {
      const occupant = this.occupants.byNickname(nicks[m.to]?.nick ?? '');
      if (!occupant) continue; // left since; nothing to show
      if (m.answers !== undefined && batch[m.answers]?.origin?.private) continue; // the client shows its own private message
      const from = m.speaker === null ? this.jid : this.occupantJid(m.speaker);
      if (m.private) {
        this.toOccupant(occupant, (to) => privateMessage(from, to, m.body));
        sent += occupant.sessions.size;
        continue;
      }
      const reflects = m.reflects === undefined ? undefined : batch[m.reflects]?.origin?.reflects;
      this.toOccupant(occupant, (to) => groupchat(from, to, m.body, reflects));
      sent += occupant.sessions.size;
    }
    this.deps.telemetry.stanzasSent(this.room.id, sent);
  }

  /** A batch that did not commit: its senders hear that nothing happened. */
  refuse(batch: readonly Submission[], reason: string): void {
    const told = new Set<string>();
    for (const s of batch) {
      const from = s.origin?.from;
      if (s.command.kind === 'rename' && from) this.renameRefused(from, s.command.whom ?? s.command.nick);
      if (from && !told.has(from) && this.occupants.bySessionJid(from)) {
        told.add(from);
        this.deps.send(groupchat(this.jid, from, reason));
      }
    }
  }

  /** §7.6.2: the nick change did not commit; the client keeps its old nick. */
  private renameRefused(from: string, nick: string): void {
    if (!this.renaming.delete(nick)) return;
    const asked = xml('presence', { from, to: this.occupantJid(nick) });
    this.deps.send(errorReply(asked, 'internal-server-error', 'wait', 'The world could not save your new name; you keep the old one.'));
  }

  /** Shutdown: every occupant gets an unavailable presence with 332 (XEP-0045 §10.2 "system shutdown"). */
  evictAll(codes: string[]): void {
    for (const occupant of [...this.occupants.all()]) {
      for (const session of [...occupant.sessions]) this.leave(session, codes);
    }
  }

  private toOccupant(occupant: Occupant, build: (to: string) => Element): void {
    for (const session of occupant.sessions) this.deps.send(build(session));
  }
}
