// The stanza gate in front of the XML parser (lib/xmpp/stanza-gate.ts): what it
// costs on ordinary traffic, and what a 1 MB stanza costs with and without it.
import { XmlParser as Parser } from '../lib/xmpp/xml-parser.ts';
import { StanzaGate } from '../lib/xmpp/stanza-gate.ts';
import { STANZA_BYTES_MAX } from '../lib/constants.ts';

const HEADER = Buffer.from("<?xml version='1.0'?><stream:stream xmlns='jabber:component:accept' xmlns:stream='http://etherx.jabber.org/streams' id='b'>");
/** A player's command as the XMPP server hands it to the component. */
const COMMAND = Buffer.from("<message from='alice@localhost/phone' to='realm@game.localhost' type='groupchat' id='a1b2c3'><body>say hello there, how is everyone?</body><origin-id xmlns='urn:xmpp:sid:0' id='a1b2c3'/></message>");
const READ_BYTES = 64 * 1024;
const ROUNDS = Number(process.env.BENCH_QUICK === '1' ? 50 : 400);
const HUGE_STANZAS = 20;

export interface GateResult {
  readonly parserOnlyMBs: number;
  readonly gatedMBs: number;
  readonly stanzasPerS: number;
  readonly overhead: number;
  /** The largest stanza the component is handed when 1 MB stanzas arrive (bytes as serialized). */
  readonly hugeHandedBytes: { readonly parserOnly: number; readonly gated: number };
}

function reads(stanza: Buffer, count: number): Buffer[] {
  const all = Buffer.concat(Array.from({ length: count }, () => stanza));
  const out: Buffer[] = [];
  for (let i = 0; i < all.length; i += READ_BYTES) out.push(all.subarray(i, i + READ_BYTES));
  return out;
}

/** Feeds the reads through the parser xmpp.js uses, behind a gate or not; MB/s of input. */
function run(chunks: readonly Buffer[], gated: boolean, onElement: (el: { toString(): string }) => void = () => {}): { mbs: number } {
  const parser = new Parser();
  parser.on('element', onElement);
  const write = (b: Buffer) => parser.write(b.toString('utf8'));
  const gate = gated ? new StanzaGate(STANZA_BYTES_MAX, { forward: write, cut: () => {} }) : null;
  const feed = gate ? (b: Buffer) => gate.write(b) : write;
  feed(HEADER);
  const bytes = chunks.reduce((n, c) => n + c.length, 0);
  const t0 = performance.now();
  for (const c of chunks) feed(c);
  const s = (performance.now() - t0) / 1000;
  return { mbs: bytes / 1e6 / s };
}

/** The largest element the parser hands on while 1 MB stanzas (each followed by a command) arrive in 64 KB reads. */
function largestHandedOn(gated: boolean): number {
  const huge = Buffer.from(`<message from='m@localhost/x' to='realm@game.localhost' type='groupchat'><body>${'ü'.repeat(512 * 1024)}</body></message>`);
  let largest = 0;
  run(reads(Buffer.concat([huge, COMMAND]), HUGE_STANZAS), gated, (el) => {
    largest = Math.max(largest, Buffer.byteLength(el.toString()));
  });
  return largest;
}

export function benchStanzaGate(): GateResult {
  const chunks = reads(COMMAND, ROUNDS * 1000);
  run(chunks.slice(0, 50), true); // warm up both paths
  run(chunks.slice(0, 50), false);
  const plain = run(chunks, false).mbs;
  const gated = run(chunks, true).mbs;
  return {
    parserOnlyMBs: plain, gatedMBs: gated, stanzasPerS: (gated * 1e6) / COMMAND.length, overhead: plain / gated,
    hugeHandedBytes: { parserOnly: largestHandedOn(false), gated: largestHandedOn(true) },
  };
}

export function printStanzaGate(r: GateResult): void {
  process.stdout.write(`stanza gate: parser alone ${r.parserOnlyMBs.toFixed(0)} MB/s, gate + parser ${r.gatedMBs.toFixed(0)} MB/s `
    + `(${Math.round(r.stanzasPerS).toLocaleString('en')} commands/s, ${r.overhead.toFixed(2)}x the parser's time)\n`);
  process.stdout.write(`stanzas of 1 MB: the parser alone hands on ${(r.hugeHandedBytes.parserOnly / 1e6).toFixed(2)} MB stanzas, `
    + `behind the gate at most ${(r.hugeHandedBytes.gated / 1024).toFixed(0)} KiB (the limit is ${STANZA_BYTES_MAX / 1024} KiB)\n`);
}
