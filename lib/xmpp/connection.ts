// The XEP-0114 connection, from xmpp.js, with one repair: xmpp.js decodes each TCP
// read on its own (data.toString('utf8')), so a multi-byte character split across
// two reads turns into U+FFFD. A StringDecoder per socket keeps the partial bytes.
import { StringDecoder } from 'node:string_decoder';
import { component, type Component } from '@xmpp/component';

interface ConnectionInternals {
  _onData(data: Buffer): void;
  _attachSocket(socket: unknown): void;
  emit(event: string, ...args: unknown[]): boolean;
  parser: { write(s: string): void } | null;
}

export function connectComponent(options: { service: string; domain: string; password: string }): Component {
  const xmpp = component(options);
  const internals = xmpp as unknown as ConnectionInternals;
  let decoder = new StringDecoder('utf8');
  const attach = internals._attachSocket.bind(xmpp);
  internals._attachSocket = (socket: unknown) => {
    decoder = new StringDecoder('utf8');
    attach(socket);
  };
  internals._onData = (data: Buffer) => {
    const text = decoder.write(data);
    if (text === '') return;
    internals.emit('input', text);
    internals.parser?.write(text);
  };
  return xmpp;
}
