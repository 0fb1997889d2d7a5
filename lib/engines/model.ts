// The `model` engine: the rules written for reading, one small reducer per command
// over an Immer draft of the room. It is the oracle the differential property holds
// the kernel to (spec/engines/differential.spec.ts), and the "before" baseline that
// `npm run bench:engines` measures the kernel against. Clarity over speed here.
import { produce, type Draft } from 'immer';
import { assert } from '../assert.ts';
import type { BatchInput, BatchOutput, Engine, EngineState, Spare, WorldMap } from './engine.ts';
import {
  CARRY_WEIGHT_MAX, carriedBy, CHANGE_I32S, characterOf, Cmd, COMMAND_I32S, DIRECTION_COUNT, Entity, everyoneAt, Field,
  FLAG_CREATED, FLAG_NPC, FLAG_PRESENT, FLAG_QUEST, FLAG_RELEASED, Fx, isCharacterCode, MATCHES_PER_NAME_MAX, PLAYER_DAMAGE, PLAYER_HP, seedChange, UNDO_I32S,
} from './protocol.ts';
import { build } from './model-building.ts';
import { undoOrNone } from './layout.ts';

interface Character { location: number; flags: number; hp: number }
/** The map as the rules read and building writes it (WorldMap, as plain arrays in the draft). */
export interface MapState {
  locationCount: number;
  startLocation: number;
  exits: number[];
  locks: number[];
  itemWeight: number[];
  itemDamage: number[];
  itemHome: number[];
  /** Per character, up to the last NPC. */
  npcHp: number[];
  npcDamage: number[];
  npcHome: number[];
  npcWander: number[];
  npcWants: number[];
  /** The @undo rings, UNDO_I32S per character; a cell never written is 0. */
  undo: number[];
}
interface Room {
  seed: number;
  characters: Character[];
  itemPlace: number[];
  map: MapState;
}

export type Scope = 'here' | 'carried' | 'person' | 'player' | 'any' | 'thing';
const NOT_FOUND_WHERE: Record<Scope, number> = { here: 0, carried: 1, person: 2, player: 3, any: 0, thing: 0 };

/** One batch being applied: the draft, the world and the records written so far. */
export class Turn {
  readonly changes: number[] = [];
  readonly effects: number[] = [];
  constructor(readonly room: Draft<Room>, readonly matches: Int32Array) {}

  get map(): Draft<MapState> {
    return this.room.map;
  }

  // ---- reading the room ----
  isPresent = (c: number) => (this.room.characters[c]!.flags & FLAG_PRESENT) !== 0;
  isNpc = (c: number) => (this.room.characters[c]!.flags & FLAG_NPC) !== 0;
  isReleased = (c: number) => (this.room.characters[c]!.flags & FLAG_RELEASED) !== 0;
  where = (c: number) => this.room.characters[c]!.location;
  carried = (c: number) => this.room.itemPlace.flatMap((place, item) => (place === carriedBy(c) ? [item] : []));
  weightCarried = (c: number) => this.carried(c).reduce((sum, item) => sum + this.map.itemWeight[item]!, 0);

  // ---- writing: every change is logged, every effect marked with the changes before it ----
  tell(to: number, template: number, a = 0, b = 0, c = 0): void {
    this.effects.push(to, template, a, b, c, -1, this.changes.length / CHANGE_I32S);
  }
  broadcast(location: number, except: number, template: number, a = 0, b = 0, c = 0): void {
    this.effects.push(everyoneAt(location), template, a, b, c, except, this.changes.length / CHANGE_I32S);
  }
  setLocation(c: number, location: number): void {
    this.room.characters[c]!.location = location;
    this.changes.push(Entity.character, c, Field.location, location);
  }
  setFlag(c: number, flag: number, field: number, on: boolean): void {
    const character = this.room.characters[c]!;
    character.flags = on ? character.flags | flag : character.flags & ~flag;
    this.changes.push(Entity.character, c, field, on ? 1 : 0);
  }
  setHp(c: number, hp: number): void {
    this.room.characters[c]!.hp = hp;
    this.changes.push(Entity.character, c, Field.hp, hp);
  }
  setPlace(item: number, place: number): void {
    this.room.itemPlace[item] = place;
    this.changes.push(Entity.item, item, Field.place, place);
  }

  /** xorshift32 over the room's seed: the same draws as the kernel, in the same order. */
  random(below: number): number {
    let x = this.room.seed === 0 ? 1 : this.room.seed;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.room.seed = x;
    return (x >>> 1) % below;
  }

  /** The one thing a match list names that the actor can see from where they are, or null (and the actor is told why). */
  resolve(actor: number, offset: number, count: number, scope: Scope): number | null {
    assert(count >= 0 && count <= MATCHES_PER_NAME_MAX, 'a match list is bounded');
    const seen = Array.from(this.matches.subarray(offset, offset + count)).filter((code) => this.visible(actor, code, scope));
    if (seen.length === 1) return seen[0]!;
    if (seen.length === 0) this.tell(actor, Fx.notFound, NOT_FOUND_WHERE[scope]);
    else {
      this.tell(actor, Fx.ambiguous, seen.length);
      for (const code of seen) this.tell(actor, Fx.candidate, code);
    }
    return null;
  }

  private visible(actor: number, code: number, scope: Scope): boolean {
    const here = this.where(actor);
    if (!isCharacterCode(code)) {
      const place = this.room.itemPlace[code];
      assert(place !== undefined, 'an item code names an item');
      if (scope === 'here') return place === here;
      if (scope === 'carried') return place === carriedBy(actor);
      if (scope === 'any' || scope === 'thing') return place === here || place === carriedBy(actor);
      return false;
    }
    const c = characterOf(code);
    assert(c < this.room.characters.length, 'a character code names a character');
    if (!this.isPresent(c)) return false;
    if (scope === 'thing') return false;
    if (scope === 'player') return !this.isNpc(c);
    return (scope === 'person' || scope === 'any') && this.where(c) === here;
  }
}

export type Reducer = (t: Turn, actor: number, a: number, b: number, c: number, d: number) => void;

const describe = (t: Turn, viewer: number) => t.tell(viewer, Fx.description, t.where(viewer));

export const opposite = (direction: number) => (direction < 4 ? (direction + 2) % 4 : direction ^ 1);

function walk(t: Turn, c: number, direction: number, to: number): void {
  t.broadcast(t.where(c), c, Fx.depart, c, direction);
  t.setLocation(c, to);
  t.broadcast(to, c, Fx.arrive, c, opposite(direction));
}

const join: Reducer = (t, actor) => {
  if ((t.room.characters[actor]!.flags & FLAG_CREATED) === 0) {
    t.setFlag(actor, FLAG_CREATED, Field.created, true);
    t.setHp(actor, PLAYER_HP);
    t.setLocation(actor, t.map.startLocation);
  } else if (t.isReleased(actor)) {
    // Its owner came back in the batch that let it go: it starts again, with nothing.
    t.setFlag(actor, FLAG_RELEASED, Field.released, false);
    t.setHp(actor, PLAYER_HP);
    t.setLocation(actor, t.map.startLocation);
  }
  if (!t.isPresent(actor)) {
    t.setFlag(actor, FLAG_PRESENT, Field.present, true);
    t.broadcast(t.where(actor), actor, Fx.arrive, actor, -1);
  }
  describe(t, actor);
};

const leave: Reducer = (t, actor) => {
  t.setFlag(actor, FLAG_PRESENT, Field.present, false);
  t.broadcast(t.where(actor), actor, Fx.depart, actor, -1);
};

/** An absent guest's character is let go: its things drop where it stood, and those there see it fade. */
const release: Reducer = (t, actor) => {
  if ((t.room.characters[actor]!.flags & FLAG_CREATED) === 0 || t.isPresent(actor) || t.isReleased(actor)) return;
  const here = t.where(actor);
  t.broadcast(here, actor, Fx.fade, actor);
  for (const item of t.carried(actor)) t.setPlace(item, here);
  t.setFlag(actor, FLAG_RELEASED, Field.released, true);
};

const go: Reducer = (t, actor, direction) => {
  assert(direction >= 0 && direction < DIRECTION_COUNT, 'a direction');
  const door = t.where(actor) * DIRECTION_COUNT + direction;
  const to = t.map.exits[door]!;
  const key = t.map.locks[door]!;
  if (to < 0) return t.tell(actor, Fx.noExit, direction);
  if (key >= 0 && t.room.itemPlace[key] !== carriedBy(actor)) return t.tell(actor, Fx.locked, direction);
  walk(t, actor, direction, to);
  describe(t, actor);
};

const whisper: Reducer = (t, actor, offset, count, text) => {
  const code = t.resolve(actor, offset, count, 'player');
  if (code === null) return;
  const listener = characterOf(code);
  if (listener === actor) return t.tell(actor, Fx.notYourself);
  t.tell(listener, Fx.whisper, actor, listener, text);
  t.tell(actor, Fx.whisper, actor, listener, text);
};

const take: Reducer = (t, actor, offset, count) => {
  const item = t.resolve(actor, offset, count, 'here');
  if (item === null) return;
  if (t.weightCarried(actor) + t.map.itemWeight[item]! > CARRY_WEIGHT_MAX) return t.tell(actor, Fx.tooHeavy, item, actor);
  t.setPlace(item, carriedBy(actor));
  t.broadcast(t.where(actor), -1, Fx.take, actor, item);
};

const drop: Reducer = (t, actor, offset, count) => {
  const item = t.resolve(actor, offset, count, 'carried');
  if (item === null) return;
  t.setPlace(item, t.where(actor));
  t.broadcast(t.where(actor), -1, Fx.drop, actor, item);
};

const give: Reducer = (t, actor, what, whatCount, whom, whomCount) => {
  const item = t.resolve(actor, what, whatCount, 'carried');
  if (item === null) return;
  const code = t.resolve(actor, whom, whomCount, 'person');
  if (code === null) return;
  const receiver = characterOf(code);
  if (receiver === actor) return t.tell(actor, Fx.notYourself);
  if (t.isNpc(receiver)) {
    if (t.map.npcWants[receiver] !== item) return t.tell(actor, Fx.refuses, receiver, item);
    t.setPlace(item, t.map.itemHome[item]!); // back where it is found, for the next player's quest
    if ((t.room.characters[actor]!.flags & FLAG_QUEST) === 0) t.setFlag(actor, FLAG_QUEST, Field.quest, true);
    return t.broadcast(t.where(actor), -1, Fx.thanks, receiver, actor, item);
  }
  if (t.weightCarried(receiver) + t.map.itemWeight[item]! > CARRY_WEIGHT_MAX) return t.tell(actor, Fx.tooHeavy, item, receiver);
  t.setPlace(item, carriedBy(receiver));
  t.broadcast(t.where(actor), -1, Fx.give, actor, item, receiver);
};

const examine: Reducer = (t, actor, offset, count) => {
  const code = t.resolve(actor, offset, count, 'any');
  if (code !== null) t.tell(actor, Fx.examine, code);
};

function damageOf(t: Turn, c: number): number {
  const weapon = Math.max(0, ...t.carried(c).map((item) => t.map.itemDamage[item]!));
  return (t.isNpc(c) ? t.map.npcDamage[c]! : PLAYER_DAMAGE) + weapon;
}

function kill(t: Turn, victim: number, killer: number): void {
  const here = t.where(victim);
  const npc = t.isNpc(victim);
  t.broadcast(here, -1, Fx.died, victim, killer);
  for (const item of t.carried(victim)) t.setPlace(item, here);
  t.setHp(victim, npc ? t.map.npcHp[victim]! : PLAYER_HP);
  const home = npc ? t.map.npcHome[victim]! : t.map.startLocation;
  t.setLocation(victim, home);
  t.broadcast(home, victim, Fx.arrive, victim, -2);
  if (!npc) {
    t.tell(victim, Fx.respawn, victim, home);
    describe(t, victim);
  }
}

/** Three blows in four land, for 1..damage. True when it killed. */
function strike(t: Turn, attacker: number, target: number): boolean {
  const damage = t.random(4) === 0 ? 0 : 1 + t.random(damageOf(t, attacker));
  t.broadcast(t.where(attacker), -1, Fx.attack, attacker, target, damage);
  if (damage === 0) return false;
  const hp = t.room.characters[target]!.hp - damage;
  if (hp <= 0) {
    kill(t, target, attacker);
    return true;
  }
  t.setHp(target, hp);
  return false;
}

const attack: Reducer = (t, actor, offset, count) => {
  const code = t.resolve(actor, offset, count, 'person');
  if (code === null) return;
  const target = characterOf(code);
  if (target === actor) return t.tell(actor, Fx.notYourself);
  if (!strike(t, actor, target) && t.isNpc(target)) strike(t, target, actor); // NPCs fight back
};

/** The world's turn: each wandering NPC, one in three times, takes a random open exit. */
function tick(t: Turn): void {
  t.map.npcWander.forEach((wanders, npc) => {
    if (!t.isNpc(npc) || wanders === 0 || !t.isPresent(npc) || t.random(3) !== 0) return;
    const from = t.where(npc) * DIRECTION_COUNT;
    const open = [0, 1, 2, 3, 4, 5].filter((d) => t.map.exits[from + d]! >= 0 && t.map.locks[from + d]! < 0);
    if (open.length === 0) return;
    const direction = open[t.random(open.length)]!;
    walk(t, npc, direction, t.map.exits[from + direction]!);
  });
}

const REDUCERS: Record<number, Reducer> = {
  [Cmd.leave]: leave,
  [Cmd.kick]: leave, // the kicked character leaves; who kicked and why are the host's
  [Cmd.look]: (t, actor) => describe(t, actor),
  [Cmd.go]: go,
  [Cmd.say]: (t, actor, text) => t.broadcast(t.where(actor), -1, Fx.say, actor, text),
  [Cmd.emote]: (t, actor, text) => t.broadcast(t.where(actor), -1, Fx.emote, actor, text),
  [Cmd.who]: (t, actor) => t.tell(actor, Fx.who),
  [Cmd.whisper]: whisper,
  [Cmd.inventory]: (t, actor) => t.tell(actor, Fx.inventory, actor),
  [Cmd.take]: take,
  [Cmd.drop]: drop,
  [Cmd.give]: give,
  [Cmd.examine]: examine,
  [Cmd.attack]: attack,
  [Cmd.rename]: () => {}, // names live in the host
  ...build,
};

function apply(t: Turn, kind: number, actor: number, a: number, b: number, c: number, d: number): void {
  if (kind === Cmd.tick) return tick(t);
  if (kind === Cmd.affiliate) return; // affiliations live in the host; no character acts
  assert(actor >= 0 && actor < t.room.characters.length && !t.isNpc(actor), 'players act');
  if (kind === Cmd.join) return join(t, actor, a, b, c, d);
  if (kind === Cmd.release) return release(t, actor, a, b, c, d);
  if (!t.isPresent(actor)) {
    if (kind !== Cmd.leave && kind !== Cmd.kick) t.tell(actor, Fx.notPresent);
    return;
  }
  const reducer = REDUCERS[kind];
  assert(reducer !== undefined, `a command kind ${kind}`);
  reducer(t, actor, a, b, c, d);
}

export class ModelEngine implements Engine {
  readonly name = 'model';
  private room: Room;

  constructor(private readonly map: WorldMap) {
    this.room = { seed: 0, characters: [], itemPlace: Array.from(map.itemWeight, () => 0), map: mapState(map) };
  }

  load(state: EngineState): void {
    this.room = {
      seed: state.seed,
      characters: Array.from(state.location, (location, i) => ({ location, flags: state.flags[i]!, hp: state.hp[i]! })),
      itemPlace: Array.from(state.itemPlace),
      map: mapState(state.map ?? this.map),
    };
  }

  /** The model's arrays grow as they are written. */
  reserve(_spare: Spare): void {}

  run(batch: BatchInput): BatchOutput {
    let turn!: Turn;
    const before = this.room.seed;
    this.room = produce(this.room, (draft) => {
      turn = new Turn(draft, batch.matches);
      const cmd = batch.commands;
      for (let i = 0; i < cmd.length; i += COMMAND_I32S) apply(turn, cmd[i]!, cmd[i + 1]!, cmd[i + 2]!, cmd[i + 3]!, cmd[i + 4]!, cmd[i + 5]!);
    });
    const changes = Int32Array.from(turn.changes);
    return {
      changes: this.room.seed === before ? changes : Int32Array.from([...changes, ...seedChange(this.room.seed)]),
      effects: Int32Array.from(turn.effects),
    };
  }

  snapshot(): Required<EngineState> {
    const cs = this.room.characters;
    const m = this.room.map;
    return {
      seed: this.room.seed,
      location: Int32Array.from(cs, (c) => c.location),
      flags: Int32Array.from(cs, (c) => c.flags),
      hp: Int32Array.from(cs, (c) => c.hp),
      itemPlace: Int32Array.from(this.room.itemPlace),
      map: {
        locationCount: m.locationCount, startLocation: m.startLocation,
        exits: Int32Array.from(m.exits), locks: Int32Array.from(m.locks),
        itemWeight: Int32Array.from(m.itemWeight), itemDamage: Int32Array.from(m.itemDamage), itemHome: Int32Array.from(m.itemHome),
        npcHp: Int32Array.from(m.npcHp), npcDamage: Int32Array.from(m.npcDamage), npcHome: Int32Array.from(m.npcHome),
        npcWander: Int32Array.from(m.npcWander), npcWants: Int32Array.from(m.npcWants),
        ...undoOrNone(Int32Array.from({ length: cs.length * UNDO_I32S }, (_, i) => m.undo[i] ?? 0)),
      },
    };
  }

  memoryBytes(): number {
    return 0;
  }
}

function mapState(map: WorldMap): MapState {
  const doors = map.locationCount * DIRECTION_COUNT;
  return {
    locationCount: map.locationCount, startLocation: map.startLocation,
    exits: Array.from(map.exits.subarray(0, doors)), locks: Array.from(map.locks.subarray(0, doors)),
    itemWeight: Array.from(map.itemWeight), itemDamage: Array.from(map.itemDamage), itemHome: Array.from(map.itemHome),
    npcHp: Array.from(map.npcHp), npcDamage: Array.from(map.npcDamage), npcHome: Array.from(map.npcHome),
    npcWander: Array.from(map.npcWander), npcWants: Array.from(map.npcWants),
    undo: Array.from(map.undo ?? []),
  };
}
