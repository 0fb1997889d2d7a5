// Stanza builders and XML hygiene. Namespaces from the XEPs they belong to.
import { xml } from '@xmpp/component';
import type { Element } from '@xmpp/xml';
import { xmlSafe } from '../negotiation/index.ts';

export const NS_MUC = 'http://jabber.org/protocol/muc';
export const NS_MUC_USER = 'http://jabber.org/protocol/muc#user';
export const NS_MUC_ADMIN = 'http://jabber.org/protocol/muc#admin';
export const NS_MUC_OWNER = 'http://jabber.org/protocol/muc#owner';
export const NS_DISCO_INFO = 'http://jabber.org/protocol/disco#info';
export const NS_DISCO_ITEMS = 'http://jabber.org/protocol/disco#items';
export const NS_PING = 'urn:xmpp:ping';
export const NS_VERSION = 'jabber:iq:version';
export const NS_DATA = 'jabber:x:data';
export const NS_STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';

/** XEP-0045 §7.2: status codes on occupant presences. */
export const STATUS_SELF = '110';
/** XEP-0045 §7.2.3: the room is non-anonymous: everyone sees the joiner's real JID. */
export const STATUS_NON_ANONYMOUS = '100';
/** XEP-0045 §7.6.3: the occupant's nick changed (on the unavailable presence for the old nick). */
export const STATUS_NICK_CHANGED = '303';
export const STATUS_SHUTDOWN = '332';
/** XEP-0045 §9.1: the occupant was banned. */
export const STATUS_BANNED = '301';
/** XEP-0045 §8.2: the occupant was kicked. */
export const STATUS_KICKED = '307';

export { xml, type Element };

export const NS_SID = 'urn:xmpp:sid:0';
/** Flux's own: a description's place as data (README "The place element"); versioned by its last segment. */
export const NS_PLACE = 'urn:flux:place:0';

/** The identity of a player's message, kept on its reflection (XEP-0045 §7.4, XEP-0359 §3). */
export interface Reflection {
  readonly id?: string;
  readonly originId?: string;
}

export function groupchat(from: string, to: string, body: string, reflects?: Reflection): Element {
  const el = xml('message', { type: 'groupchat', from, to, ...(reflects?.id ? { id: reflects.id } : {}) }, xml('body', {}, body));
  if (reflects?.originId) el.append(xml('origin-id', { xmlns: NS_SID, id: reflects.originId }));
  return el;
}

/** XEP-0045 §7.5: a private message between occupants, marked as coming through the room. */
export function privateMessage(from: string, to: string, body: string): Element {
  return xml('message', { type: 'chat', from, to }, xml('body', {}, body), xml('x', { xmlns: NS_MUC_USER }));
}

export function reflectionOf(stanza: Element): Reflection {
  const id = stanza.attrs.id as string | undefined;
  const originId = stanza.getChild('origin-id', NS_SID)?.attrs.id as string | undefined;
  return { ...(id ? { id } : {}), ...(originId ? { originId } : {}) };
}

export const NS_DELAY = 'urn:xmpp:delay';

/** XEP-0045 §7.8.2: a mediated invitation, passed on by the room, saying who invites (their bare JID) and why. */
export function invitation(room: string, to: string, inviter: string, title: string, reason: string | undefined): Element {
  return xml('message', { from: room, to },
    xml('x', { xmlns: NS_MUC_USER }, xml('invite', { from: inviter }, ...(reason ? [xml('reason', {}, reason)] : []))),
    // For clients that do not show invitations (§7.8.2 lets the room add a body).
    xml('body', {}, `${inviter} invites you to ${title}: join ${room}${reason ? ` (${reason})` : ''}`));
}

/** XEP-0045 §7.2.15: a line of history, stamped (XEP-0203) with when the room said it. */
export function historyMessage(from: string, to: string, body: string, stampMs: number, room: string): Element {
  return xml('message', { type: 'groupchat', from, to }, xml('body', {}, body), xml('delay', { xmlns: NS_DELAY, from: room, stamp: new Date(stampMs).toISOString() }));
}

export function subjectMessage(from: string, to: string, subject: string): Element {
  return xml('message', { type: 'groupchat', from, to }, xml('subject', {}, subject));
}

/** RFC 6121 §4.7.2.1: the <show/> values a presence may carry. */
const SHOW_VALUES: ReadonlySet<string> = new Set(['away', 'chat', 'dnd', 'xa']);

export interface Availability {
  readonly show?: string;
  readonly status?: string;
}

/** <show/> and <status/> of a player's presence, checked and bounded, to be shown on their occupant presence. */
export function availabilityOf(presence: Element, statusCharsMax: number): Availability {
  const show = presence.getChildText('show')?.trim();
  const status = presence.getChildText('status');
  return {
    ...(show && SHOW_VALUES.has(show) ? { show } : {}),
    ...(status ? { status: [...status].slice(0, statusCharsMax).join('') } : {}),
  };
}

export interface PresenceParts {
  readonly codes?: readonly string[];
  readonly unavailable?: boolean;
  /** More item attributes: nick (§7.6.3) or jid (§7.2.4). */
  readonly item?: Record<string, string>;
  /** The occupant's show and status (§7.7). */
  readonly availability?: Availability;
  /** §8.2, §9.1: who kicked or banned (their nick), and why, inside the item. */
  readonly actor?: string;
  readonly reason?: string;
}

/** XEP-0045 §7.2.3: an occupant's presence, as others and the occupant see it. */
export function occupantPresence(from: string, to: string, parts: PresenceParts = {}): Element {
  const { codes = [], unavailable = false, item = {}, availability = {}, actor, reason } = parts;
  return xml('presence', { from, to, ...(unavailable ? { type: 'unavailable' } : {}) },
    ...(!unavailable && availability.show ? [xml('show', {}, availability.show)] : []),
    ...(!unavailable && availability.status ? [xml('status', {}, availability.status)] : []),
    xml('x', { xmlns: NS_MUC_USER },
      xml('item', { affiliation: 'none', role: unavailable ? 'none' : 'participant', ...item },
        ...(actor === undefined ? [] : [xml('actor', { nick: actor })]),
        ...(reason === undefined ? [] : [xml('reason', {}, reason)])),
      ...codes.map((code) => xml('status', { code }))));
}

/** RFC 6120 §8.3: an error reply to `stanza`, addressed back to its sender. */
export function errorReply(stanza: Element, condition: string, type: string, text?: string): Element {
  const { from, to, id } = stanza.attrs as Record<string, string | undefined>;
  return xml(stanza.name, { from: to, to: from, type: 'error', ...(id ? { id } : {}) },
    xml('error', { type },
      xml(condition, { xmlns: NS_STANZAS }),
      ...(text ? [xml('text', { xmlns: NS_STANZAS, 'xml:lang': 'en' }, text)] : [])));
}

/** An iq's error child (RFC 6120 §8.3), with a text: what an iq handler returns to refuse. */
export function iqError(condition: string, type: string, text?: string): Element {
  return xml('error', { type }, xml(condition, { xmlns: NS_STANZAS }), ...(text ? [xml('text', { xmlns: NS_STANZAS, 'xml:lang': 'en' }, text)] : []));
}

/** XEP-0045 §7.2.6-7.2.10: a refused join is an error presence that keeps the <x/> of the join, so clients know which join failed. */
export function joinError(join: Element, condition: string, type: string, text: string): Element {
  const el = errorReply(join, condition, type, text);
  el.children.unshift(xml('x', { xmlns: NS_MUC }));
  return el;
}

/** Strips XML-forbidden characters from every attribute and text node (in place). */
export function sanitize(el: Element): Element {
  for (const [k, v] of Object.entries(el.attrs)) if (typeof v === 'string') el.attrs[k] = xmlSafe(v);
  el.children.forEach((child, i) => {
    if (typeof child === 'string') el.children[i] = xmlSafe(child);
    else sanitize(child as Element);
  });
  return el;
}
