// Prosody hot standby: Prosody takes one stream per component domain
// and refuses a second with <conflict/>. A second Flux instance then stands by:
// one log line, quiet retries every STANDBY_RETRY_MS, /readyz not ready. When the
// active instance dies (SIGKILL) or stops (SIGTERM), the standby connects, claims
// the rooms from PostgreSQL (the advisory locks went with the dead sessions, or
// were let go) and serves them with their occupants (room_sessions): the player
// is still joined (XEP-0410 self-ping answers) and plays on where they were,
// told nothing (no 332).
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import pg from 'pg';
import { until } from '../support/until.ts';
import { startPrivateProsody } from '../../lib/demo/prosody.ts';
import { freePort, type PrivateXmppServer } from '../../lib/demo/private-server.ts';
import { STANDBY_RETRY_MS } from '../../lib/constants.ts';
import { bodyOf, connectPlayer, xml, type Element, type Player } from '../support/player.ts';
import { COMPONENT_DOMAIN, createTestDatabase, type TestDatabase } from '../support/flux.ts';
import { describeOnPostgres } from '../support/postgres.ts';
import { spawnInstance, type FluxProcess } from '../support/flux-process.ts';

const ROOM = `realm@${COMPONENT_DOMAIN}`;
const SECRET = 'standby-secret';
const STANDING_BY = `another instance is connected for ${COMPONENT_DOMAIN}; standing by`;

describeOnPostgres('hot standby on Prosody (one component connection per domain)', function () {
  let db: TestDatabase;
  let prosody: PrivateXmppServer;
  let player: Player | undefined;
  const instances: FluxProcess[] = [];
  const fromRoom = (re: RegExp) => (el: Element) => el.attrs.from === ROOM && re.test(bodyOf(el) ?? '');

  const start = async (name: string, metricsPort = 0) => {
    const flux = spawnInstance(name, { server: prosody, db, secret: SECRET }, { FLUX_METRICS_PORT: String(metricsPort) });
    instances.push(flux);
    return flux;
  };

  /** The time from the end of `active` to the standby serving the room again, in ms. */
  const takeOver = async (active: FluxProcess, standby: FluxProcess, signal: NodeJS.Signals) => {
    const t0 = Date.now();
    const code = await active.kill(signal);
    if (signal === 'SIGTERM') expect(code, active.stderr()).to.equal(0);
    const online = await standby.waitForLine(/^component online: the other instance is gone/, 15000, t0);
    const claimed = await standby.waitForLine('took over a room', 15000, t0);
    expect(claimed.fields.room).to.equal('realm');
    return { onlineMs: online.atMs - t0, servingMs: claimed.atMs - t0 };
  };

  /** XEP-0410 §3: the player's client asks whether it is still joined; the new owner says it is. */
  const stillJoined = async () => {
    const ping = await player!.iq(`${ROOM}/Carol`, 'get', xml('ping', { xmlns: 'urn:xmpp:ping' }));
    expect(ping.attrs.type, ping.toString()).to.equal('result');
  };
  /** The nicks the session journal holds for the room. */
  const sessions = async () => {
    const c = new pg.Client({ connectionString: db.databaseUrl });
    await c.connect();
    try {
      return (await c.query<{ nick: string }>("SELECT nick FROM room_sessions WHERE room_id = 'realm'")).rows.map((r) => r.nick);
    } finally {
      await c.end();
    }
  };
  const leftTheRoom = (el: Element) => el.name === 'presence' && el.attrs.from === `${ROOM}/Carol` && el.attrs.type === 'unavailable';

  before(async function () {
    db = await createTestDatabase('postgresql');
    prosody = await startPrivateProsody({ dir: path.join(db.dataDir, 'prosody'), componentDomain: COMPONENT_DOMAIN, componentSecret: SECRET });
    await prosody.registerUser('carol', 'pw-carol');
  });

  after(async function () {
    await player?.stop();
    for (const flux of instances) await flux.kill('SIGKILL');
    await prosody?.stop();
    await db?.drop();
  });

  it('a second instance stands by: says so once over several retries, is not ready, claims no room', async function () {
    const a = await start('a');
    await a.waitForLine('serving', 30000);
    const metricsPort = await freePort();
    const b = await start('b', metricsPort);
    await b.waitForLine(STANDING_BY, 30000);
    await sleep(STANDBY_RETRY_MS * 4 + 500); // several knocks at the door
    expect(b.count(STANDING_BY), 'the standby line, once').to.equal(1);
    expect(b.lines.filter((l) => l.msg === 'xmpp connection error').map((l) => l.fields.err), 'retries are quiet').to.deep.equal([]);
    expect(b.count('serving')).to.equal(0);
    expect(b.count('took over a room')).to.equal(0);
    expect(b.child.exitCode).to.equal(null);
    const ready = await fetch(`http://127.0.0.1:${metricsPort}/readyz`);
    expect(ready.status).to.equal(503);
    expect(await ready.text()).to.match(/standing by/);
    expect(a.count(/conflict|standing by/), 'the active instance hears nothing of it').to.equal(0);
  });

  it('SIGKILL the active instance: the standby takes over and the player plays on where they were', async function () {
    const [a, b] = instances as [FluxProcess, FluxProcess];
    player = await connectPlayer({ service: `xmpp://127.0.0.1:${prosody.c2sPort}`, domain: prosody.host, username: 'carol', password: 'pw-carol' });
    await player.join(ROOM, 'Carol');
    await player.waitFor(fromRoom(/^Town Square/));
    player.say(ROOM, 'east');
    await player.waitFor(fromRoom(/^Market Row/));
    // A crash loses what the session journal had not written yet (SESSION_JOURNAL_MS): wait for Carol to be in it.
    await until(async () => (await sessions()).includes('Carol'), 5000);
    const { onlineMs, servingMs } = await takeOver(a, b, 'SIGKILL');
    await stillJoined();
    player.say(ROOM, 'west');
    await player.waitFor(fromRoom(/^Town Square/));
    expect(player.received.filter(leftTheRoom), 'nobody told the player to leave').to.deep.equal([]);
    console.log(`      takeover after SIGKILL: standby online at the XMPP server in ${onlineMs} ms, serving the room with its occupant in ${servingMs} ms`);
    expect(servingMs).to.be.below(STANDBY_RETRY_MS * 5);
  });

  it('SIGTERM the active instance: the standby takes the room over with its occupant, nobody hears 332, the player plays on', async function () {
    const b = instances[1]!;
    const a2 = await start('a2'); // the killed one comes back, now as the standby
    await a2.waitForLine(STANDING_BY, 30000);
    player!.mark();
    player!.say(ROOM, 'south');
    await player!.waitFor(fromRoom(/^Chapel/));
    player!.mark();
    const { onlineMs, servingMs } = await takeOver(b, a2, 'SIGTERM');
    await stillJoined();
    player!.say(ROOM, 'north');
    await player!.waitFor(fromRoom(/^Town Square/));
    expect(player!.received.filter(leftTheRoom), 'no 332, nor any other leave').to.deep.equal([]);
    console.log(`      takeover after SIGTERM: standby online at the XMPP server in ${onlineMs} ms, serving the room with its occupant in ${servingMs} ms`);
    expect(servingMs).to.be.below(STANDBY_RETRY_MS * 5);
    expect(a2.count(STANDING_BY)).to.equal(1);
  });
});
