// The link between instances: frames arrive in order between two that share the
// secret; a stranger without it, or one who talks before proving it, gets nothing
// through and is cut off; a frame to an instance that is gone is reported failed;
// an instance that stops has read every frame sent to it before its peers stop sending.
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import { pino } from 'pino';
import { PeerLink, parseEndpoint, type Frame } from '../../lib/cluster/link.ts';
import { until } from '../support/until.ts';

const log = pino({ level: 'silent' });

async function linkWith(secret: string, frames: Frame[] = []): Promise<PeerLink> {
  return PeerLink.listen({ listen: '127.0.0.1:0', secret, log, onFrame: (f) => frames.push(f) });
}

describe('cluster peer link', function () {
  const open: PeerLink[] = [];
  afterEach(async function () {
    await Promise.all(open.splice(0).map((l) => l.close()));
  });

  it('carries frames in order between instances that share the secret, a 200 KB stanza included', async function () {
    const got: Frame[] = [];
    const a = await linkWith('s3cret');
    const b = await linkWith('s3cret', got);
    open.push(a, b);
    const big = `<message to="realm@game.localhost" from="a@localhost/x" type="groupchat"><body>${'é'.repeat(100_000)}</body></message>`;
    for (let i = 0; i < 50; i++) a.send(b.endpoint, { kind: 'stanza', hops: 1, xml: `<message id="${i}"/>` });
    a.send(b.endpoint, { kind: 'stanza', hops: 2, xml: big });
    a.send(b.endpoint, { kind: 'released', room: 'realm' });
    await until(() => got.length === 52, 5000);
    expect(got.slice(0, 50).map((f) => (f.kind === 'stanza' ? f.xml : ''))).to.deep.equal(Array.from({ length: 50 }, (_, i) => `<message id="${i}"/>`));
    expect(got[50]).to.deep.equal({ kind: 'stanza', hops: 2, xml: big });
    expect(got[51]).to.deep.equal({ kind: 'released', room: 'realm' });
  });

  it('delivers nothing from an instance with another secret, and reports its frames failed', async function () {
    const got: Frame[] = [];
    const a = await linkWith('wrong');
    const b = await linkWith('s3cret', got);
    open.push(a, b);
    let failed = 0;
    a.send(b.endpoint, { kind: 'stanza', hops: 1, xml: '<message/>' }, () => failed++);
    await until(() => failed === 1, 5000);
    expect(got).to.deep.equal([]);
  });

  it('cuts off a stranger who sends a frame before proving the secret', async function () {
    const got: Frame[] = [];
    const b = await linkWith('s3cret', got);
    open.push(b);
    const { host, port } = parseEndpoint(b.endpoint);
    const socket = net.connect({ host, port });
    socket.resume(); // reads (and drops) the hello, so the close is seen
    await new Promise((resolve) => socket.once('connect', resolve));
    const body = Buffer.from(JSON.stringify({ kind: 'stanza', hops: 1, xml: '<message/>' }));
    const head = Buffer.alloc(4);
    head.writeUInt32BE(body.length);
    socket.write(Buffer.concat([head, body]));
    await new Promise((resolve) => socket.once('close', resolve));
    expect(got).to.deep.equal([]);
  });

  it('reports a frame to an instance that is not there as failed, and tells who is down', async function () {
    const a = await linkWith('s3cret');
    const gone = await linkWith('s3cret');
    const endpoint = gone.endpoint;
    await gone.close();
    open.push(a);
    const down: string[] = [];
    a.onPeerDown((e) => down.push(e));
    let failed = 0;
    a.send(endpoint, { kind: 'stanza', hops: 1, xml: '<message/>' }, () => failed++);
    await until(() => failed === 1 && down.length === 1, 5000);
    expect(down).to.deep.equal([endpoint]);
  });

  it('says farewell before closing: every frame a peer sent before is read, and the peer sends nothing more', async function () {
    const got: Frame[] = [];
    const a = await linkWith('s3cret');
    const b = await linkWith('s3cret', got);
    open.push(a, b);
    const down: string[] = [];
    a.onPeerDown((e) => down.push(e));
    a.send(b.endpoint, { kind: 'released', room: 'first' });
    await until(() => got.length === 1, 5000);
    for (let i = 0; i < 200; i++) a.send(b.endpoint, { kind: 'stanza', hops: 1, xml: `<message id="${i}"/>` });
    const t0 = Date.now();
    await b.farewell(5000);
    expect(Date.now() - t0, 'answered, not timed out').to.be.below(2000);
    expect(got.length, 'everything sent before the farewell was read').to.equal(201);
    expect(down).to.deep.equal([b.endpoint]);
    let failed = 0;
    a.send(b.endpoint, { kind: 'stanza', hops: 1, xml: '<message id="late"/>' }, () => failed++);
    await until(() => failed === 1, 5000);
    expect(got.length).to.equal(201);
  });

  it('does not wait for a peer that is gone', async function () {
    const a = await linkWith('s3cret');
    const b = await linkWith('s3cret');
    open.push(b);
    a.send(b.endpoint, { kind: 'released', room: 'first' });
    await sleep(200);
    await a.close();
    const t0 = Date.now();
    await b.farewell(5000);
    expect(Date.now() - t0).to.be.below(2000);
  });
});
