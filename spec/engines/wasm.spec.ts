// lib/engines WasmEngine: the AssemblyScript kernel over hand-made tables. Packed
// commands in; change log and effect records out (DESIGN §3 stage 4).
import { expect } from 'chai';
import {
  Cmd, CHANGE_I32S, COMMAND_I32S, DIRECTIONS, DIRECTION_COUNT, EFFECT_I32S, ENTITY_CHARACTER,
  FLAG_CREATED, FLAG_PRESENT, Field, Fx, WasmEngine, compileKernel, type CharacterTables, type WorldMap,
} from '../../lib/engines/index.ts';
import { computeLayout } from '../../lib/engines/layout.ts';

type Kind = keyof typeof Cmd;
const dir = (name: (typeof DIRECTIONS)[number]) => DIRECTIONS.indexOf(name);

/** Hall (0) -east/west- Landing (1) -up/down- Loft (2). */
function lineMap(): WorldMap {
  const exits = new Int32Array(3 * DIRECTION_COUNT).fill(-1);
  const link = (from: number, d: number, to: number) => { exits[from * DIRECTION_COUNT + d] = to; };
  link(0, dir('east'), 1);
  link(1, dir('west'), 0);
  link(1, dir('up'), 2);
  link(2, dir('down'), 1);
  return { exits, locationCount: 3, startLocation: 0 };
}

interface Slot { readonly location: number; readonly present: boolean; readonly created?: boolean }

function tables(slots: Slot[]): CharacterTables {
  return {
    location: Int32Array.from(slots.map((s) => s.location)),
    flags: Int32Array.from(slots.map((s) => (s.created === false ? 0 : FLAG_CREATED) | (s.present ? FLAG_PRESENT : 0))),
  };
}

function pack(commands: [Kind, number, number?][]): Int32Array {
  const out = new Int32Array(commands.length * COMMAND_I32S);
  commands.forEach(([kind, actor, arg = 0], i) => out.set([Cmd[kind], actor, arg, 0], i * COMMAND_I32S));
  return out;
}

interface Change { id: number; field: number; value: number }
interface Effect { to: number; fx: number; a: number; b: number; c: number }

function changesOf(raw: Int32Array): Change[] {
  expect(raw.length % CHANGE_I32S).to.equal(0);
  const out: Change[] = [];
  for (let i = 0; i < raw.length; i += CHANGE_I32S) {
    expect(raw[i], 'entity').to.equal(ENTITY_CHARACTER);
    out.push({ id: raw[i + 1]!, field: raw[i + 2]!, value: raw[i + 3]! });
  }
  return out;
}

function effectsOf(raw: Int32Array): Effect[] {
  expect(raw.length % EFFECT_I32S).to.equal(0);
  const out: Effect[] = [];
  for (let i = 0; i < raw.length; i += EFFECT_I32S) out.push({ to: raw[i]!, fx: raw[i + 1]!, a: raw[i + 2]!, b: raw[i + 3]!, c: raw[i + 4]! });
  return out;
}

const fx = (to: number, template: number, a = 0, b = 0, c = 0): Effect => ({ to, fx: template, a, b, c });

describe('engines WasmEngine', function () {
  const module = compileKernel();
  const COMMANDS_MAX = 64;

  function engineWith(slots: Slot[], map = lineMap()): WasmEngine {
    const engine = new WasmEngine(module, map, COMMANDS_MAX);
    engine.load(tables(slots));
    return engine;
  }

  function run(engine: WasmEngine, commands: [Kind, number, number?][]) {
    const out = engine.run(pack(commands));
    return { changes: changesOf(out.changes), effects: effectsOf(out.effects) };
  }

  // 0 and 1 in the Hall, 2 on the Landing, 3 a free slot, 4 in the Hall but gone.
  const cast = (): Slot[] => [
    { location: 0, present: true },
    { location: 0, present: true },
    { location: 1, present: true },
    { location: 0, present: false, created: false },
    { location: 0, present: false },
  ];

  describe('join', function () {
    it('creates a new character at the start, tells the others there, and describes the place to the joiner', function () {
      const engine = engineWith(cast());
      const { changes, effects } = run(engine, [['join', 3]]);
      expect(changes).to.deep.equal([
        { id: 3, field: Field.created, value: 1 },
        { id: 3, field: Field.location, value: 0 },
        { id: 3, field: Field.present, value: 1 },
      ]);
      expect(effects).to.deep.equal([
        fx(0, Fx.arrive, 3, -1),
        fx(1, Fx.arrive, 3, -1),
        fx(3, Fx.description, 0),
        fx(3, Fx.descriptionPerson, 0),
        fx(3, Fx.descriptionPerson, 1),
      ]);
      const after = engine.snapshot();
      expect(after.location[3]).to.equal(0);
      expect(after.flags[3]).to.equal(FLAG_CREATED | FLAG_PRESENT);
    });

    it('brings back a known character where they left, without creating it again', function () {
      const slots = cast();
      slots[4] = { location: 1, present: false };
      const engine = engineWith(slots);
      const { changes, effects } = run(engine, [['join', 4]]);
      expect(changes).to.deep.equal([{ id: 4, field: Field.present, value: 1 }]);
      expect(effects).to.deep.equal([
        fx(2, Fx.arrive, 4, -1),
        fx(4, Fx.description, 1),
        fx(4, Fx.descriptionPerson, 2),
      ]);
    });

    it('only describes the place again to a character already present', function () {
      const engine = engineWith(cast());
      const { changes, effects } = run(engine, [['join', 2]]);
      expect(changes).to.deep.equal([]);
      expect(effects).to.deep.equal([fx(2, Fx.description, 1)]);
    });

    it('starts a new character at the map start location', function () {
      const map = { ...lineMap(), startLocation: 2 };
      const engine = engineWith([{ location: 0, present: false, created: false }], map);
      const { changes } = run(engine, [['join', 0]]);
      expect(changes).to.deep.include({ id: 0, field: Field.location, value: 2 });
      expect(engine.snapshot().location[0]).to.equal(2);
    });
  });

  describe('go', function () {
    it('moves through an exit: departs the old place, arrives from the opposite side, describes the new one', function () {
      const engine = engineWith(cast());
      const { changes, effects } = run(engine, [['go', 0, dir('east')]]);
      expect(changes).to.deep.equal([{ id: 0, field: Field.location, value: 1 }]);
      expect(effects).to.deep.equal([
        fx(1, Fx.depart, 0, dir('east')),
        fx(2, Fx.arrive, 0, dir('west')),
        fx(0, Fx.description, 1),
        fx(0, Fx.descriptionPerson, 2),
      ]);
      expect(engine.snapshot().location[0]).to.equal(1);
    });

    it('arrives from below after going up', function () {
      const engine = engineWith([{ location: 1, present: true }, { location: 2, present: true }]);
      const { effects } = run(engine, [['go', 0, dir('up')]]);
      expect(effects).to.deep.include(fx(1, Fx.arrive, 0, dir('down')));
    });

    it('says there is no exit and changes nothing when there is none', function () {
      const engine = engineWith(cast());
      const before = engine.snapshot();
      for (const d of ['north', 'west', 'up', 'down', 'south'] as const) {
        const { changes, effects } = run(engine, [['go', 0, dir(d)]]);
        expect(changes, d).to.deep.equal([]);
        expect(effects, d).to.deep.equal([fx(0, Fx.noExit, dir(d))]);
      }
      expect(engine.snapshot()).to.deep.equal(before);
    });

    it('runs the commands of a batch in order: a walk east then up ends in the Loft', function () {
      const engine = engineWith(cast());
      const { changes } = run(engine, [['go', 0, dir('east')], ['go', 0, dir('up')], ['go', 0, dir('up')]]);
      expect(changes).to.deep.equal([
        { id: 0, field: Field.location, value: 1 },
        { id: 0, field: Field.location, value: 2 },
      ]);
      expect(engine.snapshot().location[0]).to.equal(2);
    });
  });

  describe('say', function () {
    it('reaches everyone present in the speaker location, the speaker too, with the text and command index', function () {
      const engine = engineWith(cast());
      const { changes, effects } = run(engine, [['look', 2], ['help', 2], ['say', 0, 7]]);
      expect(changes).to.deep.equal([]);
      const said = effects.filter((e) => e.fx === Fx.say);
      expect(said).to.deep.equal([fx(0, Fx.say, 0, 7, 2), fx(1, Fx.say, 0, 7, 2)]);
    });

    it('is not heard by someone who walked away earlier in the batch, and is heard by someone who just joined', function () {
      const engine = engineWith(cast());
      const { effects } = run(engine, [['go', 1, dir('east')], ['join', 3], ['say', 0, 0]]);
      const hearers = effects.filter((e) => e.fx === Fx.say).map((e) => e.to);
      expect(hearers).to.deep.equal([0, 3]);
    });
  });

  describe('who and help', function () {
    it('who lists everyone present, wherever they are, to the asker only', function () {
      const engine = engineWith(cast());
      const { changes, effects } = run(engine, [['who', 1]]);
      expect(changes).to.deep.equal([]);
      expect(effects).to.deep.equal([
        fx(1, Fx.who, 3),
        fx(1, Fx.whoPerson, 0, 0),
        fx(1, Fx.whoPerson, 1, 0),
        fx(1, Fx.whoPerson, 2, 1),
      ]);
    });

    it('help answers the asker', function () {
      const engine = engineWith(cast());
      expect(run(engine, [['help', 2]]).effects).to.deep.equal([fx(2, Fx.help)]);
    });

    it('look describes the place and who else is present there', function () {
      const engine = engineWith(cast());
      expect(run(engine, [['look', 1]]).effects).to.deep.equal([fx(1, Fx.description, 0), fx(1, Fx.descriptionPerson, 0)]);
    });
  });

  describe('leave', function () {
    it('marks the character absent and tells the others there, keeping its location', function () {
      const engine = engineWith(cast());
      const { changes, effects } = run(engine, [['leave', 1]]);
      expect(changes).to.deep.equal([{ id: 1, field: Field.present, value: 0 }]);
      expect(effects).to.deep.equal([fx(0, Fx.depart, 1, -1)]);
      const after = engine.snapshot();
      expect(after.flags[1]).to.equal(FLAG_CREATED);
      expect(after.location[1]).to.equal(0);
      expect(run(engine, [['who', 0]]).effects[0]).to.deep.equal(fx(0, Fx.who, 2));
    });
  });

  describe('an actor who is not present', function () {
    it('gets notPresent for every command but join and leave, and nothing changes', function () {
      const engine = engineWith(cast());
      const before = engine.snapshot();
      for (const kind of ['look', 'go', 'say', 'who', 'help'] as const) {
        const { changes, effects } = run(engine, [[kind, 4, kind === 'go' ? dir('east') : 0]]);
        expect(changes, kind).to.deep.equal([]);
        expect(effects, kind).to.deep.equal([fx(4, Fx.notPresent)]);
      }
      expect(run(engine, [['leave', 4]])).to.deep.equal({ changes: [], effects: [] });
      expect(engine.snapshot()).to.deep.equal(before);
    });

    it('includes a character that left earlier in the same batch', function () {
      const engine = engineWith(cast());
      const { effects } = run(engine, [['leave', 0], ['say', 0, 0]]);
      expect(effects[effects.length - 1]).to.deep.equal(fx(0, Fx.notPresent));
      expect(effects.filter((e) => e.fx === Fx.say)).to.deep.equal([]);
    });
  });

  describe('batches', function () {
    it('an empty batch writes nothing', function () {
      const engine = engineWith(cast());
      expect(run(engine, [])).to.deep.equal({ changes: [], effects: [] });
    });

    it('returns every effect of a batch that overflows the effect buffer (the kernel resumes)', function () {
      const characters = 200;
      const engine = engineWith(Array.from({ length: characters }, (_, i) => ({ location: i === 1 ? 1 : 0, present: true })));
      const commands: [Kind, number, number?][] = [];
      for (let i = 0; i < COMMANDS_MAX; i++) {
        commands.push(i % 8 === 7 ? ['go', 1, i % 16 === 7 ? dir('west') : dir('east')] : ['say', 2 + (i % (characters - 2)), i]);
      }
      const { changes, effects } = run(engine, commands);
      const bufferMax = computeLayout(0, { locations: 3, characters, commands: COMMANDS_MAX }).effectsMax;
      expect(effects.length, 'the batch needs more than one pass').to.be.above(bufferMax);

      // Character 1 walks west into the Hall and east out again, 4 times each.
      expect(changes).to.deep.equal(Array.from({ length: 8 }, (_, k) => ({ id: 1, field: Field.location, value: k % 2 === 0 ? 0 : 1 })));
      const says = commands.map((c, i) => [c, i] as const).filter(([c]) => c[0] === 'say');
      for (const [[, speaker, text], index] of says) {
        const heard = effects.filter((e) => e.fx === Fx.say && e.c === index);
        const inHall = changes.filter((_, k) => k < Math.floor(index / 8)).length % 2 === 1;
        const expected = Array.from({ length: characters }, (_, i) => i).filter((i) => i !== 1 || inHall);
        expect(heard.map((e) => e.to), `say #${index}`).to.deep.equal(expected);
        expect(heard.every((e) => e.a === speaker && e.b === text)).to.equal(true);
      }
      // Effects come out in command order.
      const order = effects.filter((e) => e.fx === Fx.say).map((e) => e.c);
      expect(order).to.deep.equal([...order].sort((a, b) => a - b));
    });

    it('gives the same output for the same state and commands (deterministic)', function () {
      const commands: [Kind, number, number?][] = [['join', 3], ['go', 0, 1], ['say', 1, 0], ['who', 2], ['leave', 1], ['go', 0, 4], ['look', 3]];
      const a = engineWith(cast()).run(pack(commands));
      const b = engineWith(cast()).run(pack(commands));
      expect(Array.from(a.changes)).to.deep.equal(Array.from(b.changes));
      expect(Array.from(a.effects)).to.deep.equal(Array.from(b.effects));
    });

    it('keeps resident state between batches and after growing its tables', function () {
      const engine = engineWith(cast());
      run(engine, [['go', 0, dir('east')]]);
      const grown = engine.snapshot();
      const location = Int32Array.from([...grown.location, ...new Array(40).fill(0)]);
      const flags = Int32Array.from([...grown.flags, ...new Array(40).fill(0)]);
      engine.load({ location, flags });
      expect(engine.snapshot().location.length).to.equal(45);
      const { effects } = run(engine, [['join', 44], ['look', 0]]);
      expect(effects.filter((e) => e.to === 0)).to.deep.equal([fx(0, Fx.description, 1), fx(0, Fx.descriptionPerson, 2)]);
    });

    it('refuses a batch larger than its command buffer', function () {
      const engine = engineWith(cast());
      const big = pack(Array.from({ length: COMMANDS_MAX + 1 }, () => ['help', 0] as [Kind, number]));
      expect(() => engine.run(big)).to.throw();
    });
  });
});
