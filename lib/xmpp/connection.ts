// The XEP-0114 connection, from xmpp.js, with two repairs on the way in:
// - xmpp.js decodes each TCP read on its own (data.toString('utf8')), so a
//   multi-byte character split across two reads turns into U+FFFD. A
//   StringDecoder per socket keeps the partial bytes.
// - xmpp.js would hold a stanza of any size. A StanzaGate per socket cuts one
//   that passes `stanzaBytesMax`; its cut-off start comes out as an 'oversized'
//   event instead of a stanza, so the edge can refuse it.
// And one change of policy: xmpp.js reconnects after a fixed second; here the
// pause doubles with each failed attempt, with jitter (Backoff).
import { StringDecoder } from 'node:string_decoder';
import { component, type Component } from '@xmpp/component';
import type { Element } from '@xmpp/xml';
import { StanzaGate } from './stanza-gate.ts';
import { Backoff } from './backoff.ts';
import { STANZA_BYTES_MAX } from '../constants.ts';

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
  readonly service: string;
  readonly domain: string;
  readonly password: string;
  /** Default STANZA_BYTES_MAX. */
  readonly stanzaBytesMax?: number;
}

export function connectComponent(options: ComponentOptions): Component {
  const xmpp = component({ service: options.service, domain: options.domain, password: options.password });
  const internals = xmpp as unknown as ConnectionInternals;
  let cutBytes = 0; // > 0: the next element the parser completes is a stanza cut at this size
  const gate = () => {
    const decoder = new StringDecoder('utf8');
    return new StanzaGate(options.stanzaBytesMax ?? STANZA_BYTES_MAX, {
      forward: (bytes) => {
        const text = decoder.write(bytes);
        if (text === '') return;
        internals.emit('input', text);
        internals.parser?.write(text);
      },
      cut: (bytes) => {
        cutBytes = bytes;
      },
    });
  };
  let current = gate();
  const attach = internals._attachSocket.bind(xmpp);
  internals._attachSocket = (socket: unknown) => {
    current = gate();
    cutBytes = 0;
    attach(socket);
  };
  internals._onData = (data: Buffer) => current.write(data);
  const backoff = new Backoff();
  const reconnect = xmpp.reconnect as unknown as ReconnectInternals;
  const schedule = reconnect.scheduleReconnect.bind(reconnect);
  reconnect.scheduleReconnect = () => {
    reconnect.delay = backoff.next();
    schedule();
  };
  xmpp.on('online', () => backoff.reset());
  const onElement = internals._onElement.bind(xmpp);
  internals._onElement = (element: Element) => {
    if (cutBytes === 0) return onElement(element);
    const bytes = cutBytes;
    cutBytes = 0;
    internals.emit('oversized', element, bytes);
  };
  return xmpp;
}
