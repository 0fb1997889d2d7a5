// fast-check arbitraries for the fuzz campaign: hostile text, nicks and their
// confusables, game commands with hostile arguments, and every kind of stanza a
// client can send through Prosody (built for the sender when it goes out), plus
// the raw bytes that only a socket can send.
//
// Two families: `refused*` arbitraries make input that Flux must refuse or answer
// without changing the world (the refused-only phase compares the database before
// and after them); `hostile` makes anything, world-changing commands included.
import fc from 'fast-check';
import { parseBody, utf8Bytes } from '../../lib/negotiation/index.ts';
import { xml, type Element } from '../support/player.ts';

const NS_MUC = 'http://jabber.org/protocol/muc';
const NS_MUC_USER = 'http://jabber.org/protocol/muc#user';
const NS_STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';
/** The error conditions after which Flux takes a session as gone (lib/xmpp/edge.ts): only in the mixed phase from occupants. */
export const GONE_CONDITIONS = ['recipient-unavailable', 'service-unavailable', 'item-not-found', 'remote-server-not-found', 'gone'] as const;
const OTHER_CONDITIONS = ['bad-request', 'conflict', 'feature-not-implemented', 'forbidden', 'internal-server-error', 'jid-malformed',
  'not-acceptable', 'not-allowed', 'not-authorized', 'policy-violation', 'redirect', 'registration-required', 'resource-constraint',
  'subscription-required', 'undefined-condition', 'unexpected-request', 'x-no-such-condition'];

/** Every way a stanza from the campaign is counted in the report. */
export type Category =
  | 'groupchat-command' | 'groupchat-odd' | 'whisper' | 'message-type' | 'message-error' | 'domain-message' | 'other-room'
  | 'join' | 'join-conflict' | 'nick-churn' | 'leave' | 'join-leave-storm' | 'presence-type' | 'presence-update'
  | 'iq' | 'invite' | 'huge-attributes' | 'deep-nesting' | 'oversized';
export type RawCategory = 'raw-invalid-utf8' | 'raw-not-well-formed' | 'raw-restricted-xml' | 'raw-deep' | 'raw-odd-wellformed' | 'raw-random-bytes';

/** Who sends, and to whom: resolved when the action goes out. */
export interface Sender {
  readonly room: string;
  readonly domain: string;
  readonly serverHost: string;
  /** The nick this connection is joined as, or null. */
  readonly nick: string | null;
  /** Nicks in the world now (honest and hostile occupants). */
  readonly nicks: readonly string[];
  /** Bare JIDs of real accounts (invitees that exist). */
  readonly jids: readonly string[];
}

export interface Action {
  readonly category: Category;
  build(s: Sender): Element[];
}

/** The fixed names of the world and its players, known before the campaign starts. */
export interface Names {
  readonly honest: readonly string[];
  /** Registered hostile accounts' nicks (occupants during the refused-only phase). */
  readonly hostile: readonly string[];
  readonly npcs: readonly string[];
  readonly items: readonly string[];
  readonly bodyBytesMax: number;
}

// ---------------------------------------------------------------------------
// Text

// XML 1.0 §2.2 (and no CR: XML parsers turn it into LF, which would change what Flux sees).
const XML_FORBIDDEN = /[^\t\n\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;
/** What xmpp.js may carry: characters an XML document may hold. */
export const xmlClean = (s: string): string => s.replace(XML_FORBIDDEN, '');

const SPECIALS = [
  '', ' ', '\t', '\n', '\u00a0', '\u3000', '\u2028', '\u2029', '\u200b', '\u200c', '\u200d', '\u2060', '\ufeff', '\u00ad',
  '\u202e', '\u202d', '\u2066', '\u2067', '\u2069', '\u200f', '\u061c', '\u034f', '\u115f', '\u3164',
  '<b>bold</b>', '</body>', ']]>', '<![CDATA[x]]>', '&amp;', '&lt;', '&#0;', '&#x1F600;', '"', "'", '`', '\\', '%s%n%x', '${process.exit()}',
  '{{7*7}}', "'; DROP TABLE characters; --", '../../etc/passwd', '{"kind":"leave"}', 'null', 'undefined', 'NaN', '-1', '0',
  '99999999999999999999999', '1e309', '0x7fffffff', '4294967296', '-0', 'Infinity', '__proto__', 'constructor', 'toString',
  '🏳️‍🌈', '👨‍👩‍👧‍👦', 'Z̴̡̛̩̪̲͎͇̘̬̜̜̮̮͈̖͓͙̅͗̒̽̊̇̕ą̸̢̼͔̺̩̰͕̗̘̩̝̍̋̎̎͌̀̾͒̕͝ͅl̵͓̻̞̻̈́̈́̆̈́̊͐g̸͉̈͆͊̅ǫ̴̜̙̳̯̰̌', '\u0301\u0301\u0301', '𝕳𝖊𝖑𝖑𝖔', 'ﷺ', '﷽', 'ȺȾ', 'İı', 'ß', 'ﬃ', 'ǅ',
  'the', 'a', 'an', 'to', ' to ', 'to to to', 'the the', '"', '""', '"Old Tom"', '" "',
];

const word = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 10 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 8 }) },
  { weight: 3, arbitrary: fc.constantFrom(...SPECIALS) },
);

/** Up to `max` hostile words, joined by odd whitespace. */
function words(max: number): fc.Arbitrary<string> {
  const sep = fc.constantFrom(' ', ' ', ' ', '  ', '\t', '\n', '\u00a0', '\u3000', '');
  return fc.array(fc.tuple(word, sep), { maxLength: max }).map((ws) => ws.map(([w, s]) => w + s).join(''));
}

/** Sometimes one long repetition: past the body limit, near it, or far beyond. */
function longText(bodyBytesMax: number): fc.Arbitrary<string> {
  return fc.tuple(fc.constantFrom('x', 'ü', '世', '🌍', 'a ', 'say ', '\u0301'), fc.integer({ min: 1, max: bodyBytesMax * 3 }))
    .map(([c, n]) => c.repeat(Math.max(1, Math.floor(n / utf8Bytes(c)))));
}

// ---------------------------------------------------------------------------
// Nicks and their confusables

const FULLWIDTH = (s: string) => [...s].map((c) => (c >= '!' && c <= '~' ? String.fromCodePoint(c.codePointAt(0)! + 0xfee0) : c)).join('');
const MATH_BOLD = (s: string) => [...s].map((c) => (c >= 'A' && c <= 'Z' ? String.fromCodePoint(0x1d400 + c.charCodeAt(0) - 65)
  : c >= 'a' && c <= 'z' ? String.fromCodePoint(0x1d41a + c.charCodeAt(0) - 97) : c)).join('');
const SWAP_CASE = (s: string) => [...s].map((c) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase())).join('');
const HOMOGLYPHS: Record<string, string> = { a: 'а', e: 'е', o: 'о', p: 'р', c: 'с', x: 'х', y: 'у', i: 'і', A: 'А', B: 'В', E: 'Е', M: 'М', T: 'Т', O: 'О', C: 'С' };
const INVISIBLES = ['\u200b', '\u200c', '\u200d', '\u2060', '\ufeff', '\u00ad', '\u180e', '\u2063'];
const BIDI = ['\u202e', '\u202d', '\u200f', '\u200e', '\u2067', '\u2068', '\u061c'];
const SPACES = [' ', '\u00a0', '\u3000', '\u2009'];

function insertAt(s: string, at: number, piece: string): string {
  const cs = [...s];
  const i = at % (cs.length + 1);
  return [...cs.slice(0, i), piece, ...cs.slice(i)].join('');
}

/**
 * Variants of a nick that RFC 8266 makes the same nick or refuses outright: case,
 * width, mathematical letters, invisible and direction marks, spaces at the ends
 * (Prosody's resourceprep may fold some on the way; Flux must refuse the rest).
 */
function sameNickVariant(nick: string): fc.Arbitrary<string> {
  return fc.tuple(fc.integer({ min: 0, max: 9 }), fc.nat(64), fc.nat(64)).map(([how, at, pick]) => {
    switch (how) {
      case 0: return nick;
      case 1: return nick.toUpperCase() === nick ? nick.toLowerCase() : nick.toUpperCase();
      case 2: return SWAP_CASE(nick);
      case 3: return FULLWIDTH(nick);
      case 4: return MATH_BOLD(nick);
      case 5: return insertAt(nick, at, INVISIBLES[pick % INVISIBLES.length]!);
      case 6: return BIDI[pick % BIDI.length]! + nick;
      case 7: return SPACES[pick % SPACES.length]! + nick + SPACES[at % SPACES.length]!;
      case 8: return insertAt(FULLWIDTH(nick), at, INVISIBLES[pick % INVISIBLES.length]!);
      default: return nick.replace(' ', '  ');
    }
  });
}

/** Variants that look the same and are a different nick: homoglyphs, combining marks. */
function lookalike(nick: string): fc.Arbitrary<string> {
  return fc.tuple(fc.integer({ min: 0, max: 3 }), fc.nat(64)).map(([how, at]) => {
    const cs = [...nick];
    switch (how) {
      case 0: {
        const i = cs.findIndex((c, j) => j >= at % cs.length && HOMOGLYPHS[c] !== undefined);
        const j = i >= 0 ? i : cs.findIndex((c) => HOMOGLYPHS[c] !== undefined);
        if (j >= 0) cs[j] = HOMOGLYPHS[cs[j]!]!;
        return cs.join('');
      }
      case 1: return insertAt(nick, at, '\u0301');
      case 2: return nick.replace(/l/g, 'I').replace(/O/g, '0');
      default: return `${nick}.`;
    }
  });
}

function nickOf(pool: readonly string[]): fc.Arbitrary<string> {
  return fc.constantFrom(...pool);
}

/**
 * Nicks that must be refused for anybody not their owner: a player's or an NPC's
 * nick in any same-nick variant (XEP-0045 §7.2.9; RFC 8266 §2.4 makes them one
 * nick), or malformed ones.
 */
function conflictingNick(names: Names): fc.Arbitrary<string> {
  const taken = [...names.honest, ...names.hostile, ...names.npcs];
  return fc.oneof(
    { weight: 6, arbitrary: nickOf(taken).chain(sameNickVariant) },
    { weight: 1, arbitrary: fc.string({ minLength: 33, maxLength: 80 }).filter((s) => s.trim().length > 0) },
    { weight: 1, arbitrary: fc.constantFrom(' ', '\u00a0', '\u200b', '\u202e', '\u3000\u3000', '\u00ad') },
  );
}

/** Any nick: fresh ones, anybody's variants, lookalikes, NPC names. */
function anyNick(names: Names): fc.Arbitrary<string> {
  const everyone = [...names.honest, ...names.hostile, ...names.npcs];
  return fc.oneof(
    { weight: 4, arbitrary: fc.string({ minLength: 1, maxLength: 14 }).map((s) => `h${s}`) },
    { weight: 2, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }) },
    { weight: 2, arbitrary: nickOf(everyone).chain(sameNickVariant) },
    { weight: 2, arbitrary: nickOf(everyone).chain(lookalike) },
    { weight: 1, arbitrary: conflictingNick(names) },
  ).map(xmlClean);
}

// ---------------------------------------------------------------------------
// Game commands

const VERBS = ['look', 'l', 'go', 'say', "'", 'emote', ':', 'whisper', 'who', 'inventory', 'i', 'inv', 'take', 'get', 'drop', 'give',
  'examine', 'x', 'attack', 'kill', 'hit', 'help', '?', 'north', 'east', 'south', 'west', 'up', 'down', 'n', 'e', 's', 'w', 'u', 'd'];

function thingName(names: Names): fc.Arbitrary<string> {
  const things = [...names.items, ...names.npcs, ...names.honest, ...names.hostile, ...names.items.flatMap((n) => n.split(' '))];
  return fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...things).chain((t) => fc.oneof(fc.constant(t), sameNickVariant(t), lookalike(t), fc.mixedCase(fc.constant(t)))) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom('the ', 'a ', 'an ', 'The ', 'THE ', ''), fc.constantFrom(...things)).map(([a, t]) => a + t) },
    { weight: 2, arbitrary: words(4) },
  );
}

/** A command a player could type, with hostile arguments. */
function commandBody(names: Names): fc.Arbitrary<string> {
  const verb = fc.constantFrom(...VERBS).chain((v) => fc.oneof(fc.constant(v), fc.mixedCase(fc.constant(v))));
  const sep = fc.constantFrom(' ', '  ', '\t', '\u00a0', '\u3000', '\n', '');
  const lead = fc.constantFrom('', '', '', ' ', '\t', '\n ', '\u200b', '\ufeff');
  return fc.oneof(
    { weight: 5, arbitrary: fc.tuple(lead, verb, sep, fc.oneof(thingName(names), words(6))).map(([l, v, s, a]) => l + v + s + a) },
    { weight: 2, arbitrary: fc.tuple(fc.constantFrom('give', 'GIVE', 'Give'), thingName(names), fc.constantFrom(' to ', ' TO ', ' to the ', 'to', '  to  '), thingName(names)).map(([v, a, t, b]) => `${v} ${a}${t}${b}`) },
    { weight: 2, arbitrary: fc.tuple(fc.constantFrom('whisper', 'WHISPER'), fc.oneof(thingName(names), fc.constant('"'), thingName(names).map((n) => `"${n}"`)), words(5)).map(([v, n, t]) => `${v} ${n} ${t}`) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom('go', 'Go'), words(2)).map(([v, d]) => `${v} ${d}`) },
    { weight: 1, arbitrary: words(8) },
    { weight: 1, arbitrary: longText(names.bodyBytesMax) },
  ).map(xmlClean);
}

/** Bodies Flux answers without touching the world: not a command, help, or too long. Checked with Flux's own parser. */
function refusedBody(names: Names): fc.Arbitrary<string> {
  const unknownVerb = fc.string({ minLength: 1, maxLength: 10 }).filter((w) => !/\s/.test(w));
  const incomplete = fc.constantFrom('take', 'get the', 'drop a', 'give', 'give key', 'give to', 'give  to ', 'go', 'go nowhere', 'go northwest',
    'say', 'say   ', "'", ':', 'emote', 'whisper', 'whisper Alice', 'whisper "', 'whisper "" hi', 'attack', 'examine', 'x the', 'look the', 'help', 'help look', 'help nothing', '?', '   ', '');
  return fc.oneof(
    { weight: 3, arbitrary: fc.tuple(unknownVerb, words(6)).map(([v, a]) => `${v} ${a}`) },
    { weight: 2, arbitrary: incomplete.chain((c) => fc.oneof(fc.constant(c), fc.mixedCase(fc.constant(c)))) },
    { weight: 1, arbitrary: fc.tuple(commandBody(names), fc.constant('x'.repeat(names.bodyBytesMax + 1))).map(([c, pad]) => `${c} ${pad}`) },
    { weight: 1, arbitrary: longText(names.bodyBytesMax) },
  ).map(xmlClean).filter((b) => utf8Bytes(b) > names.bodyBytesMax || !parseBody(b, 'Someone').ok);
}

// ---------------------------------------------------------------------------
// Stanza pieces

const attrValue = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 20 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
  { weight: 1, arbitrary: fc.constantFrom(...SPECIALS) },
).map(xmlClean);
const attrName = fc.stringMatching(/^[a-z][a-z0-9_.-]{0,11}$/);
const namespace = fc.oneof(
  fc.constantFrom('jabber:client', 'jabber:server', 'jabber:iq:roster', 'jabber:iq:version', 'jabber:iq:register', 'jabber:iq:last', 'jabber:x:data',
    'jabber:x:conference', 'urn:xmpp:ping', 'urn:xmpp:time', 'urn:xmpp:mam:2', 'urn:xmpp:receipts', 'urn:xmpp:chat-markers:0', 'urn:xmpp:sid:0',
    'http://jabber.org/protocol/chatstates', 'http://jabber.org/protocol/disco#info', 'http://jabber.org/protocol/disco#items', NS_MUC, NS_MUC_USER,
    'http://jabber.org/protocol/muc#admin', 'http://jabber.org/protocol/muc#owner', 'http://jabber.org/protocol/caps', 'vcard-temp', 'vcard-temp:x:update',
    'http://jabber.org/protocol/xhtml-im', 'urn:ietf:params:xml:ns:xmpp-stanzas', 'urn:xmpp:delay', ''),
  fc.webUrl().map(xmlClean),
  fc.stringMatching(/^urn:[a-z]{1,8}:[a-z0-9:.-]{0,20}$/),
);
const elementName = fc.oneof(fc.constantFrom('query', 'x', 'body', 'subject', 'thread', 'item', 'error', 'ping', 'time', 'vCard', 'active', 'composing', 'request', 'received', 'html', 'invite', 'history', 'password'), fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_.-]{0,15}$/));

function attrs(max: number): fc.Arbitrary<Record<string, string>> {
  return fc.array(fc.tuple(attrName, attrValue), { maxLength: max }).map((kv) => {
    const out: Record<string, string> = {};
    for (const [k, v] of kv) if (!['xmlns', 'to', 'from', 'type', 'id'].includes(k)) out[k] = v;
    return out;
  });
}

/** A small random subtree (odd children of any stanza), up to `depth` levels. */
function subtree(depth: number): fc.Arbitrary<Element> {
  const child: fc.Arbitrary<Element | string> = depth <= 1 ? attrValue : fc.oneof({ weight: 3, arbitrary: attrValue }, { weight: 1, arbitrary: subtree(depth - 1) });
  return fc.tuple(elementName, namespace, attrs(3), fc.array(child, { maxLength: 3 }))
    .map(([name, ns, a, children]) => xml(name, { ...(ns === '' ? {} : { xmlns: ns }), ...a }, ...children));
}
const oddChild = subtree(3);
const oddChildren = fc.array(oddChild, { maxLength: 3 });
const stanzaId = fc.oneof({ weight: 6, arbitrary: fc.string({ minLength: 1, maxLength: 16 }).map(xmlClean) }, { weight: 1, arbitrary: fc.constant('') }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 4000 }).map((n) => 'i'.repeat(n)) });
const optionalId = fc.option(stanzaId, { nil: undefined });

/** A history request with hostile bounds (XEP-0045 §7.2.15). */
const historyEl = fc.record({
  maxstanzas: fc.option(fc.oneof(fc.nat().map(String), attrValue, fc.constantFrom('-1', '1e9', '999999999', '0x10', ' 5', '5 ')), { nil: undefined }),
  maxchars: fc.option(fc.oneof(fc.nat().map(String), attrValue, fc.constantFrom('-1', '0', '999999999999')), { nil: undefined }),
  seconds: fc.option(fc.oneof(fc.nat().map(String), attrValue), { nil: undefined }),
  since: fc.option(fc.oneof(fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), attrValue, fc.constantFrom('1970-01-01T00:00:00Z', '9999-12-31T23:59:59Z', '-271821-04-20T00:00:00Z')), { nil: undefined }),
}).map((h) => xml('history', Object.fromEntries(Object.entries(h).filter(([, v]) => v !== undefined)) as Record<string, string>));

const mucX = fc.tuple(fc.option(historyEl, { nil: undefined }), fc.option(attrValue, { nil: undefined }), oddChildren)
  .map(([h, pw, odd]) => xml('x', { xmlns: NS_MUC }, ...(h ? [h] : []), ...(pw === undefined ? [] : [xml('password', {}, pw)]), ...odd));

const presenceExtras = fc.tuple(
  fc.option(fc.oneof(fc.constantFrom('away', 'chat', 'dnd', 'xa', 'online', ''), attrValue), { nil: undefined }),
  fc.option(fc.oneof(attrValue, longText(600).map(xmlClean)), { nil: undefined }),
  fc.option(fc.oneof(fc.integer({ min: -200, max: 200 }).map(String), attrValue), { nil: undefined }),
  oddChildren,
).map(([show, status, priority, odd]) => [
  ...(show === undefined ? [] : [xml('show', {}, show)]), ...(status === undefined ? [] : [xml('status', {}, status)]),
  ...(priority === undefined ? [] : [xml('priority', {}, priority)]), ...odd]);

const errorEl = (conditions: readonly string[]) => fc.tuple(fc.constantFrom(...conditions), fc.constantFrom('cancel', 'wait', 'modify', 'auth', 'continue', 'bogus'), fc.option(attrValue, { nil: undefined }))
  .map(([c, t, text]) => xml('error', { type: t }, xml(c, { xmlns: NS_STANZAS }), ...(text === undefined ? [] : [xml('text', { xmlns: NS_STANZAS }, text)])));

// ---------------------------------------------------------------------------
// Targets

type Target = (s: Sender) => string;
const toRoom: Target = (s) => s.room;
const toDomain: Target = (s) => s.domain;

function toOccupant(nick: fc.Arbitrary<string>): fc.Arbitrary<Target> {
  return fc.oneof(
    nick.map((n) => (s: Sender) => `${s.room}/${n}`),
    fc.nat().map((i) => (s: Sender) => `${s.room}/${s.nicks.length === 0 ? 'nobody' : s.nicks[i % s.nicks.length]}`),
  );
}

/** Prosody's nodeprep folds case and width (NFKC): a local part that would reach the world's own room. */
const isRealm = (local: string) => local.normalize('NFKC').toLowerCase() === 'realm';
const otherRoomLocal = fc.oneof(
  fc.stringMatching(/^[a-z0-9._-]{1,20}$/),
  fc.constantFrom('realm.', 'realm-', 'reаlm', 'nowhere', 'x', '-'),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 10 }).map(xmlClean).filter((s) => !/[@/\s"'&<>:]/.test(s) && s.length > 0),
).filter((local) => !isRealm(local));
/** The world's room under another spelling: the server folds it to the room itself (mixed phase only). */
const roomAlias = fc.constantFrom('REALM', 'Realm', 'rEaLm', 'ｒｅａｌｍ', 'ＲＥＡＬＭ');
const toOtherRoom: fc.Arbitrary<Target> = fc.tuple(otherRoomLocal, fc.option(fc.string({ maxLength: 10 }).map(xmlClean), { nil: undefined }))
  .map(([local, res]) => (s: Sender) => `${local}@${s.domain}${res === undefined ? '' : `/${res}`}`);

function anyTarget(names: Names): fc.Arbitrary<Target> {
  return fc.oneof(
    { weight: 5, arbitrary: fc.constant(toRoom) },
    { weight: 3, arbitrary: toOccupant(anyNick(names)) },
    { weight: 2, arbitrary: fc.constant(toDomain) },
    { weight: 1, arbitrary: toOtherRoom },
    { weight: 1, arbitrary: fc.string({ maxLength: 12 }).map(xmlClean).map((r) => (s: Sender) => `${s.domain}/${r}`) },
  );
}

// ---------------------------------------------------------------------------
// Stanzas

const action = (category: Category, build: (s: Sender) => Element[]): Action => ({ category, build });

function groupchat(body: fc.Arbitrary<string>): fc.Arbitrary<Action> {
  return fc.tuple(body, optionalId, fc.array(oddChild, { maxLength: 2 }), fc.option(fc.constantFrom('en', 'de', '', 'x-klingon', 'i-default', '*'), { nil: undefined }))
    .map(([b, id, odd, lang]) => action('groupchat-command', (s) => [xml('message', { to: s.room, type: 'groupchat', ...(id === undefined ? {} : { id }), ...(lang === undefined ? {} : { 'xml:lang': lang }) }, xml('body', {}, b), ...odd)]));
}

/** Groupchat without a command: chat states, subject changes, two bodies, empty body, only odd children. */
function groupchatOdd(names: Names, refusedOnly: boolean): fc.Arbitrary<Action> {
  const bodies = refusedOnly ? refusedBody(names) : commandBody(names);
  return fc.oneof(
    oddChildren.map((odd) => (s: Sender) => xml('message', { to: s.room, type: 'groupchat' }, xml('active', { xmlns: 'http://jabber.org/protocol/chatstates' }), ...odd)),
    attrValue.map((subj) => (s: Sender) => xml('message', { to: s.room, type: 'groupchat' }, xml('subject', {}, subj))),
    fc.tuple(bodies, bodies).map(([a, b]) => (s: Sender) => xml('message', { to: s.room, type: 'groupchat' }, xml('body', {}, a), xml('body', { 'xml:lang': 'de' }, b))),
    fc.constant((s: Sender) => xml('message', { to: s.room, type: 'groupchat' }, xml('body', {}))),
    bodies.map((b) => (s: Sender) => xml('message', { to: s.room, type: 'groupchat' }, xml('html', { xmlns: 'http://jabber.org/protocol/xhtml-im' }, xml('body', { xmlns: 'http://www.w3.org/1999/xhtml' }, b)))),
  ).map((f) => action('groupchat-odd', (s) => [f(s)]));
}

function whisper(target: fc.Arbitrary<Target>, body: fc.Arbitrary<string>): fc.Arbitrary<Action> {
  return fc.tuple(target, body, fc.constantFrom('chat', 'normal', undefined, 'chat'), optionalId)
    .map(([to, b, type, id]) => action('whisper', (s) => [xml('message', { to: to(s), ...(type ? { type } : {}), ...(id === undefined ? {} : { id }) }, xml('body', {}, b), xml('x', { xmlns: NS_MUC_USER }))]));
}

const MESSAGE_TYPES = ['headline', 'normal', 'chat', 'groupchat', 'GROUPCHAT', 'bogus', '', undefined];

function messageOfType(target: fc.Arbitrary<Target>, body: fc.Arbitrary<string>, types: readonly (string | undefined)[] = MESSAGE_TYPES): fc.Arbitrary<Action> {
  return fc.tuple(target, fc.option(body, { nil: undefined }), fc.constantFrom(...types), oddChildren)
    .map(([to, b, type, odd]) => action('message-type', (s) => [xml('message', { to: to(s), ...(type === undefined ? {} : { type }) }, ...(b === undefined ? [] : [xml('body', {}, b)]), ...odd)]));
}

function messageError(target: fc.Arbitrary<Target>, conditions: readonly string[]): fc.Arbitrary<Action> {
  return fc.tuple(target, fc.oneof(errorEl(conditions), fc.constant(null)), fc.option(fc.string().map(xmlClean), { nil: undefined }), optionalId)
    .map(([to, err, body, id]) => action('message-error', (s) => [xml('message', { to: to(s), type: 'error', ...(id === undefined ? {} : { id }) }, ...(body === undefined ? [] : [xml('body', {}, body)]), ...(err ? [err] : []))]));
}

function domainMessage(names: Names): fc.Arbitrary<Action> {
  return fc.tuple(fc.oneof(fc.constantFrom('help', 'rooms', 'ROOMS', ' rooms ', 'help me', ''), commandBody(names)), fc.constantFrom('chat', 'normal', 'headline', 'groupchat', undefined), fc.option(fc.string({ maxLength: 6 }).map(xmlClean), { nil: undefined }))
    .map(([b, type, res]) => action('domain-message', (s) => [xml('message', { to: res === undefined ? s.domain : `${s.domain}/${res}`, ...(type ? { type } : {}) }, xml('body', {}, b))]));
}

/** Messages and joins to the room spelled otherwise (REALM@, fullwidth): the server's nodeprep makes them the room's own. */
function aliasedRoom(names: Names): fc.Arbitrary<Action> {
  return fc.tuple(roomAlias, commandBody(names), anyNick(names), fc.boolean())
    .map(([alias, b, nick, isMessage]) => action('other-room', (s) => {
      const room = `${alias}@${s.domain}`;
      return [isMessage ? xml('message', { to: room, type: 'groupchat' }, xml('body', {}, b)) : xml('presence', { to: `${room}/${nick}` }, xml('x', { xmlns: NS_MUC }))];
    }));
}

function otherRoom(names: Names): fc.Arbitrary<Action> {
  return fc.tuple(toOtherRoom, commandBody(names), fc.constantFrom('message', 'presence'))
    .map(([to, b, kind]) => action('other-room', (s) => [kind === 'message'
      ? xml('message', { to: to(s), type: 'groupchat' }, xml('body', {}, b))
      : xml('presence', { to: `${to(s).split('/')[0]}/${b.slice(0, 10) || 'x'}` }, xml('x', { xmlns: NS_MUC }))]));
}

function join(nick: fc.Arbitrary<string>, category: Category): fc.Arbitrary<Action> {
  return fc.tuple(nick, fc.option(mucX, { nil: undefined, freq: 5 }), presenceExtras)
    .map(([n, x, extras]) => action(category, (s) => [xml('presence', { to: `${s.room}/${n}` }, ...(x ? [x] : []), ...extras)]));
}

/** A joined occupant's presence to its own nick: an availability update, or the whole join again. */
const presenceUpdate: fc.Arbitrary<Action> = fc.tuple(presenceExtras, fc.boolean(), fc.option(fc.constantFrom('unavailable-typo', 'available', 'invisible'), { nil: undefined, freq: 8 }))
  .map(([extras, rejoin, odd]) => action('presence-update', (s) => [xml('presence', { to: `${s.room}/${s.nick ?? 'Nobody'}`, ...(odd ? { type: odd } : {}) }, ...(rejoin ? [xml('x', { xmlns: NS_MUC })] : []), ...extras)]));

function presenceType(target: fc.Arbitrary<Target>, types: readonly string[]): fc.Arbitrary<Action> {
  return fc.tuple(target, fc.constantFrom(...types), presenceExtras, fc.option(errorEl(OTHER_CONDITIONS), { nil: undefined }))
    .map(([to, type, extras, err]) => action('presence-type', (s) => [xml('presence', { to: to(s), type }, ...extras, ...(err ? [err] : []))]));
}

function iq(names: Names): fc.Arbitrary<Action> {
  const known = fc.oneof(
    fc.constant(xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' })),
    attrValue.map((node) => xml('query', { xmlns: 'http://jabber.org/protocol/disco#info', node })),
    attrValue.map((node) => xml('query', { xmlns: 'http://jabber.org/protocol/disco#items', node })),
    fc.constant(xml('query', { xmlns: 'http://jabber.org/protocol/disco#items' })),
    fc.constant(xml('ping', { xmlns: 'urn:xmpp:ping' })),
    fc.constant(xml('query', { xmlns: 'jabber:iq:version' })),
    fc.tuple(anyNick(names), fc.constantFrom('none', 'visitor', 'moderator', 'outcast', 'owner')).map(([nick, role]) => xml('query', { xmlns: 'http://jabber.org/protocol/muc#admin' }, xml('item', { nick, role, affiliation: role }))),
    fc.constant(xml('query', { xmlns: 'http://jabber.org/protocol/muc#owner' }, xml('destroy', {}, xml('reason', {}, 'mine now')))),
    fc.constant(xml('query', { xmlns: 'urn:xmpp:mam:2' })),
    fc.constant(xml('vCard', { xmlns: 'vcard-temp' })),
  );
  const children = fc.oneof({ weight: 4, arbitrary: known.map((c) => [c]) }, { weight: 3, arbitrary: oddChild.map((c) => [c]) }, { weight: 1, arbitrary: fc.constant([]) }, { weight: 1, arbitrary: fc.tuple(known, oddChild).map(([a, b]) => [a, b]) });
  return fc.tuple(anyTarget(names), fc.constantFrom('get', 'set', 'get', 'set', 'result', 'error', 'bogus'), stanzaId, children)
    .map(([to, type, id, cs]) => action('iq', (s) => [xml('iq', { to: to(s), type, id: id === '' ? 'x' : id }, ...cs)]));
}

function invite(names: Names): fc.Arbitrary<Action> {
  type Invitee = (s: Sender) => string;
  const invitee: fc.Arbitrary<Invitee> = fc.oneof(
    fc.nat().map((i) => (s: Sender) => s.jids[i % Math.max(1, s.jids.length)] ?? 'nobody@localhost'),
    fc.constant((s: Sender) => s.room),
    fc.constant((s: Sender) => s.domain),
    fc.constant((s: Sender) => `${s.room}/${s.nicks[0] ?? 'x'}`),
    fc.constant((s: Sender) => `nowhere@${s.domain}`),
    fc.constant((s: Sender) => `someone@${s.serverHost}`),
    fc.tuple(fc.stringMatching(/^[a-z0-9]{1,10}$/), fc.stringMatching(/^[a-z0-9.-]{1,20}$/)).map(([l, d]) => () => `${l}@${d}`),
    attrValue.map((v) => () => v),
  );
  const one = fc.tuple(invitee, fc.option(fc.oneof(attrValue, longText(800).map(xmlClean)), { nil: undefined }), fc.boolean());
  return fc.tuple(fc.array(one, { minLength: 1, maxLength: 8 }), fc.option(fc.constantFrom('normal', 'groupchat', 'chat'), { nil: undefined }), fc.boolean())
    .map(([invites, type, decline]) => action('invite', (s) => [xml('message', { to: s.room, ...(type ? { type } : {}) },
      xml('x', { xmlns: NS_MUC_USER }, ...invites.map(([to, reason, cont]) => xml(decline && !cont ? 'decline' : 'invite', { to: to(s) },
        ...(reason === undefined ? [] : [xml('reason', {}, reason)]), ...(cont ? [xml('continue', { thread: 'x' })] : [])))))]));
}

function hugeAttributes(names: Names, refusedOnly: boolean): fc.Arbitrary<Action> {
  const body = refusedOnly ? refusedBody(names) : commandBody(names);
  return fc.tuple(fc.integer({ min: 1000, max: 60_000 }), fc.integer({ min: 1, max: 600 }), body, fc.constantFrom('message', 'presence', 'iq'), fc.boolean())
    .map(([bytes, count, b, kind, many]) => action('huge-attributes', (s) => {
      const big: Record<string, string> = many
        ? Object.fromEntries(Array.from({ length: count }, (_, i) => [`a${i}`, 'v'.repeat(Math.floor(bytes / count))]))
        : { id: 'q'.repeat(bytes), 'xml:lang': 'x'.repeat(Math.min(bytes, 2000)) };
      if (kind === 'message') return [xml('message', { to: s.room, type: 'groupchat', ...big }, xml('body', {}, b))];
      if (kind === 'iq') return [xml('iq', { to: s.domain, type: 'get', ...big, id: 'huge' }, xml('query', { xmlns: 'http://jabber.org/protocol/disco#info', ...big }))];
      return [xml('presence', { to: refusedOnly ? `${s.room}/${s.nick ?? names.honest[0]}` : `${s.room}/${s.nick ?? 'Huge'}`, ...big })];
    }));
}

/** Nesting through xmpp.js (its serializer recurses, so a few hundred levels; the raw sockets go deeper). */
function deepNesting(names: Names, refusedOnly: boolean): fc.Arbitrary<Action> {
  const body = refusedOnly ? refusedBody(names) : commandBody(names);
  return fc.tuple(fc.integer({ min: 10, max: 400 }), body, fc.constantFrom('message', 'iq', 'presence'), elementName)
    .map(([depth, b, kind, name]) => action('deep-nesting', (s) => {
      let inner: Element = xml(name, {}, 'core');
      for (let i = 0; i < depth; i++) inner = xml(name, i % 7 === 0 ? { xmlns: `urn:deep:${i}` } : {}, inner);
      if (kind === 'message') return [xml('message', { to: s.room, type: 'groupchat' }, xml('body', {}, b), inner)];
      if (kind === 'iq') return [xml('iq', { to: s.domain, type: 'get', id: 'deep' }, xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' }, inner))];
      return [xml('presence', { to: refusedOnly ? `${s.room}/${s.nick ?? names.honest[0]}` : `${s.room}/${s.nick ?? 'Deep'}` }, inner)];
    }));
}

/** Past Flux's 256 KiB stanza gate (Prosody here lets 2 MiB through). */
function oversized(names: Names): fc.Arbitrary<Action> {
  return fc.tuple(fc.integer({ min: 270_000, max: 700_000 }), fc.constantFrom('x', 'ü', '🌍'), fc.constantFrom('message', 'iq', 'presence'))
    .map(([bytes, c, kind]) => action('oversized', (s) => {
      const text = c.repeat(Math.floor(bytes / utf8Bytes(c)));
      if (kind === 'message') return [xml('message', { to: s.room, type: 'groupchat', id: 'oversized' }, xml('body', {}, `say ${text}`))];
      if (kind === 'iq') return [xml('iq', { to: s.domain, type: 'get', id: 'oversized' }, xml('query', { xmlns: 'http://jabber.org/protocol/disco#info', node: text }))];
      return [xml('presence', { to: `${s.room}/${s.nick ?? names.honest[0]}` }, xml('status', {}, text))];
    }));
}

function nickChurn(names: Names): fc.Arbitrary<Action> {
  return anyNick(names).map((n) => action('nick-churn', (s) => [xml('presence', { to: `${s.room}/${n}` })]));
}

const leave: fc.Arbitrary<Action> = fc.tuple(fc.option(attrValue, { nil: undefined }), fc.boolean())
  .map(([status, toBare]) => action('leave', (s) => [xml('presence', { to: toBare ? s.room : `${s.room}/${s.nick ?? 'x'}`, type: 'unavailable' }, ...(status === undefined ? [] : [xml('status', {}, status)]))]));

function joinLeaveStorm(names: Names): fc.Arbitrary<Action> {
  return fc.tuple(fc.array(anyNick(names), { minLength: 1, maxLength: 6 }), fc.boolean()).map(([nicks, withX]) => action('join-leave-storm', (s) => nicks.flatMap((n) => [
    xml('presence', { to: `${s.room}/${n}` }, ...(withX ? [xml('x', { xmlns: NS_MUC })] : [])),
    xml('presence', { to: `${s.room}/${n}`, type: 'unavailable' }),
  ])));
}

// ---------------------------------------------------------------------------
// The families

export interface Arbitraries {
  /** Anything at all, from any connection (the mixed phase). */
  readonly hostile: fc.Arbitrary<Action>;
  /** From a connection that has not joined: refused, whatever it is. */
  readonly refusedStranger: fc.Arbitrary<Action>;
  /** From a joined occupant: answered without changing the world. */
  readonly refusedOccupant: fc.Arbitrary<Action>;
}

export function arbitraries(names: Names): Arbitraries {
  const anyBody = commandBody(names);
  const nickTarget = toOccupant(anyNick(names));
  const absentTarget = fc.string({ maxLength: 8 }).map(xmlClean).map((x) => (s: Sender) => `${s.room}/zz-absent-${x}`);
  const allPresenceTypes = ['unavailable', 'subscribe', 'subscribed', 'unsubscribe', 'unsubscribed', 'probe', 'error', 'bogus'];
  const hostile = fc.oneof(
    { weight: 30, arbitrary: groupchat(anyBody) },
    { weight: 4, arbitrary: groupchatOdd(names, false) },
    { weight: 6, arbitrary: whisper(nickTarget, anyBody) },
    { weight: 4, arbitrary: messageOfType(anyTarget(names), anyBody) },
    { weight: 3, arbitrary: messageError(anyTarget(names), [...GONE_CONDITIONS, ...OTHER_CONDITIONS]) },
    { weight: 3, arbitrary: domainMessage(names) },
    { weight: 2, arbitrary: otherRoom(names) },
    { weight: 1, arbitrary: aliasedRoom(names) },
    { weight: 6, arbitrary: join(anyNick(names), 'join') },
    { weight: 3, arbitrary: join(conflictingNick(names), 'join-conflict') },
    { weight: 5, arbitrary: nickChurn(names) },
    { weight: 3, arbitrary: leave },
    { weight: 2, arbitrary: joinLeaveStorm(names) },
    { weight: 3, arbitrary: presenceType(anyTarget(names), allPresenceTypes) },
    { weight: 4, arbitrary: presenceUpdate },
    { weight: 8, arbitrary: iq(names) },
    { weight: 5, arbitrary: invite(names) },
    { weight: 2, arbitrary: hugeAttributes(names, false) },
    { weight: 2, arbitrary: deepNesting(names, false) },
  );
  // A stranger cannot change the world: it may send anything but a join it could win.
  const refusedStranger = fc.oneof(
    { weight: 20, arbitrary: groupchat(anyBody) },
    { weight: 3, arbitrary: groupchatOdd(names, false) },
    { weight: 6, arbitrary: whisper(nickTarget, anyBody) },
    { weight: 4, arbitrary: messageOfType(anyTarget(names), anyBody) },
    { weight: 4, arbitrary: messageError(anyTarget(names), [...GONE_CONDITIONS, ...OTHER_CONDITIONS]) },
    { weight: 3, arbitrary: domainMessage(names) },
    { weight: 3, arbitrary: otherRoom(names) },
    { weight: 8, arbitrary: join(conflictingNick(names), 'join-conflict') },
    { weight: 4, arbitrary: presenceType(anyTarget(names), allPresenceTypes) },
    { weight: 8, arbitrary: iq(names) },
    { weight: 4, arbitrary: invite(names) },
    { weight: 2, arbitrary: hugeAttributes(names, true) },
    { weight: 2, arbitrary: deepNesting(names, true) },
  );
  // An occupant's refused input: bodies that are not commands (or too long), its own presence, and what touches no character.
  const refusedOccupant = fc.oneof(
    { weight: 20, arbitrary: groupchat(refusedBody(names)) },
    { weight: 3, arbitrary: groupchatOdd(names, true) },
    { weight: 3, arbitrary: whisper(absentTarget, anyBody) },
    { weight: 3, arbitrary: messageOfType(fc.constantFrom(toRoom, toDomain), anyBody, MESSAGE_TYPES.filter((t) => t !== 'groupchat')) },
    { weight: 3, arbitrary: messageError(fc.constantFrom(toDomain), OTHER_CONDITIONS) },
    { weight: 3, arbitrary: domainMessage(names) },
    { weight: 2, arbitrary: otherRoom(names) },
    { weight: 4, arbitrary: presenceUpdate },
    { weight: 2, arbitrary: presenceType(fc.constantFrom(toRoom, toDomain), ['subscribe', 'subscribed', 'unsubscribe', 'unsubscribed', 'probe', 'bogus']) },
    { weight: 8, arbitrary: iq(names) },
    { weight: 5, arbitrary: invite(names) },
    { weight: 1, arbitrary: hugeAttributes(names, true) },
    { weight: 1, arbitrary: deepNesting(names, true) },
  );
  return { hostile, refusedStranger, refusedOccupant };
}

/** Rare on purpose (each is hundreds of KB): a stanza over Flux's size gate. */
export const oversizedArbitrary = (names: Names) => oversized(names);

// ---------------------------------------------------------------------------
// Raw bytes

export interface RawPayload {
  readonly category: RawCategory;
  /** Whether Prosody must close the stream for it (not well-formed, invalid UTF-8, restricted XML). */
  readonly fatal: boolean;
  readonly bytes: Buffer;
}

const INVALID_UTF8 = [[0xc0, 0x80], [0xff], [0xfe], [0x80], [0xbf, 0xbf], [0xe0, 0x80, 0x80], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80],
  [0xf0, 0x9f, 0x98], [0xc3], [0xe2, 0x82], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xc1, 0xbf], [0xef, 0xbf, 0xbe]];

const NOT_WELL_FORMED = [
  (room: string) => `<message to='${room}' type='groupchat'><body>look</bdy></message>`,
  (room: string) => `<message to='${room}' type='groupchat'><body>look</message>`,
  (room: string) => `<message to='${room}' type='groupchat' type='chat'><body>look</body></message>`,
  (room: string) => `<message to=${room} type='groupchat'><body>look</body></message>`,
  (room: string) => `<message to='${room}' type='groupchat'><body>a & b</body></message>`,
  (room: string) => `<message to='${room}' type='groupchat'><body>&nbsp;</body></message>`,
  (room: string) => `<message to='${room}' type='groupchat'><body>&#0;</body></message>`,
  (room: string) => `<message to='${room}' type='groupchat'><body>&#xD800;</body></message>`,
  (room: string) => `<message to='${room}' type='groupchat'><body>&#x1;</body></message>`,
  (room: string) => `<message to='${room}' type='groupchat'><body>a < b</body></message>`,
  (room: string) => `<message to='${room}' type='groupchat'><1body>x</1body></message>`,
  (room: string) => `<message to='${room}' type='groupchat'><foo:body>x</foo:body></message>`,
  (room: string) => `<message to='${room}' type='groupchat' xmlns:x=''><body>x</body></message>`,
  (room: string) => `<message to='${room}' type='groupchat'><body>x</body></message></message>`,
  (room: string) => `<message to='${room}' <body>x</body></message>`,
  (room: string) => `<message to='${room}' type='groupchat'><body attr='<'>x</body></message>`,
  (room: string) => `<message to='${room}' type='groupchat'><body>\u0000</body></message>`,
  (room: string) => `<message to='${room}' type='groupchat'><body>\u0001\u0008\u000b\u000c\u001f</body></message>`,
  () => '</stream:stream><stream:stream>',
  () => "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>garbage<",
  () => '<<<<>>>>',
  () => '</>',
  () => '<a b="1" b="2"/>',
];

const RESTRICTED = [
  (room: string) => `<!-- a comment --><message to='${room}' type='groupchat'><body>look</body></message>`,
  (room: string) => `<?pi data?><message to='${room}' type='groupchat'><body>look</body></message>`,
  (room: string) => `<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]><message to='${room}' type='groupchat'><body>&lol2;</body></message>`,
  (room: string) => `<!DOCTYPE x SYSTEM "file:///etc/passwd"><message to='${room}'><body>&x;</body></message>`,
  (room: string) => `<message to='${room}' type='groupchat'><body><!-- hidden -->look</body></message>`,
  (room: string) => `<message to='${room}' type='groupchat'><body><?php echo 1; ?></body></message>`,
];

/** Well-formed and odd: Prosody may pass these on, refuse them with a stanza error, or close the stream. */
const ODD_WELLFORMED = [
  (room: string) => `<message to='${room}' type='groupchat'><body><![CDATA[say <b>cdata</b> ]]]]><![CDATA[>]]></body></message>`,
  (room: string) => `<m:message xmlns:m='jabber:client' to='${room}' type='groupchat'><m:body>look</m:body></m:message>`,
  (room: string) => `<message xmlns='jabber:server' to='${room}' type='groupchat'><body>look</body></message>`,
  (room: string) => `<message from='alice@localhost/forged' to='${room}' type='groupchat'><body>say I am Alice</body></message>`,
  (room: string) => `<message to='${room.replace('@', '&#64;')}' type='groupchat'><body>say &#x1F600; &amp;&lt;&gt;&quot;&apos;</body></message>`,
  (room: string) => `<message to='${room.toUpperCase()}' type='groupchat'><body>look</body></message>`,
  (room: string) => `<message to='${room}.' type='groupchat'><body>look</body></message>`,
  (room: string) => `<message to='${room}/' type='groupchat'><body>look</body></message>`,
  (room: string) => `<message to='@${room.split('@')[1]}' type='groupchat'><body>look</body></message>`,
  (room: string) => `<message to='${room}' type='groupchat'><body xml:lang='&#x202e;'>look</body></message>`,
  (room: string) => `<message\n\tto = "${room}"\r\n type\t=\t'groupchat' ><body >look</body ></message >`,
  (room: string) => `<message to='${room}' type='groupchat'><body/></message>`,
  (room: string) => `<presence to='${room}/\u200b'><x xmlns='http://jabber.org/protocol/muc'/></presence>`,
  (room: string) => `<presence to='${room}/a/b/c'><x xmlns='http://jabber.org/protocol/muc'/></presence>`,
  (room: string) => `<iq to='${room}' type='get'><ping xmlns='urn:xmpp:ping'/></iq>`,
  (room: string) => `<iq to='${room}' type='get' id='two'><ping xmlns='urn:xmpp:ping'/><ping xmlns='urn:xmpp:ping'/></iq>`,
  (room: string) => `<stanza to='${room}'/>`,
  (room: string) => `<message to='${room}' type='groupchat'><body>\uFEFFlook</body></message>`,
  (room: string) => `<message to='${room}' type='groupchat'>${'<body>say many</body>'.repeat(50)}</message>`,
];

/**
 * Raw nesting depth at most, in the refused-only phase and in the mixed one.
 * Deeper works too, but it is Prosody that suffers: a 5,000-level stanza holds its
 * one thread for 0.2-0.3 s, a 20,000-level one 0.6 s and a 60,000-level one 2-3 s
 * (measured here), which in the mixed phase would measure Prosody's stall in the
 * honest players' latency, not Flux. 5,000 levels already pass the depth where
 * xmpp.js's recursive serializer overflows in Flux.
 */
const RAW_DEPTH_MAX = 6000;
const RAW_DEPTH_MIXED_MAX = 1500;

/** Deep nesting that only a socket sends (xmpp.js's serializer would recurse): thousands of levels. */
function deep(room: string, domain: string, depth: number, kind: number): string {
  const open = '<a>'.repeat(depth);
  const close = '</a>'.repeat(depth);
  switch (kind % 3) {
    case 0: return `<message to='${room}' type='groupchat'><body>look</body>${open}${close}</message>`;
    case 1: return `<iq to='${domain}' type='get' id='deep'><query xmlns='http://jabber.org/protocol/disco#info'>${open}${close}</query></iq>`;
    default: return `<iq to='${room}' type='get' id='deep2'>${open}${close}</iq>`;
  }
}

/** Raw bytes for a session; `refusedOnly` leaves out presences (a raw join under a fresh nick would make a character). */
export function rawPayload(room: string, domain: string, refusedOnly: boolean): fc.Arbitrary<RawPayload> {
  const odd = ODD_WELLFORMED.filter((f) => !refusedOnly || !f(room).startsWith('<presence'));
  const utf8 = fc.tuple(fc.constantFrom(...INVALID_UTF8), fc.constantFrom('body', 'attr'))
    .map(([bad, where]) => ({
      category: 'raw-invalid-utf8' as const, fatal: true,
      bytes: where === 'body'
        ? Buffer.concat([Buffer.from(`<message to='${room}' type='groupchat'><body>say `), Buffer.from(bad), Buffer.from('</body></message>')])
        : Buffer.concat([Buffer.from(`<message to='${room}' type='groupchat' id='`), Buffer.from(bad), Buffer.from("'><body>look</body></message>")]),
    }));
  return fc.oneof(
    { weight: 3, arbitrary: utf8 },
    { weight: 4, arbitrary: fc.constantFrom(...NOT_WELL_FORMED).map((f) => ({ category: 'raw-not-well-formed' as const, fatal: true, bytes: Buffer.from(f(room)) })) },
    { weight: 2, arbitrary: fc.constantFrom(...RESTRICTED).map((f) => ({ category: 'raw-restricted-xml' as const, fatal: true, bytes: Buffer.from(f(room)) })) },
    { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 1000, max: refusedOnly ? RAW_DEPTH_MAX : RAW_DEPTH_MIXED_MAX }), fc.nat()).map(([d, k]) => ({ category: 'raw-deep' as const, fatal: false, bytes: Buffer.from(deep(room, domain, d, k)) })) },
    { weight: 5, arbitrary: fc.constantFrom(...odd).map((f) => ({ category: 'raw-odd-wellformed' as const, fatal: false, bytes: Buffer.from(f(room)) })) },
    { weight: 2, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 512 }).map((b) => ({ category: 'raw-random-bytes' as const, fatal: false, bytes: Buffer.from(b) })) },
  );
}
