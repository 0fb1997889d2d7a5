// lib/batcher: a room's bounded queue, cut into batches by size or tick, run one at a time (DESIGN §3 stage 2).
import { expect } from 'chai';
import { Batcher } from '../../lib/batcher/index.ts';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

interface Deferred {
  readonly promise: Promise<void>;
  resolve(): void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => { resolve = r; });
  return { promise, resolve };
}

/** A process function whose batches finish only when the spec says so. */
class Recorder {
  readonly batches: number[][] = [];
  readonly startedMs: number[] = [];
  readonly gates: Deferred[] = [];
  running = 0;
  overlapped = false;
  auto = false;

  readonly process = (batch: number[]): Promise<void> => {
    this.batches.push([...batch]);
    this.startedMs.push(Date.now());
    this.running++;
    if (this.running > 1) this.overlapped = true;
    const gate = deferred();
    this.gates.push(gate);
    if (this.auto) gate.resolve();
    return gate.promise.then(() => { this.running--; });
  };

  async finish(index: number): Promise<void> {
    this.gates[index]!.resolve();
    await sleep(0);
  }
}

describe('batcher', function () {
  it('closes a batch as soon as it holds batchMax commands, without waiting for the tick', async function () {
    const r = new Recorder();
    const batcher = new Batcher<number>({ tickMs: 10_000, batchMax: 3, queueMax: 100, process: r.process });
    expect(batcher.submit(1)).to.equal(true);
    expect(batcher.submit(2)).to.equal(true);
    expect(r.batches).to.deep.equal([]);
    batcher.submit(3);
    expect(r.batches).to.deep.equal([[1, 2, 3]]);
    await r.finish(0);
    batcher.stop();
  });

  it('closes a smaller batch after tickMs', async function () {
    const r = new Recorder();
    r.auto = true;
    const batcher = new Batcher<number>({ tickMs: 100, batchMax: 10, queueMax: 100, process: r.process });
    const submittedMs = Date.now();
    batcher.submit(1);
    batcher.submit(2);
    await sleep(20);
    expect(r.batches, 'before the tick').to.deep.equal([]);
    await sleep(150);
    expect(r.batches).to.deep.equal([[1, 2]]);
    expect(r.startedMs[0]! - submittedMs).to.be.at.least(95);
  });

  it('times the tick from the first command of the batch, not the last', async function () {
    const r = new Recorder();
    r.auto = true;
    const batcher = new Batcher<number>({ tickMs: 150, batchMax: 10, queueMax: 100, process: r.process });
    const firstMs = Date.now();
    batcher.submit(1);
    await sleep(100);
    batcher.submit(2);
    await sleep(100);
    // From the last command it would close at 250 ms.
    expect(r.batches).to.deep.equal([[1, 2]]);
    expect(r.startedMs[0]! - firstMs).to.be.below(240);
  });

  it('runs batches strictly in order, never two at once', async function () {
    const r = new Recorder();
    const batcher = new Batcher<number>({ tickMs: 5, batchMax: 2, queueMax: 100, process: r.process });
    for (let i = 1; i <= 7; i++) batcher.submit(i);
    expect(r.batches).to.deep.equal([[1, 2]]);
    await sleep(30);
    expect(r.batches, 'the second batch waits for the first').to.deep.equal([[1, 2]]);
    expect(batcher.pending).to.equal(5);
    await r.finish(0);
    expect(r.batches).to.deep.equal([[1, 2], [3, 4]]);
    await r.finish(1);
    expect(r.batches).to.deep.equal([[1, 2], [3, 4], [5, 6]]);
    await r.finish(2);
    expect(r.batches, 'the remainder waits for the tick').to.have.length(3);
    await sleep(30);
    expect(r.batches, 'the remainder closes on the tick').to.deep.equal([[1, 2], [3, 4], [5, 6], [7]]);
    await r.finish(3);
    expect(r.overlapped).to.equal(false);
    expect(batcher.pending).to.equal(0);
  });

  // Fails against lib/batcher as of this spec: schedule() sets no timer while a batch
  // runs, so the tick of a command queued during a run starts only when the run ends.
  it('times the tick of a command queued during a run from that command, not from the end of the run', async function () {
    const r = new Recorder();
    const batcher = new Batcher<number>({ tickMs: 60, batchMax: 10, queueMax: 100, process: r.process });
    batcher.submit(1);
    await sleep(80); // the first batch is running now
    expect(r.batches).to.deep.equal([[1]]);
    batcher.submit(2);
    await sleep(100); // command 2's tick has passed while batch 1 still runs
    expect(r.batches, 'no overlap').to.have.length(1);
    await r.finish(0);
    await sleep(20);
    expect(r.batches, 'command 2 was due: it runs as soon as batch 1 is done').to.deep.equal([[1], [2]]);
    await r.finish(1);
  });

  it('hurry() closes the open batch without its tick, after the running one, never two at once', async function () {
    const r = new Recorder();
    const batcher = new Batcher<number>({ tickMs: 10_000, batchMax: 10, queueMax: 100, process: r.process });
    batcher.hurry();
    expect(r.batches, 'nothing queued: nothing runs').to.deep.equal([]);
    batcher.submit(1);
    batcher.hurry();
    await sleep(5);
    expect(r.batches).to.deep.equal([[1]]);
    batcher.submit(2);
    batcher.submit(3);
    batcher.hurry();
    await sleep(5);
    expect(r.batches, 'waits for the running batch').to.deep.equal([[1]]);
    await r.finish(0);
    await sleep(5);
    expect(r.batches).to.deep.equal([[1], [2, 3]]);
    await r.finish(1);
    expect(r.overlapped).to.equal(false);
    batcher.stop();
  });

  it('keeps commands submitted during a run for the next batch, in order', async function () {
    const r = new Recorder();
    const batcher = new Batcher<number>({ tickMs: 5, batchMax: 3, queueMax: 100, process: r.process });
    batcher.submit(1);
    batcher.submit(2);
    batcher.submit(3);
    batcher.submit(4);
    batcher.submit(5);
    batcher.submit(6);
    await sleep(20);
    await r.finish(0);
    expect(r.batches).to.deep.equal([[1, 2, 3], [4, 5, 6]]);
    await r.finish(1);
    expect(r.overlapped).to.equal(false);
  });

  it('refuses a command once queueMax are waiting, and takes them again when there is room', async function () {
    const r = new Recorder();
    const batcher = new Batcher<number>({ tickMs: 10_000, batchMax: 2, queueMax: 4, process: r.process });
    batcher.submit(1);
    batcher.submit(2); // closes the first batch, which keeps running
    const accepted = [3, 4, 5, 6, 7, 8].map((n) => batcher.submit(n));
    expect(accepted).to.deep.equal([true, true, true, true, false, false]);
    expect(batcher.pending).to.equal(4);
    await r.finish(0);
    expect(r.batches[1]).to.deep.equal([3, 4]);
    expect(batcher.submit(9)).to.equal(true);
    r.auto = true;
    for (const g of r.gates) g.resolve();
    await batcher.drain();
    expect(r.batches.flat()).to.deep.equal([1, 2, 3, 4, 5, 6, 9]);
  });

  it('drain() runs everything queued without waiting for the tick, in batches of batchMax', async function () {
    const r = new Recorder();
    r.auto = true;
    const batcher = new Batcher<number>({ tickMs: 60_000, batchMax: 4, queueMax: 100, process: r.process });
    for (let i = 1; i <= 10; i++) batcher.submit(i);
    const startedMs = Date.now();
    await batcher.drain();
    expect(Date.now() - startedMs).to.be.below(1000);
    expect(r.batches).to.deep.equal([[1, 2, 3, 4], [5, 6, 7, 8], [9, 10]]);
    expect(batcher.pending).to.equal(0);
    expect(r.running).to.equal(0);
    expect(r.overlapped).to.equal(false);
  });

  it('drain() waits for the batch that is running', async function () {
    const r = new Recorder();
    const batcher = new Batcher<number>({ tickMs: 60_000, batchMax: 1, queueMax: 100, process: r.process });
    batcher.submit(1);
    let drained = false;
    const draining = batcher.drain().then(() => { drained = true; });
    await sleep(20);
    expect(drained).to.equal(false);
    r.auto = true;
    await r.finish(0);
    await draining;
    expect(drained).to.equal(true);
    expect(r.batches).to.deep.equal([[1]]);
  });

  it('drain() on an idle, empty batcher resolves at once', async function () {
    const r = new Recorder();
    const batcher = new Batcher<number>({ tickMs: 60_000, batchMax: 4, queueMax: 8, process: r.process });
    await batcher.drain();
    expect(r.batches).to.deep.equal([]);
  });

  it('stop() cancels the tick; the commands stay queued until drain()', async function () {
    const r = new Recorder();
    r.auto = true;
    const batcher = new Batcher<number>({ tickMs: 20, batchMax: 10, queueMax: 100, process: r.process });
    batcher.submit(1);
    batcher.stop();
    await sleep(60);
    expect(r.batches).to.deep.equal([]);
    expect(batcher.pending).to.equal(1);
    await batcher.drain();
    expect(r.batches).to.deep.equal([[1]]);
  });

  it('refuses options where a batch cannot fit the queue', function () {
    const process = async () => {};
    expect(() => new Batcher<number>({ tickMs: 10, batchMax: 0, queueMax: 10, process })).to.throw();
    expect(() => new Batcher<number>({ tickMs: 10, batchMax: 11, queueMax: 10, process })).to.throw();
  });
});

describe('Batcher.submitAll (an admin request and the kicks it causes)', function () {
  it('keeps a group in one batch, growing it past batchMax rather than splitting it', async function () {
    const r = new Recorder();
    r.auto = true;
    const b = new Batcher<number>({ tickMs: 5, batchMax: 3, queueMax: 10, process: r.process });
    expect(b.submit(1)).to.equal(true);
    expect(b.submit(2)).to.equal(true);
    expect(b.submitAll([3, 4, 5])).to.equal(true);
    expect(b.submit(6)).to.equal(true);
    await b.drain();
    expect(r.batches).to.deep.equal([[1, 2, 3, 4, 5], [6]]);
  });

  it('queues a group whole or not at all', function () {
    const r = new Recorder();
    const b = new Batcher<number>({ tickMs: 1000, batchMax: 4, queueMax: 4, process: r.process });
    expect(b.submit(1)).to.equal(true);
    expect(b.submit(2)).to.equal(true);
    expect(b.submitAll([3, 4, 5])).to.equal(false);
    expect(b.pending).to.equal(2);
    b.stop();
  });
});
