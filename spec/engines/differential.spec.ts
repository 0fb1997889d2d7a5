// Determinism across engines: the same state and the same commands give the same
// change log, the same effects and the same next state, byte for byte, in the
// WASM kernel and the JS fallback. Random worlds and hostile command streams
// (actors who left, slots never created, dead-end exits, conflicting moves).
// FLUX_PROPERTY_RUNS raises the number of cases; a failure prints its seed and
// path, and fc.assert({ seed, path }) replays it.
import { expect } from 'chai';
import fc from 'fast-check';
import { compileKernel, JsEngine, WasmEngine, COMMAND_I32S, DIRECTION_COUNT, FLAG_CREATED, FLAG_PRESENT, type WorldMap } from '../../lib/engines/index.ts';

const RUNS = Number(process.env.FLUX_PROPERTY_RUNS ?? 200);
const kernel = compileKernel();

const worldArb = fc.integer({ min: 1, max: 8 }).chain((locations) =>
  fc.record({
    locations: fc.constant(locations),
    exits: fc.array(fc.integer({ min: -1, max: locations - 1 }), { minLength: locations * DIRECTION_COUNT, maxLength: locations * DIRECTION_COUNT }),
    start: fc.integer({ min: 0, max: locations - 1 }),
    characters: fc.array(fc.record({ location: fc.integer({ min: 0, max: locations - 1 }), flags: fc.constantFrom(0, FLAG_CREATED, FLAG_CREATED | FLAG_PRESENT) }), { maxLength: 24 }),
  }));

const caseArb = worldArb.chain((w) => fc.record({
  world: fc.constant(w),
  batches: fc.array(fc.array(fc.tuple(fc.integer({ min: 1, max: 7 }), fc.integer({ min: 0, max: Math.max(0, w.characters.length - 1) }), fc.integer({ min: 0, max: DIRECTION_COUNT - 1 })), { maxLength: 64 }), { minLength: 1, maxLength: 4 }),
})).filter((c) => c.world.characters.length > 0);

describe('engines agree (wasm and js, fast-check)', function () {
  it(`gives identical change logs, effects and next states over ${RUNS} random worlds and command streams`, function () {
    fc.assert(fc.property(caseArb, ({ world, batches }) => {
      const map: WorldMap = { exits: Int32Array.from(world.exits), locationCount: world.locations, startLocation: world.start };
      const tables = { location: Int32Array.from(world.characters.map((c) => c.location)), flags: Int32Array.from(world.characters.map((c) => c.flags)) };
      const wasm = new WasmEngine(kernel, map, 64);
      const js = new JsEngine(map);
      wasm.load(tables);
      js.load(tables);
      for (const batch of batches) {
        const packed = new Int32Array(batch.length * COMMAND_I32S);
        batch.forEach(([kind, actor, arg], i) => packed.set([kind, actor, arg, 0], i * COMMAND_I32S));
        const a = wasm.run(packed);
        const b = js.run(packed);
        expect(Array.from(a.changes)).to.deep.equal(Array.from(b.changes));
        expect(Array.from(a.effects)).to.deep.equal(Array.from(b.effects));
        expect(wasm.snapshot()).to.deep.equal(js.snapshot());
      }
    }), { numRuns: RUNS });
  });

  it('the property can fail: a js engine with one rule changed is caught', function () {
    class Drifted extends JsEngine {
      override run(commands: Int32Array) {
        const out = super.run(commands);
        return { changes: out.changes, effects: out.effects.map((v, i) => (i % 5 === 1 && v === 6 ? 7 : v)) };
      }
    }
    const map: WorldMap = { exits: new Int32Array(DIRECTION_COUNT).fill(-1), locationCount: 1, startLocation: 0 };
    const tables = { location: new Int32Array([0]), flags: new Int32Array([FLAG_CREATED | FLAG_PRESENT]) };
    const wasm = new WasmEngine(kernel, map, 4);
    const drifted = new Drifted(map);
    wasm.load(tables);
    drifted.load(tables);
    const packed = new Int32Array([4, 0, 0, 0]); // go north from a room without exits: noExit (6)
    expect(Array.from(wasm.run(packed).effects)).not.to.deep.equal(Array.from(drifted.run(packed).effects));
  });
});
