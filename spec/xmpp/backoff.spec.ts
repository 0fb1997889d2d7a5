// lib/xmpp/backoff.ts: pauses between reconnection attempts double up to a
// ceiling, each somewhere in its upper half (jitter), and start over once online.
import { expect } from 'chai';
import { Backoff } from '../../lib/xmpp/backoff.ts';
import { RECONNECT_DELAY_MS_MAX, RECONNECT_DELAY_MS_MIN } from '../../lib/constants.ts';

describe('xmpp Backoff', function () {
  it('doubles the pause with each attempt up to the ceiling', function () {
    const top = new Backoff(500, 30000, () => 1);
    expect(Array.from({ length: 9 }, () => top.next())).to.deep.equal([500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
  });

  it('jitters each pause between half and all of its step', function () {
    const low = new Backoff(500, 30000, () => 0);
    expect([low.next(), low.next(), low.next()]).to.deep.equal([250, 500, 1000]);
    const real = new Backoff();
    for (let i = 0; i < 12; i++) {
      const ceiling = Math.min(RECONNECT_DELAY_MS_MAX, RECONNECT_DELAY_MS_MIN * 2 ** i);
      expect(real.next()).to.be.within(ceiling / 2, ceiling);
    }
  });

  it('starts from the shortest pause again after a reset', function () {
    const b = new Backoff(500, 30000, () => 1);
    b.next();
    b.next();
    b.reset();
    expect(b.next()).to.equal(500);
  });
});
