// Receive anywhere, forward to the owner (DESIGN §5). Behind an ejabberd cluster
// every instance of the domain is handed stanzas for every room; the rooms table
// says which instance owns each room and where its peer link listens. A stanza for
// a room served elsewhere goes there over the link, and the owner handles it as
// if the XMPP server had sent it (its answers go out on the owner's own stream:
// any instance may send as room@domain). While a room has no reachable owner (a
// death being taken over, a handover on SIGTERM) its stanzas wait, in order, for
// at most FORWARD_WAIT_MS_MAX, and this instance tries to claim the room itself.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { Queryable } from '../db/index.ts';
import type { Element } from '../xmpp/stanzas.ts';
import type { Frame, PeerLink } from './link.ts';
import { FORWARD_HOPS_MAX, FORWARD_QUEUE_MAX, FORWARD_WAIT_MS_MAX } from '../constants.ts';

/** Between two looks at who owns a room that has none reachable yet. */
const OWNER_POLL_MS = 100;
/** A peer whose link failed counts as unreachable this long: its rooms are claimed rather than forwarded to it again. */
const PEER_DOWN_MS = 2000;

export interface RouterOptions {
  readonly db: Queryable;
  readonly link: PeerLink;
  readonly domain: string;
  readonly log: Logger;
  /** Whether this instance serves the room and takes its stanzas now (not while handing it over). */
  readonly takes: (room: string) => boolean;
  /** Whether the room exists (it is in the database). */
  readonly known: (room: string) => boolean;
  /** Try to claim free rooms now (a room with no owner, or whose owner is unreachable); false while stopping. */
  readonly claim: () => Promise<boolean>;
  /** Handles an element here, past the router. */
  readonly receive: (element: Element) => void;
  /** Tells the sender its stanza could not reach the room's owner in time. */
  readonly unreachable: (element: Element, room: string) => void;
}

interface Waiting {
  readonly elements: { element: Element; hops: number }[];
  readonly since: number;
}

export class RoomRouter {
  /** Where each room's owner listens, as last read. */
  private readonly owners = new Map<string, string>();
  /** Rooms whose stanzas wait for a reachable owner, in arrival order. */
  private readonly waiting = new Map<string, Waiting>();
  /** Peers whose link failed lately, until when. */
  private readonly down = new Map<string, number>();
  /** Stanzas passed to other instances, and in from them (bin/flux status, the bench). */
  forwarded = 0;
  received = 0;

  constructor(private readonly options: RouterOptions) {
    options.link.onPeerDown((endpoint) => {
      this.down.set(endpoint, Date.now() + PEER_DOWN_MS);
      for (const [room, at] of this.owners) if (at === endpoint) this.owners.delete(room);
    });
  }

  /** The room an element is addressed to on this domain, or null (the domain itself, another domain). */
  roomOf(element: Element): string | null {
    const to = String(element.attrs.to ?? '');
    const at = to.indexOf('@');
    if (at <= 0) return null;
    const slash = to.indexOf('/', at);
    const domain = (slash < 0 ? to.slice(at + 1) : to.slice(at + 1, slash)).toLowerCase();
    return domain === this.options.domain ? to.slice(0, at).toLowerCase() : null;
  }

  /** Whether `element` was taken by the router (forwarded, or waiting for its room's owner); false: handle it here. */
  divert(element: Element, hops = 0): boolean {
    const room = this.roomOf(element);
    if (room === null || !this.options.known(room)) return false;
    if (this.options.takes(room) && !this.waiting.has(room)) return false;
    this.route(room, element, hops);
    return true;
  }

  /** A frame from another instance. */
  fromPeer(frame: Frame, parse: (xml: string) => Element): void {
    if (frame.kind !== 'stanza') return;
    let element: Element;
    try {
      element = parse(frame.xml);
    } catch (err) {
      return this.options.log.warn({ err: (err as Error).message }, 'peer link: a forwarded stanza did not parse');
    }
    this.received++;
    if (frame.hops > FORWARD_HOPS_MAX) {
      const room = this.roomOf(element);
      return room === null ? undefined : this.options.unreachable(element, room);
    }
    if (!this.divert(element, frame.hops)) this.options.receive(element);
  }

  /** Forgets where a room's owner was (it was released or claimed here). */
  forget(room: string): void {
    this.owners.delete(room);
  }

  /** Whether any stanza still waits for an owner (a stopping instance waits for none to be left). */
  get idle(): boolean {
    return this.waiting.size === 0;
  }

  private route(room: string, element: Element, hops: number): void {
    const queue = this.waiting.get(room);
    if (queue) {
      if (queue.elements.length >= FORWARD_QUEUE_MAX) return this.options.unreachable(element, room);
      queue.elements.push({ element, hops });
      return;
    }
    const endpoint = this.owners.get(room);
    if (endpoint !== undefined) return this.forward(room, endpoint, element, hops);
    this.waiting.set(room, { elements: [{ element, hops }], since: Date.now() });
    void this.findOwner(room).catch((err: Error) => this.options.log.error({ err, room }, 'routing a room'));
  }

  private forward(room: string, endpoint: string, element: Element, hops: number): void {
    this.forwarded++;
    this.options.link.send(endpoint, { kind: 'stanza', hops: hops + 1, xml: element.toString() }, () => {
      // Never handed over (the owner is gone): it waits with the room's next stanzas for the next owner.
      this.owners.delete(room);
      this.route(room, element, hops);
    });
  }

  /** Reads the room's owner until one is reachable, claiming the room meanwhile; then its waiting stanzas go, in order. */
  private async findOwner(room: string): Promise<void> {
    const queue = this.waiting.get(room)!;
    let claimed = false;
    while (Date.now() - queue.since < FORWARD_WAIT_MS_MAX) {
      if (this.options.takes(room)) return this.release(room, (e) => this.options.receive(e.element));
      const owner = await this.ownerOf(room);
      if (owner !== null && owner !== this.options.link.endpoint && !this.isDown(owner)) {
        this.owners.set(room, owner);
        return this.release(room, (e) => this.forward(room, owner, e.element, e.hops));
      }
      // Nobody owns it (a handover in progress, an owner dead), or the row still names this instance:
      // claim whatever is free, at once the first time and then as often as the owner is looked for.
      if (!claimed || owner === null || this.isDown(owner)) claimed = (await this.options.claim()) || claimed;
      if (this.options.takes(room)) continue;
      await sleep(OWNER_POLL_MS);
    }
    this.options.log.warn({ room, stanzas: queue.elements.length }, 'no reachable owner for the room in time; senders told');
    this.release(room, (e) => this.options.unreachable(e.element, room));
  }

  private release(room: string, each: (e: { element: Element; hops: number }) => void): void {
    const queue = this.waiting.get(room);
    this.waiting.delete(room);
    for (const e of queue?.elements ?? []) each(e);
  }

  private isDown(endpoint: string): boolean {
    const until = this.down.get(endpoint);
    if (until === undefined) return false;
    if (until > Date.now()) return true;
    this.down.delete(endpoint);
    return false;
  }

  private async ownerOf(room: string): Promise<string | null> {
    try {
      const r = await this.options.db.query<{ owner_endpoint: string | null }>('SELECT owner_endpoint FROM rooms WHERE id = $1', [room]);
      const endpoint = r.rows[0]?.owner_endpoint;
      return endpoint ? endpoint : null;
    } catch (err) {
      this.options.log.warn({ room, err: (err as Error).message }, 'cannot read the room owner now');
      return null;
    }
  }
}
