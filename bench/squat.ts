// One anonymous attacker squatting nicks: ATTACK_CONNECTIONS connections to a
// Prosody guest host (SASL ANONYMOUS: a fresh JID each), each joining Flux's world
// under new nick after new nick, with Flux's default limits and the guest host in
// FLUX_GUEST_DOMAINS. It prints how many characters the attack made, then, after
// every connection has gone, how many are still held after WAIT_AFTER_S. Needs
// DATABASE_URL (it counts rows in Flux's schema). `npm run bench:squat`; about 11
// minutes, most of it waiting.
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startPrivateProsody } from '../lib/demo/prosody.ts';
import { xml, type Element } from '../lib/xmpp/stanzas.ts';
import { startFlux } from './flux-process.ts';

const ATTACK_CONNECTIONS = 100;
/** Nicks each connection tries (one JID may make at most 4 characters). */
const NICKS_PER_CONNECTION = 6;
const WAIT_AFTER_S = Number(process.env.SQUAT_WAIT_S ?? 600);
const GAME = 'game.localhost';
const GUESTS = 'guest.localhost';
const ROOM = `realm@${GAME}`;

interface Client {
  on(e: 'stanza', f: (el: Element) => void): void;
  on(e: 'error', f: (err: Error) => void): void;
  start(): Promise<unknown>;
  stop(): Promise<unknown>;
  send(el: Element): Promise<void>;
}
const { client } = createRequire(import.meta.url)('@xmpp/client') as { client(o: { service: string; domain: string }): Client };

if (!process.env.DATABASE_URL) throw new Error('bench/squat.ts counts rows in PostgreSQL: set DATABASE_URL');
const dir = mkdtempSync(path.join(os.tmpdir(), 'flux-squat-'));
const prosody = await startPrivateProsody({ dir: path.join(dir, 'prosody'), componentDomain: GAME, componentSecret: 'squat', anonymousHost: GUESTS });
const flux = await startFlux({
  componentPort: prosody.componentPort, domain: GAME, secret: 'squat', dataDir: path.join(dir, 'flux'),
  // Flux's defaults for everything a stranger meets, the guest host named.
  env: { FLUX_COMMANDS_PER_S: '10', FLUX_NEW_CHARACTERS_PER_DOMAIN_PER_MIN: '120', FLUX_GUEST_DOMAINS: GUESTS },
});
const db = new pg.Client({ connectionString: flux.databaseUrl });
await db.connect();
const held = async () => Number((await db.query(`SELECT count(*) AS n FROM characters WHERE jid LIKE $1 AND NOT released`, [`%@${GUESTS}`])).rows[0].n);

/** One connection: join as each nick in turn; a nick that joined is left again, so the next one is a new character. */
async function attacker(i: number): Promise<{ joined: number; refused: Record<string, number> }> {
  const c = client({ service: `xmpp://127.0.0.1:${prosody.c2sPort}`, domain: GUESTS });
  c.on('error', () => {});
  const refused: Record<string, number> = {};
  let joined = 0;
  let settle: ((r: string) => void) | null = null;
  c.on('stanza', (el) => {
    if (el.name !== 'presence' || !String(el.attrs.from ?? '').startsWith(`${ROOM}/`)) return;
    if (el.attrs.type === 'error') settle?.(el.getChild('error')?.children.find((x) => typeof x !== 'string' && (x as Element).name !== 'text')?.toString().match(/<([a-z-]+)/)?.[1] ?? 'error');
    else if (el.attrs.type !== 'unavailable' && el.getChild('x', 'http://jabber.org/protocol/muc#user')?.getChildren('status').some((s) => s.attrs.code === '110')) settle?.('joined');
  });
  await c.start();
  for (let k = 0; k < NICKS_PER_CONNECTION; k++) {
    const nick = `sq${i}x${k}`;
    const outcome = await new Promise<string>((resolve) => {
      settle = resolve;
      setTimeout(() => resolve('no answer'), 10000);
      void c.send(xml('presence', { to: `${ROOM}/${nick}` }, xml('x', { xmlns: 'http://jabber.org/protocol/muc' })));
    });
    settle = null;
    if (outcome === 'joined') {
      joined++;
      await c.send(xml('presence', { to: `${ROOM}/${nick}`, type: 'unavailable' }));
    } else refused[outcome] = (refused[outcome] ?? 0) + 1;
  }
  await c.stop().catch(() => {});
  return { joined, refused };
}

try {
  const t0 = performance.now();
  const results = await Promise.all(Array.from({ length: ATTACK_CONNECTIONS }, (_, i) => attacker(i)));
  const seconds = (performance.now() - t0) / 1000;
  await new Promise((r) => setTimeout(r, 2000));
  const refused: Record<string, number> = {};
  for (const r of results) for (const [k, n] of Object.entries(r.refused)) refused[k] = (refused[k] ?? 0) + n;
  const joins = results.reduce((n, r) => n + r.joined, 0);
  console.log(`${ATTACK_CONNECTIONS} anonymous connections, ${NICKS_PER_CONNECTION} nicks each, in ${seconds.toFixed(1)} s: ${joins} joins made characters; refused: ${JSON.stringify(refused)}`);
  console.log(`characters of guests held when the last connection left: ${await held()}`);
  for (let waited = 0; waited < WAIT_AFTER_S; waited += 60) {
    await new Promise((r) => setTimeout(r, Math.min(60, WAIT_AFTER_S - waited) * 1000));
    console.log(`  ${Math.min(waited + 60, WAIT_AFTER_S)} s after: ${await held()} held`);
  }
} finally {
  await db.end();
  await flux.stop();
  await prosody.stop();
  rmSync(dir, { recursive: true, force: true });
}
