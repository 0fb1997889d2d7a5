// Stanzas as bytes, for the fan-out paths (a batch's messages, a join's presences).
// In a crowd the same words and the same occupant presence go to hundreds of
// sessions: each text is cleaned (XML 1.0 §2.2) and escaped once, and a stanza is
// the concatenation of parts prepared before the loop over its recipients. Parsed
// back, each is the element stanzas.ts builds (spec/xmpp/wire.spec.ts).
import { createRequire } from 'node:module';
import { xmlSafe } from '../negotiation/index.ts';
import type { Place } from '../effects/index.ts';
import { NS_MUC_USER, NS_PLACE, NS_SID, type Availability, type Reflection } from './stanzas.ts';

// @xmpp/xml is CommonJS and assigns its exports at run time, which ESM cannot name statically.
const { escapeXML, escapeXMLText } = createRequire(import.meta.url)('@xmpp/xml') as { escapeXML(s: string): string; escapeXMLText(s: string): string };

/** An attribute value as it goes on the wire: forbidden characters stripped, markup and quotes escaped. */
export function wireText(text: string): string {
  return escapeXML(xmlSafe(text));
}

/** Element text as it goes on the wire: quotes need no escaping there. */
export function wireBody(text: string): string {
  return escapeXMLText(xmlSafe(text));
}

/** Caches the wire form of texts repeated within one fan-out (bodies, JIDs). */
export class WireTexts {
  private readonly attrs = new Map<string, string>();
  private readonly bodies = new Map<string, string>();

  attr(text: string): string {
    return cached(this.attrs, text, wireText);
  }

  body(text: string): string {
    return cached(this.bodies, text, wireBody);
  }
}

function cached(cache: Map<string, string>, text: string, make: (s: string) => string): string {
  let wire = cache.get(text);
  if (wire === undefined) cache.set(text, (wire = make(text)));
  return wire;
}

/**
 * XEP-0045 §7.4: a groupchat message; `from`, `to` and `body` already in wire form.
 * `extra`: more payload in wire form (a description's `<place/>`).
 */
export function groupchatWire(from: string, to: string, body: string, reflects?: Reflection, extra = ''): string {
  const id = reflects?.id ? ` id="${wireText(reflects.id)}"` : '';
  const origin = reflects?.originId ? `<origin-id xmlns="${NS_SID}" id="${wireText(reflects.originId)}"/>` : '';
  return `<message type="groupchat" from="${from}" to="${to}"${id}><body>${body}</body>${origin}${extra}</message>`;
}

/**
 * A description's place as data (README "The place element"): its key and title,
 * then its exits, things and people in the order the text names them. Clients that
 * do not know the namespace ignore it (RFC 6120 §8.4).
 */
export function placeWire(place: Place): string {
  const more = (n: number) => (n > 0 ? ` more="${n}"` : '');
  return `<place xmlns="${NS_PLACE}" key="${wireText(place.key)}" title="${wireText(place.title)}">`
    + place.exits.map((dir) => `<exit dir="${wireText(dir)}"/>`).join('')
    + `<things${more(place.moreThings)}>${place.things.map((name) => `<thing name="${wireText(name)}"/>`).join('')}</things>`
    + `<people${more(place.morePeople)}>${place.people.map((nick) => `<person nick="${wireText(nick)}"/>`).join('')}</people>`
    + '</place>';
}

/** XEP-0045 §7.5: a private message through the room; parts in wire form. */
export function privateWire(from: string, to: string, body: string): string {
  return `<message type="chat" from="${from}" to="${to}"><body>${body}</body><x xmlns="${NS_MUC_USER}"/></message>`;
}

/**
 * XEP-0045 §7.2.3: an occupant's available presence, cut where the recipient goes:
 * `head + wireText(to) + tail` is the stanza. Built once per occupant and change.
 */
export interface PresenceWire {
  readonly head: string;
  readonly tail: string;
}

/** `item`: the occupant's affiliation and role (XEP-0045 §5; none and participant when absent), and its jid where the recipient may see it. */
export function presenceWire(from: string, availability: Availability, item: Record<string, string>, codes: readonly string[] = []): PresenceWire {
  const show = availability.show ? `<show>${wireBody(availability.show)}</show>` : '';
  const status = availability.status ? `<status>${wireBody(availability.status)}</status>` : '';
  const attrs = Object.entries({ affiliation: 'none', role: 'participant', ...item }).map(([k, v]) => ` ${k}="${wireText(v)}"`).join('');
  const statuses = codes.map((code) => `<status code="${code}"/>`).join('');
  return {
    head: `<presence from="${wireText(from)}" to="`,
    tail: `">${show}${status}<x xmlns="${NS_MUC_USER}"><item${attrs}/>${statuses}</x></presence>`,
  };
}
