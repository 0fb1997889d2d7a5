// lib/negotiation/nick: PRECIS Nickname profile (RFC 8266) with Flux's stricter refusals.
import { expect } from 'chai';
import fc from 'fast-check';
import { NICK_CHARS_MAX } from '../../lib/constants.ts';
import { nickname, type Nickname } from '../../lib/negotiation/index.ts';

function accepted(raw: string, charsMax?: number): { nick: string; key: string } {
  const r = nickname(raw, charsMax);
  if (!r.ok) expect.fail(`${JSON.stringify(raw)} refused: ${r.reason}`);
  return { nick: r.nick, key: r.key };
}

function refused(raw: string, charsMax?: number): string {
  const r: Nickname = nickname(raw, charsMax);
  if (r.ok) expect.fail(`${JSON.stringify(raw)} accepted as ${JSON.stringify(r.nick)}`);
  return r.reason;
}

const INVISIBLE = 'A nick may not contain invisible or direction-changing characters.';

/**
 * Text that reaches every rule: ASCII, every space the additional mapping meets,
 * characters NFKC rewrites (fullwidth, ℌ, Ⅳ, ¨ to space plus mark, ﷺ to 18 code
 * points, ϔ), case traps (Σ/ς, İ, ß), combining marks, emoji, and code points the
 * profile refuses, so both outcomes occur.
 */
const nickText = fc.string({
  unit: fc.oneof(
    { arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }), weight: 6 },
    { arbitrary: fc.constantFrom(' ', '\u00A0', '\u3000', '\u2003', '\u202F'), weight: 3 },
    {
      arbitrary: fc.constantFrom('Ｂ', 'ｏ', '\u210C', '\u2163', '\u00A8', '\uFDFA', '\u03D4', 'Σ', 'ς', 'σ', 'İ', 'ß',
        'e\u0301', '\u0308', '♚', '😀', '世', '\u3200', '\uFB01', '\u2460'),
      weight: 4,
    },
    { arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }), weight: 2 },
    { arbitrary: fc.constantFrom('\u200D', '\u202E', '\u0000', '\uE000', '\u0378', '\uD800'), weight: 1 },
  ),
  maxLength: 40,
});

describe('negotiation nickname', function () {
  describe('RFC 8266 §5 examples (comparison output)', function () {
    const table: [number, string, string][] = [
      [1, 'Foo', 'foo'],
      [2, 'foo', 'foo'],
      [3, 'Foo Bar', 'foo bar'],
      [4, 'foo bar', 'foo bar'],
      [5, 'Σ', '\u03C3'],
      [6, 'σ', '\u03C3'],
      [7, 'ς', '\u03C2'],
      // Example 8: ϔ lowercases to nothing new, NFKC gives Ϋ, which lowercases to
      // ϋ; the table writes ϋ decomposed (υ + U+0308), NFKC composes it.
      [8, '\u03D4', '\u03C5\u0308'.normalize('NFKC')],
      [9, '♚', '♚'],
      [10, 'Richard \u2163', 'richard iv'],
    ];
    for (const [n, raw, key] of table) {
      it(`example ${n}: <${raw}> compares as <${key}>`, function () {
        expect(accepted(raw).key).to.equal(key);
      });
    }

    it('examples 1 and 2, and 3 and 4, are one nick each', function () {
      expect(accepted('Foo').key).to.equal(accepted('foo').key);
      expect(accepted('Foo Bar').key).to.equal(accepted('foo bar').key);
    });

    it('examples 5 and 6 match; 7 matches neither (toLowerCase keeps ς)', function () {
      expect(accepted('Σ').key).to.equal(accepted('σ').key);
      expect(accepted('ς').key).to.not.equal(accepted('Σ').key);
      expect(accepted('ς').key).to.not.equal(accepted('σ').key);
    });

    it('example 8 needs the rules reapplied (§4) and lands on ϋ, stable', function () {
      const { nick, key } = accepted('\u03D4');
      expect(nick).to.equal('\u03AB');
      expect(key).to.equal('\u03CB');
      expect(accepted(key).key).to.equal(key);
    });
  });

  describe('enforcement keeps case and applies §2.1 mapping and NFKC (§2.3)', function () {
    it('keeps the case of the display form', function () {
      expect(accepted('Foo')).to.deep.equal({ nick: 'Foo', key: 'foo' });
      expect(accepted('StPeter').nick).to.equal('StPeter');
    });

    it('maps non-ASCII spaces to U+0020, strips the ends and collapses runs (rule 2)', function () {
      expect(accepted('stpeter\u00A0').nick).to.equal('stpeter');
      expect(accepted('St\u00A0\u00A0Peter').nick).to.equal('St Peter');
      expect(accepted('   Foo    Bar  ').nick).to.equal('Foo Bar');
      expect(accepted('\u3000Foo\u2003\u202FBar\u1680').nick).to.equal('Foo Bar');
      expect(accepted('  Foo   Bar ').key).to.equal(accepted('foo bar').key);
    });

    it('maps compatibility forms by NFKC: ℌ, Ⅳ, ligatures, circled digits', function () {
      expect(accepted('\u210C')).to.deep.equal({ nick: 'H', key: 'h' });
      expect(accepted('\u2163')).to.deep.equal({ nick: 'IV', key: 'iv' });
      expect(accepted('Richard \u2163').nick).to.equal('Richard IV');
      expect(accepted('\uFB01sh').nick).to.equal('fish');
      expect(accepted('\u2460').nick).to.equal('1');
    });

    it('maps fullwidth Ｂｏｂ to Bob (width mapping by NFKC, rule 1), one nick with bob', function () {
      expect(accepted('Ｂｏｂ')).to.deep.equal({ nick: 'Bob', key: 'bob' });
      expect(accepted('Ｂｏｂ').key).to.equal(accepted('bob').key);
    });

    it('composes decomposed accents, so é typed two ways is one nick', function () {
      expect(accepted('Re\u0301my').nick).to.equal('R\u00E9my');
      expect(accepted('Re\u0301my').key).to.equal(accepted('R\u00C9MY').key);
    });

    it('reapplies the rules until stable (§4): ¨ becomes space + mark, the space then goes', function () {
      expect(accepted('\u00A8').nick).to.equal('\u0308');
    });

    it('accepts symbols, emoji and scripts of the FreeformClass', function () {
      for (const raw of ['♚', '😀 Bob', '世界', 'Οδυσσεύς', 'محمد', 'שלום', 'नमस्ते', '한국', 'ß']) {
        expect(accepted(raw).nick, raw).to.equal(raw.normalize('NFKC'));
      }
    });

    it('lowercases with the final-sigma context, as Unicode toLowerCase() does', function () {
      expect(accepted('ΟΔΥΣΣΕΥΣ').key).to.equal('οδυσσευς');
    });
  });

  describe('refusals', function () {
    it('refuses a nick that is empty after enforcement (§2.3)', function () {
      for (const raw of ['', ' ', '   ', '\u00A0', '\u3000 \u2003']) {
        expect(refused(raw), JSON.stringify(raw)).to.equal('A nick needs at least one visible character.');
      }
    });

    it('refuses control characters and line breaks (RFC 8264 §9.12)', function () {
      for (const raw of ['Bob\u0000', 'Bob\tBob', 'Bob\n', '\rBob', 'Bob\u007F', 'Bob\u0085', 'Bob\u2028', 'Bob\u2029x']) {
        expect(refused(raw), JSON.stringify(raw)).to.equal('A nick may not contain control characters or line breaks.');
      }
    });

    it('refuses bidi controls anywhere (RFC 8264 §9.13; RFC 8266 §2.1 rule 5 has no Bidi rule)', function () {
      for (const cp of [0x061c, 0x200e, 0x200f, 0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069]) {
        const ch = String.fromCodePoint(cp);
        for (const raw of [`${ch}Bob`, `Bo${ch}b`, `Bob${ch}`]) expect(refused(raw), `U+${cp.toString(16)}`).to.equal(INVISIBLE);
      }
    });

    it('refuses zero-width and default-ignorable code points, and ZWJ and ZWNJ, stricter than their CONTEXTJ rule', function () {
      const cps = [0x200b, 0x200c, 0x200d, 0x2060, 0x2061, 0x2062, 0x2063, 0x2064, 0xfeff, 0x180e, 0x00ad, 0x034f,
        0x3164, 0xffa0, 0x115f, 0x1160, 0xe0001, 0xe0100];
      for (let cp = 0xfe00; cp <= 0xfe0f; cp++) cps.push(cp);
      for (const cp of cps) expect(refused(`Bo${String.fromCodePoint(cp)}b`), `U+${cp.toString(16)}`).to.equal(INVISIBLE);
      // A ZWJ emoji sequence and an emoji with its presentation selector are refused too.
      expect(refused('👩\u200D👩\u200D👧')).to.equal(INVISIBLE);
      expect(refused('\u2764\uFE0F')).to.equal(INVISIBLE);
    });

    it('refuses format characters outside any valid category (U+0600, U+FFF9)', function () {
      expect(refused('a\u0600')).to.equal(INVISIBLE);
      expect(refused('a\uFFF9b\uFFFBc')).to.equal(INVISIBLE);
    });

    it('refuses unassigned, private-use, noncharacter and lone-surrogate code points (RFC 8264 §9.10, §9.13)', function () {
      const reason = 'A nick may not contain private-use, unassigned or broken characters.';
      for (const raw of ['a\u0378', 'a\uE000', 'a\u{F0000}', 'a\u{10FFFD}', 'a\uFDD0', 'a\uFFFE', 'a\uFFFF', 'a\u{1FFFF}', 'a\uD800', '\uDC00a']) {
        expect(refused(raw), JSON.stringify(raw)).to.equal(reason);
      }
    });

    it('refuses loose Hangul jamo (RFC 8264 §9.9) left after NFKC, which composes whole syllables first', function () {
      expect(accepted('\u1112\u1161\u11AB').nick).to.equal('한');
      const reason = 'A nick may not contain loose Hangul jamo; use whole syllables.';
      expect(refused('\u1100')).to.equal(reason);
      expect(refused('\u3200')).to.equal(reason);
    });

    it('refuses the RFC 5892 §2.6 exceptions marked DISALLOWED', function () {
      for (const raw of ['\u0628\u0640\u0628', 'a\u07FA', 'a\u302E', 'a\u3031', 'a\u303B']) {
        expect(refused(raw), JSON.stringify(raw)).to.equal('A nick may not contain that character.');
      }
    });
  });

  describe('length, in code points of the enforced form', function () {
    it(`accepts ${NICK_CHARS_MAX} by default and refuses one more`, function () {
      expect(accepted('a'.repeat(NICK_CHARS_MAX)).nick).to.have.length(NICK_CHARS_MAX);
      expect(refused('a'.repeat(NICK_CHARS_MAX + 1))).to.equal(`A nick may be at most ${NICK_CHARS_MAX} characters.`);
    });

    it('counts code points, not UTF-16 units', function () {
      expect(accepted('😀'.repeat(NICK_CHARS_MAX)).nick).to.have.length(2 * NICK_CHARS_MAX);
      expect(refused('😀'.repeat(NICK_CHARS_MAX + 1))).to.match(/at most/);
    });

    it('counts after enforcement: collapsed spaces are free, NFKC expansion is not', function () {
      expect(accepted(`  a${' '.repeat(15)}b  `, 3).nick).to.equal('a b');
      expect(refused('ab\u2163', 3)).to.equal('A nick may be at most 3 characters.');
      expect(refused('\uFDFA', 17)).to.match(/at most 17/);
      expect(accepted('\uFDFA', 18).nick).to.have.length(18);
    });

    it('refuses an absurdly long input before doing any work on it', function () {
      expect(refused(' '.repeat(1_000_000) + 'Bob')).to.match(/at most/);
    });

    it('asserts a sane limit', function () {
      expect(() => nickname('Bob', 0)).to.throw(/charsMax/);
      expect(() => nickname('Bob', 1.5)).to.throw(/charsMax/);
    });
  });

  describe('properties', function () {
    it('enforcement is idempotent: an accepted nick enforces to itself with the same key', function () {
      fc.assert(fc.property(nickText, (raw) => {
        const r = nickname(raw);
        if (!r.ok) return;
        expect(nickname(r.nick)).to.deep.equal(r);
      }), { numRuns: 2000 });
    });

    it('the key is idempotent: a key is accepted and keys to itself', function () {
      fc.assert(fc.property(nickText, (raw) => {
        const r = nickname(raw);
        if (!r.ok) return;
        // Lowercasing can lengthen (İ is i + U+0307), so the key gets room to be read back.
        const again = nickname(r.key, 4 * NICK_CHARS_MAX);
        expect(again.ok && again.key).to.equal(r.key);
      }), { numRuns: 2000 });
    });

    it('an accepted nick is bounded, trimmed, single-spaced, NFKC and free of refused code points', function () {
      fc.assert(fc.property(nickText, (raw) => {
        const r = nickname(raw);
        if (!r.ok) return;
        expect([...r.nick].length).to.be.within(1, NICK_CHARS_MAX);
        expect(r.nick).to.not.match(/^ | $| {2}|[^\S ]/);
        expect(r.nick).to.equal(r.nick.normalize('NFKC'));
        expect(r.nick + r.key).to.not.match(/[\p{C}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}]/u);
      }), { numRuns: 2000 });
    });

    it('ASCII case and fullwidth forms never make a different nick', function () {
      const ascii = fc.string({ unit: fc.constantFrom(...'abcXYZ019 _-!~'), minLength: 1, maxLength: NICK_CHARS_MAX });
      const fullwidth = (s: string) => s.replace(/[!-~]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0));
      fc.assert(fc.property(ascii, (s) => {
        const r = nickname(s);
        if (!r.ok) return;
        expect(nickname(s.toUpperCase())).to.have.property('key', r.key);
        expect(nickname(s.toLowerCase())).to.have.property('key', r.key);
        expect(nickname(fullwidth(s))).to.deep.equal(r);
      }), { numRuns: 1000 });
    });

    it('slipping an invisible or bidi character into an accepted nick refuses it', function () {
      const sneaky = fc.constantFrom('\u200B', '\u200C', '\u200D', '\u2060', '\uFEFF', '\u00AD', '\u180E', '\uFE0F', '\u061C', '\u200E', '\u200F', '\u202E', '\u2067');
      fc.assert(fc.property(nickText, sneaky, fc.nat(), (raw, ch, at) => {
        const r = nickname(raw);
        if (!r.ok) return;
        const cps = [...r.nick];
        cps.splice(at % (cps.length + 1), 0, ch);
        expect(nickname(cps.join(''))).to.deep.equal({ ok: false, reason: INVISIBLE });
      }), { numRuns: 1000 });
    });
  });
});
