// What the component writes to the XMPP server, coalesced: every stanza of one turn
// of the event loop (a batch's effects, a tick's joins) leaves in one socket write.
// The server reads one large chunk instead of thousands of small ones, and Flux
// makes one system call per batch instead of one per stanza. Order is kept.
export class Outbox {
  private parts: string[] = [];
  private bytes = 0;
  private scheduled = false;
  /** Every byte ever pushed (UTF-16 code units, as `pendingBytes`). */
  pushedBytes = 0;

  /** `write` sends one chunk of serialized stanzas; it is called at most once per turn of the event loop. */
  constructor(private readonly write: (chunk: string) => void) {}

  /** Bytes queued and not yet handed to the socket. */
  get pendingBytes(): number {
    return this.bytes;
  }

  push(wire: string): void {
    this.parts.push(wire);
    this.bytes += wire.length;
    this.pushedBytes += wire.length;
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  flush(): void {
    this.scheduled = false;
    if (this.parts.length === 0) return;
    const chunk = this.parts.length === 1 ? this.parts[0]! : this.parts.join('');
    this.parts = [];
    this.bytes = 0;
    this.write(chunk);
  }
}
