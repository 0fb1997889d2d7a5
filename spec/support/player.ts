// A test player: a real XMPP client (xmpp.js) logged in to the private Prosody,
// recording every stanza it receives so specs can wait for what they expect.
import { createRequire } from 'node:module';

/** Bound on login (TCP, SASL, bind) to the local server. */
export const CONNECT_MS_MAX = 10000;
/** Default bound of waitFor, join and iq. */
export const WAIT_MS_DEFAULT = 5000;
/** Bound on closing the stream; the server may already be gone. */
export const STOP_MS_MAX = 2000;
/** Bodies quoted when waitFor times out. */
const TIMEOUT_BODIES_SHOWN = 8;
const NS_MUC = 'http://jabber.org/protocol/muc';
const NS_MUC_USER = 'http://jabber.org/protocol/muc#user';
const NS_STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';
const STATUS_SELF_PRESENCE = '110';

/**
 * The part of @xmpp/xml's (ltx) Element that specs use. xmpp.js ships no type
 * declarations, so the module is loaded through require and typed here.
 */
export interface Element {
  name: string;
  attrs: Record<string, string | undefined>;
  children: Array<Element | string>;
  getChild(name: string, xmlns?: string): Element | undefined;
  getChildren(name: string, xmlns?: string): Element[];
  getChildElements(): Element[];
  getChildText(name: string, xmlns?: string): string | null;
  text(): string;
  is(name: string, xmlns?: string): boolean;
  toString(): string;
}

export type XmlAttrs = Record<string, string | number | undefined>;
export type XmlFn = (name: string, attrs?: XmlAttrs | null, ...children: Array<Element | string>) => Element;

interface XmppClient {
  readonly jid: { toString(): string } | null;
  readonly reconnect: { stop(): void };
  start(): Promise<unknown>;
  stop(): Promise<unknown>;
  send(el: Element): Promise<void>;
  on(event: 'stanza', listener: (el: Element) => void): void;
  on(event: 'error', listener: (err: Error) => void): void;
}

interface XmppClientModule {
  xml: XmlFn;
  client(options: {
    service: string; domain: string; username?: string; password?: string; resource?: string;
  }): XmppClient;
}

const require = createRequire(import.meta.url);
const xmppClient = require('@xmpp/client') as XmppClientModule;

/** Builds a stanza (re-exported @xmpp/xml `xml`, typed). */
export const xml: XmlFn = xmppClient.xml;

export interface Player {
  /** Full JID after resource binding. */
  readonly jid: string;
  /** Every stanza received (messages, presences, iqs), in order. */
  readonly received: Element[];
  /**
   * Sends a MUC join presence and resolves on the self-presence (status 110) with the
   * room's presences received since, self-presence last; rejects on a presence error.
   */
  join(roomJid: string, nick: string): Promise<Element[]>;
  /** Sends a groupchat message; a send failure shows up in waitFor's timeout message. */
  say(roomJid: string, body: string): void;
  /** First stanza matching pred received since the last mark(), or arriving within ms. */
  waitFor(pred: (el: Element) => boolean, ms?: number): Promise<Element>;
  /** Forget everything received so far, for waitFor's purposes. */
  mark(): void;
  /** Calls `listener` with every stanza received from now on. */
  onStanza(listener: (el: Element) => void): void;
  /** Sends an iq and resolves with the reply, type result or error alike. */
  iq(to: string, type: 'get' | 'set', child: Element): Promise<Element>;
  send(el: Element): Promise<void>;
  /** Closes the stream; idempotent. */
  stop(): Promise<void>;
}

export interface PlayerOptions {
  /** e.g. xmpp://127.0.0.1:PORT */
  service: string;
  domain: string;
  /** Absent: a guest, logged in with SASL ANONYMOUS (the server gives it a fresh JID). */
  username?: string;
  password?: string;
  resource?: string;
}

/** The body text of a message, or null if it has none. */
export function bodyOf(el: Element): string | null {
  if (el.name !== 'message') return null;
  return el.getChildText('body');
}

/** A stanza error's text (RFC 6120 §8.3.2), or '' if it has none. */
export function errorTextOf(el: Element): string {
  return el.getChild('error')?.getChildText('text', 'urn:ietf:params:xml:ns:xmpp-stanzas') ?? '';
}

/**
 * Logs in and sends initial presence (without it Prosody does not route messages sent
 * to the bare JID). Automatic reconnection is off: a spec should see a disconnect.
 * Prosody here offers SCRAM-SHA-1 (preferred by xmpp.js) and PLAIN without TLS, and no
 * STARTTLS, so no TLS options are needed on this loopback connection.
 */
export async function connectPlayer(opts: PlayerOptions): Promise<Player> {
  const client = xmppClient.client({
    service: opts.service,
    domain: opts.domain,
    ...(opts.username === undefined ? {} : { username: opts.username, password: opts.password }),
    ...(opts.resource === undefined ? {} : { resource: opts.resource }),
  });
  client.reconnect.stop();
  const player = new XmppPlayer(client);
  try {
    await withTimeout(client.start(), CONNECT_MS_MAX, `login as ${opts.username}@${opts.domain}`);
  } catch (err) {
    await player.stop();
    throw new Error(`player ${opts.username ?? '(anonymous)'} could not connect to ${opts.service}: ${(err as Error).message}`);
  }
  await player.send(xml('presence'));
  return player;
}

class XmppPlayer implements Player {
  readonly received: Element[] = [];
  readonly #errors: string[] = [];
  readonly #listeners = new Set<(el: Element) => void>();
  #markIndex = 0;
  #nextIqId = 1;
  #stopping: Promise<void> | null = null;

  constructor(private readonly client: XmppClient) {
    client.on('stanza', (el) => this.#receive(el));
    // An EventEmitter 'error' without a listener would crash the test process.
    client.on('error', (err) => this.#errors.push(err.message));
  }

  get jid(): string {
    return this.client.jid?.toString() ?? '';
  }

  async join(roomJid: string, nick: string): Promise<Element[]> {
    const room = bareOf(roomJid);
    const presences: Element[] = [];
    const selfPresence = this.#next((el) => {
      if (el.name !== 'presence' || bareOf(el.attrs.from ?? '') !== room) return false;
      presences.push(el);
      return el.attrs.type === 'error' || isSelfPresence(el);
    }, WAIT_MS_DEFAULT, `self-presence from ${room}`);
    await this.send(xml('presence', { to: `${roomJid}/${nick}` }, xml('x', { xmlns: NS_MUC })));
    const last = await selfPresence;
    if (last.attrs.type === 'error') {
      throw new Error(`join ${roomJid} as ${nick} refused: ${errorCondition(last)}\n${last.toString()}`);
    }
    return presences;
  }

  say(roomJid: string, body: string): void {
    const message = xml('message', { to: roomJid, type: 'groupchat' }, xml('body', {}, body));
    this.send(message).catch((err: Error) => this.#errors.push(`say: ${err.message}`));
  }

  waitFor(pred: (el: Element) => boolean, ms = WAIT_MS_DEFAULT): Promise<Element> {
    const earlier = this.received.slice(this.#markIndex).find(pred);
    if (earlier !== undefined) return Promise.resolve(earlier);
    return this.#next(pred, ms, describe(pred));
  }

  mark(): void {
    this.#markIndex = this.received.length;
  }

  onStanza(listener: (el: Element) => void): void {
    this.client.on('stanza', listener);
  }

  async iq(to: string, type: 'get' | 'set', child: Element): Promise<Element> {
    const id = `player-iq-${this.#nextIqId++}`;
    const reply = this.#next(
      (el) => el.name === 'iq' && el.attrs.id === id && (el.attrs.type === 'result' || el.attrs.type === 'error'),
      WAIT_MS_DEFAULT,
      `iq reply ${id} from ${to}`,
    );
    await this.send(xml('iq', { to, type, id }, child));
    return reply;
  }

  send(el: Element): Promise<void> {
    return this.client.send(el);
  }

  stop(): Promise<void> {
    this.#stopping ??= this.#close();
    return this.#stopping;
  }

  async #close(): Promise<void> {
    try {
      await withTimeout(this.client.stop(), STOP_MS_MAX, 'closing the stream');
    } catch {
      // Already disconnected or the server is gone: nothing left to close.
    }
  }

  #receive(el: Element): void {
    this.received.push(el);
    for (const listener of [...this.#listeners]) listener(el);
  }

  /** The first stanza from now on matching pred; the listener is removed either way. */
  #next(pred: (el: Element) => boolean, ms: number, what: string): Promise<Element> {
    return new Promise((resolve, reject) => {
      const listener = (el: Element): void => {
        if (!pred(el)) return;
        finish();
        resolve(el);
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(this.#timeoutMessage(what, ms)));
      }, ms);
      const finish = (): void => {
        clearTimeout(timer);
        this.#listeners.delete(listener);
      };
      this.#listeners.add(listener);
    });
  }

  #timeoutMessage(what: string, ms: number): string {
    const bodies = this.received.map(bodyOf).filter((b): b is string => b !== null);
    const shown = bodies.slice(-TIMEOUT_BODIES_SHOWN).map((b) => `  ${JSON.stringify(b)}`);
    const lines = [
      `${this.jid}: no stanza matching ${what} within ${ms} ms`,
      `(${this.received.length} stanzas received; last ${shown.length} bodies:)`,
      ...shown,
    ];
    if (this.#errors.length > 0) lines.push(`errors: ${this.#errors.join('; ')}`);
    return lines.join('\n');
  }
}

function isSelfPresence(el: Element): boolean {
  const x = el.getChild('x', NS_MUC_USER);
  if (x === undefined) return false;
  return x.getChildren('status').some((s) => s.attrs.code === STATUS_SELF_PRESENCE);
}

function errorCondition(el: Element): string {
  const error = el.getChild('error');
  const condition = error?.getChildElements().find((c) => c.attrs.xmlns === NS_STANZAS && c.name !== 'text');
  return condition?.name ?? 'unknown error';
}

/** Bare JID, lower-cased: enough for comparing room addresses in specs. */
function bareOf(jid: string): string {
  const slash = jid.indexOf('/');
  return (slash === -1 ? jid : jid.slice(0, slash)).toLowerCase();
}

function describe(pred: (el: Element) => boolean): string {
  const source = pred.toString().replace(/\s+/g, ' ');
  return source.length > 120 ? `${source.slice(0, 117)}...` : source;
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
