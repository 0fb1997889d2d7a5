// lib/xmpp/connection.ts: the XEP-0114 connection keeps a multi-byte UTF-8
// character whole when TCP splits it across two reads. A tiny fake component
// server (XEP-0114 §3: stream header, handshake) controls where the split falls.
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import net from 'node:net';
import { component, type Component } from '@xmpp/component';
import type { Element } from '@xmpp/xml';
import { connectComponent } from '../../lib/xmpp/connection.ts';
import type { GateCut } from '../../lib/xmpp/stanza-gate.ts';
import { STANZA_BYTES_MAX } from '../../lib/constants.ts';

const DOMAIN = 'game.localhost';
const SECRET = 'sekrit';
const STREAM_ID = 'flux-spec-stream';
const BODY = 'héllo 🌍 世界 ünïcödé 👩‍👩‍👧';
const SPLIT_DELAY_MS = 25;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A component server that speaks just enough XEP-0114 to bring a component online. */
class FakeComponentServer {
  readonly sockets = new Set<net.Socket>();
  private readonly server = net.createServer((socket) => this.accept(socket));
  connections = 0;
  handshakes = 0;
  badHandshakes = 0;
  port = 0;

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  get service(): string {
    return `xmpp://127.0.0.1:${this.port}`;
  }

  /** The most recent connection that completed the handshake. */
  latest(): net.Socket {
    const online = [...this.sockets].filter((s) => (s as net.Socket & { online?: boolean }).online);
    expect(online, 'an online component connection').not.to.have.length(0);
    return online[online.length - 1]!;
  }

  /** Writes `bytes` in two TCP segments, split at `at`, with a pause between them. */
  async writeSplit(socket: net.Socket, bytes: Buffer, at: number): Promise<void> {
    await new Promise<void>((resolve) => socket.write(bytes.subarray(0, at), () => resolve()));
    await sleep(SPLIT_DELAY_MS);
    await new Promise<void>((resolve) => socket.write(bytes.subarray(at), () => resolve()));
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** When set, every new connection is handed here instead (a server that keeps hanging up). */
  hangUp: ((socket: net.Socket) => void) | null = null;

  private accept(socket: net.Socket): void {
    if (this.hangUp) return this.hangUp(socket);
    this.connections++;
    this.sockets.add(socket);
    socket.setNoDelay(true);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => {});
    let input = '';
    socket.on('data', (data: Buffer) => {
      input += data.toString('utf8');
      if (input.includes('<stream:stream') && input.includes('>') && !input.includes('<!--opened-->')) {
        input += '<!--opened-->';
        socket.write(`<?xml version='1.0'?><stream:stream xmlns:stream='http://etherx.jabber.org/streams' xmlns='jabber:component:accept' from='${DOMAIN}' id='${STREAM_ID}'>`);
      }
      const handshake = /<handshake>([0-9a-f]+)<\/handshake>/.exec(input);
      if (handshake) {
        input = input.replace(handshake[0], '');
        const expected = createHash('sha1').update(STREAM_ID + SECRET).digest('hex');
        if (handshake[1] === expected) {
          this.handshakes++;
          (socket as net.Socket & { online?: boolean }).online = true;
          socket.write('<handshake/>');
        } else {
          this.badHandshakes++;
          socket.end("<stream:error><not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></stream:stream>");
        }
      }
      if (input.includes('</stream:stream>')) socket.end('</stream:stream>');
    });
  }
}

function messageBytes(id: string, body = BODY): Buffer {
  return Buffer.from(`<message from='alice@localhost/phone' to='realm@${DOMAIN}' type='groupchat' id='${id}'><body>${body}</body></message>`, 'utf8');
}

/** Byte offsets that fall inside a multi-byte character of the body. */
function splitsInsideCharacters(bytes: Buffer): number[] {
  const out: number[] = [];
  for (let i = 1; i < bytes.length; i++) if ((bytes[i]! & 0xc0) === 0x80) out.push(i);
  return out;
}

interface Connected {
  readonly xmpp: Component;
  readonly stanzas: Element[];
  readonly errors: Error[];
}

async function bringOnline(server: FakeComponentServer, make: typeof component): Promise<Connected> {
  const xmpp = make({ service: server.service, domain: DOMAIN, password: SECRET });
  const stanzas: Element[] = [];
  const errors: Error[] = [];
  xmpp.on('stanza', (el) => stanzas.push(el));
  xmpp.on('error', (err) => errors.push(err));
  await xmpp.start();
  return { xmpp, stanzas, errors };
}

async function waitForStanza(c: Connected, id: string, timeoutMs = 2000): Promise<Element> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = c.stanzas.find((el) => el.attrs.id === id);
    if (found) return found;
    if (Date.now() > deadline) expect.fail(`no stanza ${id} (errors: ${c.errors.map((e) => e.message).join('; ')})`);
    await sleep(5);
  }
}

async function stopComponent(c: Connected | undefined): Promise<void> {
  if (!c) return;
  c.xmpp.reconnect.stop();
  await c.xmpp.stop().catch(() => {});
}

describe('xmpp connectComponent (UTF-8 split across TCP reads)', function () {
  let server: FakeComponentServer;
  let repaired: Connected | undefined;
  let plain: Connected | undefined;

  before(async function () {
    server = new FakeComponentServer();
    await server.listen();
  });

  after(async function () {
    await stopComponent(repaired);
    await stopComponent(plain);
    await server.close();
  });

  it('comes online through the XEP-0114 handshake with the shared secret', async function () {
    repaired = await bringOnline(server, connectComponent);
    expect(repaired.xmpp.status).to.equal('online');
    expect(repaired.xmpp.jid?.toString()).to.equal(DOMAIN);
    expect(server.handshakes).to.equal(1);
    expect(server.badHandshakes).to.equal(0);
  });

  it('sees the body intact when a write splits the emoji in the middle', async function () {
    const bytes = messageBytes('emoji');
    const at = bytes.indexOf(Buffer.from('🌍')) + 2;
    await server.writeSplit(server.latest(), bytes, at);
    const el = await waitForStanza(repaired!, 'emoji');
    expect(el.getChildText('body')).to.equal(BODY);
    expect(repaired!.errors).to.deep.equal([]);
  });

  it('sees the body intact wherever inside a multi-byte character the split falls', async function () {
    this.timeout(20000);
    const bytes = messageBytes('probe');
    const splits = splitsInsideCharacters(bytes);
    expect(splits.length).to.be.above(20);
    for (const at of splits) {
      const id = `split-${at}`;
      await server.writeSplit(server.latest(), messageBytes(id), at + (id.length - 'probe'.length));
      const el = await waitForStanza(repaired!, id);
      const body = el.getChildText('body')!;
      expect(body, `split at byte ${at}`).not.to.include('\uFFFD');
      expect(body, `split at byte ${at}`).to.equal(BODY);
    }
    expect(repaired!.errors).to.deep.equal([]);
  });

  it('still receives stanzas whose every byte arrives in its own read', async function () {
    this.timeout(20000);
    const bytes = messageBytes('trickle', '世界🌍');
    const socket = server.latest();
    for (let i = 0; i < bytes.length; i++) {
      await new Promise<void>((resolve) => socket.write(bytes.subarray(i, i + 1), () => resolve()));
      if (bytes[i]! >= 0x80) await sleep(5);
    }
    const el = await waitForStanza(repaired!, 'trickle');
    expect(el.getChildText('body')).to.equal('世界🌍');
  });

  it('cuts a 1 MB stanza at STANZA_BYTES_MAX: its start comes out as "cut", the stream stays up, the next stanza arrives', async function () {
    const c = repaired!;
    const cut: { el: Element; bytes: number; reason: string }[] = [];
    (c.xmpp as unknown as { on(e: 'cut', f: (el: Element, g: GateCut) => void): void }).on('cut', (el, g) => cut.push({ el, ...g }));
    const huge = messageBytes('huge', 'ü'.repeat(512 * 1024)); // 1 MB of body: ü is two bytes
    const socket = server.latest();
    for (let i = 0; i < huge.length; i += 65536) await new Promise<void>((resolve) => socket.write(huge.subarray(i, i + 65536), () => resolve()));
    socket.write(messageBytes('small'));
    expect((await waitForStanza(c, 'small')).getChildText('body')).to.equal(BODY);
    expect(cut).to.have.length(1);
    expect(cut[0]!.bytes).to.equal(STANZA_BYTES_MAX + 1);
    expect(cut[0]!.reason).to.equal('size');
    expect(cut[0]!.el.attrs).to.include({ from: 'alice@localhost/phone', id: 'huge' });
    expect(c.stanzas.find((el) => el.attrs.id === 'huge'), 'never a stanza').to.equal(undefined);
    expect(c.xmpp.status).to.equal('online');
    expect(c.errors).to.deep.equal([]);
  });

  it('receives a 240 KB body of emoji whole, in 64 KB reads, and cuts a stanza nested 5,000 deep as "nesting"', async function () {
    const c = repaired!;
    const cut: GateCut[] = [];
    (c.xmpp as unknown as { on(e: 'cut', f: (el: Element, g: GateCut) => void): void }).on('cut', (_el, g) => cut.push(g));
    const emoji = '🌍'.repeat(60_000);
    const long = messageBytes('long-emoji', emoji);
    const socket = server.latest();
    for (let i = 0; i < long.length; i += 65536) await new Promise<void>((resolve) => socket.write(long.subarray(i, i + 65536), () => resolve()));
    const got = (await waitForStanza(c, 'long-emoji', 10_000)).getChildText('body') ?? '';
    expect(got.length, 'body length').to.equal(emoji.length);
    expect(got === emoji, 'the body, character for character').to.equal(true);
    const deep = `<iq from='alice@localhost/phone' to='${DOMAIN}' type='get' id='deep'>${'<d>'.repeat(5000)}${'</d>'.repeat(5000)}</iq>`;
    socket.write(deep + messageBytes('after-deep').toString('utf8'));
    expect((await waitForStanza(c, 'after-deep')).getChildText('body')).to.equal(BODY);
    expect(cut.map((g) => g.reason)).to.deep.equal(['nesting']);
    expect(c.stanzas.find((el) => el.attrs.id === 'deep'), 'never a stanza').to.equal(undefined);
    expect(c.errors).to.deep.equal([]);
  });

  it('starts clean on a new connection after one dropped in the middle of a character', async function () {
    const c = repaired!;
    c.xmpp.reconnect.delay = 20;
    const before = { connections: server.connections, handshakes: server.handshakes };
    const bytes = messageBytes('torn');
    const socket = server.latest();
    await new Promise<void>((resolve) => socket.write(bytes.subarray(0, bytes.indexOf(Buffer.from('🌍')) + 2), () => resolve()));
    await sleep(SPLIT_DELAY_MS);
    socket.destroy();
    const deadline = Date.now() + 3000;
    while (server.handshakes === before.handshakes || c.xmpp.status !== 'online') {
      if (Date.now() > deadline) expect.fail(`did not come back online (errors: ${c.errors.map((e) => e.message).join('; ')})`);
      await sleep(10);
    }
    // A leftover half character would break the new stream's header and cost another reconnect.
    expect(server.connections - before.connections, 'reconnections').to.equal(1);
    expect(c.errors).to.deep.equal([]);
    const next = messageBytes('after');
    await server.writeSplit(server.latest(), next, next.indexOf(Buffer.from('世')) + 1);
    expect((await waitForStanza(c, 'after')).getChildText('body')).to.equal(BODY);
    expect(c.stanzas.find((el) => el.attrs.id === 'torn')).to.equal(undefined);
  });

  it('backs off while the server keeps hanging up: each pause longer than the one before', async function () {
    this.timeout(20000);
    const c = repaired!;
    const attempts: number[] = [];
    const hangUp = (socket: net.Socket) => {
      attempts.push(Date.now());
      socket.destroy();
    };
    server.hangUp = hangUp;
    server.latest().destroy();
    const deadline = Date.now() + 15000;
    while (attempts.length < 4 && Date.now() < deadline) await sleep(20);
    server.hangUp = null;
    expect(attempts.length, 'reconnection attempts').to.be.at.least(4);
    const gaps = attempts.slice(1).map((t, i) => t - attempts[i]!);
    // Jittered doubling from 500 ms: 1st gap 500-1000 ms, 2nd 1000-2000 ms, 3rd 2000-4000 ms.
    expect(gaps[0]).to.be.within(400, 1200);
    expect(gaps[1]).to.be.within(900, 2200);
    expect(gaps[2]).to.be.within(1900, 4300);
    while (c.xmpp.status !== 'online' && Date.now() < deadline + 5000) await sleep(20);
    expect(c.xmpp.status).to.equal('online');
  });

  it('(control) plain component() from @xmpp/component turns the same split into U+FFFD', async function () {
    plain = await bringOnline(server, component);
    const bytes = messageBytes('plain');
    const at = bytes.indexOf(Buffer.from('🌍')) + 2;
    await server.writeSplit(server.latest(), bytes, at);
    const el = await waitForStanza(plain, 'plain');
    const body = el.getChildText('body')!;
    expect(body).to.include('\uFFFD');
    expect(body).not.to.equal(BODY);
  });
});
