// The console page without a browser: the private Prosody serves it, and a guest
// makes an account in-band over the page's websocket (XEP-0077, as the page does),
// logs in over that websocket and plays one command. Machines without chromium
// cover the page's whole path to Flux here; spec/web/browser.spec.ts clicks it.
import { createRequire } from 'node:module';
import { gzipSync } from 'node:zlib';
import { expect } from 'chai';
import { connectPlayer, bodyOf, type Element, type Player } from '../support/player.ts';
import { createTestDatabase, SERVER_KINDS, SERVER_NAMES, startWorld, type TestDatabase, type World } from '../support/flux.ts';
import { PAGE_FILES } from '../../lib/web/index.ts';

/** The bound on the page, xmpp.js included. */
const PAGE_GZIP_BYTES_MAX = 100 * 1024;
const REGISTER_MS_MAX = 5000;
const NS_FRAMING = 'urn:ietf:params:xml:ns:xmpp-framing';
const NS_PLACE = 'urn:flux:place:0';
/** The page's other login ("login": "anonymous" in config.json): SASL ANONYMOUS over the same websocket. */
const ANONYMOUS_HOST = 'anon.localhost';

// ws is what @xmpp/websocket itself uses under Node 20 (no global WebSocket).
type Ws = { on(event: string, listener: (data: unknown) => void): void; send(s: string): void; close(): void };
const WebSocket = createRequire(import.meta.url)('ws') as new (url: string, protocols: string[]) => Ws;

/** What the page's register() does: open a stream, set username and password, close. Resolves to the iq answer. */
function registerInBand(url: string, domain: string, username: string, password: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, ['xmpp']);
    const timer = setTimeout(() => reject(new Error('no answer to the registration')), REGISTER_MS_MAX);
    ws.on('error', (err) => reject(err as Error));
    ws.on('open', () => ws.send(`<open xmlns="${NS_FRAMING}" to="${domain}" version="1.0"/>`));
    ws.on('message', (data) => {
      const frame = String(data);
      if (frame.includes('http://jabber.org/features/iq-register')) {
        ws.send(`<iq xmlns="jabber:client" type="set" id="r1"><query xmlns="jabber:iq:register"><username>${username}</username><password>${password}</password></query></iq>`);
      } else if (frame.startsWith('<iq')) {
        clearTimeout(timer);
        ws.close();
        resolve(frame);
      }
    });
  });
}

for (const server of SERVER_KINDS) describe(`the console page over plain HTTP and a websocket (private ${SERVER_NAMES[server]})`, function () {
  let db: TestDatabase;
  let world: World;
  let guest: Player | undefined;
  let anonymous: Player | undefined;

  before(async function () {
    db = await createTestDatabase('embedded');
    world = await startWorld(db, {}, server, { web: true, anonymousHost: ANONYMOUS_HOST });
  });

  after(async function () {
    await guest?.stop();
    await anonymous?.stop();
    await world?.stop();
    await db?.drop();
  });

  it('serves the page, its script, xmpp.js and its config, under 100 KB gzipped in all', async function () {
    const page = await fetch(world.web!.url);
    expect(page.status).to.equal(200);
    const html = await page.text();
    expect(html).to.include('role="log"').and.include('src="console.js"').and.include('src="xmpp.min.js"');
    let gzipped = 0;
    for (const file of PAGE_FILES) {
      const response = await fetch(new URL(file, world.web!.url));
      expect(response.status, file).to.equal(200);
      gzipped += gzipSync(Buffer.from(await response.arrayBuffer()), { level: 9 }).length;
    }
    expect(gzipped).to.be.below(PAGE_GZIP_BYTES_MAX);
    const config = await (await fetch(new URL('config.json', world.web!.url))).json() as Record<string, string>;
    expect(config).to.deep.include({ websocket: '/xmpp-websocket', domain: world.web!.guestHost, mucDomain: 'game.localhost', login: 'register' });
  });

  it('lets a guest make an account over the websocket, log in there and play: look, then north', async function () {
    const username = `guest-${Date.now().toString(36)}`;
    const answer = await registerInBand(world.web!.websocket, world.web!.guestHost, username, 'pw-123456');
    expect(answer).to.match(/type=["']result["']/);
    guest = await connectPlayer({ service: world.web!.websocket, domain: world.web!.guestHost, username, password: 'pw-123456' });
    expect(guest.jid).to.match(new RegExp(`^${username}@${world.web!.guestHost}/`));
    await guest.join(world.roomJid, 'Webby');
    const description = (el: Element) => el.name === 'message' && el.attrs.from === world.roomJid && el.getChild('place', NS_PLACE) !== undefined;
    const square = await guest.waitFor(description);
    expect(bodyOf(square)!.split('\n')[0]).to.equal('Town Square');
    const place = square.getChild('place', NS_PLACE)!;
    expect(place.attrs.title).to.equal('Town Square');
    expect(place.getChildren('exit').map((e) => e.attrs.dir)).to.deep.equal(['north', 'east', 'south', 'west']);
    guest.mark();
    guest.say(world.roomJid, 'north');
    const next = await guest.waitFor((el) => description(el) && el.getChild('place', NS_PLACE)!.attrs.title !== 'Town Square');
    expect(bodyOf(next)!.split('\n')[0]).to.equal(next.getChild('place', NS_PLACE)!.attrs.title);
    expect(bodyOf(next)!.split('\n').pop()).to.equal(`Exits: ${next.getChild('place', NS_PLACE)!.getChildren('exit').map((e) => e.attrs.dir).join(', ')}`);
  });

  it('lets an anonymous guest (SASL ANONYMOUS) log in over the same websocket and join', async function () {
    anonymous = await connectPlayer({ service: world.web!.websocket, domain: ANONYMOUS_HOST });
    expect(anonymous.jid).to.match(new RegExp(`@${ANONYMOUS_HOST}/`));
    await anonymous.join(world.roomJid, 'Nobody');
    const square = await anonymous.waitFor((el) => el.name === 'message' && el.attrs.from === world.roomJid && el.getChild('place', NS_PLACE) !== undefined);
    expect(square.getChild('place', NS_PLACE)!.attrs.key).to.equal('square');
  });
});
