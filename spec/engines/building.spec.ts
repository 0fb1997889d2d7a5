// Building, command by command and refusal by refusal, in all three
// engines at once (wasm, js, model): what the builder and those there notice, the
// change records planning turns into SQL, and that the engines agree on each.
import { expect } from 'chai';
import {
  carriedBy, Cmd, UNDO_I32S, UNDO_STEPS_MAX, COMMAND_I32S, compileKernel, DIRECTIONS, DIRECTION_COUNT, EFFECT_I32S, Entity, everyoneAt, Field, FLAG_CREATED, FLAG_NPC,
  FLAG_PRESENT, Fx, ITEMS_MAX, KernelEngine, LOCATIONS_MAX, ModelEngine, NOWHERE, NPC_HP_BUILT, NPCS_MAX, PLAYER_HP, portableKernel, Refusal,
  type BatchOutput, type Engine, type EngineState, type Spare, type WorldMap,
} from '../../lib/engines/index.ts';

const ints = (v: number[]) => Int32Array.from(v);
const dir = (d: (typeof DIRECTIONS)[number]) => DIRECTIONS.indexOf(d);
const wasmModule = compileKernel();
const jsCode = portableKernel();

// Hall (0) -east- Yard (1). Items: 0 key, 1 lamp, both in the hall. Characters: 0 the cat (NPC), 1 Ann (builder), 2 Bob.
const [HALL, YARD] = [0, 1];
const [KEY, LAMP] = [0, 1];
const [CAT, ANN, BOB] = [0, 1, 2];
const door = (location: number, d: string) => location * DIRECTION_COUNT + dir(d as never);

function map(locations = 2, items = 2): WorldMap {
  const exits = new Int32Array(locations * DIRECTION_COUNT).fill(-1);
  exits[door(HALL, 'east')] = YARD;
  exits[door(YARD, 'west')] = HALL;
  return {
    locationCount: locations, startLocation: HALL, exits, locks: new Int32Array(locations * DIRECTION_COUNT).fill(-1),
    itemWeight: new Int32Array(items).fill(1), itemDamage: new Int32Array(items), itemHome: new Int32Array(items),
    npcHp: ints([3]), npcDamage: ints([1]), npcHome: ints([HALL]), npcWander: ints([0]), npcWants: ints([-1]),
  };
}

function state(m = map()): EngineState {
  const here = FLAG_CREATED | FLAG_PRESENT;
  return { seed: 7, location: ints([HALL, HALL, HALL]), flags: ints([here | FLAG_NPC, here, here]), hp: ints([3, PLAYER_HP, PLAYER_HP]), itemPlace: new Int32Array(m.itemWeight.length), map: m };
}

type Line = [kind: keyof typeof Cmd, actor: number, ...args: number[]];

function batch(lines: Line[], matches: number[] = []) {
  const commands = new Int32Array(lines.length * COMMAND_I32S);
  lines.forEach(([kind, actor, ...args], i) => commands.set([Cmd[kind], actor, ...args], i * COMMAND_I32S));
  return { commands, matches: ints(matches) };
}

const spareOf = (lines: Line[]): Spare => ({
  locations: lines.filter((l) => l[0] === 'dig').length, items: lines.filter((l) => l[0] === 'create').length, characters: lines.filter((l) => l[0] === 'npc').length,
});

interface Run { out: BatchOutput; after: Required<EngineState> }
const plain = (r: Run) => JSON.parse(JSON.stringify(r, (_k, v) => (ArrayBuffer.isView(v) ? [...(v as Int32Array)] : v)));

/** Runs the batch in every engine from the same state (with room reserved as the host would); they must agree. */
function play(start: EngineState, lines: Line[], matches: number[] = []): Run {
  const m = start.map!;
  const engines: Engine[] = [KernelEngine.wasm(wasmModule, m, 64), KernelEngine.js(jsCode, m, 64), new ModelEngine(m)];
  const runs = engines.map((e) => {
    e.load(start);
    e.reserve(spareOf(lines));
    return { out: e.run(batch(lines, matches)), after: e.snapshot() as Required<EngineState> };
  });
  for (const [i, r] of runs.entries()) expect(plain(r), engines[i]!.name).to.deep.equal(plain(runs[0]!));
  return runs[0]!;
}

const rows = (flat: Int32Array, width: number, keep = width) => {
  const out: number[][] = [];
  for (let i = 0; i < flat.length; i += width) out.push([...flat.slice(i, i + keep)]);
  return out;
};
const effects = (out: BatchOutput) => rows(out.effects, EFFECT_I32S, 5);
/** The records of the map and characters (the builder's @undo ring is checked by the @undo specs). */
const changes = (out: BatchOutput) => rows(out.changes, 4).filter(([entity]) => entity !== Entity.undo);
const undoRecords = (out: BatchOutput) => rows(out.changes, 4).filter(([entity]) => entity === Entity.undo);
/** A refusal changes nothing: no records, the state as it was, and the builder is told why. */
function refused(start: EngineState, lines: Line[], reason: number, arg: number, matches: number[] = []) {
  const { out, after } = play(start, lines, matches);
  expect(effects(out)).to.deep.equal([[ANN, Fx.buildRefused, reason, arg, 0]]);
  expect(out.changes).to.have.length(0);
  expect(plain({ out, after }).after).to.deep.equal(plain({ out, after: play(start, []).after }).after);
}

describe('building rules (wasm, js and model agree on each)', function () {
  it('@dig makes a place that way, with the way back, and tells everyone there', function () {
    const { out, after } = play(state(), [['dig', ANN, dir('north'), 4], ['go', ANN, dir('north')], ['go', ANN, dir('south')]]);
    expect(after.map.locationCount).to.equal(3);
    expect(after.map.exits[door(HALL, 'north')]).to.equal(2);
    expect(after.map.exits[door(2, 'south')]).to.equal(HALL);
    expect(changes(out).slice(0, 4)).to.deep.equal([
      [Entity.location, 2, Field.created, 1], [Entity.location, 2, Field.title, 4],
      [Entity.exit, door(HALL, 'north'), Field.to, 2], [Entity.exit, door(2, 'south'), Field.to, HALL],
    ]);
    expect(effects(out)[0]).to.deep.equal([everyoneAt(HALL), Fx.dug, ANN, dir('north'), 2]);
    expect(after.location[ANN], 'walked there and back').to.equal(HALL);
  });

  it('@dig where a way exists is refused, and changes nothing', function () {
    refused(state(), [['dig', ANN, dir('east'), 0]], Refusal.exitExists, dir('east'));
  });

  it(`@dig past ${LOCATIONS_MAX} places is refused`, function () {
    this.timeout(20000);
    refused(state(map(LOCATIONS_MAX)), [['dig', ANN, dir('north'), 0]], Refusal.placesMax, LOCATIONS_MAX);
  });

  it('@title and @describe change the place the builder stands in (by text index)', function () {
    const { out } = play(state(), [['title', ANN, 0], ['go', ANN, dir('east')], ['describe', ANN, 1]]);
    expect(changes(out)).to.deep.include.members([[Entity.location, HALL, Field.title, 0], [Entity.location, YARD, Field.description, 1]]);
    expect(effects(out)[0]).to.deep.equal([everyoneAt(HALL), Fx.titled, ANN, HALL, 0]);
    expect(effects(out).at(-1)).to.deep.equal([everyoneAt(YARD), Fx.described, ANN, YARD, 0]);
  });

  it('@exit opens a one-way path to a place that exists; a way already there, or no such place, is refused', function () {
    const { out, after } = play(state(), [['exit', ANN, dir('up'), YARD]]);
    expect(changes(out)).to.deep.equal([[Entity.exit, door(HALL, 'up'), Field.to, YARD]]);
    expect(after.map.exits[door(YARD, 'down')], 'one way only').to.equal(-1);
    expect(effects(out)).to.deep.equal([[everyoneAt(HALL), Fx.exitMade, ANN, dir('up'), YARD]]);
    refused(state(), [['exit', ANN, dir('east'), HALL]], Refusal.exitExists, dir('east'));
    refused(state(), [['exit', ANN, dir('up'), -1]], Refusal.noPlace, 0);
    refused(state(), [['exit', ANN, dir('up'), 2]], Refusal.noPlace, 0);
  });

  it('@unexit removes a way and its lock; no way there is refused', function () {
    const m = map();
    m.locks[door(HALL, 'east')] = KEY;
    const { out, after } = play(state(m), [['unexit', ANN, dir('east')], ['go', BOB, dir('east')]]);
    expect(changes(out)).to.deep.equal([[Entity.exit, door(HALL, 'east'), Field.lock, -1], [Entity.exit, door(HALL, 'east'), Field.to, -1]]);
    expect(effects(out)).to.deep.equal([[everyoneAt(HALL), Fx.exitRemoved, ANN, dir('east'), 0], [BOB, Fx.noExit, dir('east'), 0, 0]]);
    expect(after.map.locks[door(HALL, 'east')]).to.equal(-1);
    refused(state(), [['unexit', ANN, dir('north')]], Refusal.noExit, dir('north'));
  });

  it('@lock makes a way open only to someone carrying the thing; no way, or no such thing here, is refused', function () {
    const { out, after } = play(state(), [['lock', ANN, dir('east'), 0, 1], ['go', BOB, dir('east')], ['take', BOB, 0, 1], ['go', BOB, dir('east')]], [KEY]);
    expect(changes(out)[0]).to.deep.equal([Entity.exit, door(HALL, 'east'), Field.lock, KEY]);
    expect(effects(out).slice(0, 2)).to.deep.equal([[everyoneAt(HALL), Fx.lockMade, ANN, dir('east'), KEY], [BOB, Fx.locked, dir('east'), 0, 0]]);
    expect(after.location[BOB]).to.equal(YARD);
    refused(state(), [['lock', ANN, dir('north'), 0, 1]], Refusal.noExit, dir('north'), [KEY]);
    const elsewhere = { ...state(), itemPlace: ints([YARD, YARD]) };
    const { out: none } = play(elsewhere, [['lock', ANN, dir('east'), 0, 1]], [KEY]);
    expect(effects(none)).to.deep.equal([[ANN, Fx.notFound, 0, 0, 0]]);
    expect(none.changes).to.have.length(0);
  });

  it('@create makes a thing here, weight 1, at home here; it can be taken at once', function () {
    const { out, after } = play(state(), [['go', ANN, dir('east')], ['create', ANN, 3], ['take', ANN, 0, 1]], [2]);
    expect(changes(out).slice(1, 4)).to.deep.equal([[Entity.item, 2, Field.created, YARD], [Entity.item, 2, Field.title, 3], [Entity.item, 2, Field.place, YARD]]);
    expect(effects(out)).to.deep.include([everyoneAt(YARD), Fx.created, ANN, 2, 0]);
    expect([...after.itemPlace]).to.deep.equal([HALL, HALL, carriedBy(ANN)]);
    expect([after.map.itemWeight[2], after.map.itemDamage[2], after.map.itemHome[2]]).to.deep.equal([1, 0, YARD]);
  });

  it(`@create past ${ITEMS_MAX} things is refused`, function () {
    const m = map(2, ITEMS_MAX);
    refused(state(m), [['create', ANN, 0]], Refusal.itemsMax, ITEMS_MAX);
  });

  it('@destroy takes a thing out of the world (its number stays, its place NOWHERE); a key of a way is refused', function () {
    const { out, after } = play(state(), [['destroy', ANN, 0, 1], ['take', BOB, 0, 1]], [LAMP]);
    expect(changes(out)).to.deep.equal([[Entity.item, LAMP, Field.place, NOWHERE]]);
    expect(effects(out)).to.deep.equal([[everyoneAt(HALL), Fx.destroyed, ANN, LAMP, 0], [BOB, Fx.notFound, 0, 0, 0]]);
    expect(after.itemPlace[LAMP]).to.equal(NOWHERE);
    const m = map();
    m.locks[door(HALL, 'east')] = KEY;
    refused(state(m), [['destroy', ANN, 0, 1]], Refusal.isKey, KEY, [KEY]);
    const wanted = map();
    (wanted.npcWants as Int32Array)[CAT] = LAMP;
    refused(state(wanted), [['destroy', ANN, 0, 1]], Refusal.isKey, LAMP, [LAMP]);
  });

  it('@npc brings a creature to life in the next character slot; it stays put, can be fought, and dies home', function () {
    const { out, after } = play(state(), [['npc', ANN, 5], ...Array.from({ length: 20 }, (): Line => ['attack', BOB, 0, 1]), ['tick', -1]], [-4]);
    expect(changes(out).slice(0, 4)).to.deep.equal([
      [Entity.character, 3, Field.npc, 5], [Entity.character, 3, Field.hp, NPC_HP_BUILT], [Entity.character, 3, Field.location, HALL], [Entity.character, 3, Field.present, 1],
    ]);
    expect(effects(out)[0]).to.deep.equal([everyoneAt(HALL), Fx.npcMade, ANN, 3, 0]);
    expect(after.flags[3]! & FLAG_NPC).to.equal(FLAG_NPC);
    expect([...after.map.npcHp]).to.deep.equal([3, 0, 0, NPC_HP_BUILT]);
    expect(effects(out).some((e) => e[1] === Fx.died && e[2] === 3), 'Bob killed it within 20 blows').to.equal(true);
    expect(after.location[3], 'it wakes where it was made').to.equal(HALL);
  });

  it(`@npc past ${NPCS_MAX} creatures is refused`, function () {
    const n = NPCS_MAX;
    const m = { ...map(), npcHp: new Int32Array(n).fill(1), npcDamage: new Int32Array(n).fill(1), npcHome: new Int32Array(n), npcWander: new Int32Array(n), npcWants: new Int32Array(n).fill(-1) };
    const s = state(m);
    const here = FLAG_CREATED | FLAG_PRESENT;
    const start = { ...s, location: new Int32Array(n + 2), flags: ints([...Array.from({ length: n }, () => here | FLAG_NPC), here, here]), hp: new Int32Array(n + 2).fill(1) };
    const { out } = play(start, [['npc', n, 0]]);
    expect(effects(out)).to.deep.equal([[n, Fx.buildRefused, Refusal.npcsMax, NPCS_MAX, 0]]);
    expect(out.changes).to.have.length(0);
  });

  it('a builder who is not in the world builds nothing; @undo with no step kept says there is nothing to undo', function () {
    const away = { ...state(), flags: ints([FLAG_CREATED | FLAG_PRESENT | FLAG_NPC, FLAG_CREATED, FLAG_CREATED | FLAG_PRESENT]) };
    const { out } = play(away, [['dig', ANN, dir('north'), 0]]);
    expect(effects(out)).to.deep.equal([[ANN, Fx.notPresent, 0, 0, 0]]);
    refused(state(), [['undo', ANN]], Refusal.nothingToUndo, 0);
  });

  describe('@undo (the builder\'s last building commands, a ring of UNDO_STEPS_MAX)', function () {
    const undone = (kind: number) => [everyoneAt(HALL), Fx.undone, ANN, kind, 0];
    const NEW = 2; // the first thing made here
    /** The builder's ring as the batch left it: next step, steps kept. */
    const ring = (after: Required<EngineState>) => [after.map.undo?.[ANN * UNDO_I32S] ?? 0, after.map.undo?.[ANN * UNDO_I32S + 1] ?? 0];

    it('@create then @undo: the thing goes NOWHERE, the step is used up, a second @undo has nothing left', function () {
      const { out, after } = play(state(), [['create', ANN, 0], ['undo', ANN]]);
      expect(effects(out).slice(1)).to.deep.equal([undone(Cmd.create)]);
      expect(changes(out).slice(-1)).to.deep.equal([[Entity.item, NEW, Field.place, NOWHERE]]);
      expect(after.itemPlace[NEW]).to.equal(NOWHERE);
      expect(ring(after)).to.deep.equal([0, 0]);
      refused(after, [['undo', ANN]], Refusal.nothingToUndo, 0);
    });

    it('the ring is state: made in one batch, undone in the next from the snapshot (as after a restart)', function () {
      const first = play(state(), [['create', ANN, 0]]);
      expect(undoRecords(first.out)).to.deep.equal([
        [Entity.undo, ANN * UNDO_I32S + 2, Field.cell, Cmd.create], [Entity.undo, ANN * UNDO_I32S + 3, Field.cell, NEW],
        [Entity.undo, ANN * UNDO_I32S + 4, Field.cell, 0], [Entity.undo, ANN * UNDO_I32S + 5, Field.cell, 0],
        [Entity.undo, ANN * UNDO_I32S, Field.cell, 1], [Entity.undo, ANN * UNDO_I32S + 1, Field.cell, 1]]);
      expect(ring(first.after)).to.deep.equal([1, 1]);
      const { out, after } = play(first.after, [['undo', ANN]]);
      expect(effects(out)).to.deep.equal([undone(Cmd.create)]);
      expect(after.itemPlace[NEW]).to.equal(NOWHERE);
    });

    it('@dig then @undo: both ways go, the place stays (unreachable)', function () {
      const { out, after } = play(state(), [['dig', ANN, dir('north'), 0], ['undo', ANN]]);
      expect(effects(out).slice(1)).to.deep.equal([undone(Cmd.dig)]);
      expect(changes(out).slice(-2)).to.deep.equal([[Entity.exit, door(HALL, 'north'), Field.to, -1], [Entity.exit, door(2, 'south'), Field.to, -1]]);
      expect([after.map.locationCount, after.map.exits[door(HALL, 'north')], after.map.exits[door(2, 'south')]]).to.deep.equal([3, -1, -1]);
    });

    it('@exit, @unexit (with its lock) and @lock are put back as they were', function () {
      const made = play(state(), [['exit', ANN, dir('north'), YARD], ['undo', ANN]]);
      expect(changes(made.out).slice(-1)).to.deep.equal([[Entity.exit, door(HALL, 'north'), Field.to, -1]]);
      const locked = play(state(), [['lock', ANN, dir('east'), 0, 1], ['unexit', ANN, dir('east')], ['undo', ANN]], [KEY]);
      expect(changes(locked.out).slice(-2)).to.deep.equal([[Entity.exit, door(HALL, 'east'), Field.to, YARD], [Entity.exit, door(HALL, 'east'), Field.lock, KEY]]);
      const relocked = play(locked.after, [['undo', ANN]]);
      expect(effects(relocked.out)).to.deep.equal([undone(Cmd.lock)]);
      expect([relocked.after.map.exits[door(HALL, 'east')], relocked.after.map.locks[door(HALL, 'east')]]).to.deep.equal([YARD, -1]);
    });

    it('@destroy then @undo: the thing is back where it was; @npc then @undo: the creature leaves the world', function () {
      const back = play(state(), [['destroy', ANN, 0, 1], ['undo', ANN]], [LAMP]);
      expect(changes(back.out).slice(-1)).to.deep.equal([[Entity.item, LAMP, Field.place, HALL]]);
      const gone = play(state(), [['npc', ANN, 0], ['undo', ANN]]);
      expect(effects(gone.out).slice(1)).to.deep.equal([[everyoneAt(HALL), Fx.depart, 3, -1, 0], undone(Cmd.npc)]);
      expect(gone.after.flags[3]! & FLAG_PRESENT).to.equal(0);
    });

    it('@title and @describe keep the text they replace with the host (save record), @undo asks for it back (restore record)', function () {
      const { out } = play(state(), [['title', ANN, 0], ['describe', ANN, 1], ['undo', ANN], ['undo', ANN]]);
      const slot = (step: number) => ANN * UNDO_STEPS_MAX + step;
      expect(changes(out)).to.deep.equal([
        [Entity.location, HALL, Field.title, 0], [Entity.location, HALL, Field.description, 1],
        [Entity.location, HALL, Field.restoreDescription, slot(1)], [Entity.location, HALL, Field.restoreTitle, slot(0)]]);
      expect(undoRecords(out).filter(([, , field]) => field !== Field.cell)).to.deep.equal([
        [Entity.undo, slot(0), Field.saveTitle, HALL], [Entity.undo, slot(1), Field.saveDescription, HALL]]);
    });

    it('a result someone changed since is refused, says what, and its step is dropped', function () {
      const { out, after } = play(state(), [['create', ANN, 0], ['destroy', BOB, 0, 1], ['undo', ANN], ['undo', ANN]], [NEW]);
      expect(effects(out).slice(2)).to.deep.equal([[ANN, Fx.buildRefused, Refusal.changedSince, Cmd.create, 0], [ANN, Fx.buildRefused, Refusal.nothingToUndo, 0, 0]]);
      expect(after.itemPlace[NEW]).to.equal(NOWHERE);
      const dug = play(state(), [['dig', ANN, dir('north'), 0], ['go', BOB, dir('north')], ['undo', ANN]]);
      expect(effects(dug.out).slice(-1)).to.deep.equal([[ANN, Fx.buildRefused, Refusal.changedSince, Cmd.dig, 0]]);
    });

    it(`keeps the last ${UNDO_STEPS_MAX} steps: older ones are forgotten`, function () {
      const makes: Line[] = Array.from({ length: UNDO_STEPS_MAX + 1 }, () => ['create', ANN, 0]);
      const undos: Line[] = Array.from({ length: UNDO_STEPS_MAX + 1 }, () => ['undo', ANN]);
      const { out, after } = play(state(), [...makes, ...undos]);
      expect(effects(out).slice(-2)).to.deep.equal([undone(Cmd.create), [ANN, Fx.buildRefused, Refusal.nothingToUndo, 0, 0]]);
      expect([...after.itemPlace.slice(NEW)]).to.deep.equal([HALL, ...Array.from({ length: UNDO_STEPS_MAX }, () => NOWHERE)]);
    });
  });

  it('a batch that fails rolls back by loading the committed state: the map as it was', function () {
    for (const engine of [KernelEngine.wasm(wasmModule, map(), 8), KernelEngine.js(jsCode, map(), 8), new ModelEngine(map())]) {
      const committed = state();
      engine.load(committed);
      engine.reserve({ locations: 1, items: 1, characters: 1 });
      engine.run(batch([['dig', ANN, dir('north'), 0], ['create', ANN, 1], ['npc', ANN, 2]]));
      expect(engine.snapshot().map!.locationCount, engine.name).to.equal(3);
      engine.load(committed);
      const back = engine.snapshot();
      expect([back.map!.locationCount, back.itemPlace.length, back.location.length, back.map!.exits[door(HALL, 'north')]], engine.name).to.deep.equal([2, 2, 3, -1]);
    }
  });
});
