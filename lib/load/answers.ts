// Which incoming stanza answers which command a load client sent, and the tally
// of one measured step. Every command is matched to its answer, not only says:
//
// - say, emote (Flux), a plain body (a MUC), a chat to the echo component: the body
//   carries a token `L<client>-<seq>` and comes back to its sender (XEP-0045 §7.4
//   reflection; the echo returns it as is), so it is matched by its token.
// - every other Flux command (look, a step, take, drop) is answered by the game
//   from the bare room JID, after its batch commits, in the order the client sent
//   them; the answer is told from the other lines a player hears there (someone
//   arrives, someone takes something) by its form: the actor's own view is the
//   place's description (its last line lists the exits), a second-person line
//   ("You take...", "You can't go north from here.") or a "which/where" question.
//   So each client keeps its unanswered commands first in, first out, and the next
//   answer-shaped line answers the oldest.
// - a refusal: Flux answers a command it does not take with an error stanza
//   carrying the message's id (`L<client>-<seq>`, set on every command), beside a
//   line in the room. The error answers that command, counted apart as refused,
//   with its own latency; the line answers nothing.

export type CommandKind = 'say' | 'emote' | 'look' | 'move' | 'take' | 'drop';

/** What a load client types: says only (the crowd comparisons) or the game's mix. */
export type Mix = 'says' | 'game';

/** A command to send; `token` is set when the answer carries it back. */
export interface Command {
  readonly kind: CommandKind;
  readonly body: string;
  readonly token: boolean;
}

/**
 * The game mix, close to the bench workload's (bench/workload.ts): 30% say, 10%
 * emote, 25% look, 20% a step, 15% take or drop. give and attack are left out: a
 * blow draws blows back and deaths ("You wake up..."), lines the matcher could take
 * for the answer to a later command.
 */
export function commandFor(mix: Mix, client: number, seq: number, plainBody: boolean): Command {
  const token = `L${client}-${seq}`;
  if (mix === 'says') return { kind: 'say', body: plainBody ? token : `say ${token}`, token: true };
  const r = (seq * 7 + client * 13) % 20;
  if (r < 6) return { kind: 'say', body: `say ${token}`, token: true };
  if (r < 8) return { kind: 'emote', body: `emote waves ${token}`, token: true };
  if (r < 13) return { kind: 'look', body: 'look', token: false };
  if (r < 17) return { kind: 'move', body: MOVES[seq % MOVES.length]!, token: false };
  return { kind: r < 19 ? 'take' : 'drop', body: r < 19 ? 'take handbill' : 'drop handbill', token: false };
}

const MOVES = ['n', 's', 'e', 'w'] as const;
const TOKEN = /\bL(\d+)-(\d+)\b/;

/** The id a load client gives its command: its token, so an error stanza names the command it refuses. */
export function commandId(client: number, seq: number): string {
  return `L${client}-${seq}`;
}

/** The sequence number of client `client`'s token in `body`, or null when it carries none of theirs. */
export function tokenSeq(body: string, client: number): number | null {
  const m = TOKEN.exec(body);
  return m !== null && Number(m[1]) === client ? Number(m[2]) : null;
}

/** Only the actor sees these, and only as the answer to their own command. */
const ANSWER = /^(?:You (?!wake up)|The way \w+ is locked|Which do you mean|There is no(?:body| player))/;
/** The description a look or a step answers with ends with the exits line (lib/effects/render.ts). */
const DESCRIPTION_END = /(?:^|\n)Exits: [^\n]*$/;
/** Refusals before a command reaches a batch (lib/xmpp/muc.ts): an answer, but not the command's. */
const REFUSAL = /^(?:The world is (?:very|too) busy|This world is shutting down|Slow down|That message is too long)/;

/** A line from the bare room JID: the answer to the sender's oldest pending command, a refusal, or somebody else's news. */
export function classifyRoomLine(body: string): 'answer' | 'refusal' | 'news' {
  if (REFUSAL.test(body)) return 'refusal';
  return ANSWER.test(body) || DESCRIPTION_END.test(body) ? 'answer' : 'news';
}

const KINDS: readonly CommandKind[] = ['say', 'emote', 'look', 'move', 'take', 'drop'];

/** One measured step: what was sent, what came back and how long it took. */
export class Meter {
  readonly latenciesMs: number[] = [];
  readonly kinds = Object.fromEntries(KINDS.map((k) => [k, { sent: 0, answered: 0 }])) as Record<CommandKind, { sent: number; answered: number }>;
  sent = 0;
  /** Commands answered by a refusal, and how long each took. */
  readonly refusedLatenciesMs: number[] = [];
  errors = 0;
  /** Every stanza the clients received during the step (presences too). */
  stanzasIn = 0;

  sentOne(kind: CommandKind): void {
    this.sent++;
    this.kinds[kind].sent++;
  }

  answered(kind: CommandKind, latencyMs: number): void {
    this.latenciesMs.push(latencyMs);
    this.kinds[kind].answered++;
  }

  refusedOne(latencyMs: number): void {
    this.refusedLatenciesMs.push(latencyMs);
  }

  get answeredCount(): number {
    return this.latenciesMs.length;
  }
}

/** The q-quantile of ascending values; null when there are none (a latency of 0 would be a lie). */
export function quantile(sorted: readonly number[], q: number): number | null {
  return sorted.length === 0 ? null : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))]!;
}
