// `flux demo` / `make run`: a private Prosody (or, with --server ejabberd, a private
// ejabberd) that also serves the console page (lib/web) and its websocket, the
// component on the embedded database (or DATABASE_URL), two demo accounts, and
// how to connect: the page's link first.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config/index.ts';
import type { Clock } from '../negotiation/index.ts';
import { startService } from '../service.ts';
import { untilSignal } from '../cli/signals.ts';
import { freePort, WEBSOCKET_PATH, type WebOptions } from './private-server.ts';
import { XMPP_SERVERS, type ServerKind, type XmppServerKind } from './servers.ts';
import { buildPage, installPage, PAGE_DIR } from '../web/index.ts';

export const DEMO_DIR = '.flux/demo';
const PREFERRED_C2S_PORT = 5222;
const PREFERRED_HTTP_PORT = 5280;
/** The console page's guests make their accounts here; Flux treats them as guests (FLUX_GUEST_DOMAINS). */
export const DEMO_GUEST_HOST = 'guest.localhost';
export const DEMO_ACCOUNTS = ['alice', 'bob'] as const;

export async function runDemo(config: Config, log: Logger, clock: Clock, kind: ServerKind = 'prosody'): Promise<number> {
  const server = XMPP_SERVERS[kind];
  if (!ensureInstalled(server)) return 1;
  const secret = randomBytes(18).toString('base64url');
  const c2sPort = (await portFree(PREFERRED_C2S_PORT)) ? PREFERRED_C2S_PORT : await freePort();
  const dir = path.resolve(config.dataDir, '..', kind === 'prosody' ? DEMO_DIR : `${DEMO_DIR}-${kind}`);
  const web = await setUpPage(dir, config.xmppDomain);
  const prosody = await server.start({
    dir, componentDomain: config.xmppDomain, componentSecret: secret, c2sPort, web, registrationHost: DEMO_GUEST_HOST,
  });
  const passwords = Object.fromEntries(DEMO_ACCOUNTS.map((user) => [user, randomBytes(6).toString('hex')]));
  for (const user of DEMO_ACCOUNTS) await prosody.registerUser(user, passwords[user]!);
  const service = await startService({
    config: {
      ...config, xmppService: `xmpp://127.0.0.1:${prosody.componentPort}`, xmppSecret: secret,
      guestDomains: [...new Set([...config.guestDomains, DEMO_GUEST_HOST])],
    },
    log, clock,
  }).catch(async (err: Error) => {
    await prosody.stop();
    throw err;
  });
  const room = [...service.rooms.keys()][0] ?? 'realm';
  const link = `http://${server.pageHost}:${web.httpPort}/?world=${encodeURIComponent(room)}`;
  process.stdout.write(howToConnect(prosody.host, prosody.c2sPort, passwords, `${room}@${config.xmppDomain}`, link));
  await untilSignal();
  await service.stop();
  await prosody.stop();
  return 0;
}

/**
 * The console page, built when the build has not made it yet, copied into the
 * demo's folder with the config.json that points it at this server.
 */
async function setUpPage(dir: string, mucDomain: string): Promise<WebOptions> {
  const built = existsSync(path.join(PAGE_DIR, 'index.html')) ? PAGE_DIR : await buildPage();
  const pageDir = path.join(dir, 'web');
  await installPage(pageDir, { websocket: WEBSOCKET_PATH, domain: DEMO_GUEST_HOST, mucDomain, login: 'register' }, built);
  const httpPort = (await portFree(PREFERRED_HTTP_PORT)) ? PREFERRED_HTTP_PORT : await freePort();
  return { dir: pageDir, httpPort };
}

function howToConnect(host: string, port: number, passwords: Record<string, string>, roomJid: string, link: string): string {
  const accounts = Object.entries(passwords).map(([u, p]) => `    ${u}@${host}   password ${p}`).join('\n');
  return `
Play in a browser, nothing to install:
  ${link}

Flux is running. Connect now with any XMPP client:
  server ${host} (127.0.0.1), port ${port}, no TLS (this private server listens on 127.0.0.1 only)
  accounts:
${accounts}
  then join the group chat ${roomJid} with any nick and type: look, help, n, take handbill, say hello, who

  Profanity: /connect alice@${host} server 127.0.0.1 port ${port} tls disable
             /join ${roomJid} nick Alice
  Gajim:     add account, Advanced: host 127.0.0.1 port ${port}, connection type "plain";
             then Join Group Chat ${roomJid}
  Dino:      needs TLS, so use Gajim or Profanity for this local demo.

Ctrl-C stops the world and the private server.
`;
}

/** Installs the server from Debian's package when we are root; otherwise says how. */
function ensureInstalled(server: XmppServerKind): boolean {
  if (server.installed()) return true;
  if (process.getuid?.() === 0) {
    process.stdout.write(`Installing ${server.name} (Debian package)...\n`);
    execFileSync('apt-get', ['install', '-y', server.package], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    return server.installed() !== null;
  }
  process.stderr.write(`flux demo needs ${server.name}: sudo apt-get install -y ${server.package}\n`);
  return false;
}

async function portFree(port: number): Promise<boolean> {
  const net = await import('node:net');
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
