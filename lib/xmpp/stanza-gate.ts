// A bound on stanza size, in front of the XML parser. xmpp.js builds every stanza
// as a whole element tree (and ltx re-buffers an unfinished text or attribute on
// every read), so a 1 MB stanza would cost at least 1 MB, and more in copies.
// The gate reads the same bytes the parser will, tracking just enough of XML to
// know where each top-level stanza starts and ends. Once a stanza passes its
// limit, nothing more of it reaches the parser: the gate hands the parser a few
// bytes that close whatever it has open (a tag, an attribute, the elements), so
// the parser stays in step with the stream, and reports the cut; the rest of the
// stanza is counted and dropped as it arrives. Memory held for one stanza is
// bounded by the limit, whatever the sender does. Nesting is bounded the same
// way: an element opened deeper than `nestingMax` below its stanza cuts the
// stanza there, before the parser builds a tree that every recursive walk over
// it (serialization, xmpp.js's error replies) would overflow the stack on.
//
// The lexical states mirror ltx's parser (node_modules/ltx/lib/parsers/ltx.js),
// the one @xmpp/xml uses, so that the closing bytes are well-formed for it in
// every state. UTF-8 never puts ASCII bytes inside a multi-byte character, so
// working on bytes is safe.

const TEXT = 0;
const TAG_NAME = 1;
const TAG = 2;
const ATTR_NAME = 3;
const ATTR_EQ = 4;
const ATTR_QUOT = 5;
const ATTR_VALUE = 6;
/** After "<!": a CDATA section or a comment, decided by the next 7 bytes. */
const BANG = 7;
const CDATA = 8;
const COMMENT = 9;
const INSTRUCTION = 10;

const LT = 0x3c;
const GT = 0x3e;
const SLASH = 0x2f;
const BANG_MARK = 0x21;
const QUESTION = 0x3f;
const EQUALS = 0x3d;
const QUOTE = 0x22;
const APOSTROPHE = 0x27;
const RIGHT_BRACKET = 0x5d;
const DASH = 0x2d;
const CDATA_OPEN = '[CDATA[';

/** Top-level elements sit at this depth: the stream root is depth 1. */
const STANZA_DEPTH = 2;

/** Why a stanza was cut, and how many of its bytes had arrived by then. */
export interface GateCut {
  readonly reason: 'size' | 'nesting';
  readonly bytes: number;
}

export interface GateSink {
  /** Bytes for the parser, in stream order. */
  forward(bytes: Buffer): void;
  /** A stanza passed a limit: the element the parser completes next is its cut-off start. */
  cut(cut: GateCut): void;
}

export class StanzaGate {
  private state = TEXT;
  private depth = 0;
  /** Names of the elements open inside the current stanza, outermost first (latin1: the bytes as they came). */
  private readonly open: string[] = [];
  private name = '';
  private endTag = false;
  private quote = 0;
  private bang = '';
  /** The two bytes before the current one (the ends of "]]>", "-->", "?>" and "/>"). */
  private before = 0;
  private beforeThat = 0;
  private stanzaBytes = -1; // -1: between stanzas
  private dropping = false;
  /** The most bytes of one stanza the parser was ever given (the bound the spec checks). */
  forwardedMax = 0;

  /** `nestingMax`: elements open inside a stanza, the stanza's own children at level 1. */
  constructor(private readonly bytesMax: number, private readonly sink: GateSink, private readonly nestingMax = Number.POSITIVE_INFINITY) {}

  write(data: Buffer): void {
    let from = 0;
    for (let i = 0; i < data.length; i++) {
      i = this.skipPlain(data, i);
      if (i >= data.length) break;
      const c = data[i]!;
      if (this.stanzaBytes < 0 && this.depth === STANZA_DEPTH - 1 && this.state === TEXT && c === LT) this.stanzaBytes = 0;
      if (this.stanzaBytes >= 0) {
        this.stanzaBytes++;
        const reason = this.dropping ? null : this.stanzaBytes > this.bytesMax ? 'size' : this.opensTooDeep(c) ? 'nesting' : null;
        if (reason) {
          this.send(data.subarray(from, i));
          this.sink.cut({ reason, bytes: this.stanzaBytes }); // before the closing: the parser completes the element while taking it
          this.sink.forward(Buffer.from(this.closing(), 'latin1'));
          this.dropping = true;
        }
      }
      const ended = this.step(c);
      if (ended) {
        if (this.dropping) from = i + 1; // the parser already has its closing
        else this.forwardedMax = Math.max(this.forwardedMax, this.stanzaBytes);
        this.stanzaBytes = -1;
        this.dropping = false;
      }
    }
    if (!this.dropping) this.send(data.subarray(from));
  }

  /**
   * Text and attribute values hold no markup until their end byte: jump there (as
   * ltx does) and count what was jumped, unless the limit falls inside the jump,
   * where the byte-by-byte path finds the exact cut.
   */
  private skipPlain(data: Buffer, i: number): number {
    const end = this.state === TEXT ? LT : this.state === ATTR_VALUE ? this.quote : -1;
    if (end < 0) return i;
    let stop = data.indexOf(end, i);
    if (stop < 0) stop = data.length;
    const span = stop - i;
    if (span < 2) return i;
    if (this.stanzaBytes >= 0) {
      if (!this.dropping && this.stanzaBytes + span > this.bytesMax) return i;
      this.stanzaBytes += span;
    }
    this.before = data[stop - 1]!;
    this.beforeThat = data[stop - 2]!;
    return stop;
  }

  /** `c` is the first byte of a start tag's name, at a level past `nestingMax`. */
  private opensTooDeep(c: number): boolean {
    return this.state === TAG_NAME && this.name === '' && !this.endTag && c !== SLASH && c !== BANG_MARK && c !== QUESTION
      && this.depth - STANZA_DEPTH + 1 > this.nestingMax;
  }

  private send(bytes: Buffer): void {
    if (bytes.length > 0) this.sink.forward(bytes);
  }

  /** Advances one byte; true when it ended a stanza. */
  private step(c: number): boolean {
    const { before, beforeThat } = this;
    this.beforeThat = before;
    this.before = c;
    switch (this.state) {
      case TEXT:
        if (c === LT) {
          this.state = TAG_NAME;
          this.name = '';
          this.endTag = false;
        }
        return false;
      case TAG_NAME:
        if (c === SLASH && this.name === '') this.endTag = true;
        else if (c === BANG_MARK) {
          this.state = BANG;
          this.bang = '';
        } else if (c === QUESTION) this.state = INSTRUCTION;
        else if (c <= 32 || c === SLASH || c === GT) {
          this.state = TAG;
          return this.step(c);
        } else this.name += String.fromCharCode(c);
        return false;
      case TAG:
        if (c === GT) return this.tagClosed(before === SLASH);
        if (c > 32 && c !== SLASH) this.state = ATTR_NAME;
        return false;
      case ATTR_NAME:
        if (c <= 32 || c === EQUALS) {
          this.state = ATTR_EQ;
          return this.step(c);
        }
        return false;
      case ATTR_EQ:
        if (c === EQUALS) this.state = ATTR_QUOT;
        return false;
      case ATTR_QUOT:
        if (c === QUOTE || c === APOSTROPHE) {
          this.quote = c;
          this.state = ATTR_VALUE;
        }
        return false;
      case ATTR_VALUE:
        if (c === this.quote) this.state = TAG;
        return false;
      case BANG:
        this.bang += String.fromCharCode(c);
        if (this.bang === CDATA_OPEN) this.state = CDATA;
        else if (!CDATA_OPEN.startsWith(this.bang)) this.state = COMMENT;
        return false;
      case CDATA:
        if (c === GT && before === RIGHT_BRACKET && beforeThat === RIGHT_BRACKET) this.state = TEXT;
        return false;
      case COMMENT:
        if (c === GT && ((before === DASH && beforeThat === DASH) || (before === RIGHT_BRACKET && beforeThat === RIGHT_BRACKET))) this.state = TEXT;
        return false;
      case INSTRUCTION:
        if (c === GT && before === QUESTION) this.state = TEXT;
        return false;
      default:
        return false;
    }
  }

  /** A tag's ">" (as ltx: a "/" just before it makes a start tag self-closing). */
  private tagClosed(selfClosing: boolean): boolean {
    this.state = TEXT;
    const depthBefore = this.depth;
    if (this.endTag) this.depth--;
    else if (!selfClosing) this.depth++;
    if (this.depth >= STANZA_DEPTH && this.depth > depthBefore) this.open.push(this.name);
    if (this.endTag && depthBefore >= STANZA_DEPTH) this.open.pop();
    return this.depth === STANZA_DEPTH - 1 && depthBefore >= STANZA_DEPTH - 1 && (this.endTag || selfClosing) && this.stanzaBytes >= 0;
  }

  /** Bytes that take the parser from where it is now to the end of the open stanza, well-formed. */
  private closing(): string {
    let finish = '';
    let open = [...this.open];
    switch (this.state) {
      case TAG_NAME:
        if (this.endTag) {
          const expected = open[open.length - 1] ?? this.name;
          finish = `${expected.slice(this.name.length)}>`;
          open = open.slice(0, -1);
        } else {
          finish = this.name === '' ? 'x/>' : '/>';
        }
        break;
      case TAG:
        if (this.endTag) {
          finish = '>';
          open = open.slice(0, -1);
        } else finish = '/>';
        break;
      case ATTR_NAME:
      case ATTR_EQ:
        finish = '=""/>';
        break;
      case ATTR_QUOT:
        finish = '""/>';
        break;
      case ATTR_VALUE:
        finish = `${String.fromCharCode(this.quote)}/>`;
        break;
      case BANG:
      case COMMENT:
        finish = '-->';
        break;
      case CDATA:
        finish = ']]>';
        break;
      case INSTRUCTION:
        finish = '?>';
        break;
      default:
        break;
    }
    // A stanza whose start tag itself is cut has no open element yet: the finish above closes it.
    return finish + open.reverse().map((n) => `</${n}>`).join('');
  }
}
