// Effect records -> text for players. Runs after COMMIT only. A record addressed to
// a location reaches every player present there at that point of the batch (the
// Mirror); one body string is shared by everyone who reads it the same way.
// Perspective is decided here: "You take the key." / "Alice takes the key."
import { CARRY_WEIGHT_MAX, characterOf, Cmd, DIRECTIONS, EFFECT_I32S, Fx, isCharacterCode, Look, PLAYER_HP, Refusal } from '../engines/protocol.ts';
import type { BatchOutput } from '../engines/engine.ts';
import type { Projection, RoomWorld } from '../contextualization/index.ts';
import { Mirror } from './mirror.ts';
import { NAMES_LISTED_MAX, THINGS_LISTED_MAX } from '../constants.ts';

export interface Message {
  /** The character who receives it. */
  readonly to: number;
  /** A player speaking (their nick), or the game itself (null: the bare room JID). */
  readonly speaker: string | null;
  readonly body: string;
  /** The command whose id and origin-id this carries: the speaker's own say or emote coming back. */
  readonly reflects?: number;
  /** The command this confirms to its sender (a whisper's "You whisper..."). */
  readonly answers?: number;
  /** A whisper: sent as a MUC private message from the speaker (XEP-0045 §7.5). */
  readonly private?: boolean;
  /** A description: the same place as data, for pages and bots that should not parse the prose. */
  readonly place?: Place;
}

/** What a description shows, as data: the same names, in the same order, cut at the same crowd limits. */
export interface Place {
  /** The location's key in the world file. */
  readonly key: string;
  readonly title: string;
  readonly exits: readonly string[];
  readonly things: readonly string[];
  /** Things past THINGS_LISTED_MAX, not named. */
  readonly moreThings: number;
  readonly people: readonly string[];
  /** People past NAMES_LISTED_MAX, not named. */
  readonly morePeople: number;
}

/** A line spoken in public (say, emote): what a join there gets as history (XEP-0045 §7.2.15). */
export interface Speech {
  /** The location where it was heard. */
  readonly where: number;
  readonly speaker: string;
  readonly body: string;
}

export interface Rendered {
  readonly messages: Message[];
  readonly speech: Speech[];
}

/** Text a command carried (say, emote, whisper), with the index of that command in its batch. */
export interface BatchText {
  readonly text: string;
  readonly command: number;
}

export interface RenderInput {
  readonly world: RoomWorld;
  /** The committed state the batch started from. */
  readonly before: Projection;
  /** The state it committed (names of characters the batch created). */
  readonly after: Projection;
  readonly texts: readonly BatchText[];
}

interface EffectRecord {
  readonly template: number;
  readonly a: number;
  readonly b: number;
  readonly c: number;
}

export function render(output: BatchOutput, input: RenderInput): Rendered {
  const r = new Renderer(input, new Mirror(input.before, input.after.characters.length, output.changes));
  const fx = output.effects;
  for (let i = 0; i < fx.length; i += EFFECT_I32S) {
    r.mirror.advance(fx[i + 6]!);
    const record = { template: fx[i + 1]!, a: fx[i + 2]!, b: fx[i + 3]!, c: fx[i + 4]! };
    let end = i + EFFECT_I32S;
    const candidates: number[] = [];
    while (end < fx.length && fx[end + 1] === Fx.candidate) {
      candidates.push(fx[end + 2]!);
      end += EFFECT_I32S;
    }
    r.effect(fx[i]!, fx[i + 5]!, record, candidates);
    i = end - EFFECT_I32S;
  }
  return { messages: r.out, speech: r.speech };
}

class Renderer {
  readonly out: Message[] = [];
  readonly speech: Speech[] = [];
  constructor(private readonly input: RenderInput, readonly mirror: Mirror) {}

  effect(audience: number, except: number, e: EffectRecord, candidates: number[]): void {
    const listeners = audience >= 0 ? [audience] : [...this.mirror.at(-audience - 1)].filter((id) => id !== except);
    // A crowd is not told of each coming and going: a look there names a few and counts the rest.
    if (audience < 0 && (e.template === Fx.arrive || e.template === Fx.depart) && listeners.length > NAMES_LISTED_MAX) return;
    if (audience < 0 && (e.template === Fx.say || e.template === Fx.emote)) {
      this.speech.push({ where: -audience - 1, speaker: this.nick(e.a), body: this.body(-1, e, candidates) });
    }
    // Bodies are built once per point of view: the actor, the one acted on, everyone else.
    const bodies = new Map<string, string>();
    for (const to of listeners) {
      if (this.isNpc(to)) continue;
      const view = to === e.a ? 'a' : to === e.b ? 'b' : to === e.c ? 'c' : 'other';
      let body = bodies.get(view);
      if (body === undefined) bodies.set(view, (body = this.body(to, e, candidates)));
      this.out.push({ to, ...this.envelope(to, e), body, ...(e.template === Fx.description ? { place: this.place(to, e.a) } : {}) });
    }
  }

  private envelope(to: number, e: EffectRecord): Omit<Message, 'to' | 'body'> {
    const { template, a, b, c } = e;
    if (template === Fx.say || template === Fx.emote) {
      return { speaker: this.nick(a), ...(to === a ? { reflects: this.input.texts[b]?.command } : {}) };
    }
    if (template === Fx.whisper) {
      return to === b ? { speaker: this.nick(a), private: true } : { speaker: null, answers: this.input.texts[c]?.command };
    }
    return { speaker: null };
  }

  private body(to: number, { template, a, b, c }: EffectRecord, candidates: number[]): string {
    const you = (id: number) => id === to;
    const name = (id: number, start = false) => (you(id) ? (start ? 'You' : 'you') : this.name(id, start));
    const item = (id: number) => `the ${this.input.world.items[id]?.name ?? 'thing'}`;
    const verb = (id: number, second: string, third: string) => `${name(id, true)} ${you(id) ? second : third}`;
    switch (template) {
      case Fx.description: return this.description(to, a);
      case Fx.arrive: return b === -1 ? `${this.name(a, true)} has entered the world.` : b === -2 ? `${this.name(a, true)} appears.` : `${this.name(a, true)} arrives from ${fromDirection(b)}.`;
      case Fx.depart: return b < 0 ? `${this.name(a, true)} has left the world.` : `${this.name(a, true)} leaves ${DIRECTIONS[b]}.`;
      case Fx.say: return this.text(b);
      case Fx.emote: return `/me ${this.text(b)}`; // XEP-0245: clients show it as an action
      case Fx.noExit: return `You can't go ${DIRECTIONS[a]} from here.`;
      case Fx.locked: return `The way ${DIRECTIONS[a]} is locked. You need to carry its key.`;
      case Fx.who: return this.who();
      case Fx.notPresent: return 'You are not in this world: join the room first.';
      case Fx.whisper: return to === b ? this.text(c) : `You whisper to ${this.nick(b)}: ${this.text(c)}`;
      case Fx.inventory: return this.inventory(a);
      case Fx.notFound: return NOT_FOUND[a] ?? NOT_FOUND[Look.here]!;
      case Fx.ambiguous: return `Which do you mean: ${candidates.map((code) => this.nameOfCode(code)).join(' or ')}?`;
      case Fx.take: return `${verb(a, 'take', 'takes')} ${item(b)}.`;
      case Fx.drop: return `${verb(a, 'drop', 'drops')} ${item(b)}.`;
      case Fx.give: return `${verb(a, 'give', 'gives')} ${item(b)} to ${name(c)}.`;
      case Fx.tooHeavy: return you(b) ? `You can't carry ${item(a)} as well: you can carry a weight of ${CARRY_WEIGHT_MAX} at most.` : `${this.name(b, true)} can't carry ${item(a)} as well.`;
      case Fx.refuses: return `${this.name(a, true)} doesn't want ${item(b)}.`;
      case Fx.thanks: return this.thanks(to, a, b, c);
      case Fx.examine: return this.examine(a);
      case Fx.attack: return c === 0 ? `${verb(a, 'swing at', 'swings at')} ${name(b)} and ${you(a) ? 'miss' : 'misses'}.` : `${verb(a, 'hit', 'hits')} ${name(b)} (${c} damage${you(b) ? `, health ${this.mirror.hp[b]! - c > 0 ? this.mirror.hp[b]! - c : 0}/${this.maxHp(b)}` : ''}).`;
      case Fx.died: return you(a) ? `${this.name(b, true)} has killed you!` : `${verb(b, 'have killed', 'has killed')} ${this.name(a)}!`;
      case Fx.respawn: return `You wake up in ${this.input.world.locations[b]?.title ?? 'the world'}, whole again. What you carried lies where you fell.`;
      case Fx.notYourself: return "You can't do that to yourself.";
      case Fx.fade: return this.fade(a);
      case Fx.dug: return you(a) ? `You dig a way ${DIRECTIONS[b]} to ${this.title(c)}; its way back leads ${DIRECTIONS[opposite(b)]}.` : `${this.name(a, true)} digs a way ${DIRECTIONS[b]}.`;
      case Fx.titled: return you(a) ? `This place is now called ${this.title(b)}.` : `${this.name(a, true)} renames this place ${this.title(b)}.`;
      case Fx.described: return you(a) ? 'You describe this place anew. Type look to see it.' : `${this.name(a, true)} changes how this place looks.`;
      case Fx.exitMade: return you(a) ? `You open a way ${DIRECTIONS[b]} to ${this.title(c)}.` : `${this.name(a, true)} opens a way ${DIRECTIONS[b]}.`;
      case Fx.exitRemoved: return `${verb(a, 'close', 'closes')} the way ${DIRECTIONS[b]}.`;
      case Fx.lockMade: return you(a) ? `You lock the way ${DIRECTIONS[b]}: only someone carrying ${item(c)} may pass.` : `${this.name(a, true)} locks the way ${DIRECTIONS[b]}.`;
      case Fx.created: return `${verb(a, 'make', 'makes')} ${item(b)}.`;
      case Fx.destroyed: return `${verb(a, 'destroy', 'destroys')} ${item(b)}.`;
      case Fx.npcMade: return `${verb(a, 'bring', 'brings')} ${this.name(b)} to life.`;
      case Fx.undone: return `${verb(a, 'undo', 'undoes')} ${commandWord(b)}.`;
      case Fx.buildRefused: return refusal(a, b, (i) => item(i));
      default: return `(unknown effect ${template})`;
    }
  }

  private description(viewer: number, location: number): string {
    const place = this.input.world.locations[location]!;
    const lines = [place.title, place.description];
    const things = this.mirror.itemsAt(location);
    if (things.length > 0) lines.push(`You see: ${listed(things, THINGS_LISTED_MAX, (i) => this.input.world.items[i]!.name, 'more things')}.`);
    const people = [...this.mirror.at(location)].filter((id) => id !== viewer).sort((x, y) => x - y);
    if (people.length > 0) lines.push(`Also here: ${listed(people, NAMES_LISTED_MAX, (id) => this.nick(id), 'others')}`);
    lines.push(exitsLine(this.input.world, location));
    return lines.join('\n');
  }

  private place(viewer: number, location: number): Place {
    const { key, title } = this.input.world.locations[location]!;
    const things = this.mirror.itemsAt(location).map((i) => this.input.world.items[i]!.name);
    const people = [...this.mirror.at(location)].filter((id) => id !== viewer).sort((x, y) => x - y).map((id) => this.nick(id));
    return {
      key, title, exits: exitNames(this.input.world, location),
      things: things.slice(0, THINGS_LISTED_MAX), moreThings: Math.max(0, things.length - THINGS_LISTED_MAX),
      people: people.slice(0, NAMES_LISTED_MAX), morePeople: Math.max(0, people.length - NAMES_LISTED_MAX),
    };
  }

  /** One line per player, except in a crowded place: one line for the place, naming the first NAMES_LISTED_MAX. */
  private who(): string {
    const players = this.input.after.characters.filter((c) => !this.isNpc(c.id) && this.mirror.present[c.id]);
    const byPlace = new Map<number, string[]>();
    for (const c of players) {
      const at = this.mirror.location[c.id]!;
      let here = byPlace.get(at);
      if (!here) byPlace.set(at, (here = []));
      here.push(c.nick);
    }
    const title = (at: number) => this.input.world.locations[at]?.title ?? '?';
    const lines = [...byPlace].flatMap(([at, nicks]) => (nicks.length <= NAMES_LISTED_MAX
      ? nicks.map((nick) => `  ${nick} - ${title(at)}`)
      : [`  ${title(at)} (${nicks.length}): ${listed(nicks, NAMES_LISTED_MAX, (n) => n, 'others')}`]));
    return [`Players in ${this.input.world.title} (${players.length}):`, ...lines].join('\n');
  }

  private inventory(whose: number): string {
    const items = this.mirror.carriedBy(whose).map((i) => this.input.world.items[i]!);
    const weight = items.reduce((sum, i) => sum + i.weight, 0);
    const carrying = items.length === 0 ? 'You are carrying nothing.' : `You are carrying: ${items.map((i) => i.name).join(', ')} (weight ${weight} of ${CARRY_WEIGHT_MAX}).`;
    return `${carrying}\nHealth: ${this.mirror.hp[whose]}/${this.maxHp(whose)}.`;
  }

  private examine(code: number): string {
    if (!isCharacterCode(code)) {
      const item = this.input.world.items[code]!;
      return `${capitalize(item.name)}: ${item.description}\nWeight ${item.weight}${item.damage > 0 ? `, a weapon (+${item.damage} damage)` : ''}.`;
    }
    const id = characterOf(code);
    const carried = this.mirror.carriedBy(id).map((i) => this.input.world.items[i]!.name);
    const about = this.isNpc(id) ? this.input.world.npcs.get(id)!.description : `${this.nick(id)} is a traveller in ${this.input.world.title}.`;
    const holding = carried.length === 0 ? '' : `\nCarrying: ${carried.join(', ')}.`;
    return `${about}\nHealth: ${this.mirror.hp[id]}/${this.maxHp(id)}.${holding}`;
  }

  /** A guest let go: the record comes before its things drop, so what it carries now is what is left here. */
  private fade(who: number): string {
    const left = this.mirror.carriedBy(who).map((i) => `the ${this.input.world.items[i]!.name}`);
    const name = this.name(who, true);
    if (left.length === 0) return `${name} fades from the world.`;
    const things = left.length === 1 ? left[0]! : `${left.slice(0, -1).join(', ')} and ${left.at(-1)!}`;
    return `${name} fades from the world, leaving ${things} here.`;
  }

  private thanks(to: number, npc: number, giver: number, item: number): string {
    const said = `${this.name(npc, true)} says: "${this.input.world.npcs.get(npc)?.thanks ?? 'Thank you.'}"`;
    const thing = this.input.world.items[item]?.name ?? 'thing';
    if (to === giver) return `You give the ${thing} to ${this.name(npc)}.\n${said}\nQuest complete!`;
    return `${this.name(giver, true)} gives the ${thing} to ${this.name(npc)}.\n${said}`;
  }

  private title(location: number): string {
    return this.input.world.locations[location]?.title ?? 'somewhere';
  }

  private nameOfCode(code: number): string {
    return isCharacterCode(code) ? this.name(characterOf(code)) : `the ${this.input.world.items[code]?.name ?? 'thing'}`;
  }

  private text(index: number): string {
    return this.input.texts[index]?.text ?? '';
  }

  private isNpc(id: number): boolean {
    return this.input.world.npcs.has(id);
  }

  private maxHp(id: number): number {
    return this.isNpc(id) ? this.input.world.npcHp[id]! : PLAYER_HP;
  }

  private nick(id: number): string {
    return this.input.after.characters[id]?.nick ?? 'someone';
  }

  /** Players and proper-named NPCs as they are; "giant rat" is "the giant rat". */
  private name(id: number, start = false): string {
    const nick = this.nick(id);
    const named = this.isNpc(id) && nick[0] === nick[0]?.toLowerCase() ? `the ${nick}` : nick;
    return start ? capitalize(named) : named;
  }
}

const NOT_FOUND: Record<number, string> = {
  [Look.here]: "You don't see that here.",
  [Look.carried]: "You aren't carrying that.",
  [Look.person]: 'There is nobody like that here.',
  [Look.player]: 'There is no player by that name in this world right now.',
};

/** "a, b, c", or past `max` names "a, b and 187 others": a crowd reads like a game, not a phone book. */
function listed<T>(all: readonly T[], max: number, name: (x: T) => string, rest: string): string {
  if (all.length <= max) return all.map(name).join(', ');
  return `${all.slice(0, max).map(name).join(', ')} and ${all.length - max} ${rest}`;
}

const capitalize = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
const opposite = (d: number) => (d < 4 ? (d + 2) % 4 : d ^ 1);

/** Why a building command changed nothing, with what to do instead. */
/** A building command's kind as its builder typed it (`@dig`). */
function commandWord(kind: number): string {
  const name = Object.entries(Cmd).find(([, k]) => k === kind)?.[0];
  return name === undefined ? 'building command' : `@${name}`;
}

/** Why an @undo of that kind of step found its result changed by someone since. */
const CHANGED_SINCE: Record<number, string> = {
  [Cmd.dig]: 'the way there or back was changed since, or someone is there',
  [Cmd.exit]: 'that way was changed or locked since',
  [Cmd.unexit]: 'a way was made there since',
  [Cmd.lock]: 'that way was unlocked, relocked or removed since',
  [Cmd.create]: 'the thing is gone since, or it opens a way or a creature waits for it',
  [Cmd.destroy]: 'the thing is back since',
  [Cmd.npc]: 'the creature is gone since',
};

function refusal(reason: number, arg: number, item: (i: number) => string): string {
  switch (reason) {
    case Refusal.exitExists: return `There is a way ${DIRECTIONS[arg]} from here already; @unexit ${DIRECTIONS[arg]} first.`;
    case Refusal.noExit: return `There is no way ${DIRECTIONS[arg]} from here.`;
    case Refusal.noPlace: return 'There is no place by that name in this world: name it by its key or its title.';
    case Refusal.placesMax: return `This world has ${arg} places, as many as a world may have.`;
    case Refusal.itemsMax: return `This world has ${arg} things, as many as a world may have.`;
    case Refusal.npcsMax: return `This world has ${arg} creatures, as many as a world may have.`;
    case Refusal.isKey: return `${capitalize(item(arg))} is needed: it opens a way (@unexit that way first) or a creature is waiting for it.`;
    case Refusal.nothingToUndo: return 'You have nothing to undo.';
    case Refusal.changedSince: return `You cannot undo your last ${commandWord(arg)}: ${CHANGED_SINCE[arg] ?? 'it was changed since'}. That step is forgotten.`;
    default: return 'That cannot be built.';
  }
}

export function exitsLine(world: RoomWorld, location: number): string {
  const names = exitNames(world, location);
  return `Exits: ${names.length === 0 ? 'none' : names.join(', ')}`;
}

function exitNames(world: RoomWorld, location: number): string[] {
  return DIRECTIONS.filter((_, d) => world.exits[location * DIRECTIONS.length + d]! >= 0);
}

function fromDirection(d: number): string {
  const name = DIRECTIONS[d]!;
  return name === 'up' ? 'above' : name === 'down' ? 'below' : `the ${name}`;
}
