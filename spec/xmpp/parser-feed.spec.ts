// lib/xmpp/parser-feed.ts: however the reads fall, ltx builds exactly the stanzas
// it would from one write, never gets a write that ends inside a run without
// markup (where it turns quadratic), is handed every character once, and gets
// each stanza as soon as the read that ends it.
import { expect } from 'chai';
import fc from 'fast-check';
import type { Element } from '@xmpp/xml';
import { XmlParser } from '../../lib/xmpp/xml-parser.ts';
import { HELD_CHARS_MAX, ParserFeed, RUN_SLICE_CHARS } from '../../lib/xmpp/parser-feed.ts';

const HEADER = "<?xml version='1.0'?><stream:stream xmlns='jabber:component:accept' xmlns:stream='http://etherx.jabber.org/streams' id='s1'>";

interface Parsed {
  readonly elements: string[];
  readonly writes: string[];
  /** How many elements the parser had built after each read. */
  readonly afterRead: number[];
}

function parse(reads: string[], feed: boolean): Parsed {
  const parser = new XmlParser();
  const elements: string[] = [];
  parser.on('element', (el: Element) => elements.push(el.toString()));
  parser.on('error', (err: Error) => elements.push(`error: ${err.message}`));
  const writes: string[] = [];
  const counting = { write: (t: string) => { writes.push(t); parser.write(t); } };
  const feeder = new ParserFeed(counting);
  const afterRead: number[] = [];
  for (const r of reads) {
    if (feed) feeder.write(r);
    else counting.write(r);
    afterRead.push(elements.length);
  }
  return { elements, writes, afterRead };
}

/** Splits `text` at the given points (as TCP reads would). */
function reads(text: string, points: number[]): string[] {
  const at = [...new Set(points.map((p) => Math.min(Math.max(p, 1), text.length)))].sort((a, b) => a - b);
  const out: string[] = [];
  let from = 0;
  for (const p of [...at, text.length]) {
    if (p > from) out.push(text.slice(from, p));
    from = p;
  }
  return out;
}

/** Splits at code point boundaries only: the stream comes through a UTF-8 decoder that keeps characters whole. */
function wholeCharacters(text: string, points: number[]): number[] {
  return points.map((p) => (p > 0 && p < text.length && text.charCodeAt(p - 1) >= 0xd800 && text.charCodeAt(p - 1) <= 0xdbff ? p + 1 : p));
}

const endsAtMarkup = (w: string) => w.endsWith('>') || w.endsWith('<');

describe('xmpp ParserFeed', function () {
  it('gives the parser the same stanzas as plain writes however the reads fall, every write ending just past markup and every character handed over once (property)', function () {
    const piece = fc.constantFrom('a', 'é', '🌍', '&amp;', ' ', '&lt;', '&gt;');
    const run = fc.array(piece, { maxLength: 3000 }).map((p) => p.join(''));
    fc.assert(fc.property(run, run, fc.array(fc.nat(20000), { maxLength: 12 }), (body, note, points) => {
      const stanza = `<message id="m"><body>${body}</body><x xmlns="urn:t" note="${note}"/></message>`;
      const stream = HEADER + stanza + stanza;
      const split = reads(stream, wholeCharacters(stream, points));
      const plain = parse([stream], false);
      const fed = parse(split, true);
      expect(fed.elements).to.deep.equal(plain.elements);
      expect(fed.elements).to.have.length(2);
      for (const w of fed.writes) expect(endsAtMarkup(w), `a write ends in a run: ...${w.slice(-20)}`).to.equal(true);
      expect(fed.writes.join('')).to.equal(stream);
    }), { numRuns: 200 });
  });

  it('hands each stanza over with the read that ends it, not with the next one (property)', function () {
    fc.assert(fc.property(fc.array(fc.string({ maxLength: 200 }).map((s) => s.replace(/[<>&"]/g, '')), { minLength: 1, maxLength: 8 }), fc.array(fc.nat(4000), { maxLength: 8 }), (bodies, points) => {
      const stanzas = bodies.map((b, i) => `<message id="m${i}"><body>${b}</body></message>`);
      const stream = HEADER + stanzas.join('');
      const ends = stanzas.map((_, i) => (HEADER + stanzas.slice(0, i + 1).join('')).length);
      const split = reads(stream, wholeCharacters(stream, [...points, ...ends]));
      const fed = parse(split, true);
      // After the read that ends stanza i, the parser has built it.
      let readEnd = 0;
      split.forEach((r, k) => {
        readEnd += r.length;
        expect(fed.afterRead[k]).to.equal(ends.filter((e) => e <= readEnd).length);
      });
    }), { numRuns: 200 });
  });

  it('parses a 256 KB body arriving in 64 KB reads with no write ending in it', function () {
    const body = 'x'.repeat(256 * 1024);
    const stream = HEADER + `<message id="big"><body>${body}</body></message>`;
    const split = reads(stream, Array.from({ length: Math.ceil(stream.length / 65536) }, (_, i) => (i + 1) * 65536));
    const fed = parse(split, true);
    expect(fed.elements).to.deep.equal([`<message id="big"><body>${body}</body></message>`]);
    expect(fed.writes.every(endsAtMarkup)).to.equal(true);
    expect(fed.writes.join('')).to.equal(stream);
  });

  it('feeds a run with no markup past HELD_CHARS_MAX (whitespace between stanzas) in slices of RUN_SLICE_CHARS', function () {
    const spaces = ' '.repeat(HELD_CHARS_MAX + 5000);
    const stream = HEADER + spaces + '<message id="after"/>';
    const split = reads(stream, [HEADER.length, HEADER.length + 40000, HEADER.length + HELD_CHARS_MAX + 100]);
    const fed = parse(split, true);
    expect(fed.elements).to.deep.equal(['<message id="after"/>']);
    const runs = fed.writes.filter((w) => !w.includes('<'));
    expect(runs.length).to.be.above(0);
    for (const w of runs) expect(w.length).to.be.at.most(RUN_SLICE_CHARS);
    expect(fed.writes.join('')).to.equal(stream);
  });

  it('keeps emoji whole however the reads fall (property)', function () {
    const body = '🌍'.repeat(3000) + 'end';
    const stream = HEADER + `<message id="e"><body>${body}</body></message>`;
    fc.assert(fc.property(fc.array(fc.nat(stream.length), { maxLength: 6 }), (points) => {
      const fed = parse(reads(stream, wholeCharacters(stream, points)), true);
      expect(fed.elements).to.deep.equal([`<message id="e"><body>${body}</body></message>`]);
    }), { numRuns: 100 });
  });
});
