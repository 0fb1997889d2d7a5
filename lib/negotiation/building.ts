// Building commands: `@dig north The Old Tower` and the rest, parsed and
// checked here like any command (no state). Who may build, and whether the world
// has room, are decided later: the room's gate (lib/rooms/encode.ts) and the rules.
import { DIRECTIONS } from '../engines/protocol.ts';
import { ITEM_NAME_CHARS_MAX, LOCATION_DESCRIPTION_CHARS_MAX, LOCATION_TITLE_CHARS_MAX, NICK_CHARS_MAX } from '../constants.ts';
import type { Command } from './command.ts';
import { nickname } from './nick.ts';

export type BuildParsed = { readonly ok: true; readonly command: Command } | { readonly ok: false; readonly reply: string };

/** What a non-builder is told, whatever they typed after the @. */
export const NOT_A_BUILDER = "Only this world's builders can do that.";

/** The building commands, their usage and help line: `help @` lists them to builders. */
export const BUILD_COMMANDS = [
  { word: '@dig', usage: '@dig <direction> <title>', help: 'a new place that way, with the way back' },
  { word: '@title', usage: '@title <text>', help: 'rename the place you stand in' },
  { word: '@describe', usage: '@describe <text>', help: 'describe the place you stand in anew' },
  { word: '@exit', usage: '@exit <direction> <place>', help: 'a way to a place that exists, named by its key or title' },
  { word: '@unexit', usage: '@unexit <direction>', help: 'remove the way that direction' },
  { word: '@lock', usage: '@lock <direction> <thing>', help: 'the way opens only for someone carrying that thing' },
  { word: '@create', usage: '@create <name>', help: 'a thing here; its name gives the words to call it by' },
  { word: '@destroy', usage: '@destroy <thing>', help: 'remove a thing here or carried' },
  { word: '@npc', usage: '@npc <name>', help: 'a creature here that stays put' },
  { word: '@undo', usage: '@undo', help: 'take back your last building command' },
] as const;

export const BUILD_HELP = ['Building commands (builders only):', ...BUILD_COMMANDS.map((c) => `  ${c.usage} - ${c.help}`)].join('\n');

const DIRECTION_WORDS: Record<string, number> = Object.fromEntries([
  ...DIRECTIONS.map((d, i) => [d, i] as const),
  ...DIRECTIONS.map((d, i) => [d[0]!, i] as const),
]);

/** Text for the world, cleaned like a say: trimmed; titles and names on one line. */
const oneLine = (s: string) => s.replace(/\s+/g, ' ').trim();
const charsOf = (s: string) => [...s].length;

export function parseBuilding(word: string, rest: string, nick: string): BuildParsed {
  const verb = word.toLowerCase();
  const ok = (c: Omit<Command, 'nick'>): BuildParsed => ({ ok: true, command: { ...c, nick } as Command });
  const no = (reply: string): BuildParsed => ({ ok: false, reply });
  const [first = '', ...others] = rest.split(/\s+/);
  const direction = DIRECTION_WORDS[first.toLowerCase()];
  const after = others.join(' ');
  const usage = BUILD_COMMANDS.find((c) => c.word === verb)?.usage;
  const directed = (then: (d: number) => BuildParsed) => (direction === undefined ? no(`Which way? Try ${usage}, with one of ${DIRECTIONS.join(', ')}.`) : then(direction));
  const titled = (text: string, max: number, what: string, then: (t: string) => BuildParsed) => {
    if (text === '') return no(`${what} needs some words. Try ${usage}.`);
    if (charsOf(text) > max) return no(`${what} may be at most ${max} characters; that one has ${charsOf(text)}.`);
    return then(text);
  };
  switch (verb) {
    case '@dig': return directed((d) => titled(oneLine(after), LOCATION_TITLE_CHARS_MAX, "A place's title", (text) => ok({ kind: 'dig', direction: d, text })));
    case '@title': return titled(oneLine(rest), LOCATION_TITLE_CHARS_MAX, "A place's title", (text) => ok({ kind: 'title', text }));
    case '@describe': return titled(rest.trim(), LOCATION_DESCRIPTION_CHARS_MAX, "A place's description", (text) => ok({ kind: 'describe', text }));
    case '@exit': return directed((d) => (after.trim() === '' ? no(`Leading where? Try ${usage}.`) : ok({ kind: 'exit', direction: d, place: oneLine(after) })));
    case '@unexit': return directed((d) => ok({ kind: 'unexit', direction: d }));
    case '@lock': return directed((d) => (withoutArticle(after) === '' ? no(`Locked with what? Try ${usage}.`) : ok({ kind: 'lock', direction: d, what: withoutArticle(after) })));
    case '@create': return titled(withoutArticle(oneLine(rest)), ITEM_NAME_CHARS_MAX, "A thing's name", (text) => (keywordsOf(text).length === 0
      ? no("A thing's name needs a word to call it by (letters or digits).") : ok({ kind: 'create', text })));
    case '@destroy': return withoutArticle(rest) === '' ? no(`Destroy what? Try ${usage}.`) : ok({ kind: 'destroy', what: withoutArticle(rest) });
    case '@npc': return titled(oneLine(rest), NICK_CHARS_MAX, "A creature's name", (text) => {
      const checked = nickname(text);
      return checked.ok ? ok({ kind: 'npc', text: checked.nick }) : no(`That name will not do for a creature: ${checked.reason}`);
    });
    case '@undo': return ok({ kind: 'undo' });
    default: return no(`There is no building command "${word.slice(0, 24)}". Type help @ for the list.`);
  }
}

const NOT_NAMES = new Set(['of', 'the', 'a', 'an', 'and']);
const KEYWORD = /^[\p{Ll}\p{N}][\p{Ll}\p{N}'-]*$/u;

/** The words a thing made by @create answers to: its name's words, lower case, without articles. */
export function keywordsOf(name: string): string[] {
  const words = name.toLowerCase().split(/\s+/).map((w) => w.replace(/^[^\p{Ll}\p{N}]+|[^\p{Ll}\p{N}]+$/gu, ''));
  return [...new Set(words.filter((w) => w !== '' && !NOT_NAMES.has(w) && KEYWORD.test(w) && charsOf(w) <= 32))].slice(0, 16);
}

const withoutArticle = (s: string) => s.trim().replace(/^(the|a|an)(\s+|$)/i, '').trim();
