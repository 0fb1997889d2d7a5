// The private link between Flux instances (DESIGN §5): plain TCP on an address the
// operator keeps private (FLUX_PEER_LISTEN), frames of a 4-byte length and JSON.
// Both ends prove they know the shared secret (FLUX_PEER_SECRET) before anything
// else: each sends a fresh nonce and the other answers with its HMAC, so neither a
// stranger who reaches the port nor one who listens in its place gets a stanza.
// Frames go one way on a connection, from the instance that opened it. An
// instance that stops says farewell to every peer that has a connection to it:
// each peer stops sending to it and answers on that same connection, so once
// every answer is in, nothing a peer sent is still on its way (a frame written
// to a socket the other end closes is gone without a word).
import net from 'node:net';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Logger } from 'pino';
import { PEER_AUTH_MS_MAX, PEER_FRAME_BYTES_MAX } from '../constants.ts';

/** stanza: one the XMPP server gave the sender, for a room the receiver owns; released: a room is free, claim it now. */
export type Frame =
  | { readonly kind: 'stanza'; readonly hops: number; readonly xml: string }
  | { readonly kind: 'released'; readonly room: string };

type Handshake =
  | { kind: 'hello'; nonce: string }
  | { kind: 'auth'; mac: string; nonce: string; from?: string }
  | { kind: 'welcome'; mac: string };

/** leaving: the sender (listening at `from`) stops, send it nothing more; left: nothing more comes on this connection. */
type Farewell =
  | { kind: 'leaving'; from: string }
  | { kind: 'left' };

const NONCE_BYTES = 16;
/** Frames before the handshake is done are small. */
const HANDSHAKE_BYTES_MAX = 1024;
const HEADER_BYTES = 4;

export interface PeerLinkOptions {
  /** host:port to listen on; port 0 takes a free one. */
  readonly listen: string;
  readonly secret: string;
  readonly log: Logger;
  /** A frame from an authenticated peer. */
  readonly onFrame: (frame: Frame) => void;
}

export function parseEndpoint(endpoint: string): { host: string; port: number } {
  const at = endpoint.lastIndexOf(':');
  const host = endpoint.slice(0, at).replace(/^\[(.*)\]$/, '$1');
  const port = Number(endpoint.slice(at + 1));
  if (at <= 0 || !Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`not a host:port: ${endpoint}`);
  return { host, port };
}

function mac(secret: string, role: 'client' | 'server', nonce: string): string {
  return createHmac('sha256', secret).update(`flux-peer ${role} ${nonce}`).digest('hex');
}

function sameMac(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}

function encode(frame: unknown): Buffer {
  const body = Buffer.from(JSON.stringify(frame), 'utf8');
  const head = Buffer.alloc(HEADER_BYTES);
  head.writeUInt32BE(body.length);
  return Buffer.concat([head, body]);
}

/** Splits a byte stream into frames; past `limit()` bytes a frame is refused (the connection is cut). */
class Framer {
  private buffer: Buffer = Buffer.alloc(0);
  constructor(private readonly limit: () => number) {}

  push(chunk: Buffer): unknown[] | null {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const frames: unknown[] = [];
    while (this.buffer.length >= HEADER_BYTES) {
      const size = this.buffer.readUInt32BE(0);
      if (size > this.limit()) return null;
      if (this.buffer.length < HEADER_BYTES + size) break;
      const body = this.buffer.subarray(HEADER_BYTES, HEADER_BYTES + size).toString('utf8');
      this.buffer = this.buffer.subarray(HEADER_BYTES + size);
      try {
        frames.push(JSON.parse(body));
      } catch {
        return null;
      }
    }
    return frames;
  }
}

interface Outgoing {
  socket: net.Socket;
  ready: boolean;
  /** Frames waiting for the handshake, each with what to do if it never goes. */
  queued: { bytes: Buffer; failed: () => void }[];
}

export class PeerLink {
  private readonly outgoing = new Map<string, Outgoing>();
  /** Connections from peers, each with the endpoint its peer listens at once it proved the secret (null: not said). */
  private readonly incoming = new Map<net.Socket, string | null>();
  private readonly downListeners: ((endpoint: string) => void)[] = [];
  /** Peers that said they stop: nothing more goes to them. */
  private readonly leaving = new Set<string>();
  /** While saying farewell: the connections whose peer has not answered yet, each with what to call when it has. */
  private readonly awaitingLeft = new Map<net.Socket, () => void>();
  /** Set once the server stops taking connections (farewell, close). */
  private closed: Promise<void> | null = null;

  private constructor(private readonly server: net.Server, readonly endpoint: string, private readonly options: PeerLinkOptions) {}

  static async listen(options: PeerLinkOptions): Promise<PeerLink> {
    const { host, port } = parseEndpoint(options.listen);
    let link: PeerLink | undefined;
    const server = net.createServer((socket) => link?.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    const bound = server.address() as net.AddressInfo;
    link = new PeerLink(server, `${host.includes(':') ? `[${host}]` : host}:${bound.port}`, options);
    return link;
  }

  /** Called when a connection to a peer fails or closes: its rooms may have moved. */
  onPeerDown(listener: (endpoint: string) => void): void {
    this.downListeners.push(listener);
  }

  /** Sends a frame to the instance at `endpoint`; `failed` is called if it could not be handed over. */
  send(endpoint: string, frame: Frame, failed: () => void = () => {}): void {
    if (this.leaving.has(endpoint)) return void queueMicrotask(failed);
    this.write(endpoint, encode(frame), failed);
  }

  /**
   * Before closing: tells every peer connected to this one that it stops, and
   * waits until each has answered (or its connection closed, or `timeoutMs`
   * passed). Whatever a peer sent before its answer has been read by then.
   */
  async farewell(timeoutMs: number): Promise<void> {
    this.stopListening(); // a peer that would connect now is refused, and sends elsewhere
    const answered: Promise<void>[] = [];
    for (const [socket, peer] of this.incoming) {
      if (peer === null || socket.destroyed) continue;
      answered.push(new Promise<void>((resolve) => this.awaitingLeft.set(socket, resolve)));
      this.write(peer, encode({ kind: 'leaving', from: this.endpoint }), () => this.awaitingLeft.get(socket)?.());
    }
    const timer = new Promise<void>((resolve) => setTimeout(resolve, timeoutMs).unref());
    await Promise.race([Promise.all(answered), timer]);
    this.awaitingLeft.clear();
  }

  private write(endpoint: string, bytes: Buffer, failed: () => void): void {
    let out = this.outgoing.get(endpoint);
    if (!out) out = this.connect(endpoint);
    if (out.ready) out.socket.write(bytes);
    else out.queued.push({ bytes, failed });
  }

  async close(): Promise<void> {
    for (const out of this.outgoing.values()) out.socket.end();
    this.outgoing.clear();
    for (const socket of this.incoming.keys()) socket.destroy();
    await this.stopListening();
  }

  private stopListening(): Promise<void> {
    this.closed ??= new Promise<void>((resolve) => this.server.close(() => resolve()));
    return this.closed;
  }

  private connect(endpoint: string): Outgoing {
    const { host, port } = parseEndpoint(endpoint);
    const socket = net.connect({ host, port });
    socket.setNoDelay(true);
    const out: Outgoing = { socket, ready: false, queued: [] };
    this.outgoing.set(endpoint, out);
    const nonce = randomBytes(NONCE_BYTES).toString('hex');
    const framer = new Framer(() => HANDSHAKE_BYTES_MAX);
    const timer = setTimeout(() => socket.destroy(new Error('peer did not finish the handshake')), PEER_AUTH_MS_MAX);
    timer.unref();
    socket.on('data', (chunk) => {
      const frames = framer.push(chunk) as Handshake[] | null;
      if (!frames) return void socket.destroy(new Error('bad frame from peer'));
      for (const f of frames) {
        if (f.kind === 'hello' && typeof f.nonce === 'string') {
          socket.write(encode({ kind: 'auth', mac: mac(this.options.secret, 'client', f.nonce), nonce, from: this.endpoint }));
        } else if (f.kind === 'welcome' && typeof f.mac === 'string' && sameMac(f.mac, mac(this.options.secret, 'server', nonce)) && !out.ready) {
          clearTimeout(timer);
          out.ready = true;
          socket.write(Buffer.concat(out.queued.map((q) => q.bytes)));
          out.queued = [];
        } else {
          socket.destroy(new Error('peer failed the handshake'));
        }
      }
    });
    const down = (err?: Error) => {
      clearTimeout(timer);
      if (this.outgoing.get(endpoint) !== out) return;
      this.outgoing.delete(endpoint);
      this.leaving.delete(endpoint); // a new connection there is a new instance, or fails
      if (err) this.options.log.warn({ peer: endpoint, err: err.message }, 'peer link down');
      for (const q of out.queued) q.failed();
      out.queued = [];
      for (const l of this.downListeners) l(endpoint);
    };
    socket.on('error', down);
    socket.on('close', () => down());
    return out;
  }

  private accept(socket: net.Socket): void {
    this.incoming.set(socket, null);
    socket.setNoDelay(true);
    let authed = false;
    const nonce = randomBytes(NONCE_BYTES).toString('hex');
    const framer = new Framer(() => (authed ? PEER_FRAME_BYTES_MAX : HANDSHAKE_BYTES_MAX));
    const timer = setTimeout(() => socket.destroy(), PEER_AUTH_MS_MAX);
    timer.unref();
    socket.write(encode({ kind: 'hello', nonce }));
    socket.on('data', (chunk) => {
      const frames = framer.push(chunk);
      if (!frames) {
        this.options.log.warn({ peer: socket.remoteAddress }, 'peer link: frame too large or not JSON; connection cut');
        return void socket.destroy();
      }
      for (const f of frames as (Frame | Handshake | Farewell)[]) {
        if (authed) {
          if (isFrame(f)) this.options.onFrame(f);
          else if (f.kind === 'leaving' && typeof f.from === 'string') this.peerLeaving(f.from);
          else if (f.kind === 'left') this.awaitingLeft.get(socket)?.();
          continue;
        }
        if (f.kind !== 'auth' || typeof f.mac !== 'string' || typeof f.nonce !== 'string' || !sameMac(f.mac, mac(this.options.secret, 'client', nonce))) {
          this.options.log.warn({ peer: socket.remoteAddress }, 'peer link: a connection did not prove the secret; cut');
          return void socket.destroy();
        }
        authed = true;
        if (typeof f.from === 'string') this.incoming.set(socket, f.from);
        clearTimeout(timer);
        socket.write(encode({ kind: 'welcome', mac: mac(this.options.secret, 'server', f.nonce) }));
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      this.incoming.delete(socket);
      this.awaitingLeft.get(socket)?.();
    });
  }

  /** A peer stops: its rooms are looked up again (onPeerDown), nothing more goes to it, and it is told so on the connection this side sends on. */
  private peerLeaving(endpoint: string): void {
    this.leaving.add(endpoint);
    for (const l of this.downListeners) l(endpoint);
    const out = this.outgoing.get(endpoint);
    if (out) this.write(endpoint, encode({ kind: 'left' }), () => {});
  }
}

function isFrame(f: unknown): f is Frame {
  const x = f as Partial<{ kind: string; hops: unknown; xml: unknown; room: unknown }>;
  return (x.kind === 'stanza' && typeof x.xml === 'string' && typeof x.hops === 'number') || (x.kind === 'released' && typeof x.room === 'string');
}
