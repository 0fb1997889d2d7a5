// Determinism across engines: the same state and the same commands give the same
// change log, the same effects and the same next state, byte for byte, in the
// WASM kernel, the same rules compiled to JavaScript, and the readable model.
// Random worlds (locks, items, NPCs) and hostile command streams: actors who left
// or never joined, things that are elsewhere or ambiguous, two players taking the
// same item in one batch, fights to the death, NPC ticks, guests released (with
// what they carry) and coming back in the batch that released them; and building
// mixed into play: places dug, retitled, joined and cut off, ways
// locked with things made and destroyed, NPCs made who then fight and die.
// FLUX_PROPERTY_RUNS raises the number of cases; a failure prints its seed and
// path, and FLUX_PROPERTY_SEED=<seed> FLUX_PROPERTY_PATH=<path> replays exactly it.
import { expect } from 'chai';
import fc from 'fast-check';
import {
  Cmd, COMMAND_I32S, compileKernel, DIRECTION_COUNT, FLAG_CREATED, FLAG_NPC, FLAG_PRESENT, FLAG_QUEST, FLAG_RELEASED, Fx, KernelEngine,
  MATCHES_PER_NAME_MAX, ModelEngine, portableKernel, type Engine, type EngineState, type WorldMap,
} from '../../lib/engines/index.ts';

const RUNS = Number(process.env.FLUX_PROPERTY_RUNS ?? 500);
const REPLAY = process.env.FLUX_PROPERTY_SEED === undefined ? {} : { seed: Number(process.env.FLUX_PROPERTY_SEED), path: process.env.FLUX_PROPERTY_PATH };
const COMMANDS_MAX = 48;
const wasmModule = compileKernel();
const jsCode = portableKernel();

interface Case {
  readonly map: WorldMap;
  readonly state: EngineState;
  readonly batches: { commands: Int32Array; matches: Int32Array }[];
}

const ints = (values: number[]) => Int32Array.from(values);

const caseArb: fc.Arbitrary<Case> = fc.record({
  locations: fc.integer({ min: 1, max: 4 }),
  items: fc.integer({ min: 0, max: 4 }),
  npcs: fc.integer({ min: 0, max: 2 }),
  players: fc.integer({ min: 1, max: 5 }),
}).chain(({ locations, items, npcs, players }) => {
  const characters = npcs + players;
  const location = fc.integer({ min: 0, max: locations - 1 });
  const exitSlots = locations * DIRECTION_COUNT;
  // Codes past what exists (things and NPCs the batches make) are folded onto what exists when a batch runs.
  const characterCodes = fc.integer({ min: -characters - 3, max: -1 });
  const code = fc.oneof(fc.integer({ min: 0, max: items + 3 }), characterCodes);
  const command = fc.record({
    kind: fc.oneof(
      { weight: 3, arbitrary: fc.integer({ min: Cmd.join, max: Cmd.tick }) },
      { weight: 2, arbitrary: fc.constantFrom(Cmd.take, Cmd.give, Cmd.attack, Cmd.go) },
      { weight: 1, arbitrary: fc.constantFrom(Cmd.leave, Cmd.release, Cmd.join, Cmd.kick, Cmd.affiliate) },
      { weight: 1, arbitrary: fc.integer({ min: Cmd.dig, max: Cmd.undo }) },
    ),
    actor: fc.integer({ min: npcs, max: characters - 1 }),
    args: fc.array(fc.integer({ min: 0, max: 40 }), { minLength: 4, maxLength: 4 }),
  });
  return fc.record({
    map: fc.record({
      locationCount: fc.constant(locations),
      startLocation: location,
      exits: fc.array(fc.integer({ min: -1, max: locations - 1 }), { minLength: exitSlots, maxLength: exitSlots }).map(ints),
      locks: fc.array(fc.oneof({ weight: 5, arbitrary: fc.constant(-1) }, { weight: 1, arbitrary: fc.integer({ min: -1, max: items - 1 }) }), { minLength: exitSlots, maxLength: exitSlots }).map(ints),
      itemWeight: fc.array(fc.integer({ min: 1, max: 8 }), { minLength: items, maxLength: items }).map(ints),
      itemDamage: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: items, maxLength: items }).map(ints),
      itemHome: fc.array(location, { minLength: items, maxLength: items }).map(ints),
      npcHp: fc.array(fc.integer({ min: 1, max: 12 }), { minLength: npcs, maxLength: npcs }).map(ints),
      npcDamage: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: npcs, maxLength: npcs }).map(ints),
      npcHome: fc.array(location, { minLength: npcs, maxLength: npcs }).map(ints),
      npcWander: fc.array(fc.integer({ min: 0, max: 1 }), { minLength: npcs, maxLength: npcs }).map(ints),
      npcWants: fc.array(fc.integer({ min: -1, max: Math.min(items - 1, 0) }), { minLength: npcs, maxLength: npcs }).map(ints),
    }),
    state: fc.record({
      seed: fc.integer(),
      location: fc.array(location, { minLength: characters, maxLength: characters }).map(ints),
      flags: fc.tuple(
        fc.array(fc.constantFrom(FLAG_NPC | FLAG_CREATED | FLAG_PRESENT, FLAG_NPC | FLAG_CREATED), { minLength: npcs, maxLength: npcs }),
        fc.array(fc.oneof(
          fc.constantFrom(0, FLAG_CREATED, FLAG_CREATED | FLAG_PRESENT | FLAG_QUEST, FLAG_CREATED | FLAG_RELEASED),
          { weight: 4, arbitrary: fc.constant(FLAG_CREATED | FLAG_PRESENT) },
        ), { minLength: players, maxLength: players }),
      ).map(([n, p]) => ints([...n, ...p])),
      hp: fc.array(fc.integer({ min: 1, max: 10 }), { minLength: characters, maxLength: characters }).map(ints),
      itemPlace: fc.array(fc.oneof(location, fc.integer({ min: -characters, max: -1 })), { minLength: items, maxLength: items }).map(ints),
    }),
    batches: fc.array(fc.record({
      commands: fc.array(command, { maxLength: COMMANDS_MAX }),
      matches: fc.array(code, { minLength: 0, maxLength: 24 }),
    }).map(({ commands, matches }) => pack(commands, matches)), { minLength: 1, maxLength: 4 }),
  });
});

/** Commands point their match lists into the batch's matches; ticks act for the world, affiliation changes for nobody. */
function pack(commands: { kind: number; actor: number; args: number[] }[], matches: number[]): { commands: Int32Array; matches: Int32Array } {
  const packed = new Int32Array(commands.length * COMMAND_I32S);
  const list = (start: number, length: number) => {
    const offset = matches.length === 0 ? 0 : start % matches.length;
    const wanted = length % 5 === 0 ? length % (MATCHES_PER_NAME_MAX + 1) : length % 3; // mostly one thing, sometimes a crowd
    return [offset, Math.min(wanted, matches.length - offset)];
  };
  commands.forEach(({ kind, actor, args: [a = 0, b = 0, c = 0, d = 0] }, i) => {
    let fields: number[];
    if (kind === Cmd.go || kind === Cmd.unexit) fields = [a % DIRECTION_COUNT, 0, 0, 0];
    else if (kind === Cmd.dig) fields = [a % DIRECTION_COUNT, b, 0, 0];
    else if (kind === Cmd.exit) fields = [a % DIRECTION_COUNT, b % 8 - 1, 0, 0]; // sometimes no such place
    else if (kind === Cmd.lock) fields = [a % DIRECTION_COUNT, ...list(b, c), 0];
    else if (kind === Cmd.destroy) fields = [...list(a, b), 0, 0];
    else if (kind === Cmd.whisper) fields = [...list(a, b), c, 0];
    else if (kind === Cmd.give) fields = [...list(a, b), ...list(c, d)];
    else if ([Cmd.take, Cmd.drop, Cmd.examine, Cmd.attack].includes(kind as never)) fields = [...list(a, b), 0, 0];
    else fields = [a, 0, 0, 0];
    packed.set([kind, kind === Cmd.tick || kind === Cmd.affiliate ? -1 : actor, ...fields], i * COMMAND_I32S);
  });
  return { commands: packed, matches: Int32Array.from(matches) };
}

/** Match codes naming things or characters that do not exist (yet) fold onto ones that do, as the host would only name those. */
function fold(batch: { commands: Int32Array; matches: Int32Array }, items: number, characters: number) {
  const matches = batch.matches.map((code) => {
    if (code >= 0) return items > 0 ? code % items : -1 - (code % characters);
    const c = -code - 1;
    return c < characters ? code : -1 - (c % characters);
  });
  return { commands: batch.commands, matches };
}

/** Table room for what a batch may build, as the host reserves it. */
function spareFor(commands: Int32Array) {
  const count = (kind: number) => commands.filter((k, i) => i % COMMAND_I32S === 0 && k === kind).length;
  return { locations: count(Cmd.dig), items: count(Cmd.create), characters: count(Cmd.npc) };
}

function engines(map: WorldMap): Engine[] {
  return [KernelEngine.wasm(wasmModule, map, COMMANDS_MAX), KernelEngine.js(jsCode, map, COMMANDS_MAX), new ModelEngine(map)];
}

const plainMap = (m: WorldMap | undefined) => (m === undefined ? undefined : Object.fromEntries(Object.entries(m).map(([k, v]) => [k, typeof v === 'number' ? v : [...v]])));
const plain = (s: EngineState) => ({ seed: s.seed, location: [...s.location], flags: [...s.flags], hp: [...s.hp], itemPlace: [...s.itemPlace], map: plainMap(s.map) });

/** Runs every batch in every engine; returns whether the outputs and states agreed throughout. */
function agree({ map, state, batches }: Case): void {
  const all = engines(map);
  for (const e of all) e.load(state);
  for (const generated of batches) {
    const now = all[2]!.snapshot();
    const batch = fold(generated, now.itemPlace.length, now.location.length);
    for (const e of all) e.reserve(spareFor(batch.commands));
    const [wasm, ...others] = all.map((e) => e.run(batch));
    for (const [i, out] of others.entries()) {
      const name = all[i + 1]!.name;
      expect([...out.changes], `${name} change log`).to.deep.equal([...wasm!.changes]);
      expect([...out.effects], `${name} effects`).to.deep.equal([...wasm!.effects]);
    }
    const [first, ...rest] = all.map((e) => plain(e.snapshot()));
    for (const s of rest) expect(s, 'next state').to.deep.equal(first);
  }
}

describe('engines agree (wasm, js and model, fast-check)', function () {
  it(`give identical change logs, effects and next states over ${RUNS} random worlds and command streams`, function () {
    fc.assert(fc.property(caseArb, agree), { numRuns: RUNS, ...REPLAY });
  });

  it('the generated cases reach the interesting rules (takes, kills, quests, ticks that move NPCs, guests fading)', function () {
    const seen = new Map<string, number>();
    fc.assert(fc.property(caseArb, ({ map, state, batches }) => {
      const model = new ModelEngine(map);
      model.load(state);
      for (const b of batches) {
        const now = model.snapshot();
        const out = model.run(fold(b, now.itemPlace.length, now.location.length));
        for (let i = 0; i < out.effects.length; i += 7) seen.set(`fx${out.effects[i + 1]}`, (seen.get(`fx${out.effects[i + 1]}`) ?? 0) + 1);
      }
    }), { numRuns: 3000, seed: 42 });
    if (process.env.FLUX_PROPERTY_STATS) console.log(seen);
    const building = [Fx.dug, Fx.titled, Fx.described, Fx.exitMade, Fx.exitRemoved, Fx.lockMade, Fx.created, Fx.destroyed, Fx.npcMade, Fx.buildRefused];
    for (const fx of [15, 16, 17, 20, 22, 23, 13, 7, 2, Fx.fade, ...building]) expect(seen.has(`fx${fx}`), `effect ${fx} generated`).to.equal(true);
  });

  it('the property can fail: a model with one rule changed is caught', function () {
    const map: WorldMap = {
      locationCount: 1, startLocation: 0, exits: new Int32Array(DIRECTION_COUNT).fill(-1), locks: new Int32Array(DIRECTION_COUNT).fill(-1),
      itemWeight: ints([1]), itemDamage: ints([0]), itemHome: ints([0]), npcHp: ints([]), npcDamage: ints([]), npcHome: ints([]), npcWander: ints([]), npcWants: ints([]),
    };
    const state: EngineState = { seed: 7, location: ints([0]), flags: ints([FLAG_CREATED | FLAG_PRESENT]), hp: ints([10]), itemPlace: ints([0]) };
    class Drifted extends ModelEngine {
      override run(batch: Parameters<ModelEngine['run']>[0]) {
        const out = super.run(batch);
        return { changes: out.changes.map((v, i) => (i % 4 === 3 ? v + 1 : v)), effects: out.effects };
      }
    }
    const take = { commands: ints([Cmd.take, 0, 0, 1, 0, 0]), matches: ints([0]) };
    const wasm = KernelEngine.wasm(wasmModule, map, 4);
    const drifted = new Drifted(map);
    wasm.load(state);
    drifted.load(state);
    expect([...wasm.run(take).changes]).not.to.deep.equal([...drifted.run(take).changes]);
  });
});
