// bin/flux serve as an operator runs it: a real process, real Prosody, real database.
// SIGTERM: open batches commit, players get an unavailable presence (332), exit 0.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { expect } from 'chai';
import { startPrivateProsody } from '../../lib/demo/prosody.ts';
import { type PrivateXmppServer } from '../../lib/demo/private-server.ts';
import { ROOT_DIR } from '../../lib/config/index.ts';
import { bodyOf, connectPlayer, type Player } from '../support/player.ts';
import { COMPONENT_DOMAIN, createTestDatabase, databaseKinds, type TestDatabase } from '../support/flux.ts';
import { openDb } from '../../lib/db/index.ts';
import { pino } from 'pino';

const ROOM = `realm@${COMPONENT_DOMAIN}`;

for (const kind of databaseKinds()) {
  describe(`bin/flux serve (${kind} database)`, function () {
    let db: TestDatabase;
    let prosody: PrivateXmppServer;
    let flux: ChildProcess | undefined;
    let player: Player | undefined;
    let stderr = '';

    before(async function () {
      db = await createTestDatabase(kind);
      prosody = await startPrivateProsody({ dir: path.join(db.dataDir, 'prosody'), componentDomain: COMPONENT_DOMAIN, componentSecret: 'serve-secret' });
      await prosody.registerUser('carol', 'pw-carol');
    });

    after(async function () {
      flux?.kill('SIGKILL');
      await player?.stop();
      await prosody?.stop();
      await db?.drop();
    });

    it('serves a player, then on SIGTERM commits, sends unavailable with status 332 and exits 0', async function () {
      flux = spawn(path.join(ROOT_DIR, 'bin/flux'), ['serve'], {
        env: {
          ...process.env, FLUX_XMPP_SERVICE: `xmpp://127.0.0.1:${prosody.componentPort}`, FLUX_XMPP_DOMAIN: COMPONENT_DOMAIN,
          FLUX_XMPP_SECRET: 'serve-secret', DATABASE_URL: db.databaseUrl, FLUX_DATA_DIR: path.join(db.dataDir, 'flux'),
          FLUX_TICK_MS: '200', LOG_LEVEL: 'info',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      flux.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      const online = new Promise<void>((resolve) => flux!.stdout!.on('data', (d: Buffer) => d.toString().includes('"serving"') && resolve()));
      await Promise.race([online, once(flux, 'exit').then(() => { throw new Error(`flux exited: ${stderr}`); })]);
      player = await connectPlayer({ service: `xmpp://127.0.0.1:${prosody.c2sPort}`, domain: prosody.host, username: 'carol', password: 'pw-carol' });
      await player.join(ROOM, 'Carol');
      await player.waitFor((el) => el.attrs.from === ROOM && /^Town Square/.test(bodyOf(el) ?? ''));
      player.mark();
      player.say(ROOM, 'east'); // a 200 ms tick: the batch is still open when the signal lands
      await new Promise((r) => setTimeout(r, 20));
      flux.kill('SIGTERM');
      const moved = await player.waitFor((el) => el.attrs.from === ROOM && /^Market Row/.test(bodyOf(el) ?? ''));
      const gone = await player.waitFor((el) => el.name === 'presence' && el.attrs.type === 'unavailable');
      expect(player.received.indexOf(gone)).to.be.greaterThan(player.received.indexOf(moved));
      const codes = gone.getChild('x', 'http://jabber.org/protocol/muc#user')!.getChildren('status').map((s) => s.attrs.code);
      expect(codes).to.include.members(['110', '332']);
      const [code] = await once(flux, 'exit');
      expect(code, stderr).to.equal(0);
      flux = undefined;
      const check = await openDb({ databaseUrl: db.databaseUrl, dataDir: path.join(db.dataDir, 'flux'), log: pino({ level: 'silent' }) });
      try {
        const rows = await check.query<{ location: string; present: boolean }>(
          "SELECT l.key AS location, c.present FROM characters c JOIN locations l ON l.room_id = c.room_id AND l.idx = c.location WHERE c.nick = 'Carol'");
        expect(rows.rows).to.deep.equal([{ location: 'market', present: false }]);
      } finally {
        await check.close();
      }
    });
  });
}
