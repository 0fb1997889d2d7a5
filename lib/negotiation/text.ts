// Text hygiene at the edge. XML 1.0 §2.2 allows tab, LF, CR, U+0020-U+D7FF,
// U+E000-U+FFFD and U+10000-U+10FFFF; anything else in a stanza we send makes the
// server close our stream, so it is stripped from every string we emit.
const XML_FORBIDDEN = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

export function xmlSafe(text: string): string {
  return text.replace(XML_FORBIDDEN, '');
}

export function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}
