// The XEP-0114 connection, from xmpp.js, with two repairs on the way in:
// - xmpp.js decodes each TCP read on its own (data.toString('utf8')), so a
//   multi-byte character split across two reads turns into U+FFFD. A
//   StringDecoder per socket keeps the partial bytes.
// - xmpp.js would hold a stanza of any size and depth. A StanzaGate per socket
//   cuts one that passes `stanzaBytesMax` or STANZA_NESTING_MAX; its cut-off
//   start comes out as a 'cut' event instead of a stanza, so the edge can refuse it.
// - ltx, xmpp.js's parser, scans to the end of its input for every character of
//   a text with no "<" after it in the same write: quadratic in the run's length
//   (a 240 KB body of emoji held the event loop for seconds). A ParserFeed per
//   socket hands it each read up to its last tag, so that no write ends in a run.
// And two changes of policy: xmpp.js reconnects after a fixed second; here the
// pause doubles with each failed attempt, with jitter (Backoff), unless the edge
// asks for a fixed one (a hot standby knocking every STANDBY_RETRY_MS). And
// `service` may name several servers (the nodes of a cluster, comma-separated):
// each time the stream goes away the next is tried, so an instance whose node
// stopped comes back through another.
import { StringDecoder } from 'node:string_decoder';
import { component, type Component } from '@xmpp/component';
import type { Element } from '@xmpp/xml';
import { StanzaGate, type GateCut } from './stanza-gate.ts';
import { ParserFeed } from './parser-feed.ts';
import { Backoff } from './backoff.ts';
import { STANZA_BYTES_MAX, STANZA_NESTING_MAX } from '../constants.ts';

interface ReconnectInternals {
  delay: number;
  scheduleReconnect(): void;
}

interface ConnectionInternals {
  _onData(data: Buffer): void;
  _attachSocket(socket: unknown): void;
  _onElement(element: Element): void;
  emit(event: string, ...args: unknown[]): boolean;
  parser: { write(s: string): void } | null;
}

export interface ComponentOptions {
  /** xmpp://host:port, or several comma-separated, tried in turn. */
  readonly service: string;
  readonly domain: string;
  readonly password: string;
  /** Default STANZA_BYTES_MAX. */
  readonly stanzaBytesMax?: number;
  /** A fixed pause before the next attempt instead of the backoff's (a standby's), or null. */
  readonly retryPauseMs?: () => number | null;
  /** Sees every element first; true: it was taken elsewhere (forwarded to the instance that owns its room). */
  readonly divert?: (element: Element) => boolean;
}

/** What the XMPP server's elements go through once past `divert`: where a forwarded element comes in. */
const receivers = new WeakMap<Component, (element: Element) => void>();

/** Handles `element` as if the server had sent it on this stream, past `divert` (one another instance forwarded). */
export function receiveElement(xmpp: Component, element: Element): void {
  receivers.get(xmpp)?.(element);
}

export function connectComponent(options: ComponentOptions): Component {
  const services = options.service.split(',');
  const xmpp = component({ service: services[0]!, domain: options.domain, password: options.password });
  const internals = xmpp as unknown as ConnectionInternals;
  let pendingCut: GateCut | null = null; // the next element the parser completes is a stanza cut so
  const gate = () => {
    const decoder = new StringDecoder('utf8');
    let feed: ParserFeed | null = null; // for the parser of the stream now open (a restarted stream has a new one)
    return new StanzaGate(options.stanzaBytesMax ?? STANZA_BYTES_MAX, {
      forward: (bytes) => {
        const text = decoder.write(bytes);
        if (text === '') return;
        internals.emit('input', text);
        const parser = internals.parser;
        if (!parser) return;
        if (feed?.parser !== parser) feed = new ParserFeed(parser);
        feed.write(text);
      },
      cut: (cut) => {
        pendingCut = cut;
      },
    }, STANZA_NESTING_MAX);
  };
  let current = gate();
  const attach = internals._attachSocket.bind(xmpp);
  internals._attachSocket = (socket: unknown) => {
    current = gate();
    pendingCut = null;
    attach(socket);
  };
  internals._onData = (data: Buffer) => current.write(data);
  const backoff = new Backoff();
  const reconnect = xmpp.reconnect as unknown as ReconnectInternals;
  const schedule = reconnect.scheduleReconnect.bind(reconnect);
  let next = 0;
  reconnect.scheduleReconnect = () => {
    reconnect.delay = options.retryPauseMs?.() ?? backoff.next();
    if (services.length > 1) (xmpp as unknown as { options: { service: string } }).options.service = services[(next = (next + 1) % services.length)]!;
    schedule();
  };
  xmpp.on('online', () => backoff.reset());
  const onElement = internals._onElement.bind(xmpp);
  receivers.set(xmpp, onElement);
  internals._onElement = (element: Element) => {
    if (!pendingCut) return options.divert?.(element) ? undefined : onElement(element);
    const cut = pendingCut;
    pendingCut = null;
    internals.emit('cut', element, cut);
  };
  return xmpp;
}
