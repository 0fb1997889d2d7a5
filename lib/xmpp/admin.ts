// XEP-0045 administration of a room: the affiliation lists (§9.5, §9.8, §10.5,
// §10.8), affiliation changes (§9.1 ban, §9.3 member, §10.3 owner, §10.6 admin,
// and their revocations) and kicks (§8.2), as muc#admin iqs (and muc#owner for the
// owner and admin lists, as older clients send them). A request is checked here and
// becomes commands in the room's batch: `affiliate` for each change, `kick` for each
// occupant it removes. They commit together or not at all, and the iq is answered
// after COMMIT, once the presences they cause are out (MucRoom.deliver).
import { jid as parseJid } from '@xmpp/jid';
import { ADMIN_ITEMS_PER_IQ_MAX, REASON_CHARS_MAX } from '../constants.ts';
import type { Submission } from '../negotiation/index.ts';
import { AFFILIATIONS, bareJid, type Affiliation, type AffiliationChange, type Refusal } from '../rooms/affiliations.ts';
import type { MucRoom } from './muc.ts';
import type { Occupant } from './occupants.ts';
import { iqError, xml, type Element } from './stanzas.ts';

const error = (refusal: Refusal) => iqError(...refusal);

/** §9.5, §9.8, §10.5, §10.8 (and §8.5 for roles): iq get with one item naming an affiliation or a role. Moderators only. */
export function adminList(muc: MucRoom, from: string, query: Element): Element {
  const actor = bareOf(from);
  if (!muc.room.affiliations.isModerator(actor)) return iqError('forbidden', 'auth', 'Only the owners and admins of this world may read its lists.');
  const items = query.getChildren('item');
  if (items.length !== 1) return iqError('bad-request', 'modify', 'Ask for one list: <item affiliation="outcast"/> (or owner, admin, member; or role="moderator" or "participant").');
  const { affiliation, role } = items[0]!.attrs as { affiliation?: string; role?: string };
  const ns = String(query.attrs.xmlns);
  if (affiliation !== undefined && AFFILIATIONS.includes(affiliation as Affiliation) && affiliation !== 'none') {
    return xml('query', { xmlns: ns }, ...muc.room.affiliations.list(affiliation as Affiliation).map((e) =>
      xml('item', { affiliation: e.affiliation, jid: e.jid }, ...(e.reason === undefined ? [] : [xml('reason', {}, e.reason)]))));
  }
  if (affiliation === undefined && (role === 'moderator' || role === 'participant')) {
    const listed = [...muc.occupants.all()].filter((o) => o.joined && muc.room.affiliations.roleOf(o.bareJid) === role);
    return xml('query', { xmlns: ns }, ...listed.map((o) => xml('item', {
      nick: o.nick, role, affiliation: muc.room.affiliations.of(o.bareJid), jid: [...o.sessions][0] ?? o.bareJid,
    })));
  }
  return iqError('bad-request', 'modify', 'Flux keeps the lists of owners, admins, members and outcasts, and the roles moderator and participant.');
}

/**
 * §8.2, §9, §10: iq set with items that change roles (kick: role none) or
 * affiliations. All items are checked first; one refused item refuses the whole
 * request and nothing changes. Resolves with the iq's answer after the batch.
 */
export function adminChange(muc: MucRoom, from: string, query: Element): Element | Promise<Element> {
  const items = query.getChildren('item');
  if (items.length === 0) return iqError('bad-request', 'modify', 'Name at least one <item/> to change.');
  if (items.length > ADMIN_ITEMS_PER_IQ_MAX) return iqError('policy-violation', 'modify', `At most ${ADMIN_ITEMS_PER_IQ_MAX} items in one request.`);
  const actor = bareOf(from);
  const asker = muc.occupants.bySessionJid(from);
  const origin = { from, ...(asker?.joined ? { actor: asker.nick } : {}) };
  const held: AffiliationChange[] = [];
  const submissions: Submission[] = [];
  const fail = (refusal: Refusal): Element => {
    muc.room.affiliations.settle(held, false);
    return error(refusal);
  };
  for (const item of items) {
    const reason = reasonOf(item);
    const refused = item.attrs.affiliation !== undefined
      ? affiliationItem(muc, actor, item, reason, origin, held, submissions)
      : roleItem(muc, actor, asker, item, reason, origin, submissions);
    if (refused) return fail(refused);
  }
  if (submissions.length === 0) return xml('query', { xmlns: String(query.attrs.xmlns) }); // nothing changes: done
  return new Promise<Element>((resolve) => {
    let settled = false;
    const settle = (committed: boolean, why?: string) => {
      if (settled) return;
      settled = true;
      // After the presences the request caused, which went to the outbox in this turn (§8.2, §9.1: they come first).
      setImmediate(() => resolve(committed ? xml('query', { xmlns: String(query.attrs.xmlns) }) : iqError('internal-server-error', 'wait', why ?? 'That could not be saved; nothing changed.')));
    };
    const [first, ...rest] = submissions;
    if (!muc.room.submitAll([{ ...first!, origin: { ...first!.origin!, settle } }, ...rest])) {
      muc.room.affiliations.settle(held, false);
      settle(false, 'This world is too busy right now; try again in a moment.');
    }
  });
}

type Origin = { readonly from: string; readonly actor?: string };

/** One affiliation item: a change for the batch (and kicks, for a ban), or why not. */
function affiliationItem(muc: MucRoom, actor: string, item: Element, reason: string | undefined, origin: Origin, held: AffiliationChange[], out: Submission[]): Refusal | null {
  const affiliation = String(item.attrs.affiliation);
  if (!AFFILIATIONS.includes(affiliation as Affiliation)) return ['bad-request', 'modify', `No such affiliation: ${affiliation} (owner, admin, member, outcast or none).`];
  const target = targetJid(muc, item);
  if (typeof target !== 'string') return target;
  const change: AffiliationChange = { jid: target, affiliation: affiliation as Affiliation, ...(reason === undefined ? {} : { reason }) };
  const refused = muc.room.affiliations.refusal(actor, change);
  if (refused) return refused;
  if (muc.room.affiliations.intended(target) === change.affiliation) return null; // already so
  muc.room.affiliations.hold(change);
  held.push(change);
  out.push({ command: { kind: 'affiliate', nick: '', jid: target, affiliation: change.affiliation, by: actor, ...(reason === undefined ? {} : { text: reason }) }, origin });
  if (change.affiliation !== 'outcast') return null;
  // §9.1: every occupant of a banned JID leaves (301).
  for (const o of muc.occupants.ofJid(target)) {
    out.push({ command: { kind: 'kick', nick: muc.actingNick(o), affiliation: 'outcast', by: actor, ...(reason === undefined ? {} : { text: reason }) }, origin });
  }
  return null;
}

/** One role item: §8.2 kick (role none). Roles otherwise follow affiliations here. */
function roleItem(muc: MucRoom, actor: string, asker: Occupant | undefined, item: Element, reason: string | undefined, origin: Origin, out: Submission[]): Refusal | null {
  const { role, nick } = item.attrs as { role?: string; nick?: string };
  if (role === undefined) return ['bad-request', 'modify', 'An item changes an affiliation (with a jid) or a role (with a nick).'];
  if (nick === undefined) return ['bad-request', 'modify', 'A role change names the occupant by nick.'];
  if (!asker?.joined) return ['forbidden', 'auth', 'Only moderators in the room change roles: join it first.'];
  const target = muc.occupants.byNickname(nick);
  if (!target?.joined) return ['item-not-found', 'cancel', `Nobody called ${nick} is in this world.`];
  const current = muc.room.affiliations.roleOf(target.bareJid);
  if (role === 'none') {
    const refused = muc.room.affiliations.kickRefusal(actor, target.bareJid);
    if (refused) return refused;
    out.push({ command: { kind: 'kick', nick: muc.actingNick(target), by: actor, ...(reason === undefined ? {} : { text: reason }) }, origin });
    return null;
  }
  if (!muc.room.affiliations.isModerator(actor)) return ['forbidden', 'auth', 'Only moderators change roles.'];
  if (role === current) return null;
  return ['not-allowed', 'cancel', 'Roles follow affiliations in Flux: owners and admins moderate, everyone else takes part. Change the affiliation instead.'];
}

/** The bare JID an affiliation item names: its jid (a resource is dropped, §9), or the occupant its nick names. */
function targetJid(muc: MucRoom, item: Element): string | Refusal {
  const { jid, nick } = item.attrs as { jid?: string; nick?: string };
  if (jid !== undefined) {
    let bare: string | null = null;
    try {
      bare = bareJid(parseJid(jid).bare().toString());
    } catch {
      bare = null;
    }
    return bare ?? ['jid-malformed', 'modify', `${jid} is not a JID of an account (name@server).`];
  }
  if (nick !== undefined) return muc.occupants.byNickname(nick)?.bareJid ?? ['item-not-found', 'cancel', `Nobody called ${nick} is in this world; name the JID instead.`];
  return ['bad-request', 'modify', 'An affiliation item names a jid.'];
}

/** The item's <reason/>, trimmed and bounded (REASON_CHARS_MAX), or undefined. */
function reasonOf(item: Element): string | undefined {
  const text = item.getChildText('reason')?.trim();
  return text ? [...text].slice(0, REASON_CHARS_MAX).join('') : undefined;
}

function bareOf(full: string): string {
  try {
    return parseJid(full).bare().toString().toLowerCase();
  } catch {
    return '';
  }
}
