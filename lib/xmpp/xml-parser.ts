// The streaming XML parser xmpp.js reads the component stream with (ltx underneath),
// for the specs and benches that feed it directly. @xmpp/xml is CommonJS and its
// Parser is not a named export Node's ESM loader can see, hence require().
import { createRequire } from 'node:module';

export const { Parser: XmlParser } = createRequire(import.meta.url)('@xmpp/xml') as typeof import('@xmpp/xml');
