// Negotiation (DESIGN §3 stage 1): a message body -> a typed command, or the reply
// that explains why not. Pure: no state, no clock.
import { DIRECTIONS } from '../engines/protocol.ts';
import type { Command } from './command.ts';

export type Parsed = { readonly ok: true; readonly command: Command } | { readonly ok: false; readonly reply: string };

const DIRECTION_ALIASES: Record<string, number> = Object.fromEntries([
  ...DIRECTIONS.map((d, i) => [d, i] as const),
  ...DIRECTIONS.map((d, i) => [d[0]!, i] as const),
]);

/** Command words a player may type, for help and the "did you mean" reply. */
export const COMMAND_WORDS = ['look', 'l', 'go', ...DIRECTIONS, 'n', 'e', 's', 'w', 'u', 'd', 'say', 'who', 'help'] as const;

export const HELP_TEXT = [
  'Commands:',
  '  look (l) - describe where you are',
  '  go <direction> - walk: north, east, south, west, up, down (or n e s w u d on their own)',
  "  say <text> (or '<text>) - speak to everyone here",
  '  who - list the players in this world',
  '  help - this list',
].join('\n');

export function parseBody(body: string, nick: string): Parsed {
  const trimmed = body.trim();
  if (trimmed === '') return refuse('Type a command, or help for the list.');
  if (trimmed.startsWith("'")) return say(trimmed.slice(1), nick);
  const [word = ''] = trimmed.split(/\s+/);
  const verb = word.toLowerCase();
  const argument = trimmed.slice(word.length).trim();
  // A direction walks, whatever follows it ("north please").
  if (verb in DIRECTION_ALIASES) return ok({ kind: 'go', nick, direction: DIRECTION_ALIASES[verb]! });
  switch (verb) {
    case 'look':
    case 'l':
      return argument === '' ? ok({ kind: 'look', nick }) : refuse("You don't see that here.");
    case 'go':
      return go(argument, nick);
    case 'say':
      return say(argument, nick);
    case 'who':
      return ok({ kind: 'who', nick });
    case 'help':
      return ok({ kind: 'help', nick });
    default:
      return refuse(`I don't know how to "${clip(word)}". Did you mean ${closestCommand(verb)}? Type help for the list.`);
  }
}

function go(argument: string, nick: string): Parsed {
  const direction = DIRECTION_ALIASES[argument.toLowerCase()];
  if (argument === '') return refuse('Go where? Try go north, or just n.');
  if (direction === undefined) return refuse(`"${clip(argument)}" is not a direction: use ${DIRECTIONS.join(', ')}.`);
  return ok({ kind: 'go', nick, direction });
}

function say(text: string, nick: string): Parsed {
  const t = text.trim();
  return t === '' ? refuse('Say what?') : ok({ kind: 'say', nick, text: t });
}

const ok = (command: Command): Parsed => ({ ok: true, command });
const refuse = (reply: string): Parsed => ({ ok: false, reply });
const clip = (s: string) => (s.length > 24 ? `${s.slice(0, 24)}...` : s);

/** The full command word nearest to `word` by edit distance (ties: the first listed). */
export function closestCommand(word: string): string {
  const candidates = ['look', 'go', 'say', 'who', 'help', ...DIRECTIONS];
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
