// lib/negotiation/text: nothing we send may break the XML stream (XML 1.0 §2.2).
import { expect } from 'chai';
import fc from 'fast-check';
import { utf8Bytes, xmlSafe } from '../../lib/negotiation/index.ts';

/** XML 1.0 §2.2 Char, checked code point by code point (independent of the regex under test). */
function isXmlChar(cp: number): boolean {
  return cp === 0x9 || cp === 0xa || cp === 0xd
    || (cp >= 0x20 && cp <= 0xd7ff)
    || (cp >= 0xe000 && cp <= 0xfffd)
    || (cp >= 0x10000 && cp <= 0x10ffff);
}

/** Code points of a string, lone surrogates as themselves. */
function codePoints(s: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const cp = s.codePointAt(i)!;
    out.push(cp);
    if (cp > 0xffff) i++;
  }
  return out;
}

/**
 * Strings of arbitrary UTF-16 code units (so lone and reversed surrogates occur),
 * whole code points of every plane, and the edge characters of XML 1.0.
 */
const anyText = fc.string({
  unit: fc.oneof(
    fc.integer({ min: 0, max: 0xffff }).map((u) => String.fromCharCode(u)),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
    fc.constantFrom('\u0000', '\t', '\n', '\r', '\u001f', '\uD800', '\uDFFF', '\uFFFD', '\uFFFE', '\uFFFF', '\u{10FFFF}', '🌍'),
  ),
  maxLength: 64,
});

describe('negotiation xmlSafe', function () {
  it('strips C0 controls except tab, LF and CR', function () {
    for (let cp = 0; cp < 0x20; cp++) {
      const ch = String.fromCharCode(cp);
      const kept = cp === 0x9 || cp === 0xa || cp === 0xd;
      expect(xmlSafe(`a${ch}b`), `U+${cp.toString(16)}`).to.equal(kept ? `a${ch}b` : 'ab');
    }
  });

  it('strips lone surrogates, high or low', function () {
    expect(xmlSafe('a\uD800b')).to.equal('ab');
    expect(xmlSafe('a\uDFFFb')).to.equal('ab');
    expect(xmlSafe('\uDC00\uD83D')).to.equal('');
    expect(xmlSafe('x\uD83D')).to.equal('x');
  });

  it('strips U+FFFE and U+FFFF', function () {
    expect(xmlSafe('a\uFFFEb\uFFFFc')).to.equal('abc');
  });

  it('keeps emoji, CJK, accents and U+FFFD', function () {
    const text = 'héllo 🌍 世界 👩‍👩‍👧 \uFFFD \u{10FFFD} tab\tnew\nline\r';
    expect(xmlSafe(text)).to.equal(text);
  });

  it('keeps the characters next to what it strips', function () {
    expect(xmlSafe('🌍\u0000世\u0007界\uD800!')).to.equal('🌍世界!');
  });

  it('emits only XML 1.0 characters, for any string (property)', function () {
    fc.assert(fc.property(anyText, (s) => codePoints(xmlSafe(s)).every(isXmlChar)), { numRuns: 2000 });
  });

  it('keeps every XML character and drops every other one (property)', function () {
    fc.assert(fc.property(anyText, (s) => {
      const expected = codePoints(s).filter(isXmlChar).map((cp) => String.fromCodePoint(cp)).join('');
      return xmlSafe(s) === expected;
    }), { numRuns: 2000 });
  });

  it('is idempotent (property)', function () {
    fc.assert(fc.property(anyText, (s) => xmlSafe(xmlSafe(s)) === xmlSafe(s)), { numRuns: 2000 });
  });
});

describe('negotiation utf8Bytes', function () {
  it('counts UTF-8 bytes, not UTF-16 units', function () {
    expect(utf8Bytes('abc')).to.equal(3);
    expect(utf8Bytes('é')).to.equal(2);
    expect(utf8Bytes('世')).to.equal(3);
    expect(utf8Bytes('🌍')).to.equal(4);
  });
});
