// The XMPP edge: one component connection (XEP-0114), stanzas routed to the MUC
// rooms, the service's own chat and the iq services. The only place that turns
// errors into stanzas.
import { jid as parseJid } from '@xmpp/jid';
import type { Component } from '@xmpp/component';
import type { Logger } from 'pino';
import type { Clock } from '../negotiation/index.ts';
import type { Room } from '../rooms/index.ts';
import { connectComponent, receiveElement } from './connection.ts';
import { noTelemetry, type Telemetry } from '../metrics/index.ts';
import { OUTGOING_BYTES_MAX, SHED_LAG_MS, SERVER_LAG_PROBE_MS, STANDBY_RETRY_MS, STANZA_BYTES_MAX, STANZA_NESTING_MAX } from '../constants.ts';
import { ServerLag, sheds } from './server-lag.ts';
import type { GateCut } from './stanza-gate.ts';
import { MucRoom, type MucLimits } from './muc.ts';
import { Outbox } from './outbox.ts';
import { registerServiceInfo, type Directory } from './service-info.ts';
import { errorReply, joinError, NS_MUC_USER, NS_STANZAS, sanitize, STATUS_SHUTDOWN, xml, type Element } from './stanzas.ts';

/** Error conditions (RFC 6120 §8.3.3) that mean the recipient session no longer exists. */
const GONE_CONDITIONS: ReadonlySet<string> = new Set(['recipient-unavailable', 'service-unavailable', 'item-not-found', 'remote-server-not-found', 'gone']);

export interface EdgeOptions {
  readonly service: string;
  readonly domain: string;
  readonly secret: string;
  readonly log: Logger;
  readonly clock: Clock;
  readonly limits: MucLimits;
  readonly telemetry?: Telemetry;
  /** This instance's id: it tags the lag probes, which a cluster may hand to another instance of the domain. */
  readonly instance?: string;
}

/** A room as the domain's room list shows it, served here or by another instance. */
export interface ListedRoom {
  readonly jid: string;
  readonly title: string;
  readonly occupants: number;
}

export class XmppEdge implements Directory {
  readonly domain: string;
  private readonly xmpp: Component;
  private readonly mucs = new Map<string, MucRoom>();
  private readonly telemetry: Telemetry;
  private readonly outbox: Outbox;
  /** How far behind the XMPP server is in reading this stream. */
  readonly lag: ServerLag;
  private probing: NodeJS.Timeout | null = null;
  /** Every room in the database, served here or not (another instance's, or past ROOMS_MAX). */
  knownRooms: ReadonlySet<string> = new Set();
  /** Rooms other instances serve, as the database last said (the domain's room list shows every room). */
  elsewhere: readonly ListedRoom[] = [];
  /** Behind a cluster: sees every element from the server first, true when it forwarded it (lib/cluster/router.ts). */
  divert: ((el: Element) => boolean) | null = null;
  /** The server refused this stream with <conflict/>: another instance has the domain (hot standby). */
  private standby = false;
  private readonly standbyListeners: (() => void)[] = [];
  private readonly onlineListeners: (() => void)[] = [];
  /** Written while the stream was down, in order (see `write`). */
  private offline: string[] = [];
  private offlineBytes = 0;

  constructor(private readonly options: EdgeOptions) {
    this.domain = options.domain;
    this.telemetry = options.telemetry ?? noTelemetry;
    this.xmpp = connectComponent({
      service: options.service, domain: options.domain, password: options.secret,
      retryPauseMs: () => (this.standby ? STANDBY_RETRY_MS : null),
      divert: (el) => this.divert?.(el) ?? false,
    });
    this.outbox = new Outbox((chunk) => this.write(chunk));
    this.lag = new ServerLag(options.domain, (wire) => this.outbox.push(wire), () => this.outbox.pushedBytes, options.clock, options.instance ?? '');
    this.xmpp.on('error', (err) => this.connectionError(err));
    this.xmpp.on('status', (status) => options.log.debug({ status }, 'xmpp status'));
    this.xmpp.on('online', () => {
      const service = (this.xmpp as unknown as { options: { service: string } }).options.service;
      options.log.info({ domain: options.domain, service }, this.standby ? 'component online: the other instance is gone, taking over' : 'component online');
      this.standby = false;
      this.lag.reset();
      this.flushOffline();
      for (const l of this.onlineListeners) l();
    });
    this.xmpp.on('stanza', (el) => this.route(el));
    (this.xmpp as unknown as { on(event: 'cut', f: (el: Element, cut: GateCut) => void): void }).on('cut', (el, cut) => this.cut(el, cut));
    registerServiceInfo(this.xmpp, this);
  }

  /**
   * Prosody takes one stream per component domain and refuses the next with a
   * <conflict/> stream error (mod_component, component_conflict_resolve = kick_new;
   * RFC 6120 §4.9.3.3). Then this instance is a hot standby: it says so once, knocks
   * again every STANDBY_RETRY_MS without a word, and takes over when let in.
   * xmpp.js follows the stream error with its own "Unexpected server response" for the
   * handshake it never got, and the socket the server closes may end in ECONNRESET:
   * while standing by, those are not news either.
   */
  private connectionError(err: Error): void {
    const condition = (err as { condition?: unknown }).condition;
    if (condition === 'conflict') {
      if (!this.standby) {
        this.options.log.info({ domain: this.domain, retryMs: STANDBY_RETRY_MS }, `another instance is connected for ${this.domain}; standing by`);
        this.standby = true;
        for (const l of this.standbyListeners) l();
      }
      return;
    }
    if (this.standby && (err.message === 'Unexpected server response' || (err as { code?: unknown }).code === 'ECONNRESET')) return this.options.log.debug({ err: err.message }, 'xmpp connection error');
    this.options.log.warn({ err: err.message }, 'xmpp connection error');
  }

  /** Whether another instance holds the domain at the XMPP server and this one waits (hot standby). */
  get standingBy(): boolean {
    return this.standby;
  }

  /** Called when the server refuses this instance because another holds the domain. */
  onStandby(listener: () => void): void {
    this.standbyListeners.push(listener);
  }

  /** Called each time the component stream comes up. */
  onOnline(listener: () => void): void {
    this.onlineListeners.push(listener);
  }

  /** Adds a room; its batches deliver through this edge. */
  attach(room: Room): MucRoom {
    const muc = new MucRoom(room, {
      domain: this.domain, log: this.options.log, clock: this.options.clock, limits: this.options.limits,
      write: (wire) => this.outbox.push(wire), telemetry: this.telemetry, shedding: (bytesPerS) => this.shedding(bytesPerS),
      joinBudget: () => this.joinBudget,
    });
    this.mucs.set(room.id, muc);
    return muc;
  }

  /**
   * The room is not served here any more. `tell`: its occupants leave (332), as
   * when nobody may serve it now; otherwise they are not told, since the instance
   * that serves it takes them over from the session journal (lib/cluster/sessions.ts).
   */
  detach(roomId: string, tell: boolean): void {
    const muc = this.mucs.get(roomId);
    muc?.close();
    if (tell) muc?.evictAll([STATUS_SHUTDOWN]);
    this.mucs.delete(roomId);
  }

  /**
   * Whether the server is behind with what Flux wrote: more than its window
   * (`ServerLag.windowBytes`) not known to be read while it has owed a probe
   * for over SHED_LAG_MS, or OUTGOING_BYTES_MAX still in this process. Lag alone
   * (a server slowed by others) refuses nothing: shedding Flux's work would not
   * help. A full window alone refuses nothing either: the window is only as wide
   * as the server has been seen to read, and a server that answers at once is
   * not behind.
   */
  get behind(): boolean {
    return (this.lag.inFlightBytes > this.lag.windowBytes && this.lag.ms > SHED_LAG_MS) || this.backlogBytes > OUTGOING_BYTES_MAX;
  }

  /**
   * Bytes Flux may still write before the server counts as behind: what joins
   * may spend. Joins fill the window as the server reads it, so it always has
   * the next join's presences queued while it routes the last one's.
   */
  get joinBudget(): number {
    if (!this.online || this.backlogBytes > OUTGOING_BYTES_MAX) return 0;
    return this.lag.windowBytes - this.lag.inFlightBytes;
  }

  /** Whether a room writing `bytesPerS` refuses new work: the server is behind and the room is among the heaviest. */
  shedding(bytesPerS: number): boolean {
    return this.behind && sheds(bytesPerS, [...this.mucs.values()].map((m) => m.writtenPerS));
  }

  /** Each probe period and each probe back: the rooms let held joins in, as many as the server has room for. */
  private pace(): void {
    let budget = this.joinBudget;
    for (const muc of this.mucs.values()) {
      if (budget <= 0) return;
      budget -= muc.releaseHeld(budget);
    }
  }

  /** Bytes written and not yet taken by the XMPP server, and those still to be written this turn. */
  get backlogBytes(): number {
    return (this.socket?.writableLength ?? 0) + this.outbox.pendingBytes;
  }

  private get socket(): { writableLength?: number; write(chunk: string): boolean } | null | undefined {
    return (this.xmpp as unknown as { socket?: { writableLength?: number; write(chunk: string): boolean } | null }).socket;
  }

  /** Whether the component stream is up (it reconnects by itself when the server goes away). */
  get online(): boolean {
    return this.xmpp.status === 'online';
  }

  room(id: string): MucRoom | undefined {
    return this.mucs.get(id);
  }

  /** Every room on the domain: those served here with their occupants now, then the others'. */
  listing(): ListedRoom[] {
    const here = this.rooms().map((r) => ({ jid: r.jid, title: r.room.world.title, occupants: r.occupants.size }));
    const mine = new Set(here.map((r) => r.jid));
    return [...here, ...this.elsewhere.filter((r) => !mine.has(r.jid))].sort((a, b) => (a.jid < b.jid ? -1 : a.jid > b.jid ? 1 : 0));
  }

  /** An element another instance forwarded: handled as if the server had sent it here. */
  receive(el: Element): void {
    receiveElement(this.xmpp, el);
  }

  rooms(): MucRoom[] {
    return [...this.mucs.values()];
  }

  /** Connects; a server that refuses because another instance holds the domain leaves this one standing by (not an error). */
  async start(): Promise<void> {
    try {
      await this.xmpp.start();
    } catch (err) {
      if (!this.standby) throw err;
    }
    this.probing = setInterval(() => {
      if (!this.online) return;
      this.lag.probe();
      this.pace();
    }, SERVER_LAG_PROBE_MS);
    this.probing.unref();
  }

  /** Shutdown, first step: commands are refused from now on; queued ones still run. */
  closeRooms(): void {
    for (const muc of this.mucs.values()) muc.close();
  }

  /** Shutdown, second step: every occupant gets an unavailable presence with 332 (system shutdown). */
  evictAll(): void {
    for (const muc of this.mucs.values()) muc.evictAll([STATUS_SHUTDOWN]);
  }

  async stop(): Promise<void> {
    if (this.probing) clearInterval(this.probing);
    this.xmpp.reconnect.stop();
    // What was written this turn (a last batch's effects) goes before the closing tag:
    // once the stream is closing, the outbox's own flush would find it offline.
    this.outbox.flush();
    try {
      await this.xmpp.stop();
    } catch (err) {
      this.options.log.debug({ err }, 'xmpp stop');
    }
  }

  /** An element to the server, cleaned of XML-forbidden characters, in order with everything the rooms write. */
  send(el: Element): void {
    this.outbox.push(sanitize(el).toString());
  }

  /**
   * One turn's stanzas in one socket write. Offline (the server or its cluster
   * node went away, and the stream is coming back, maybe through another node),
   * up to OUTGOING_BYTES_MAX of them wait and go first once online; past that
   * they are lost as any stanza to a closed stream (players rejoin, XEP-0410).
   */
  private write(chunk: string): void {
    const socket = this.socket;
    if (this.xmpp.status === 'online' && socket) {
      socket.write(chunk);
      return this.lag.wrote();
    }
    if (this.offlineBytes + chunk.length > OUTGOING_BYTES_MAX) return;
    this.offline.push(chunk);
    this.offlineBytes += chunk.length;
  }

  /** Back online: what was written meanwhile goes first. */
  private flushOffline(): void {
    const waiting = this.offline.join('');
    this.offline = [];
    this.offlineBytes = 0;
    if (waiting !== '') this.socket?.write(waiting);
  }

  private route(el: Element): void {
    if (this.lag.returned(el)) return this.pace();
    // RFC 6120 §8.3.1: never answer an error with an error.
    if (el.attrs.type === 'error') return this.deliveryError(el);
    if (!['message', 'presence'].includes(el.name)) return;
    try {
      const to = parseJid(String(el.attrs.to));
      if (!el.attrs.from) return;
      if (to.local === '') return this.serviceMessage(el);
      const muc = this.mucs.get(to.local);
      if (!muc && this.knownRooms.has(to.local)) {
        return this.send(errorReply(el, 'service-unavailable', 'wait', `The world ${to.local} is not served here right now; try again in a moment.`));
      }
      if (!muc) {
        return this.send(errorReply(el, 'item-not-found', 'cancel', `There is no world called ${to.local} here; send "rooms" to ${this.domain} for the list.`));
      }
      if (el.name === 'presence') return this.presence(muc, el, to.resource);
      return this.message(muc, el, to.resource);
    } catch (err) {
      this.options.log.error({ err }, 'stanza handling failed');
      this.send(errorReply(el, 'internal-server-error', 'wait', 'Something went wrong on our side.'));
    }
  }

  /** A stanza cut at the gate (STANZA_BYTES_MAX, STANZA_NESTING_MAX): its sender hears why; nothing in it was read. */
  private cut(el: Element, cut: GateCut): void {
    const size = cut.reason === 'size';
    this.options.log.warn({ from: el.attrs.from, to: el.attrs.to, name: el.name, bytes: cut.bytes }, size ? 'stanza over the size limit refused' : 'stanza nested too deep refused');
    const room = String(el.attrs.to ?? '').split('@')[0]!; // the start tag may be cut too: no JID parsing
    this.telemetry.commandRefused(this.mucs.has(room) ? room : '', size ? 'stanza-too-large' : 'stanza-too-deep');
    if (el.attrs.type === 'error' || !el.attrs.from || !el.attrs.to || !['message', 'presence', 'iq'].includes(el.name)) return;
    el.children = [];
    const why = size ? `is too large (over ${STANZA_BYTES_MAX} bytes)` : `nests elements too deep (over ${STANZA_NESTING_MAX} levels)`;
    this.send(errorReply(el, 'policy-violation', 'modify', `That stanza ${why}; nothing in it was read.`));
  }

  /**
   * An error bounced back from a session we send to: if it says the session is gone
   * (its server restarted, its client vanished without an unavailable presence),
   * the session leaves, as Prosody's mod_muc does with such ghosts.
   */
  private deliveryError(el: Element): void {
    const condition = el.getChild('error')?.getChildElements().find((c) => c.attrs.xmlns === NS_STANZAS)?.name;
    if (!condition || !GONE_CONDITIONS.has(condition) || !el.attrs.from || !el.attrs.to) return;
    const to = parseJid(String(el.attrs.to));
    const muc = this.mucs.get(to.local);
    if (muc?.occupants.bySessionJid(String(el.attrs.from))) {
      this.options.log.info({ room: muc.room.id, session: el.attrs.from, condition }, 'session gone, leaving for it');
      muc.leave(String(el.attrs.from));
    }
  }

  private presence(muc: MucRoom, el: Element, nick: string): void {
    const type = el.attrs.type as string | undefined;
    if (type === 'unavailable') return muc.leave(String(el.attrs.from));
    if (type !== undefined) return; // subscriptions and probes are not for rooms
    if (nick === '') return this.send(joinError(el, 'jid-malformed', 'modify', 'Join as room@domain/YourNick.'));
    muc.join(el, nick);
  }

  private message(muc: MucRoom, el: Element, nick: string): void {
    const type = el.attrs.type as string | undefined;
    if (nick === '' && type === 'groupchat') return muc.command(el);
    if (nick === '' && el.getChild('x', NS_MUC_USER)?.getChild('invite')) return muc.invite(el);
    if (nick !== '' && (type === 'chat' || type === undefined || type === 'normal')) return muc.whisper(el, nick);
    if (el.getChild('body') === undefined) return;
    this.send(errorReply(el, 'bad-request', 'modify', 'Type commands in the room as group chat, or whisper to room/Nick.'));
  }

  /** DESIGN §1: a chat message to the domain answers help and rooms. */
  private serviceMessage(el: Element): void {
    if (el.name !== 'message') return;
    const body = el.getChildText('body');
    if (body === null) return;
    const word = body.trim().toLowerCase();
    const text = word === 'rooms'
      ? ['Worlds here:', ...this.listing().map((r) => `  ${r.jid} - ${r.title} (${r.occupants} playing)`)].join('\n')
      : `This is Flux, a game world server. Join a world as a group chat, e.g. ${this.listing()[0]?.jid ?? `realm@${this.domain}`}.\nSend "rooms" for the list of worlds.`;
    this.send(xml('message', { type: 'chat', from: this.domain, to: String(el.attrs.from) }, xml('body', {}, text)));
  }
}

