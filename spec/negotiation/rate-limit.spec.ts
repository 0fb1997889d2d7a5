// lib/negotiation/rate-limit: the per-occupant token bucket (DESIGN §1), on an injected clock.
import { expect } from 'chai';
import { TokenBucket, type Clock } from '../../lib/negotiation/index.ts';

class FakeClock implements Clock {
  constructor(public ms = 1_000_000) {}
  nowMs(): number {
    return this.ms;
  }
  advance(ms: number): void {
    this.ms += ms;
  }
}

function takeAll(bucket: TokenBucket, attempts: number): number {
  let taken = 0;
  for (let i = 0; i < attempts; i++) if (bucket.take()) taken++;
  return taken;
}

describe('negotiation TokenBucket', function () {
  it('allows a full burst at once, then refuses', function () {
    const clock = new FakeClock();
    const bucket = new TokenBucket(10, 20, clock);
    for (let i = 0; i < 20; i++) expect(bucket.take(), `command ${i + 1}`).to.equal(true);
    expect(bucket.take()).to.equal(false);
    expect(bucket.take()).to.equal(false);
  });

  it('refills at the steady rate as time passes', function () {
    const clock = new FakeClock();
    const bucket = new TokenBucket(10, 20, clock);
    takeAll(bucket, 20);
    clock.advance(99);
    expect(bucket.take(), 'before one token has accrued').to.equal(false);
    clock.advance(1);
    expect(bucket.take(), 'after 100 ms at 10/s').to.equal(true);
    expect(bucket.take()).to.equal(false);
    clock.advance(500);
    expect(takeAll(bucket, 100)).to.equal(5);
  });

  it('never holds more than the burst however long it waits', function () {
    const clock = new FakeClock();
    const bucket = new TokenBucket(10, 5, clock);
    clock.advance(3_600_000);
    expect(takeAll(bucket, 100)).to.equal(5);
  });

  it('lets a steady client at the rate through forever', function () {
    const clock = new FakeClock();
    const bucket = new TokenBucket(4, 1, clock);
    for (let i = 0; i < 50; i++) {
      expect(bucket.take(), `tick ${i}`).to.equal(true);
      clock.advance(250);
    }
  });

  it('does not let refused attempts earn or cost tokens', function () {
    const clock = new FakeClock();
    const bucket = new TokenBucket(2, 2, clock);
    takeAll(bucket, 2);
    for (let i = 0; i < 10; i++) {
      clock.advance(40);
      bucket.take();
    }
    // 400 ms at 2/s: 0.8 tokens, so still refused; 100 ms more completes the token.
    expect(bucket.take()).to.equal(false);
    clock.advance(100);
    expect(bucket.take()).to.equal(true);
  });

  it('clears warned when a command gets through again', function () {
    const clock = new FakeClock();
    const bucket = new TokenBucket(1, 1, clock);
    expect(bucket.take()).to.equal(true);
    expect(bucket.take()).to.equal(false);
    bucket.warned = true;
    clock.advance(1000);
    expect(bucket.take()).to.equal(true);
    expect(bucket.warned).to.equal(false);
  });
});
