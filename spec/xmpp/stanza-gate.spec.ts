// lib/xmpp/stanza-gate.ts: stanzas within the limit reach the parser byte for
// byte, however TCP splits them; a stanza past the limit is cut wherever the
// limit falls (in text, in a tag name, in an attribute, in an end tag), the
// parser stays well-formed and in step, and the next stanza comes through whole.
import { expect } from 'chai';
import fc from 'fast-check';
import type { Element } from '@xmpp/xml';
import { XmlParser as Parser } from '../../lib/xmpp/xml-parser.ts';
import { StanzaGate, type GateCut } from '../../lib/xmpp/stanza-gate.ts';

const DECLARATION = "<?xml version='1.0'?>";
const HEADER = DECLARATION + "<stream:stream xmlns='jabber:component:accept' xmlns:stream='http://etherx.jabber.org/streams' from='game.localhost' id='s1'>";
const big = (n: number) => `<message from='a@localhost/x' to='realm@game.localhost' type='groupchat' id='big'><body>${'é'.repeat(n)}</body><x xmlns='urn:test' note="${'q'.repeat(n)}"><y/></x></message>`;
const NEXT = '<message from="b@localhost/y" to="realm@game.localhost" type="groupchat" id="next"><body>after</body></message>';

interface Run {
  forwarded: Buffer;
  cuts: number[];
  reasons: GateCut['reason'][];
  elements: Element[];
  errors: string[];
  gate: StanzaGate;
}

/** Feeds `input` split into `chunks` pieces at the given cut points, through a gate, into the parser xmpp.js uses. */
function run(input: string, limit: number, splits: number[] = [], nestingMax?: number): Run {
  const bytes = Buffer.from(input, 'utf8');
  const parser = new Parser();
  const out: Run = { forwarded: Buffer.alloc(0), cuts: [], reasons: [], elements: [], errors: [], gate: undefined as unknown as StanzaGate };
  parser.on('element', (el: Element) => out.elements.push(el));
  parser.on('error', (err: Error) => out.errors.push(err.message));
  const parts: Buffer[] = [];
  out.gate = new StanzaGate(limit, {
    forward: (b) => {
      parts.push(Buffer.from(b));
      parser.write(b.toString('latin1'));
    },
    cut: (c) => {
      out.cuts.push(c.bytes);
      out.reasons.push(c.reason);
    },
  }, nestingMax);
  // Never inside the XML declaration: ltx itself loses a "?>" split across reads (it looks back into the previous one).
  const points = [...new Set(splits.map((s) => Math.min(Math.max(s, DECLARATION.length), bytes.length)))].sort((a, b) => a - b);
  let from = 0;
  for (const p of [...points, bytes.length]) {
    out.gate.write(bytes.subarray(from, p));
    from = p;
  }
  out.forwarded = Buffer.concat(parts);
  return out;
}

describe('xmpp StanzaGate', function () {
  it('passes a stream of stanzas under the limit through unchanged, however it is split (property)', function () {
    const stream = HEADER + NEXT + ' ' + big(40) + "<iq type='get' id='1'/>" + NEXT;
    fc.assert(fc.property(fc.array(fc.nat(stream.length * 3), { maxLength: 12 }), (splits) => {
      const r = run(stream, 10_000, splits);
      expect(r.forwarded.equals(Buffer.from(stream, 'utf8'))).to.equal(true);
      expect(r.cuts).to.deep.equal([]);
      expect(r.elements.map((e) => e.attrs.id)).to.deep.equal(['next', 'big', '1', 'next']);
    }), { numRuns: 200 });
  });

  it('cuts a stanza past the limit wherever the limit falls, keeps the parser well-formed, and lets the next one through (property)', function () {
    const stanza = big(300);
    const stream = HEADER + stanza + NEXT;
    const size = Buffer.byteLength(stanza);
    fc.assert(fc.property(fc.integer({ min: 1, max: size - 1 }), fc.array(fc.nat(Buffer.byteLength(stream)), { maxLength: 8 }), (limit, splits) => {
      const r = run(stream, limit, splits);
      const nextFits = Buffer.byteLength(NEXT) <= limit;
      expect(r.errors, `limit ${limit}`).to.deep.equal([]);
      expect(r.cuts, `limit ${limit}`).to.deep.equal(nextFits ? [limit + 1] : [limit + 1, limit + 1]);
      // A cut inside the stanza's own name leaves what was read of it ("<mes" -> <mes/>; "<" -> <x/>).
      expect(r.elements).to.have.length(2);
      for (const e of r.elements) expect(e.name === 'x' || 'message'.startsWith(e.name), e.name).to.equal(true);
      if (nextFits) expect(r.elements[1]!.toString()).to.equal(NEXT);
      expect(r.gate.forwardedMax).to.be.at.most(limit);
    }), { numRuns: 300 });
  });

  it('keeps the start of a cut stanza so its sender can be answered, and counts the stanza in bytes', function () {
    const r = run(HEADER + big(200_000) + NEXT, 4096);
    expect(r.elements[0]!.attrs).to.include({ from: 'a@localhost/x', id: 'big' });
    expect(r.elements[0]!.toString().length).to.be.below(4200);
    expect(r.cuts).to.deep.equal([4097]);
    expect(r.forwarded.length).to.be.below(Buffer.byteLength(HEADER + NEXT) + 4200);
  });

  it('holds nothing of a 1 MB stanza beyond the limit, in 64 KB reads as TCP delivers them', function () {
    const stream = HEADER + big(512 * 1024) + NEXT; // about 1.5 MB: é is two bytes
    const splits = Array.from({ length: Math.ceil(Buffer.byteLength(stream) / 65536) }, (_, i) => i * 65536);
    const r = run(stream, 256 * 1024, splits);
    expect(r.errors).to.deep.equal([]);
    expect(r.forwarded.length).to.be.below(Buffer.byteLength(HEADER + NEXT) + 256 * 1024 + 64);
    expect(r.elements.map((e) => e.attrs.id)).to.deep.equal(['big', 'next']);
  });

  it('cuts a stanza that nests deeper than its bound where the too-deep element starts, however it is split (property)', function () {
    const nested = (levels: number) => `${'<d>'.repeat(levels)}core${'</d>'.repeat(levels)}`;
    const within = `<iq from="a@localhost/x" type="get" id="ok">${nested(8)}</iq>`;
    const deep = `<iq from='a@localhost/x' type='get' id='deep'><q xmlns='urn:q'>${nested(5000)}</q></iq>`;
    const stream = HEADER + within + deep + NEXT;
    fc.assert(fc.property(fc.array(fc.nat(Buffer.byteLength(stream)), { maxLength: 8 }), (splits) => {
      const r = run(stream, 1 << 20, splits, 8);
      expect(r.errors).to.deep.equal([]);
      expect(r.reasons).to.deep.equal(['nesting']);
      expect(r.cuts, 'bytes of the stanza up to the name of its 8th <d>').to.deep.equal([deep.indexOf('<d>') + 7 * 3 + 2]);
      expect(r.elements.map((e) => e.attrs.id)).to.deep.equal(['ok', 'deep', 'next']);
      expect(r.elements[0]!.toString()).to.equal(within);
      let depth = 0;
      for (let e: Element | undefined = r.elements[1]; e; e = e.getChildElements()[0]) depth++;
      expect(depth, 'the cut start: the iq, its query, 7 levels of d and the closing <x/>').to.equal(10);
      expect(r.forwarded.length).to.be.below(Buffer.byteLength(HEADER + within + NEXT) + 200);
    }), { numRuns: 100 });
  });
});
