// Nicknames under the PRECIS Nickname profile (RFC 8266, on the FreeformClass of
// RFC 8264), plus the stricter refusals and the length bound Flux wants on top.
// The profile's two operations sit behind `NicknameProfile` so that a PRECIS
// library can replace `RFC_8266` without touching `nickname()` or its callers.
import { assert } from '../assert.ts';
import { NICK_CHARS_MAX } from '../constants.ts';

export type Nickname = { ok: true; nick: string; key: string } | { ok: false; reason: string };

/** The RFC 8266 operations; `undefined` when the rules do not settle on one string (§4). */
export interface NicknameProfile {
  /** §2.3 enforcement: the form shown to players (case kept). */
  enforce(prepared: string): string | undefined;
  /** §2.4 comparison: two nicks are one nick when these are equal. */
  compare(prepared: string): string | undefined;
}

/**
 * The raw input is cut off before any work at this many UTF-16 units per allowed
 * character: a nick character is at most two units, and the rest is slack for
 * spaces the profile collapses and marks NFKC composes.
 */
const RAW_UNITS_PER_NICK_CHAR_MAX = 8;
/** RFC 8266 §4: apply the rules again this many times at most before refusing. */
const REAPPLY_TIMES_MAX = 3;

// RFC 8266 §2.1 rule 2, additional mapping: every non-ASCII space (Zs) becomes
// U+0020, spaces at either end go, and runs of spaces become one.
function mapSpaces(s: string): string {
  return s.replace(/\p{Zs}/gu, ' ').replace(/ {2,}/g, ' ').replace(/^ | $/g, '');
}

/** RFC 8264 §7, RFC 8266 §4: mapping is not idempotent for every code point; iterate to a fixed point or give up. */
function stabilize(step: (s: string) => string, s: string): string | undefined {
  let prev = step(s);
  for (let i = 0; i < REAPPLY_TIMES_MAX; i++) {
    const next = step(prev);
    if (next === prev) return prev;
    prev = next;
  }
  return undefined;
}

/**
 * RFC 8266 as written. Width mapping is left to NFKC (§2.1 rule 1); there is no
 * directionality rule (§2.1 rule 5); case mapping is for comparison only (§2.3 note).
 */
export const RFC_8266: NicknameProfile = {
  // §2.3: additional mapping rule, then normalization rule (NFKC).
  enforce: (s) => stabilize((x) => mapSpaces(x).normalize('NFKC'), s),
  // §2.4: additional mapping, case mapping (Unicode toLowerCase, which String#toLowerCase
  // is: locale-independent, with the Final_Sigma context), then NFKC.
  compare: (s) => stabilize((x) => mapSpaces(x).toLowerCase().normalize('NFKC'), s),
};

const INVISIBLE = 'A nick may not contain invisible or direction-changing characters.';

/**
 * Code points a nick may not hold, each with the reply a player gets. Together the
 * first three cover every general category outside the FreeformClass's valid ones
 * (RFC 8264 §4.3.1: letters, marks, numbers, punctuation, symbols and Zs), and more.
 * Not checked: the CONTEXTO rules (RFC 5892 Appendix A: middle dot between two l,
 * keraia, geresh, katakana middle dot, mixed Arabic-Indic digits), which we accept.
 */
const REFUSED: readonly (readonly [RegExp, string])[] = [
  // RFC 8264 §9.12 Controls; Zl and Zp are in no valid category either.
  [/[\p{Cc}\p{Zl}\p{Zp}]/u, 'A nick may not contain control characters or line breaks.'],
  // RFC 8264 §9.13 refuses Default_Ignorable_Code_Point: every bidi control,
  // U+200B, U+2060-U+2064, U+FEFF, U+180E, U+00AD, U+FE00-U+FE0F, the Hangul fillers.
  // RFC 8266 has no Bidi rule (§2.1 rule 5), so this is all that stops them. Other
  // Cf (U+0600, U+FFF9, ...) are in no valid category. Stricter than RFC 8264: ZWJ
  // and ZWNJ (CONTEXTJ, §9.8) are refused outright, emoji sequences included.
  [/[\p{Bidi_Control}\p{Default_Ignorable_Code_Point}\p{Cf}]/u, INVISIBLE],
  // RFC 8264 §9.10 Unassigned (Cn, which includes the §9.13 noncharacters); private
  // use (Co) and lone surrogates (Cs) are in no valid category.
  [/[\p{Cn}\p{Co}\p{Cs}]/u, 'A nick may not contain private-use, unassigned or broken characters.'],
  // RFC 8264 §9.6 Exceptions (RFC 5892 §2.6) marked DISALLOWED.
  [/[\u0640\u07FA\u302E\u302F\u3031-\u3035\u303B]/u, 'A nick may not contain that character.'],
];

/**
 * RFC 8264 §9.9 OldHangulJamo (all conjoining jamo). Checked only after NFKC, which
 * composes modern jamo sequences into syllables: RFC 8266 §4 asks us to map what we
 * can and accept it, rather than refuse input a Korean keyboard may produce.
 */
const LOOSE_JAMO = /[\u1100-\u11FF\uA960-\uA97F\uD7B0-\uD7FF]/u;

function refusal(s: string): string | undefined {
  for (const [pattern, reason] of REFUSED) if (pattern.test(s)) return reason;
  return undefined;
}

function mappedRefusal(s: string): string | undefined {
  if (LOOSE_JAMO.test(s)) return 'A nick may not contain loose Hangul jamo; use whole syllables.';
  return refusal(s);
}

/**
 * A player's requested nick, enforced (`nick`, for display) and keyed (`key`, for
 * conflicts), or the reply telling them why not. Length is counted in code points
 * of `nick`. The RFC 8266 §5 "ϔ" case is why `key` is derived from `nick`: the
 * stored key always belongs to the shown nick.
 */
export function nickname(raw: string, charsMax: number = NICK_CHARS_MAX, profile: NicknameProfile = RFC_8266): Nickname {
  assert(Number.isSafeInteger(charsMax) && charsMax >= 1, `nickname: charsMax ${charsMax}`);
  const tooLong = `A nick may be at most ${charsMax} characters.`;
  if (raw.length > charsMax * RAW_UNITS_PER_NICK_CHAR_MAX) return { ok: false, reason: tooLong };
  // RFC 8266 §2.2 preparation: the input must hold FreeformClass code points only.
  const unprepared = refusal(raw);
  if (unprepared !== undefined) return { ok: false, reason: unprepared };
  const nick = profile.enforce(raw);
  const key = nick === undefined ? undefined : profile.compare(nick);
  if (nick === undefined || key === undefined) return { ok: false, reason: 'That nick does not settle into one form; choose another.' };
  // RFC 8264 §7 checks code points after mapping too: NFKC can produce refused ones
  // (U+3200 becomes "(" U+1100 ")").
  const mapped = mappedRefusal(nick) ?? mappedRefusal(key);
  if (mapped !== undefined) return { ok: false, reason: mapped };
  // RFC 8266 §2.3: an enforced nick is never empty.
  if (nick === '') return { ok: false, reason: 'A nick needs at least one visible character.' };
  if ([...nick].length > charsMax) return { ok: false, reason: tooLong };
  return { ok: true, nick, key };
}

/** The comparison key of a nick (RFC 8266 §2.4); a stored nick the rules refuse today compares as itself. */
export function nickKey(nick: string): string {
  const checked = nickname(nick);
  return checked.ok ? checked.key : nick;
}
