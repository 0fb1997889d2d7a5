// Effect records -> text for players. Runs after COMMIT only. One message per
// record, except continuation records (a person in a description, a line of the
// who list), which extend the message before them.
import { CONTINUATIONS, DIRECTIONS, EFFECT_I32S, Fx } from '../engines/protocol.ts';
import type { Projection, RoomWorld } from '../contextualization/index.ts';
import { HELP_TEXT } from '../negotiation/index.ts';

export interface Message {
  /** The character who receives it. */
  readonly to: number;
  /** A player speaking (their nick), or the game itself (null: the bare room JID). */
  readonly speaker: string | null;
  readonly body: string;
  /** Index of the command in the batch this answers, when it is that player's own say (the echo). */
  readonly echoOf?: number;
}

export interface RenderInput {
  readonly world: RoomWorld;
  readonly projection: Projection;
  /** say texts of the batch, by the index the commands carry. */
  readonly texts: readonly string[];
}

export function render(effects: Int32Array, input: RenderInput): Message[] {
  const out: Message[] = [];
  let parts: string[] = [];
  let head: Omit<Message, 'body'> | null = null;
  let footer = '';
  const flush = () => {
    if (head) out.push({ ...head, body: parts.join('') + footer });
    head = null;
    parts = [];
    footer = '';
  };
  for (let i = 0; i < effects.length; i += EFFECT_I32S) {
    const to = effects[i]!;
    const template = effects[i + 1]!;
    const a = effects[i + 2]!;
    const b = effects[i + 3]!;
    const c = effects[i + 4]!;
    if (CONTINUATIONS.has(template)) {
      parts.push(continuation(template, a, b, input, parts.length));
      continue;
    }
    flush();
    head = { to, speaker: null };
    if (template === Fx.say) {
      head = { to, speaker: nick(input, a), ...(to === a ? { echoOf: c } : {}) };
      parts.push(input.texts[b] ?? '');
    } else if (template === Fx.description) {
      const place = input.world.locations[a]!;
      parts.push(`${place.title}\n${place.description}`);
      footer = `\n${exitsLine(input.world, a)}`;
    } else {
      parts.push(line(template, a, b, input));
    }
  }
  flush();
  return out;
}

function continuation(template: number, a: number, b: number, input: RenderInput, index: number): string {
  if (template === Fx.descriptionPerson) return `${index === 1 ? '\nAlso here: ' : ', '}${nick(input, a)}`;
  return `\n  ${nick(input, a)} - ${input.world.locations[b]?.title ?? '?'}`;
}

function line(template: number, a: number, b: number, input: RenderInput): string {
  switch (template) {
    case Fx.arrive:
      return b < 0 ? `${nick(input, a)} has entered the world.` : `${nick(input, a)} arrives from ${fromDirection(b)}.`;
    case Fx.depart:
      return b < 0 ? `${nick(input, a)} has left the world.` : `${nick(input, a)} leaves ${DIRECTIONS[b]}.`;
    case Fx.noExit:
      return `You can't go ${DIRECTIONS[a]} from here.`;
    case Fx.who:
      return `Players in ${input.world.title} (${a}):`;
    case Fx.help:
      return HELP_TEXT;
    case Fx.notPresent:
      return 'You are not in this world: join the room first.';
    default:
      return `(unknown effect ${template})`;
  }
}

export function exitsLine(world: RoomWorld, location: number): string {
  const names = DIRECTIONS.filter((_, d) => world.exits[location * DIRECTIONS.length + d]! >= 0);
  return `Exits: ${names.length === 0 ? 'none' : names.join(', ')}`;
}

function fromDirection(d: number): string {
  const name = DIRECTIONS[d]!;
  return name === 'up' ? 'above' : name === 'down' ? 'below' : `the ${name}`;
}

function nick(input: RenderInput, id: number): string {
  return input.projection.characters[id]?.nick ?? 'someone';
}
