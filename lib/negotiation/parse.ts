// Negotiation (DESIGN §3 stage 1): a message body -> a typed command, or the reply
// that answers it without touching the world (help, or why it is not a command).
// Pure: no state, no clock. Names of things stay words here; the room resolves them.
import { DIRECTIONS } from '../engines/protocol.ts';
import type { Command } from './command.ts';
import { BUILD_HELP, NOT_A_BUILDER, parseBuilding } from './building.ts';

/** What the caller knows of the player: builders may build and get `help @`. Absent: parse only, the room's gate decides. */
export interface ParseContext {
  readonly builder?: boolean;
}

/** ok: a command for the world; otherwise a reply: help (`refused` false) or why it is not a command. */
export type Parsed = { readonly ok: true; readonly command: Command } | { readonly ok: false; readonly reply: string; readonly refused: boolean };

const DIRECTION_ALIASES: Record<string, number> = Object.fromEntries([
  ...DIRECTIONS.map((d, i) => [d, i] as const),
  ...DIRECTIONS.map((d, i) => [d[0]!, i] as const),
]);

/** Every command, its aliases and its help line: the one list help, parsing and "did you mean" share. */
const COMMANDS = [
  { word: 'look', aliases: ['l'], usage: 'look (l), look <thing>', help: 'describe where you are, or look at something or someone here' },
  { word: 'go', aliases: [], usage: 'go <direction>', help: `walk: ${DIRECTIONS.join(', ')}; or just the direction, or n e s w u d` },
  { word: 'say', aliases: ["'"], usage: "say <text> ('<text>)", help: 'speak to everyone here' },
  { word: 'emote', aliases: [':'], usage: 'emote <text> (:<text>)', help: 'act: ":waves" shows "Alice waves" to everyone here' },
  { word: 'whisper', aliases: [], usage: 'whisper <nick> <text>', help: 'speak to one player, wherever they are (a private message to room/Nick works too); quote a nick with spaces: whisper "Old Tom" hi' },
  { word: 'who', aliases: [], usage: 'who', help: 'list the players in this world and where they are' },
  { word: 'inventory', aliases: ['i', 'inv'], usage: 'inventory (i)', help: 'what you carry, and your health' },
  { word: 'take', aliases: ['get'], usage: 'take <thing> (get)', help: 'pick something up' },
  { word: 'drop', aliases: [], usage: 'drop <thing>', help: 'put something down here' },
  { word: 'give', aliases: [], usage: 'give <thing> to <nick>', help: 'hand something to someone here' },
  { word: 'examine', aliases: ['x'], usage: 'examine <thing> (x)', help: 'a closer look at something or someone here, or something you carry' },
  { word: 'attack', aliases: ['kill', 'hit'], usage: 'attack <nick or creature>', help: 'fight someone here; creatures fight back' },
  { word: 'help', aliases: ['?'], usage: 'help [command]', help: 'this list, or more about one command' },
] as const;

const BY_WORD = new Map<string, (typeof COMMANDS)[number]>(COMMANDS.flatMap((c) => [[c.word, c] as const, ...c.aliases.map((a) => [a, c] as const)]));

export const HELP_TEXT = ['Commands:', ...COMMANDS.map((c) => `  ${c.usage} - ${c.help}`)].join('\n');

export function helpFor(word: string): string {
  const c = BY_WORD.get(word.toLowerCase()) ?? (DIRECTION_ALIASES[word.toLowerCase()] !== undefined ? BY_WORD.get('go') : undefined);
  if (!c) return `There is no command "${clip(word)}". Did you mean ${closestCommand(word.toLowerCase())}? Type help for the list.`;
  return `${c.usage} - ${c.help}`;
}

export function parseBody(body: string, nick: string, context: ParseContext = {}): Parsed {
  const trimmed = body.trim();
  if (trimmed === '') return refuse('Type a command, or help for the list.');
  if (trimmed.startsWith('@')) {
    if (context.builder === false) return refuse(NOT_A_BUILDER);
    const [word = ''] = trimmed.split(/\s+/);
    const built = parseBuilding(word, trimmed.slice(word.length).trim(), nick);
    return built.ok ? built : refuse(built.reply);
  }
  if (trimmed.startsWith("'")) return withText('say', trimmed.slice(1), nick, 'Say what?');
  if (trimmed.startsWith(':')) return withText('emote', trimmed.slice(1), nick, 'Do what? Try :waves.');
  const [word = ''] = trimmed.split(/\s+/);
  const verb = word.toLowerCase();
  const rest = trimmed.slice(word.length).trim();
  // A direction walks, whatever follows it ("north please").
  if (verb in DIRECTION_ALIASES) return ok({ kind: 'go', nick, direction: DIRECTION_ALIASES[verb]! });
  const command = BY_WORD.get(verb)?.word;
  switch (command) {
    case 'look': return rest === '' ? ok({ kind: 'look', nick }) : thing('examine', rest, nick);
    case 'examine': return thing('examine', rest, nick);
    case 'go': return go(rest, nick);
    case 'say': return withText('say', rest, nick, 'Say what?');
    case 'emote': return withText('emote', rest, nick, 'Do what? Try :waves.');
    case 'whisper': return whisper(rest, nick);
    case 'who': return ok({ kind: 'who', nick });
    case 'inventory': return ok({ kind: 'inventory', nick });
    case 'take': return thing('take', rest, nick);
    case 'drop': return thing('drop', rest, nick);
    case 'give': return give(rest, nick);
    case 'attack': return rest === '' ? refuse('Attack whom?') : ok({ kind: 'attack', nick, whom: rest });
    case 'help': return { ok: false, refused: false, reply: help(rest, context) };
    default: return refuse(`I don't know how to "${clip(word)}". Did you mean ${closestCommand(verb)}? Type help for the list.`);
  }
}

/** `help @` is for builders; to anyone else it is a command that does not exist. */
function help(rest: string, context: ParseContext): string {
  if (rest === '') return HELP_TEXT;
  const word = rest.split(/\s+/)[0]!;
  if (word.startsWith('@')) return context.builder === true ? BUILD_HELP : NOT_A_BUILDER;
  return helpFor(word);
}

function go(argument: string, nick: string): Parsed {
  const direction = DIRECTION_ALIASES[argument.toLowerCase()];
  if (argument === '') return refuse('Go where? Try go north, or just n.');
  if (direction === undefined) return refuse(`"${clip(argument)}" is not a direction: use ${DIRECTIONS.join(', ')}.`);
  return ok({ kind: 'go', nick, direction });
}

function withText(kind: 'say' | 'emote', text: string, nick: string, empty: string): Parsed {
  const t = text.trim();
  return t === '' ? refuse(empty) : ok({ kind, nick, text: t });
}

function thing(kind: 'take' | 'drop' | 'examine', what: string, nick: string): Parsed {
  const name = withoutArticle(what);
  if (name === '') return refuse(`${capitalize(kind)} what?`);
  return ok({ kind, nick, what: name });
}

/** give <thing> to <nick>: the last " to " splits them, so "give the key to the tower to Bob" works. */
function give(rest: string, nick: string): Parsed {
  const at = rest.toLowerCase().lastIndexOf(' to ');
  if (at < 0) return refuse('Give what to whom? Try give key to Alice.');
  const what = withoutArticle(rest.slice(0, at));
  const whom = withoutArticle(rest.slice(at + 4));
  if (what === '' || whom === '') return refuse('Give what to whom? Try give key to Alice.');
  return ok({ kind: 'give', nick, what, whom });
}

/** whisper <nick> <text>, or whisper "<nick with spaces>" <text>. */
function whisper(rest: string, nick: string): Parsed {
  const quoted = /^"([^"]+)"\s*(.*)$/s.exec(rest);
  const [whom, text] = quoted ? [quoted[1]!, quoted[2]!] : [rest.split(/\s+/)[0] ?? '', rest.slice((rest.split(/\s+/)[0] ?? '').length)];
  if (whom.trim() === '' || text.trim() === '') return refuse('Whisper what to whom? Try whisper Alice hello.');
  return ok({ kind: 'whisper', nick, whom: whom.trim(), text: text.trim() });
}

const withoutArticle = (s: string) => s.trim().replace(/^(the|a|an)(\s+|$)/i, '').trim();
const ok = (command: Command): Parsed => ({ ok: true, command });
const refuse = (reply: string): Parsed => ({ ok: false, reply, refused: true });
const clip = (s: string) => (s.length > 24 ? `${s.slice(0, 24)}...` : s);
const capitalize = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** The full command word nearest to `word` by edit distance (ties: the first listed). */
export function closestCommand(word: string): string {
  const candidates = [...COMMANDS.map((c) => c.word), ...DIRECTIONS];
  let best = candidates[0]!;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.slice(0, 32), c);
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return best;
}

export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}
