// Health and readiness on the metrics port: GET /healthz is 200 while
// the process answers; GET /readyz is 200 only when the database answers, the
// component is online at the XMPP server and the rooms are claimed, and otherwise
// 503 naming what is missing. Played against the real service and a private Prosody
// that the spec stops and starts again.
import { expect } from 'chai';
import client from 'prom-client';
import { freePort } from '../../lib/demo/private-server.ts';
import { readiness, serveMetrics, type ReadinessSources } from '../../lib/metrics/index.ts';
import type { Queryable } from '../../lib/db/index.ts';
import { createTestDatabase, startWorld, type TestDatabase, type World } from '../support/flux.ts';
import { until } from '../support/until.ts';

async function get(url: string): Promise<{ status: number; body: string }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.text() };
}

describe('health and readiness (the real service, embedded database, private Prosody)', function () {
  let db: TestDatabase;
  let world: World;
  let base = '';

  before(async function () {
    db = await createTestDatabase('embedded');
    const port = await freePort();
    world = await startWorld(db, { FLUX_METRICS_PORT: String(port) });
    base = `http://127.0.0.1:${port}`;
  });

  after(async function () {
    await world?.stop();
    await db?.drop();
  });

  it('answers /healthz with 200 ok', async function () {
    expect(await get(`${base}/healthz`)).to.deep.equal({ status: 200, body: 'ok\n' });
  });

  it('answers /readyz with 200 once the component is online and the rooms are claimed', async function () {
    expect(world.service.edge.online).to.equal(true);
    expect(world.service.rooms.has('realm')).to.equal(true);
    expect(await get(`${base}/readyz`)).to.deep.equal({ status: 200, body: 'ready\n' });
  });

  it('answers /readyz with 503 naming the XMPP side while the XMPP server is down, and 200 when it is back', async function () {
    this.timeout(60_000);
    await world.xmpp.stop();
    let down = { status: 0, body: '' };
    await until(async () => (down = await get(`${base}/readyz`)).status === 503, 10_000);
    expect(down.body).to.equal('xmpp: the component is not online at the XMPP server\n');
    expect((await get(`${base}/healthz`)).status, 'alive all the same').to.equal(200);
    await world.xmpp.restart(); // already stopped: starts it again on the same ports
    await until(async () => (await get(`${base}/readyz`)).status === 200, 30_000);
  });

  it('answers only GET or HEAD on its paths', async function () {
    expect((await fetch(`${base}/readyz`, { method: 'POST' })).status).to.equal(404);
    expect((await fetch(`${base}/healthz`, { method: 'HEAD' })).status).to.equal(200);
    expect((await get(`${base}/healthz/x`)).status).to.equal(404);
  });
});

describe('readiness checks (lib/metrics/health.ts)', function () {
  const answering: Queryable = { query: async () => ({ rows: [], rowCount: 1 }) as never };
  const sources = (over: Partial<ReadinessSources> = {}): ReadinessSources => ({
    db: answering, xmppOnline: () => true, roomsClaimed: () => true, stopping: () => false, ...over,
  });

  it('is ready when everything is', async function () {
    expect(await readiness(sources())()).to.deep.equal([]);
  });

  it('names each thing that is not ready, one line each', async function () {
    const failing: Queryable = { query: async () => { throw Object.assign(new Error('connect ECONNREFUSED db.internal:5432 as flux'), { code: 'ECONNREFUSED' }); } };
    const missing = await readiness(sources({ db: failing, xmppOnline: () => false, roomsClaimed: () => false, stopping: () => true }))();
    expect(missing).to.deep.equal([
      'shutting down',
      'database: the query failed (ECONNREFUSED)',
      'xmpp: the component is not online at the XMPP server',
      'rooms: not claimed yet',
    ]);
    expect(missing.join('\n'), 'hosts and users in the error stay out').not.to.include('db.internal');
  });

  it('gives up on a database that does not answer in time', async function () {
    const hanging: Queryable = { query: () => new Promise(() => {}) };
    expect(await readiness(sources({ db: hanging }), 50)()).to.deep.equal(['database: no answer within 50 ms']);
  });

  it('asks the database once for a burst of probes', async function () {
    let queries = 0;
    const counting: Queryable = { query: async () => { queries++; await new Promise((r) => setTimeout(r, 20)); return { rows: [], rowCount: 1 } as never; } };
    const ready = readiness(sources({ db: counting }));
    const answers = await Promise.all(Array.from({ length: 50 }, () => ready()));
    expect(answers.every((a) => a.length === 0)).to.equal(true);
    expect(queries).to.equal(1);
    await ready();
    expect(queries, 'the next probe asks again').to.equal(2);
  });

  it('binds the address it is given (FLUX_METRICS_HOST), not every interface', async function () {
    const port = await freePort();
    const server = await serveMetrics(new client.Registry(), { port, host: '127.0.0.2', readiness: async () => [] });
    try {
      expect(server.url).to.equal(`http://127.0.0.2:${port}`);
      expect((await get(`http://127.0.0.2:${port}/healthz`)).status).to.equal(200);
      const elsewhere = await fetch(`http://127.0.0.1:${port}/healthz`).then(() => 'answered', () => 'refused');
      expect(elsewhere).to.equal('refused');
    } finally {
      await server.close();
    }
  });
});
