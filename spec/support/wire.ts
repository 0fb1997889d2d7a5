// What a room wrote to the server, parsed back into stanzas, for specs that read them.
import { Parser, type Element } from '@xmpp/xml';

/** The stanzas in one chunk of wire text (one or many, back to back). */
export function stanzasOf(wire: string): Element[] {
  const out: Element[] = [];
  const parser = new Parser();
  parser.on('element', (el: Element) => out.push(el));
  parser.write(`<stream>${wire}`);
  return out;
}
