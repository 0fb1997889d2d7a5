// How rooms spread over instances: every instance ends within the floor and the
// ceiling of its fair share, whatever it started from, and then nothing moves.
import { expect } from 'chai';
import fc from 'fast-check';
import { handOverTo } from '../../lib/cluster/balance.ts';

/** Applies the rule instance by instance until a whole pass moves nothing; the moves made. */
function settle(serving: number[]): number {
  const total = serving.reduce((a, b) => a + b, 0);
  let moves = 0;
  for (let moved = true; moved;) {
    moved = false;
    for (let i = 0; i < serving.length; i++) {
      const peers = serving.map((rooms, at) => ({ at, rooms })).filter((p) => p.at !== i);
      const to = handOverTo(serving[i]!, peers, total);
      if (to === null) continue;
      serving[i]!--;
      serving[to.at]!++;
      moved = true;
      moves++;
      if (moves > total * serving.length) throw new Error(`no end: ${serving.join('/')}`);
    }
  }
  return moves;
}

describe('rooms spread over the instances', function () {
  it('four rooms held as 2, 2 and 0 (seen in a cluster run): the third instance gets one', function () {
    const serving = [2, 2, 0];
    settle(serving);
    expect(serving.sort()).to.deep.equal([1, 1, 2]);
  });

  it('six rooms held as 3, 2 and 1 end as 2 each; an instance that started later gets its share', function () {
    const a = [3, 2, 1];
    settle(a);
    expect(a).to.deep.equal([2, 2, 2]);
    const b = [4, 0];
    expect(settle(b)).to.equal(2);
    expect(b).to.deep.equal([2, 2]);
  });

  it('a fair spread stays as it is', function () {
    for (const serving of [[2, 1, 1], [3, 3, 2], [1, 0, 0], [5]]) expect(settle([...serving])).to.equal(0);
  });

  it('from any start, every instance ends within the floor and ceiling of its share, in as few moves as the excess', function () {
    fc.assert(fc.property(fc.array(fc.nat(40), { minLength: 1, maxLength: 8 }), (start) => {
      const serving = [...start];
      const moves = settle(serving);
      const total = start.reduce((a, b) => a + b, 0);
      const floor = Math.floor(total / start.length);
      const ceiling = Math.ceil(total / start.length);
      expect(serving.every((n) => n >= floor && n <= ceiling), serving.join('/')).to.equal(true);
      // Each move takes a room from above the floor to below the ceiling: none is moved twice over.
      const excess = start.reduce((n, s) => n + Math.max(0, s - ceiling), 0);
      expect(moves).to.be.at.least(excess);
      expect(moves).to.be.at.most(start.reduce((n, s) => n + Math.max(0, s - floor), 0));
    }));
  });
});
