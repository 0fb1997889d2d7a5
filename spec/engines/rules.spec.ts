// The rules, case by case, in all three engines at once (wasm, js, model): each
// case checks what a player would notice, and that the engines agree on it.
import { expect } from 'chai';
import {
  carriedBy, characterCode, Cmd, COMMAND_I32S, compileKernel, DIRECTIONS, DIRECTION_COUNT, EFFECT_I32S, Entity, everyoneAt, Field,
  FLAG_CREATED, FLAG_NPC, FLAG_PRESENT, FLAG_QUEST, FLAG_RELEASED, Fx, KernelEngine, Look, ModelEngine, PLAYER_HP, portableKernel,
  type BatchOutput, type Engine, type EngineState, type WorldMap,
} from '../../lib/engines/index.ts';
import { FluxError } from '../../lib/errors.ts';

const ints = (v: number[]) => Int32Array.from(v);
const dir = (d: (typeof DIRECTIONS)[number]) => DIRECTIONS.indexOf(d);
const wasmModule = compileKernel();
const jsCode = portableKernel();

// Hall (0) -east, locked by the key- Vault (1); Hall -up- Attic (2).
// Items: 0 key (1), 1 anvil (8), 2 sword (3, +3 damage), 3 gem (1, at home in the vault).
// Characters: 0 the guard (NPC, wants the gem), 1 the cat (NPC, wanders), 2 Ann, 3 Bob.
const HALL = 0;
const VAULT = 1;
const ATTIC = 2;
const [KEY, ANVIL, SWORD, GEM] = [0, 1, 2, 3];
const [GUARD, CAT, ANN, BOB] = [0, 1, 2, 3];

function map(): WorldMap {
  const exits = new Int32Array(3 * DIRECTION_COUNT).fill(-1);
  const locks = new Int32Array(3 * DIRECTION_COUNT).fill(-1);
  exits[HALL * DIRECTION_COUNT + dir('east')] = VAULT;
  locks[HALL * DIRECTION_COUNT + dir('east')] = KEY;
  exits[VAULT * DIRECTION_COUNT + dir('west')] = HALL;
  exits[HALL * DIRECTION_COUNT + dir('up')] = ATTIC;
  exits[ATTIC * DIRECTION_COUNT + dir('down')] = HALL;
  return {
    locationCount: 3, startLocation: HALL, exits, locks,
    itemWeight: ints([1, 8, 3, 1]), itemDamage: ints([0, 0, 3, 0]), itemHome: ints([HALL, HALL, HALL, VAULT]),
    npcHp: ints([3, 2]), npcDamage: ints([1, 1]), npcHome: ints([HALL, ATTIC]), npcWander: ints([0, 1]), npcWants: ints([GEM, -1]),
  };
}

function state(overrides: Partial<EngineState> = {}): EngineState {
  const here = FLAG_CREATED | FLAG_PRESENT;
  return {
    seed: 12345,
    location: ints([HALL, ATTIC, HALL, HALL]),
    flags: ints([here | FLAG_NPC, here | FLAG_NPC, here, here]),
    hp: ints([3, 2, PLAYER_HP, PLAYER_HP]),
    itemPlace: ints([HALL, HALL, HALL, HALL]),
    map: map(),
    ...overrides,
  };
}

type Line = [kind: keyof typeof Cmd, actor: number, ...args: number[]];

/** Packs commands; `names` are the match lists the commands' args point to, in order. */
function batch(lines: Line[], matches: number[] = []) {
  const commands = new Int32Array(lines.length * COMMAND_I32S);
  lines.forEach(([kind, actor, ...args], i) => commands.set([Cmd[kind], actor, ...args], i * COMMAND_I32S));
  return { commands, matches: ints(matches) };
}

interface Run { out: BatchOutput; after: EngineState }

/** Runs the batch in every engine from the same state; they must agree. Returns the shared result. */
function play(start: EngineState, b: ReturnType<typeof batch>, commandsMax = 64): Run {
  const engines: Engine[] = [KernelEngine.wasm(wasmModule, map(), commandsMax), KernelEngine.js(jsCode, map(), commandsMax), new ModelEngine(map())];
  const runs = engines.map((e) => {
    e.load(start);
    return { out: e.run(b), after: e.snapshot() };
  });
  const plain = (r: Run) => ({ changes: [...r.out.changes], effects: [...r.out.effects], after: { ...r.after, location: [...r.after.location], flags: [...r.after.flags], hp: [...r.after.hp], itemPlace: [...r.after.itemPlace] } });
  for (const [i, r] of runs.entries()) expect(plain(r), engines[i]!.name).to.deep.equal(plain(runs[0]!));
  return runs[0]!;
}

/** Effect records as [audience, template, a, b, c], marks and exceptions left out. */
function effects(out: BatchOutput): number[][] {
  const rows: number[][] = [];
  for (let i = 0; i < out.effects.length; i += EFFECT_I32S) rows.push([...out.effects.slice(i, i + 5)]);
  return rows;
}

function changes(out: BatchOutput): number[][] {
  const rows: number[][] = [];
  for (let i = 0; i < out.changes.length; i += 4) rows.push([...out.changes.slice(i, i + 4)]);
  return rows;
}

describe('engine rules (wasm, js and model agree on each)', function () {
  it('a first join creates the character at the start with full health, and tells the others there', function () {
    const start = state({ location: ints([HALL, ATTIC, HALL, 0]), flags: ints([7, 7, 3, 0]) });
    const { out } = play(start, batch([['join', BOB]]));
    expect(changes(out)).to.deep.equal([
      [Entity.character, BOB, Field.created, 1], [Entity.character, BOB, Field.hp, PLAYER_HP],
      [Entity.character, BOB, Field.location, HALL], [Entity.character, BOB, Field.present, 1],
    ]);
    expect(effects(out)).to.deep.equal([[everyoneAt(HALL), Fx.arrive, BOB, -1, 0], [BOB, Fx.description, HALL, 0, 0]]);
  });

  it('two players take the same thing in one batch: the first in batch order gets it, the second is told it is not there', function () {
    const { out, after } = play(state(), batch([['take', ANN, 0, 1], ['take', BOB, 0, 1]], [SWORD]));
    expect(after.itemPlace[SWORD]).to.equal(carriedBy(ANN));
    expect(effects(out)).to.deep.equal([[everyoneAt(HALL), Fx.take, ANN, SWORD, 0], [BOB, Fx.notFound, Look.here, 0, 0]]);
  });

  it('a locked way opens for whoever carries its key', function () {
    const { out, after } = play(state(), batch([['go', ANN, dir('east')], ['take', ANN, 0, 1], ['go', ANN, dir('east')]], [KEY]));
    expect(effects(out)[0]).to.deep.equal([ANN, Fx.locked, dir('east'), 0, 0]);
    expect(after.location[ANN]).to.equal(VAULT);
    expect(effects(out).slice(2)).to.deep.equal([
      [everyoneAt(HALL), Fx.depart, ANN, dir('east'), 0], [everyoneAt(VAULT), Fx.arrive, ANN, dir('west'), 0], [ANN, Fx.description, VAULT, 0, 0],
    ]);
  });

  it('nobody carries more than the limit: the anvil and the sword do not go together', function () {
    const { out, after } = play(state(), batch([['take', ANN, 0, 1], ['take', ANN, 1, 1], ['take', ANN, 2, 1]], [ANVIL, SWORD, KEY]));
    expect(effects(out)[1]).to.deep.equal([ANN, Fx.tooHeavy, SWORD, ANN, 0]);
    expect([...after.itemPlace]).to.deep.equal([carriedBy(ANN), carriedBy(ANN), HALL, HALL]);
  });

  it('names that fit several visible things are answered with the candidates; things elsewhere do not count', function () {
    const start = state({ itemPlace: ints([HALL, VAULT, HALL, HALL]) });
    const { out } = play(start, batch([['take', ANN, 0, 3]], [KEY, ANVIL, SWORD]));
    expect(effects(out)).to.deep.equal([[ANN, Fx.ambiguous, 2, 0, 0], [ANN, Fx.candidate, KEY, 0, 0], [ANN, Fx.candidate, SWORD, 0, 0]]);
  });

  it('giving an NPC what it wants completes the quest once, and the thing goes back where it is found', function () {
    const start = state({ itemPlace: ints([HALL, HALL, HALL, carriedBy(ANN)]) });
    const { out, after } = play(start, batch([['give', ANN, 0, 1, 1, 1], ['give', ANN, 2, 1, 1, 1]], [GEM, characterCode(GUARD), SWORD]));
    expect(after.itemPlace[GEM]).to.equal(VAULT);
    expect(after.flags[ANN]! & FLAG_QUEST).to.equal(FLAG_QUEST);
    expect(effects(out)).to.deep.equal([[everyoneAt(HALL), Fx.thanks, GUARD, ANN, GEM], [ANN, Fx.notFound, Look.carried, 0, 0]]);
    expect(changes(out)).to.deep.include([Entity.character, ANN, Field.quest, 1]);
  });

  it('an NPC refuses what it does not want; a player can be handed things', function () {
    const start = state({ itemPlace: ints([carriedBy(ANN), HALL, HALL, HALL]) });
    const { out, after } = play(start, batch([['give', ANN, 0, 1, 1, 1], ['give', ANN, 0, 1, 2, 1]], [KEY, characterCode(GUARD), characterCode(BOB)]));
    expect(effects(out)).to.deep.equal([[ANN, Fx.refuses, GUARD, KEY, 0], [everyoneAt(HALL), Fx.give, ANN, KEY, BOB]]);
    expect(after.itemPlace[KEY]).to.equal(carriedBy(BOB));
  });

  it('combat: the seed decides every blow, NPCs strike back, and death drops what was carried and sends the dead home', function () {
    // Bob carries the key; the guard hits for 1, Bob has 1 hp left: he dies of the first blow that lands.
    const start = state({ hp: ints([3, 2, PLAYER_HP, 1]), itemPlace: ints([carriedBy(BOB), HALL, HALL, HALL]), location: ints([VAULT, ATTIC, HALL, VAULT]) });
    const lines: Line[] = Array.from({ length: 12 }, () => ['attack', BOB, 0, 1]);
    const { out, after } = play(start, batch(lines, [characterCode(GUARD)]));
    const died = effects(out).find((e) => e[1] === Fx.died)!;
    expect(died, 'somebody died within 12 blows').not.to.equal(undefined);
    if (died[2] === BOB) {
      expect(after.itemPlace[KEY], 'the key lies where Bob fell').to.equal(VAULT);
      expect(effects(out)).to.deep.include([BOB, Fx.respawn, BOB, HALL, 0]);
    } else {
      expect(died[2]).to.equal(GUARD);
      expect(after.hp[GUARD], 'the guard is whole again at home').to.equal(3);
    }
    expect(after.seed).not.to.equal(start.seed);
    expect(changes(out).at(-1), 'the new seed is the last change').to.deep.equal([Entity.room, 0, Field.seed, after.seed]);
  });

  it('you cannot attack or whisper to yourself; commands from someone not in the world change nothing', function () {
    const start = state({ flags: ints([7, 7, 3, FLAG_CREATED]) });
    const { out, after } = play(start, batch([['attack', ANN, 0, 1], ['whisper', ANN, 0, 1, 0], ['take', BOB, 1, 1]], [characterCode(ANN), KEY]));
    expect(effects(out)).to.deep.equal([[ANN, Fx.notYourself, 0, 0, 0], [ANN, Fx.notYourself, 0, 0, 0], [BOB, Fx.notPresent, 0, 0, 0]]);
    expect(out.changes).to.have.length(0);
    expect(after).to.deep.equal(start);
  });

  it('a nick change is the host\'s business: the rules write nothing and say nothing for it', function () {
    const { out, after } = play(state(), batch([['rename', ANN]]));
    expect(out.changes).to.have.length(0);
    expect(out.effects).to.have.length(0);
    expect(after).to.deep.equal(state());
  });

  it('a released guest\'s things drop where it stood, those there see it fade, and it is marked released', function () {
    // Bob left from the attic carrying the key and the sword; Ann is in the attic, the guard in the hall.
    const start = state({
      location: ints([HALL, ATTIC, ATTIC, ATTIC]), flags: ints([7, 7, 3, FLAG_CREATED]),
      itemPlace: ints([carriedBy(BOB), HALL, carriedBy(BOB), HALL]),
    });
    const { out, after } = play(start, batch([['release', BOB]]));
    expect(effects(out)).to.deep.equal([[everyoneAt(ATTIC), Fx.fade, BOB, 0, 0]]);
    expect(out.effects[6], 'the fade is marked before the things drop, so the renderer can name them').to.equal(0);
    expect(changes(out)).to.deep.equal([
      [Entity.item, KEY, Field.place, ATTIC], [Entity.item, SWORD, Field.place, ATTIC], [Entity.character, BOB, Field.released, 1],
    ]);
    expect([...after.itemPlace]).to.deep.equal([ATTIC, HALL, ATTIC, HALL]);
    expect(after.flags[BOB]).to.equal(FLAG_CREATED | FLAG_RELEASED);
    const again = play(after, batch([['release', BOB], ['look', BOB]]));
    expect(again.out.changes, 'released once only').to.have.length(0);
    expect(effects(again.out)).to.deep.equal([[BOB, Fx.notPresent, 0, 0, 0]]);
  });

  it('a guest who is back (present), or was never made, is not released', function () {
    const start = state({ flags: ints([7, 7, 0, FLAG_CREATED | FLAG_PRESENT]), itemPlace: ints([carriedBy(BOB), HALL, HALL, HALL]) });
    const { out, after } = play(start, batch([['release', BOB], ['release', ANN]]));
    expect(out.changes).to.have.length(0);
    expect(out.effects).to.have.length(0);
    expect(after).to.deep.equal(start);
  });

  it('a guest joining again in the batch that released it starts over at the start, whole and empty-handed', function () {
    const start = state({ location: ints([HALL, ATTIC, HALL, ATTIC]), flags: ints([7, 7, 3, FLAG_CREATED]), hp: ints([3, 2, PLAYER_HP, 4]), itemPlace: ints([carriedBy(BOB), HALL, HALL, HALL]) });
    const { out, after } = play(start, batch([['release', BOB], ['join', BOB]]));
    expect(after.itemPlace[KEY], 'what it carried stays where it faded').to.equal(ATTIC);
    expect([after.location[BOB], after.hp[BOB], after.flags[BOB]]).to.deep.equal([HALL, PLAYER_HP, FLAG_CREATED | FLAG_PRESENT]);
    expect(effects(out).map((e) => e[1])).to.deep.equal([Fx.fade, Fx.arrive, Fx.description]);
  });

  it('the world tick moves wandering NPCs through open ways only, deterministically', function () {
    const lines: Line[] = Array.from({ length: 30 }, () => ['tick', -1]);
    const { after } = play(state(), batch(lines));
    expect(after.location[GUARD], 'the guard does not wander').to.equal(HALL);
    expect([HALL, ATTIC]).to.include(after.location[CAT]);
    const again = play(state(), batch(lines));
    expect(again.after).to.deep.equal(after);
  });

  it('a batch whose effects overflow the output buffer is resumed and comes out whole', function () {
    const lines: Line[] = Array.from({ length: 60 }, () => ['take', ANN, 0, 4]);
    const { out } = play(state(), batch(lines, [KEY, ANVIL, SWORD, GEM]), 64);
    expect(effects(out)).to.have.length(60 * 5);
  });

  it('keeps its state while growing its tables for more characters, and refuses a batch bigger than its buffer', function () {
    const engine = KernelEngine.wasm(wasmModule, map(), 4);
    const big = 5000;
    const s = state({
      location: ints(Array.from({ length: big }, (_, i) => (i < 2 ? [HALL, ATTIC][i]! : HALL))),
      flags: ints(Array.from({ length: big }, (_, i) => (i < 2 ? 7 : 3))),
      hp: ints(Array.from({ length: big }, () => 5)),
    });
    engine.load(s);
    expect(engine.snapshot()).to.deep.equal(s);
    engine.run(batch([['go', big - 1, dir('up')]]));
    expect(engine.snapshot().location[big - 1]).to.equal(ATTIC);
    expect(engine.memoryBytes()).to.be.above(big * 12);
    expect(() => engine.run(batch(Array.from({ length: 5 }, (): Line => ['look', 2])))).to.throw(/fits the command buffer/);
    const capped = KernelEngine.wasm(wasmModule, map(), 4, 4);
    const many = new Int32Array(100_000);
    expect(() => capped.load(state({ location: many, flags: many, hp: many }))).to.throw(FluxError, /needs \d+ memory pages \(64 KiB each\), over the limit of 4/);
    expect(capped.snapshot().location, 'the refused load left the old state').to.have.length(0);
  });
});
