// `make run` is `bin/flux demo`: a real process that starts its own XMPP server,
// prints how to connect, serves a player who follows those words, and stops
// everything on Ctrl-C. Once with Prosody (the default), once with ejabberd.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { ROOT_DIR } from '../../lib/config/index.ts';
import { bodyOf, connectPlayer, type Player } from '../support/player.ts';
import { until } from '../support/until.ts';
import { SERVER_KINDS } from '../../lib/demo/servers.ts';

/** Bound on the demo's start: database, migrations, the server, the component online. */
const READY_MS_MAX = 60000;
const EXIT_MS_MAX = 20000;

/** The printed link opens the console page, whose config.json points at this server's websocket and world's domain. */
async function expectPage(stdout: string, room: string): Promise<void> {
  const link = /Play in a browser, nothing to install:\n\s+(http:\/\/(?:127\.0\.0\.1|localhost):\d+\/\?world=(\S+))/.exec(stdout);
  expect(link, stdout).to.not.equal(null);
  expect(`${link![2]}@game.localhost`).to.equal(room);
  const page = await fetch(link![1]!);
  expect(page.status).to.equal(200);
  expect(await page.text()).to.include('role="log"');
  const config = await (await fetch(new URL('config.json', link![1]))).json() as Record<string, string>;
  expect(config).to.deep.include({ websocket: '/xmpp-websocket', mucDomain: 'game.localhost', login: 'register' });
}

for (const server of SERVER_KINDS) {
  describe(`bin/flux demo --server ${server}`, function () {
    let dir: string;
    let demo: ChildProcess | undefined;
    let player: Player | undefined;
    let stdout = '';
    let stderr = '';

    before(function () {
      dir = mkdtempSync(path.join(os.tmpdir(), 'flux-demo-'));
    });

    after(async function () {
      demo?.kill('SIGKILL');
      await player?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('prints how to connect, serves a player who does so, and stops everything on Ctrl-C', async function () {
      this.timeout(READY_MS_MAX + EXIT_MS_MAX + 10000);
      demo = spawn(path.join(ROOT_DIR, 'bin/flux'), ['demo', '--server', server], {
        env: { ...process.env, FLUX_DATA_DIR: path.join(dir, 'data'), FLUX_NPC_TICK_MS: '0', DATABASE_URL: '', LOG_LEVEL: 'warn' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      demo.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
      demo.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      await until(() => stdout.includes('Ctrl-C stops'), READY_MS_MAX).catch(() => {
        throw new Error(`the demo did not say how to connect:\n${stdout}\n${stderr}`);
      });
      const port = Number(/port (\d+), no TLS/.exec(stdout)![1]);
      const password = /alice@localhost\s+password (\S+)/.exec(stdout)![1]!;
      const room = /join the group chat (\S+)/.exec(stdout)![1]!;
      player = await connectPlayer({ service: `xmpp://127.0.0.1:${port}`, domain: 'localhost', username: 'alice', password });
      await player.join(room, 'Alice');
      const view = await player.waitFor((el) => el.attrs.from === room && /^Town Square/.test(bodyOf(el) ?? ''));
      expect(bodyOf(view)).to.match(/Exits: north, east, south, west$/);
      await expectPage(stdout, room);

      const exited = once(demo, 'exit');
      demo.kill('SIGINT');
      const [code] = await Promise.race([exited, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no exit after SIGINT')), EXIT_MS_MAX))]);
      expect(code, stderr).to.equal(0);
      await player.waitFor((el) => el.name === 'presence' && el.attrs.type === 'unavailable');
    });
  });
}
