// Contextualization for one batch (DESIGN §3 stage 3): commands become the packed
// numbers the engine takes. Every acting character gets its slot (a first join the
// next free one), words naming things become match lists of candidate entities
// (the engine decides which of them the actor can see), texts stay here.
// Pure: the same room and batch give the same encoding (replay relies on it).
import { characterCode, Cmd, COMMAND_I32S, itemCode, MATCHES_PER_NAME_MAX } from '../engines/protocol.ts';
import { engineStateOf, type Character, type Projection, type RoomWorld } from '../contextualization/index.ts';
import type { Engine } from '../engines/index.ts';
import { NOT_A_BUILDER, nickKey, type Command, type Submission } from '../negotiation/index.ts';
import type { Spare } from '../engines/engine.ts';
import type { BatchText } from '../effects/index.ts';
import type { NewCharacters, Renamed } from '../planning/index.ts';
import { changeOf, type AffiliationChange } from './affiliations.ts';

export interface Encoded {
  readonly commands: Int32Array;
  readonly matches: Int32Array;
  readonly texts: BatchText[];
  readonly created: NewCharacters;
  /** Nick changes (XEP-0045 §7.6): character id -> the new nick; the character stays who it is. */
  readonly renamed: Renamed;
  /** Characters the batch's release commands name (whether each was let go is the engine's call). */
  readonly releasing: ReadonlySet<number>;
  /** The batch's affiliation changes (XEP-0045 §9, §10), in order: the host writes them in the batch's transaction. */
  readonly affiliated: readonly AffiliationChange[];
  /** The command log row: enough to encode the batch again (replay). */
  readonly log: Command[];
  readonly accepted: Submission[];
  /** Commands nobody could act on (their player had not joined, or a join raced another JID for a nick): each is answered, never run. */
  readonly unacted: Submission[];
  /** Commands the room will not run, with the reason to answer (building by a non-builder, a creature named like someone): never run, never logged. */
  readonly declined: { readonly submission: Submission; readonly reason: string }[];
  /** Table room the batch's building commands may need. */
  readonly spare: Spare;
}

/** Commands that change the map: only builders may give them. */
export const BUILDING = new Set<Command['kind']>(['dig', 'title', 'describe', 'exit', 'unexit', 'lock', 'create', 'destroy', 'npc', 'undo']);

const SELF = new Set(['me', 'self', 'myself']);
const NO_ONE: NewCharacters = new Map();

/**
 * Who and what a room's commands can name: a character by its exact nick (the
 * actor), and words -> the entities a player may mean: items and NPCs by name,
 * name word or keyword, players by nick in any case.
 */
export class Names {
  private readonly exact = new Map<string, number>();
  private readonly items = new Map<string, number[]>();
  private readonly npcs = new Map<string, number[]>();
  private readonly players = new Map<string, number[]>();

  constructor(world: RoomWorld, characters: readonly { id: number; nick: string; released?: boolean }[]) {
    world.items.forEach((item, i) => {
      for (const w of wordsOf(item.name, item.keywords)) add(this.items, w, i);
    });
    for (const [i, npc] of world.npcs) {
      for (const w of wordsOf(characters[i]?.nick ?? npc.key, npc.keywords)) add(this.npcs, w, i);
    }
    const held = characters.filter((c) => !c.released);
    held.forEach((c) => this.exact.set(c.nick, c.id));
    for (const c of held) if (!world.npcs.has(c.id)) add(this.players, c.nick.toLowerCase(), c.id);
  }

  /** The committed character with exactly this nick. */
  idOf(nick: string): number | undefined {
    return this.exact.get(nick);
  }

  /** After COMMIT: the characters a batch created can be named from now on, renamed ones by their new nick only, released ones not at all. */
  admit(created: NewCharacters, renamed: Renamed, before: readonly { nick: string }[], released: readonly { id: number; nick: string }[] = []): void {
    for (const [id, { nick }] of created) {
      this.exact.set(nick, id);
      add(this.players, nick.toLowerCase(), id);
    }
    for (const [id, nick] of renamed) {
      const old = before[id]?.nick ?? created.get(id)?.nick;
      if (old !== undefined) {
        this.exact.delete(old);
        remove(this.players, old.toLowerCase(), id);
      }
      this.exact.set(nick, id);
      add(this.players, nick.toLowerCase(), id);
    }
    for (const { id, nick } of released) {
      if (this.exact.get(nick) === id) this.exact.delete(nick);
      remove(this.players, nick.toLowerCase(), id);
    }
  }

  /** Characters a player may mean by `word`: committed ones, and those `joining` in the same batch. */
  persons(word: string, actor: number, joining: NewCharacters = NO_ONE): number[] {
    const w = word.trim().toLowerCase();
    if (SELF.has(w)) return [characterCode(actor)];
    const newcomers = joining.size === 0 ? [] : [...joining].filter(([, c]) => c.nick.toLowerCase() === w).map(([id]) => id);
    return [...(this.players.get(w) ?? []), ...newcomers, ...(this.npcs.get(w) ?? [])].map(characterCode);
  }

  /** Items, then characters, a player may mean by `word`. */
  things(word: string, actor: number, itemsOnly = false, joining: NewCharacters = NO_ONE): number[] {
    const items = (this.items.get(word.trim().toLowerCase()) ?? []).map(itemCode);
    return itemsOnly ? items : [...items, ...this.persons(word, actor, joining)];
  }
}

const NOT_NAMES = new Set(['of', 'the', 'a', 'an', 'and']);

function wordsOf(name: string, keywords: readonly string[]): Set<string> {
  const lower = name.toLowerCase();
  const words = lower.split(/\s+/).filter((w) => !NOT_NAMES.has(w));
  return new Set([lower, ...words, ...keywords.map((k) => k.toLowerCase())]);
}

function add(index: Map<string, number[]>, word: string, id: number): void {
  const ids = index.get(word) ?? [];
  if (!ids.includes(id)) ids.push(id);
  index.set(word, ids);
}

function remove(index: Map<string, number[]>, word: string, id: number): void {
  const ids = (index.get(word) ?? []).filter((other) => other !== id);
  if (ids.length > 0) index.set(word, ids);
  else index.delete(word);
}

export interface EncodeContext {
  readonly world: RoomWorld;
  readonly projection: Projection;
  readonly names: Names;
  /**
   * Whether the bare JID an acting character is bound to may build (owners and
   * admins; the roles engineer wires it). Absent, or false: building commands
   * are answered NOT_A_BUILDER and never run.
   */
  readonly isBuilder?: (jid: string) => boolean;
  /** Is the nick (its RFC 8266 key) held by a character already? A creature made by @npc may not take it. */
  readonly nickHeld?: (key: string) => boolean;
}

/** The place a builder names in @exit: by key, else by title (the first such place), in any case; -1 when there is none. */
export function placeNamed(world: RoomWorld, name: string): number {
  const n = name.trim().toLowerCase();
  const byKey = world.locations.findIndex((l) => l.key.toLowerCase() === n);
  return byKey >= 0 ? byKey : world.locations.findIndex((l) => l.title.toLowerCase() === n);
}

export function encodeBatch(ctx: EncodeContext, batch: readonly Submission[]): Encoded {
  const created = new Map<number, { nick: string; jid: string }>();
  const renamed = new Map<number, string>();
  const releasing = new Set<number>();
  const affiliated: AffiliationChange[] = [];
  const pending = new Map<string, number>();
  const commands = new Int32Array(batch.length * COMMAND_I32S);
  const matches: number[] = [];
  const texts: BatchText[] = [];
  const log: Command[] = [];
  const accepted: Submission[] = [];
  const unacted: Submission[] = [];
  const declined: Encoded['declined'] = [];
  const spare = { locations: 0, items: 0, characters: 0 };
  const npcNames = new Set<string>();
  let slots = ctx.projection.characters.length;
  const list = (codes: number[]) => {
    const kept = codes.slice(0, MATCHES_PER_NAME_MAX);
    matches.push(...kept);
    return [matches.length - kept.length, kept.length];
  };
  for (const submission of batch) {
    const c = submission.command;
    // The world's turn and an affiliation change are nobody's: no character acts.
    let actor = c.kind === 'tick' || c.kind === 'affiliate' ? -1 : (ctx.names.idOf(c.nick) ?? pending.get(c.nick));
    // A nick made earlier in this batch by another JID (who left again) is theirs, not the joiner's.
    const raced = c.kind === 'join' && actor !== undefined && created.has(actor) && created.get(actor)!.jid !== c.jid;
    if (raced || (actor === undefined && (c.kind !== 'join' || c.jid === undefined))) {
      unacted.push(submission);
      continue;
    }
    if (BUILDING.has(c.kind)) {
      const jid = ctx.projection.characters[actor ?? -1]?.jid ?? created.get(actor ?? -1)?.jid;
      if (actor === undefined || jid === undefined || ctx.isBuilder?.(jid) !== true) {
        declined.push({ submission, reason: NOT_A_BUILDER });
        continue;
      }
      if (c.kind === 'npc') {
        const key = nickKey(c.text ?? '');
        if (ctx.nickHeld?.(key) === true || npcNames.has(key) || [...created.values()].some((n) => nickKey(n.nick) === key)) {
          declined.push({ submission, reason: `Someone here is called ${c.text} already; a creature needs a name of its own.` });
          continue;
        }
        npcNames.add(key);
      }
    }
    if (actor === undefined) {
      actor = slots++;
      pending.set(c.nick, actor);
      created.set(actor, { nick: c.nick, jid: c.jid! });
    }
    const index = accepted.length;
    const text = () => texts.push({ text: c.text ?? '', command: index }) - 1;
    let fields: number[] = [];
    if (c.kind === 'rename') {
      const nick = c.whom ?? c.nick;
      renamed.set(actor, nick);
      pending.set(nick, actor); // a leave later in the batch already uses the new nick
    } else if (c.kind === 'release') releasing.add(actor);
    else if (c.kind === 'affiliate') affiliated.push(changeOf(c));
    else if (c.kind === 'go') fields = [c.direction ?? 0];
    else if (c.kind === 'say' || c.kind === 'emote') fields = [text()];
    else if (c.kind === 'whisper') fields = [...list(ctx.names.persons(c.whom ?? '', actor, created)), text()];
    else if (c.kind === 'take' || c.kind === 'drop') fields = list(ctx.names.things(c.what ?? '', actor, true));
    else if (c.kind === 'examine') fields = list(ctx.names.things(c.what ?? '', actor, false, created));
    else if (c.kind === 'give') fields = [...list(ctx.names.things(c.what ?? '', actor, true)), ...list(ctx.names.persons(c.whom ?? '', actor, created))];
    else if (c.kind === 'attack') fields = list(ctx.names.persons(c.whom ?? '', actor, created));
    else if (BUILDING.has(c.kind)) fields = building(ctx, c, actor, text, list, spare);
    commands.set([Cmd[c.kind], actor, ...fields], index * COMMAND_I32S);
    log.push(c);
    accepted.push(submission);
  }
  return {
    commands: commands.subarray(0, accepted.length * COMMAND_I32S), matches: Int32Array.from(matches), texts, created, renamed, releasing, affiliated, log, accepted, unacted,
    declined, spare,
  };
}

/** A building command's fields: texts by index, the way by direction, places by index, things as match lists. */
function building(ctx: EncodeContext, c: Command, actor: number, text: () => number, list: (codes: number[]) => number[], spare: { locations: number; items: number; characters: number }): number[] {
  const direction = c.direction ?? 0;
  switch (c.kind) {
    case 'dig':
      spare.locations++;
      return [direction, text()];
    case 'title': case 'describe': return [text()];
    case 'exit': return [direction, placeNamed(ctx.world, c.place ?? '')];
    case 'unexit': return [direction];
    case 'lock': return [direction, ...list(ctx.names.things(c.what ?? '', actor, true))];
    case 'create':
      spare.items++;
      return [text()];
    case 'destroy': return list(ctx.names.things(c.what ?? '', actor, true));
    case 'npc':
      spare.characters++;
      return [text()];
    default: return [];
  }
}

/** After a batch: the characters its release commands let go (a release of one who came back changes nothing). */
export function releasedBy(encoded: Pick<Encoded, 'releasing'>, next: Projection): Character[] {
  return [...encoded.releasing].map((id) => next.characters[id]!).filter((c) => c.released === true);
}

/**
 * A first join needs a slot: the engine's tables grow, from the committed state, to
 * hold the batch's new characters; building needs room for what it may make.
 */
export function makeResident(engine: Engine, world: RoomWorld, projection: Projection, encoded: Pick<Encoded, 'created' | 'spare'>): void {
  if (encoded.created.size > 0) engine.load(engineStateOf(world, projection, projection.characters.length + encoded.created.size));
  const { spare } = encoded;
  if (spare.locations + spare.items + spare.characters > 0) engine.reserve(spare);
}
