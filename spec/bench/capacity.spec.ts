// The capacity search (bench/capacity.ts) against a side whose true capacity is
// known: it must land within its resolution below it, in a bounded number of steps.
import { expect } from 'chai';
import { findCapacity, nextLoad, passes } from '../../bench/capacity.ts';

/** A side that answers everything within 10 ms up to `capacity`/s and nothing in time above. */
function sideOf(capacity: number) {
  const tried: number[] = [];
  const run = async (offeredPerS: number) => {
    tried.push(offeredPerS);
    return { sent: 100, answered: 100, p99Ms: offeredPerS <= capacity ? 10 : 900 };
  };
  return { run, tried };
}

describe('capacity search (bench/capacity.ts)', function () {
  it('doubles, then bisects to within its resolution of the true capacity', async function () {
    const side = sideOf(1234);
    const c = await findCapacity(side.run, { startPerS: 100, stepsMax: 12, resolutionShare: 0.05 });
    expect(c.perS).to.be.at.most(1234);
    expect(c.perS).to.be.at.least(1234 * 0.95);
    expect(c.failedPerS).to.be.above(1234);
    expect(side.tried.slice(0, 5)).to.deep.equal([100, 200, 400, 800, 1600]);
  });

  it('runs at most stepsMax steps', async function () {
    const side = sideOf(1e9);
    const c = await findCapacity(side.run, { startPerS: 1, stepsMax: 4, resolutionShare: 0.1 });
    expect(side.tried).to.deep.equal([1, 2, 4, 8]);
    expect(c.perS).to.equal(8);
    expect(c.failedPerS, 'no step failed: the capacity is a lower bound').to.equal(null);
  });

  it('stops when its time is out, after at least one step, and says so', async function () {
    let asked = 0;
    const c = await findCapacity(sideOf(1e9).run, { startPerS: 1, stepsMax: 10, resolutionShare: 0.1, outOfTime: () => ++asked > 2 });
    expect(c.steps.length).to.equal(3);
    expect(c.cutShort).to.equal(true);
  });

  it('bisects down when the first step already fails, and says 0 when nothing passes', async function () {
    const low = await findCapacity(sideOf(30).run, { startPerS: 100, stepsMax: 8, resolutionShare: 0.1 });
    expect(low.perS).to.be.within(27, 30);
    const none = await findCapacity(sideOf(0).run, { startPerS: 10, stepsMax: 8, resolutionShare: 0.1 });
    expect(none.perS).to.equal(0);
    expect(none.steps.length).to.be.at.most(8);
  });

  it('passes a step only at p99 <= 150 ms with >= 98% answered', function () {
    expect(passes({ sent: 100, answered: 98, p99Ms: 150 })).to.equal(true);
    expect(passes({ sent: 100, answered: 97, p99Ms: 10 })).to.equal(false);
    expect(passes({ sent: 100, answered: 100, p99Ms: 151 })).to.equal(false);
    expect(passes({ sent: 0, answered: 0, p99Ms: null }), 'nothing sent is nothing measured').to.equal(false);
    expect(nextLoad(100, 101, 0.1)).to.equal(null);
  });
});
