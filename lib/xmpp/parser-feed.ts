// Hands text to ltx (the parser under @xmpp/xml) in writes it parses in linear
// time. In text and attribute values ltx jumps to the next "<" or quote with
// indexOf, but when none follows in the same write it advances one character
// at a time and searches to the end again at each one: a write ending in a run
// of n such characters costs n^2/2 comparisons (240 KB of emoji held the event
// loop for seconds). A long run is therefore fed in slices of RUN_SLICE_CHARS.
// Each slice makes ltx copy the text it holds so far once more, so the slice
// is about the square root of the largest run the stanza gate lets through:
// both costs then stay near STANZA_BYTES_MAX * RUN_SLICE_CHARS.
//
// Only runs longer than a slice that start after the write's last "<" are
// split, far from any markup: servers send stanzas re-serialized (no comments,
// no processing instructions, no CDATA), so no slice boundary falls inside a
// "?>", "-->" or "]]>" that ltx would need to see whole.

/** Characters per write for a long run without markup. */
export const RUN_SLICE_CHARS = 512;

export interface TextParser {
  write(text: string): void;
}

export function feedParser(parser: TextParser, text: string): void {
  const runStart = text.lastIndexOf('<') + 1;
  if (text.length - runStart <= RUN_SLICE_CHARS) {
    parser.write(text);
    return;
  }
  let from = 0;
  for (let to = runStart + RUN_SLICE_CHARS; to < text.length; to += RUN_SLICE_CHARS) {
    parser.write(text.slice(from, sliceEnd(text, to)));
    from = sliceEnd(text, to);
  }
  parser.write(text.slice(from));
}

/** `to`, moved back one if it would split a surrogate pair. */
function sliceEnd(text: string, to: number): number {
  const c = text.charCodeAt(to - 1);
  return c >= 0xd800 && c <= 0xdbff ? to - 1 : to;
}
