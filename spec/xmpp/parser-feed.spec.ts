// lib/xmpp/parser-feed.ts: a long run of text or attribute value reaches ltx in
// short writes, and the parser builds exactly the stanzas it would from one write.
import { expect } from 'chai';
import fc from 'fast-check';
import type { Element } from '@xmpp/xml';
import { XmlParser } from '../../lib/xmpp/xml-parser.ts';
import { feedParser, RUN_SLICE_CHARS } from '../../lib/xmpp/parser-feed.ts';

const HEADER = "<?xml version='1.0'?><stream:stream xmlns='jabber:component:accept' xmlns:stream='http://etherx.jabber.org/streams' id='s1'>";

function parse(reads: string[], feed: boolean): { elements: string[]; writes: string[] } {
  const parser = new XmlParser();
  const elements: string[] = [];
  parser.on('element', (el: Element) => elements.push(el.toString()));
  parser.on('error', (err: Error) => elements.push(`error: ${err.message}`));
  const writes: string[] = [];
  const counting = { write: (t: string) => { writes.push(t); parser.write(t); } };
  for (const r of reads) (feed ? feedParser(counting, r) : counting.write(r));
  return { elements, writes };
}

/** Splits `text` at the given points (as TCP reads would, after the declaration). */
function reads(text: string, points: number[]): string[] {
  const at = [...new Set(points.map((p) => Math.min(Math.max(p, 22), text.length)))].sort((a, b) => a - b);
  const out: string[] = [];
  let from = 0;
  for (const p of [...at, text.length]) {
    out.push(text.slice(from, p));
    from = p;
  }
  return out;
}

describe('xmpp feedParser', function () {
  it('gives the parser the same stanzas as plain writes, with no write ending in a run of more than RUN_SLICE_CHARS (property)', function () {
    const piece = fc.constantFrom('a', 'é', '🌍', '&amp;', ' ', '&lt;');
    const run = fc.array(piece, { maxLength: 3000 }).map((p) => p.join(''));
    fc.assert(fc.property(run, run, (body, note) => {
      const stanza = `<message id="m"><body>${body}</body><x xmlns="urn:t" note="${note}"/></message>`;
      const stream = HEADER + stanza + stanza;
      const split = reads(stream, []);
      const plain = parse(split, false);
      const fed = parse(split, true);
      expect(fed.elements).to.deep.equal(plain.elements);
      expect(fed.elements).to.have.length(2);
      for (const w of fed.writes) expect(w.length - (w.lastIndexOf('<') + 1)).to.be.at.most(RUN_SLICE_CHARS);
    }), { numRuns: 100 });
  });

  it('keeps emoji whole across slices however the reads fall (property)', function () {
    const body = '🌍'.repeat(3000) + 'end';
    const stream = HEADER + `<message id="e"><body>${body}</body></message>`;
    fc.assert(fc.property(fc.array(fc.nat(stream.length), { maxLength: 6 }), (points) => {
      const fed = parse(reads(stream, points), true);
      expect(fed.elements).to.deep.equal([`<message id="e"><body>${body}</body></message>`]);
    }), { numRuns: 100 });
  });
});
