// The streaming XML parser xmpp.js reads the component stream with (ltx underneath),
// for the specs and benches that feed it directly. @xmpp/xml is CommonJS and its
// Parser is not a named export Node's ESM loader can see, hence require().
import { createRequire } from 'node:module';
import { ParserFeed } from './parser-feed.ts';

export const { Parser: XmlParser } = createRequire(import.meta.url)('@xmpp/xml') as typeof import('@xmpp/xml');

type Element = import('@xmpp/xml').Element;

/**
 * One serialized element back into an element, read the way the stream is read
 * (a stanza another instance forwarded, already past that instance's gate).
 */
export function parseElement(xml: string): Element {
  const parser = new XmlParser() as unknown as { on(event: string, f: (x: unknown) => void): void; write(s: string): void };
  let found: Element | undefined;
  let failed: Error | undefined;
  parser.on('element', (el) => { found ??= el as Element; });
  parser.on('error', (err) => { failed ??= err as Error; });
  const feed = new ParserFeed(parser);
  feed.write('<forwarded>');
  feed.write(xml);
  feed.write('</forwarded>');
  if (failed || !found) throw failed ?? new Error('no element in the forwarded text');
  return found;
}
