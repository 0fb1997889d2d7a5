// Hands the component stream to ltx (the parser under @xmpp/xml) in writes it
// parses in linear time. ltx is quadratic on a long run without markup (text, or
// an attribute value) that a write leaves unfinished: with no "<" (or closing
// quote) after it in the same write, it advances one character at a time and
// searches to the end again at each one, and it carries the unfinished run over
// by copying it in front of the next write. A 256 KB body in 64 KB reads held the
// event loop for a quarter of a second.
//
// So each read goes to the parser only up to the end of its last complete tag
// (or the "<" of a tag still open); what follows waits and goes in front of the
// next read that has markup. Every write then ends just past a ">" or a "<", ltx
// crosses each run with one indexOf, and nothing is copied twice. No element is
// held back by this: a tag left open goes over with the read that brings its
// ">" (servers escape ">" in attribute values, so that is the tag's own).
//
// What waits is part of one stanza, which the stanza gate bounds (it closes a
// stanza it cuts with markup); a run past HELD_CHARS_MAX without any (the
// server's whitespace between stanzas, say) goes in slices of RUN_SLICE_CHARS,
// where ltx's cost is bounded by the slice. Writes only end right after a ">"
// or "<", or inside a run with no markup, so never inside a "?>", "-->", "]]>"
// or a surrogate pair.
import { STANZA_BYTES_MAX } from '../constants.ts';

/** Characters per write when a run without markup is fed on its own. */
export const RUN_SLICE_CHARS = 512;
/** Characters the feed holds back at most before it feeds them in slices. */
export const HELD_CHARS_MAX = STANZA_BYTES_MAX;

export interface TextParser {
  write(text: string): void;
}

export class ParserFeed {
  /** Text after the last complete tag, in the order it came. */
  private held: string[] = [];
  private heldChars = 0;
  /** The parser is inside a tag (it has its "<"): the next ">" ends it. */
  private inTag = false;

  constructor(readonly parser: TextParser) {}

  write(text: string): void {
    const lt = text.lastIndexOf('<');
    let end: number;
    if (lt >= 0) {
      // Through the end of the last tag; while that tag is still open, through its "<"
      // (ltx's next stop: a write cut before it would end in a run).
      const gt = text.indexOf('>', lt);
      this.inTag = gt < 0;
      end = gt < 0 ? lt + 1 : gt + 1;
    } else if (this.inTag && text.includes('>')) {
      // The tag left open ends in this read (the end of a stanza, maybe).
      end = text.indexOf('>') + 1;
      this.inTag = false;
    } else {
      return this.hold(text);
    }
    const part = text.slice(0, end);
    if (this.held.length > 0) {
      this.held.push(part);
      this.parser.write(this.held.join(''));
      this.held = [];
      this.heldChars = 0;
    } else {
      this.parser.write(part);
    }
    if (end < text.length) this.hold(text.slice(end));
  }

  private hold(text: string): void {
    this.held.push(text);
    this.heldChars += text.length;
    if (this.heldChars <= HELD_CHARS_MAX) return;
    const run = this.held.join('');
    this.held = [];
    this.heldChars = 0;
    for (let from = 0; from < run.length;) {
      const to = sliceEnd(run, Math.min(run.length, from + RUN_SLICE_CHARS));
      this.parser.write(run.slice(from, to));
      from = to;
    }
  }
}

/** `to`, moved back one if it would split a surrogate pair. */
function sliceEnd(text: string, to: number): number {
  if (to >= text.length) return text.length;
  const c = text.charCodeAt(to - 1);
  return c >= 0xd800 && c <= 0xdbff ? to - 1 : to;
}
