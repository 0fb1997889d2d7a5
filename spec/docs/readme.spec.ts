// The README's server snippets are tested: each is read out of README.md,
// given a free port and a secret, put into a private Prosody or ejabberd, and
// then Flux connects as the README says and a player joins through it.
import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { startPrivateProsody } from '../../lib/demo/prosody.ts';
import { freePort, type PrivateXmppServer } from '../../lib/demo/private-server.ts';
import { startPrivateEjabberd } from '../../lib/demo/ejabberd.ts';
import { loadConfig, readDefaults, ROOT_DIR } from '../../lib/config/index.ts';
import { startService, type Service } from '../../lib/service.ts';
import { bodyOf, connectPlayer, type Player } from '../support/player.ts';

const README = readFileSync(path.join(ROOT_DIR, 'README.md'), 'utf8');
const DOMAIN = 'game.example.org';
const README_PORT = '5347';
const README_SECRET = 'change-me';

/** The fenced block right after `<!-- snippet: NAME ... -->`. */
function snippet(name: string): string {
  const match = new RegExp(`<!-- snippet: ${name}\\b[^>]*-->\\s*\`\`\`\\w*\\n([\\s\\S]*?)\`\`\``).exec(README);
  if (!match) throw new Error(`README.md has no snippet ${name}`);
  return match[1]!;
}

interface Case {
  readonly name: string;
  /** Starts the server with the snippet in its config; returns it and the component port the snippet serves. */
  start(dir: string, secret: string): Promise<{ server: PrivateXmppServer; componentPort: number }>;
}

const CASES: Case[] = [
  {
    name: 'Prosody',
    // The snippet's Component section, appended as it is: Prosody serves it on the component port.
    start: async (dir, secret) => {
      const server = await startPrivateProsody({
        dir, componentDomain: 'other.localhost', componentSecret: 'unused', extraConfig: snippet('prosody-component').replaceAll(README_SECRET, secret),
      });
      return { server, componentPort: server.componentPort };
    },
  },
  {
    name: 'ejabberd',
    // The snippet's listener, on a free port instead of 5347.
    start: async (dir, secret) => {
      const port = await freePort();
      const listener = snippet('ejabberd-listener').replaceAll(README_PORT, String(port)).replaceAll(README_SECRET, secret);
      const server = await startPrivateEjabberd({ dir, componentDomain: 'other.localhost', componentSecret: 'unused', extraListeners: listener });
      return { server, componentPort: port };
    },
  },
];

for (const c of CASES) {
  describe(`README: the ${c.name} snippet`, function () {
    let dir: string;
    let server: PrivateXmppServer | undefined;
    let service: Service | undefined;
    let player: Player | undefined;

    before(async function () {
      dir = mkdtempSync(path.join(os.tmpdir(), 'flux-readme-'));
    });

    after(async function () {
      await player?.stop();
      await service?.stop();
      await server?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('lets Flux connect as the README says, and a player join the world through it', async function () {
      const secret = `readme-${Math.random().toString(36).slice(2)}`;
      const started = await c.start(path.join(dir, 'server'), secret);
      server = started.server;
      const config = loadConfig({
        FLUX_XMPP_SERVICE: `xmpp://127.0.0.1:${started.componentPort}`, FLUX_XMPP_DOMAIN: DOMAIN, FLUX_XMPP_SECRET: secret,
        DATABASE_URL: '', FLUX_DATA_DIR: path.join(dir, 'flux'), FLUX_NPC_TICK_MS: '0',
      }, readDefaults());
      service = await startService({ config, log: pino({ level: 'silent' }), clock: { nowMs: () => Date.now() } });
      await server.registerUser('reader', 'reader-pw');
      player = await connectPlayer({ service: `xmpp://127.0.0.1:${server.c2sPort}`, domain: server.host, username: 'reader', password: 'reader-pw' });
      await player.join(`realm@${DOMAIN}`, 'Reader');
      const view = await player.waitFor((el) => el.attrs.from === `realm@${DOMAIN}` && /^Town Square/.test(bodyOf(el) ?? ''));
      expect(bodyOf(view)!.split('\n').pop()).to.equal('Exits: north, east, south, west');
    });
  });
}
