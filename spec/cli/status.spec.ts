// bin/flux status: every instance writes its row in the instances
// table each FLUX_HEARTBEAT_MS; status lists them with state, rooms, load and when
// each was last heard from, and calls one silent after 3 missed heartbeats. Two
// real bin/flux processes on one Prosody domain and one PostgreSQL: one serves,
// one stands by; the serving one is SIGKILLed (silent, the standby serving now),
// then the other is stopped with SIGTERM (stopped).
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { pino } from 'pino';
import { startPrivateProsody } from '../../lib/demo/prosody.ts';
import { type PrivateXmppServer } from '../../lib/demo/private-server.ts';
import { ROOT_DIR } from '../../lib/config/index.ts';
import { openDb, type Db } from '../../lib/db/index.ts';
import { readInstances, type InstanceStatus } from '../../lib/metrics/index.ts';
import { bodyOf, connectPlayer, type Player } from '../support/player.ts';
import { COMPONENT_DOMAIN, createTestDatabase, type TestDatabase } from '../support/flux.ts';
import { describeOnPostgres } from '../support/postgres.ts';
import { spawnInstance, type FluxProcess } from '../support/flux-process.ts';
import { until } from '../support/until.ts';

const ROOM = `realm@${COMPONENT_DOMAIN}`;
const SECRET = 'status-secret';
const HEARTBEAT_MS = 300;

describeOnPostgres('bin/flux status: the instances, their rooms, their load, when each was heard from', function () {
  let db: TestDatabase;
  let prosody: PrivateXmppServer;
  let check: Db;
  let player: Player | undefined;
  const instances: FluxProcess[] = [];

  const start = (name: string) => {
    const flux = spawnInstance(name, { server: prosody, db, secret: SECRET }, { FLUX_HEARTBEAT_MS: String(HEARTBEAT_MS) });
    instances.push(flux);
    return flux;
  };
  const status = async (...args: string[]) => {
    const { stdout } = await promisify(execFile)(path.join(ROOT_DIR, 'bin/flux'), ['status', ...args], {
      env: { ...process.env, DATABASE_URL: db.databaseUrl, FLUX_DATA_DIR: path.join(db.dataDir, 'status'), LOG_LEVEL: 'silent' },
    });
    return stdout;
  };
  const byPid = (list: InstanceStatus[], f: FluxProcess) => list.find((i) => i.pid === f.child.pid);

  before(async function () {
    db = await createTestDatabase('postgresql');
    prosody = await startPrivateProsody({ dir: path.join(db.dataDir, 'prosody'), componentDomain: COMPONENT_DOMAIN, componentSecret: SECRET });
    await prosody.registerUser('dora', 'pw-dora');
    check = await openDb({ databaseUrl: db.databaseUrl, dataDir: path.join(db.dataDir, 'check'), log: pino({ level: 'silent' }) });
  });

  after(async function () {
    await player?.stop();
    for (const flux of instances) await flux.kill('SIGKILL');
    await check?.close();
    await prosody?.stop();
    await db?.drop();
  });

  it('shows the serving instance with its rooms and load, and the standby with none', async function () {
    const a = start('a');
    await a.waitForLine('serving', 30000);
    const b = start('b');
    await b.waitForLine(/standing by$/, 30000);
    player = await connectPlayer({ service: `xmpp://127.0.0.1:${prosody.c2sPort}`, domain: prosody.host, username: 'dora', password: 'pw-dora' });
    await player.join(ROOM, 'Dora');
    await player.waitFor((el) => el.attrs.from === ROOM && /^Town Square/.test(bodyOf(el) ?? ''));
    // Load: commands keep coming until a heartbeat has counted some.
    const playing = setInterval(() => player!.say(ROOM, 'look'), 50);
    try {
      await until(async () => (byPid(await readInstances(check), a)?.commandsPerS ?? 0) > 0, 5000);
    } finally {
      clearInterval(playing);
    }
    const listed = JSON.parse(await status('--json')) as InstanceStatus[];
    const [sa, sb] = [byPid(listed, a)!, byPid(listed, b)!];
    expect(sa).to.include({ state: 'online', domain: COMPONENT_DOMAIN, heartbeatMs: HEARTBEAT_MS });
    expect(sa.rooms).to.include('realm');
    expect(sb).to.include({ state: 'standby', domain: COMPONENT_DOMAIN });
    expect(sb.rooms).to.deep.equal([]);
    for (const i of [sa, sb]) expect(i.heardMsAgo).to.be.below(3 * HEARTBEAT_MS);
    const table = await status();
    console.log(table.replace(/^/gm, '      '));
    expect(table.split('\n')[0]).to.match(/^INSTANCE\s+HOST:PID\s+LINK\s+DOMAIN\s+STATE\s+ROOMS\s+CMD\/S\s+HEARD\s+STARTED$/);
    expect(table).to.match(new RegExp(`:${a.child.pid}\\s+127\\.0\\.0\\.1:\\d+\\s+${COMPONENT_DOMAIN.replace('.', '\\.')}\\s+online\\s+\\d+ \\(.*realm`));
    expect(table).to.match(new RegExp(`:${b.child.pid}\\s+127\\.0\\.0\\.1:\\d+\\s+${COMPONENT_DOMAIN.replace('.', '\\.')}\\s+standby\\s+-`));
  });

  it('a killed instance turns silent after 3 heartbeats; the standby shows online with the rooms; a stopped one says stopped', async function () {
    const [a, b] = instances as [FluxProcess, FluxProcess];
    await a.kill('SIGKILL');
    await b.waitForLine('took over a room', 15000);
    await until(async () => {
      const now = await readInstances(check);
      return byPid(now, a)?.state === 'silent' && byPid(now, b)?.state === 'online' && byPid(now, b)!.rooms.includes('realm');
    }, 10 * HEARTBEAT_MS + 5000);
    const listed = JSON.parse(await status('--json')) as InstanceStatus[];
    expect(byPid(listed, a)!.state).to.equal('silent');
    expect(byPid(listed, a)!.heardMsAgo).to.be.above(3 * HEARTBEAT_MS);
    expect(await status()).to.match(new RegExp(`:${a.child.pid}\\s+\\S+\\s+\\S+\\s+silent\\s`));
    expect(await b.kill('SIGTERM')).to.equal(0);
    const after = byPid(await readInstances(check), b)!;
    expect(after.state).to.equal('stopped');
    expect(after.rooms).to.deep.equal([]);
  });
});
