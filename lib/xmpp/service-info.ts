// Service discovery and the small iq services (XEP-0030, XEP-0199, XEP-0092, XEP-0410).
import type { Component, IqContext } from '@xmpp/component';
import type { MucRoom } from './muc.ts';
import { iqError, NS_DATA, NS_DISCO_INFO, NS_DISCO_ITEMS, NS_MUC, NS_MUC_ADMIN, NS_MUC_OWNER, NS_PING, NS_VERSION, xml, type Element } from './stanzas.ts';
import { adminChange, adminList } from './admin.ts';

export const SOFTWARE_NAME = 'Flux';
export const SOFTWARE_VERSION = '0.1.0';

export interface Directory {
  readonly domain: string;
  room(id: string): MucRoom | undefined;
  /** Every room on the domain, served here or by another instance. */
  listing(): { jid: string; title: string; occupants: number }[];
}

const stanzaError = (condition: string, type = 'cancel') =>
  xml('error', { type }, xml(condition, { xmlns: 'urn:ietf:params:xml:ns:xmpp-stanzas' }));

export function registerServiceInfo(xmpp: Component, dir: Directory): void {
  xmpp.iqCallee.get(NS_DISCO_INFO, 'query', (ctx) => discoInfo(ctx, dir));
  xmpp.iqCallee.get(NS_DISCO_ITEMS, 'query', (ctx) => discoItems(ctx, dir));
  xmpp.iqCallee.get(NS_PING, 'ping', (ctx) => ping(ctx, dir));
  xmpp.iqCallee.get(NS_VERSION, 'query', (ctx) => (ctx.to.local === '' ? version() : stanzaError('service-unavailable')));
  // XEP-0045 §8-§10: the admin protocol; muc#owner too for the owner and admin lists, as older clients ask there.
  for (const ns of [NS_MUC_ADMIN, NS_MUC_OWNER]) {
    xmpp.iqCallee.get(ns, 'query', (ctx) => admin(ctx, dir, ns, 'get'));
    xmpp.iqCallee.set(ns, 'query', (ctx) => admin(ctx, dir, ns, 'set'));
  }
}

/** An admin request to a room: answered by the room (lib/xmpp/admin.ts), a change only after its batch committed. */
function admin(ctx: IqContext, dir: Directory, ns: string, type: 'get' | 'set'): Element | Promise<Element> {
  const { local, resource } = ctx.to;
  const room = local === '' ? undefined : dir.room(local);
  if (!room || resource !== '') return stanzaError(local === '' ? 'service-unavailable' : 'item-not-found');
  const from = String(ctx.stanza.attrs.from);
  const query = ctx.element;
  const items = query.getChildren('item');
  // §10.1, §10.9: room configuration and destruction: a world is configured by its file.
  if (ns === NS_MUC_OWNER && items.length === 0) {
    if (room.room.affiliations.of(bare(from)) !== 'owner') return iqError('forbidden', 'auth', 'Only the owners of this world may configure it.');
    return iqError('feature-not-implemented', 'cancel', 'A world is configured by its world file (flux world import); it cannot be configured or destroyed from a client.');
  }
  // The owner namespace carries only the owner and admin lists (XEP-0045 before 1.25).
  if (ns === NS_MUC_OWNER && items.some((i) => i.attrs.affiliation !== 'owner' && i.attrs.affiliation !== 'admin')) {
    return iqError('bad-request', 'modify', 'Use http://jabber.org/protocol/muc#admin for members, outcasts and roles.');
  }
  return type === 'get' ? adminList(room, from, query) : adminChange(room, from, query);
}

function bare(full: string): string {
  const slash = full.indexOf('/');
  return (slash < 0 ? full : full.slice(0, slash)).toLowerCase();
}

/** XEP-0030 §3.1 on the domain, XEP-0045 §6.4 on a room (with the muc#roominfo form). */
function discoInfo(ctx: IqContext, dir: Directory): Element {
  if (ctx.element.attrs.node) return stanzaError('item-not-found');
  const { local, resource } = ctx.to;
  if (local === '') {
    return xml('query', { xmlns: NS_DISCO_INFO },
      xml('identity', { category: 'conference', type: 'text', name: 'Flux worlds' }),
      ...[NS_DISCO_INFO, NS_DISCO_ITEMS, NS_MUC, NS_PING, NS_VERSION].map((v) => xml('feature', { var: v })));
  }
  const room = dir.room(local);
  if (!room || resource !== '') return stanzaError('item-not-found');
  return xml('query', { xmlns: NS_DISCO_INFO },
    xml('identity', { category: 'conference', type: 'text', name: room.room.world.title }),
    ...[NS_DISCO_INFO, NS_MUC, 'muc_persistent', 'muc_open', room.room.world.anonymity === 'non' ? 'muc_nonanonymous' : 'muc_semianonymous', 'muc_unmoderated', 'muc_unsecured', 'muc_public']
      .map((v) => xml('feature', { var: v })),
    xml('x', { xmlns: NS_DATA, type: 'result' },
      field('FORM_TYPE', 'http://jabber.org/protocol/muc#roominfo', 'hidden'),
      field('muc#roominfo_description', room.room.world.title),
      field('muc#roominfo_subject', room.room.world.subject),
      field('muc#roominfo_occupants', String(room.occupants.size))));
}

function field(name: string, value: string, type?: string): Element {
  return xml('field', { var: name, ...(type ? { type } : {}) }, xml('value', {}, value));
}

/** XEP-0030 §4: the rooms on the domain; rooms list no items (occupants are not disclosed). */
function discoItems(ctx: IqContext, dir: Directory): Element {
  if (ctx.element.attrs.node) return stanzaError('item-not-found');
  if (ctx.to.local !== '') {
    return dir.room(ctx.to.local) && ctx.to.resource === '' ? xml('query', { xmlns: NS_DISCO_ITEMS }) : stanzaError('item-not-found');
  }
  return xml('query', { xmlns: NS_DISCO_ITEMS },
    ...dir.listing().map((r) => xml('item', { jid: r.jid, name: `${r.title} (${r.occupants})` })));
}

/** XEP-0199 on the domain and rooms; XEP-0410 §3 on room/nick: only the occupant's own sessions get a result. */
function ping(ctx: IqContext, dir: Directory): Element | boolean {
  const { local, resource } = ctx.to;
  if (local === '') return true;
  const room = dir.room(local);
  if (!room) return stanzaError('item-not-found');
  if (resource === '') return true;
  const occupant = room.occupants.bySessionJid(String(ctx.stanza.attrs.from));
  return occupant && occupant.nick === resource ? true : stanzaError('not-acceptable', 'modify');
}

function version(): Element {
  return xml('query', { xmlns: NS_VERSION }, xml('name', {}, SOFTWARE_NAME), xml('version', {}, SOFTWARE_VERSION));
}

