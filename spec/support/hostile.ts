// Hostile clients for the fuzz campaign (spec/fuzz): light xmpp.js clients that
// count what they receive instead of keeping it, and raw c2s sockets that log in
// by hand (SASL ANONYMOUS or PLAIN) and then write whatever bytes they are given.
import { createRequire } from 'node:module';
import net from 'node:net';
import { xml, type Element } from './player.ts';

/** Bound on one login, by xmpp.js or by hand. */
export const LOGIN_MS_MAX = 10000;
/** Bound on closing a hostile stream; the server may have closed it already. */
const STOP_MS_MAX = 2000;
/** What a raw session keeps of what the server said (for the handshake and the report). */
const RAW_INPUT_CHARS_MAX = 64 * 1024;

interface XmppClient {
  readonly jid: { toString(): string } | null;
  readonly status: string;
  readonly reconnect: { stop(): void };
  readonly socket?: { writableLength?: number } | null;
  start(): Promise<unknown>;
  stop(): Promise<unknown>;
  send(el: Element): Promise<void>;
  on(event: 'stanza', listener: (el: Element) => void): void;
  on(event: 'error', listener: (err: Error) => void): void;
  on(event: 'offline' | 'disconnect', listener: () => void): void;
}

const require = createRequire(import.meta.url);
const xmppClient = require('@xmpp/client') as {
  client(options: { service: string; domain: string; username?: string; password?: string }): XmppClient;
};

/** A hostile xmpp.js client: counts what it gets, remembers nothing but what the campaign needs. */
export class HostileClient {
  received = 0;
  sent = 0;
  /** Sends that failed (the stream was gone, or the write failed). */
  failed = 0;
  readonly errors = new Map<string, number>();
  /** Stanza errors received, by condition. */
  readonly conditions = new Map<string, number>();
  #closed = false;
  readonly #listeners: ((el: Element) => void)[] = [];

  private constructor(private readonly client: XmppClient) {
    client.on('stanza', (el) => {
      this.received++;
      if (el.attrs.type === 'error') {
        const condition = el.getChild('error')?.getChildElements().find((c) => c.name !== 'text')?.name ?? '?';
        this.conditions.set(condition, (this.conditions.get(condition) ?? 0) + 1);
      }
      for (const l of this.#listeners) l(el);
    });
    client.on('error', (err) => this.errors.set(err.message, (this.errors.get(err.message) ?? 0) + 1));
    client.on('offline', () => {
      this.#closed = true;
    });
    client.on('disconnect', () => {
      this.#closed = true;
    });
  }

  static async connect(service: string, opts: { domain: string; username?: string; password?: string }): Promise<HostileClient> {
    const client = xmppClient.client({ service, ...opts });
    client.reconnect.stop();
    const h = new HostileClient(client);
    try {
      await withTimeout(client.start(), LOGIN_MS_MAX, `hostile login to ${opts.domain}`);
      await client.send(xml('presence'));
    } catch (err) {
      await h.stop();
      throw err;
    }
    return h;
  }

  get jid(): string {
    return this.client.jid?.toString() ?? '';
  }

  get bareJid(): string {
    return this.jid.split('/')[0]!;
  }

  /** Still logged in: the server has not closed the stream. */
  get online(): boolean {
    return !this.#closed && this.client.status === 'online';
  }

  /** Bytes waiting to be written: the sender waits while the server is behind. */
  get backlogBytes(): number {
    return this.client.socket?.writableLength ?? 0;
  }

  onStanza(listener: (el: Element) => void): void {
    this.#listeners.push(listener);
  }

  /** Sends; false when the stream is gone or the write failed (counted, never thrown). */
  async send(el: Element): Promise<boolean> {
    if (!this.online) {
      this.failed++;
      return false;
    }
    try {
      await this.client.send(el);
      this.sent++;
      return true;
    } catch (err) {
      this.failed++;
      this.errors.set((err as Error).message, (this.errors.get((err as Error).message) ?? 0) + 1);
      return false;
    }
  }

  async stop(): Promise<void> {
    if (this.#closed && this.client.status === 'offline') return;
    this.#closed = true;
    try {
      await withTimeout(this.client.stop(), STOP_MS_MAX, 'closing a hostile stream');
    } catch {
      // Gone already, or the server does not answer the close: nothing left to do.
    }
  }
}

/** How a raw session ended, or that it has not. */
export type RawEnd = 'open' | 'closed-by-server' | 'closed-by-us';

/**
 * A c2s stream driven by hand: the stream header, SASL (ANONYMOUS, or PLAIN with
 * an account), the restart, resource binding and initial presence, written as
 * bytes; after that, whatever the caller writes goes to Prosody as it is.
 */
export class RawSession {
  jid = '';
  end: RawEnd = 'open';
  /** What the server said, up to RAW_INPUT_CHARS_MAX (the rest is counted only). */
  input = '';
  inputBytes = 0;
  readonly #closed: Promise<void>;
  #waiters: (() => void)[] = [];

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (data: Buffer) => {
      this.inputBytes += data.length;
      if (this.input.length < RAW_INPUT_CHARS_MAX) this.input += data.toString('utf8');
      for (const w of this.#waiters) w();
    });
    socket.on('error', () => undefined); // a reset after a stream error is expected; 'close' follows
    this.#closed = new Promise((resolve) => socket.once('close', () => {
      if (this.end === 'open') this.end = 'closed-by-server';
      for (const w of this.#waiters) w();
      resolve();
    }));
  }

  static async open(port: number, domain: string, account?: { username: string; password: string }): Promise<RawSession> {
    const socket = net.connect({ host: '127.0.0.1', port });
    const s = new RawSession(socket);
    try {
      await withTimeout(new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('error', reject);
      }), LOGIN_MS_MAX, 'raw connect');
      await s.handshake(domain, account);
    } catch (err) {
      s.destroy();
      throw err;
    }
    return s;
  }

  private async handshake(domain: string, account?: { username: string; password: string }): Promise<void> {
    const header = `<?xml version='1.0'?><stream:stream to='${domain}' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>`;
    this.write(header);
    await this.expect(/<\/stream:features>/, 'stream features');
    this.input = '';
    if (account) {
      const token = Buffer.from(`\0${account.username}\0${account.password}`).toString('base64');
      this.write(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${token}</auth>`);
    } else {
      this.write("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='ANONYMOUS'/>");
    }
    await this.expect(/<success|<failure/, 'SASL outcome');
    if (/<failure/.test(this.input)) throw new Error(`raw SASL refused: ${this.input.slice(0, 300)}`);
    this.input = '';
    this.write(header);
    await this.expect(/<\/stream:features>/, 'features after SASL');
    this.input = '';
    this.write("<iq type='set' id='raw-bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>");
    await this.expect(/<\/iq>/, 'resource binding');
    const jid = /<jid>([^<]+)<\/jid>/.exec(this.input);
    if (!jid) throw new Error(`raw bind failed: ${this.input.slice(0, 300)}`);
    this.jid = jid[1]!;
    this.input = '';
    this.write('<presence/>');
  }

  /** Resolves once the server's output so far matches `re`; rejects after LOGIN_MS_MAX or on close. */
  private async expect(re: RegExp, what: string): Promise<void> {
    const deadline = Date.now() + LOGIN_MS_MAX;
    while (!re.test(this.input)) {
      if (this.end !== 'open') throw new Error(`raw session closed while waiting for ${what}: ${this.input.slice(0, 300)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`raw session: no ${what} within ${LOGIN_MS_MAX} ms: ${this.input.slice(0, 300)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(done, left);
        const waiters = this.#waiters;
        function done(): void {
          clearTimeout(t);
          const i = waiters.indexOf(done);
          if (i >= 0) waiters.splice(i, 1);
          resolve();
        }
        waiters.push(done);
      });
    }
  }

  write(data: string | Buffer): void {
    if (this.end === 'open' && !this.socket.destroyed) this.socket.write(data);
  }

  /** Bytes waiting to be written. */
  get backlogBytes(): number {
    return this.socket.writableLength;
  }

  /** Resolves true if the server closed the stream within `ms`. */
  async closedWithin(ms: number): Promise<boolean> {
    if (this.end !== 'open') return this.end === 'closed-by-server';
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    });
    const closed = this.#closed.then(() => true);
    try {
      return (await Promise.race([closed, timeout])) && (this.end as RawEnd) === 'closed-by-server';
    } finally {
      clearTimeout(timer);
    }
  }

  /** Closes the stream politely, then the socket. */
  async close(): Promise<void> {
    if (this.end !== 'open') return;
    this.end = 'closed-by-us';
    this.socket.end('</stream:stream>');
    const closed = await Promise.race([this.#closed.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), STOP_MS_MAX))]);
    if (!closed) this.socket.destroy();
  }

  destroy(): void {
    if (this.end === 'open') this.end = 'closed-by-us';
    this.socket.destroy();
  }
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
