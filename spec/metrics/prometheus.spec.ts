// Live metrics: with FLUX_METRICS_PORT set, a running server answers
// GET /metrics on 127.0.0.1 in the Prometheus text format, and the counters move
// as a game is played through Prosody.
import { expect } from 'chai';
import { freePort } from '../../lib/demo/private-server.ts';
import { bodyOf, type Element, type Player } from '../support/player.ts';
import { createTestDatabase, startWorld, type TestDatabase, type World } from '../support/flux.ts';

/** metric{labels} value lines -> value of the first line matching name and every label given. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || line.startsWith('#')) continue;
    const m = /^([a-z_]+)(\{[^}]*\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    if (Object.entries(labels).every(([k, v]) => (m[2] ?? '').includes(`${k}="${v}"`))) return Number(m[3]);
  }
  return undefined;
}

describe('live metrics (Prometheus, embedded database)', function () {
  let db: TestDatabase;
  let world: World;
  let port: number;
  let eve: Player;
  const scrape = async () => {
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.match(/^text\/plain/);
    return res.text();
  };

  before(async function () {
    db = await createTestDatabase('embedded');
    port = await freePort();
    world = await startWorld(db, { FLUX_METRICS_PORT: String(port) });
    eve = await world.player('eve');
  });

  after(async function () {
    await world?.stop();
    await db?.drop();
  });

  it('counts commands, refusals, batches, stage times and stanzas as a game is played', async function () {
    const before = await scrape();
    expect(sample(before, 'flux_rooms')).to.equal(1);
    expect(sample(before, 'flux_occupants')).to.equal(0);
    expect(sample(before, 'flux_commands_accepted_total', { room: 'realm' }) ?? 0).to.equal(0);
    await eve.join(world.roomJid, 'Eve');
    const fromRoom = (re: RegExp) => (el: Element) => el.name === 'message' && el.attrs.from === world.roomJid && re.test(bodyOf(el) ?? '');
    await eve.waitFor(fromRoom(/^Town Square/));
    eve.mark();
    eve.say(world.roomJid, 'look');
    await eve.waitFor(fromRoom(/^Town Square/));
    eve.mark();
    eve.say(world.roomJid, 'dance');
    await eve.waitFor(fromRoom(/Did you mean/));
    eve.say(world.roomJid, 'help');
    await eve.waitFor(fromRoom(/^Commands:/));
    const text = await scrape();
    expect(sample(text, 'flux_occupants')).to.equal(1);
    expect(sample(text, 'flux_commands_accepted_total', { room: 'realm' }), 'look (the join comes from the presence)').to.be.at.least(1);
    expect(sample(text, 'flux_commands_refused_total', { room: 'realm', reason: 'not-a-command' })).to.equal(1);
    expect(sample(text, 'flux_batch_commands_count', { room: 'realm' })).to.be.at.least(2);
    expect(sample(text, 'flux_stage_seconds_count', { room: 'realm', stage: 'actuation' })).to.be.at.least(2);
    expect(sample(text, 'flux_stanzas_sent_total', { room: 'realm' })).to.be.at.least(2);
    expect(sample(text, 'flux_engine_memory_bytes')).to.be.above(0);
    expect(sample(text, 'flux_server_lag_seconds'), 'a probe went through Prosody and back').to.be.within(0, 1);
    expect(sample(text, 'nodejs_eventloop_lag_seconds')).to.be.a('number');
    expect(sample(text, 'flux_fence_conflicts_total', { room: 'realm' }) ?? 0).to.equal(0);
  });

  it('answers only GET /metrics', async function () {
    expect((await fetch(`http://127.0.0.1:${port}/`)).status).to.equal(404);
    expect(world.config.metricsPort).to.equal(port);
  });
});
