// XEP-0045 affiliations of one room (§5.2): who owns it, who administers it, who is
// a member and who is banned, by bare JID. Roles follow from them (§5.1): owners
// and admins are moderators, everyone else in the room a participant; Flux has no
// visitors (its rooms are not moderated in the §5.1.1 sense).
//
// Loaded with the room; changed only by `affiliate` commands whose batch committed
// (`admit`), written in that batch's transaction (`statementsFor`). Requests are
// checked against the committed list plus the changes already queued (`hold`), in
// the order they will commit, so two owners cannot each remove the other and leave
// the room with none.
import { assert } from '../assert.ts';
import { AFFILIATIONS_PER_ROOM_MAX, OWNERS_PER_ROOM_MAX } from '../constants.ts';
import type { Queryable } from '../db/index.ts';
import type { Statement } from '../planning/index.ts';

export type Affiliation = 'owner' | 'admin' | 'member' | 'outcast' | 'none';
export const AFFILIATIONS: readonly Affiliation[] = ['owner', 'admin', 'member', 'outcast', 'none'];
/** XEP-0045 §5.1: the roles Flux gives. */
export type Role = 'moderator' | 'participant' | 'none';

export interface AffiliationChange {
  /** A bare JID. */
  readonly jid: string;
  readonly affiliation: Affiliation;
  readonly reason?: string;
}

export interface Listed {
  readonly jid: string;
  readonly affiliation: Affiliation;
  readonly reason?: string;
}

/** Why a request is refused: an XMPP stanza error condition, its type and a text for the one who asked. */
export type Refusal = readonly [condition: string, type: string, text: string];

/** The owners and admins: they moderate, and they build. */
const MODERATING: ReadonlySet<Affiliation> = new Set(['owner', 'admin']);

export class Affiliations {
  private readonly committed = new Map<string, Listed>();
  /** Accepted into a batch, not committed yet, in batch order. */
  private pending: AffiliationChange[] = [];

  constructor(entries: Iterable<Listed> = []) {
    for (const e of entries) if (e.affiliation !== 'none') this.committed.set(e.jid, e);
  }

  /** The room's list as the database holds it. */
  static async load(db: Queryable, roomId: string): Promise<Affiliations> {
    const rows = await db.query<{ jid: string; affiliation: Affiliation; reason: string | null }>(
      'SELECT jid, affiliation, reason FROM affiliations WHERE room_id = $1 ORDER BY jid', [roomId]);
    return new Affiliations(rows.rows.map((r) => ({ jid: r.jid, affiliation: r.affiliation, ...(r.reason === null ? {} : { reason: r.reason }) })));
  }

  /** The committed affiliation of a bare JID. */
  of(bareJid: string): Affiliation {
    return this.committed.get(bareJid)?.affiliation ?? 'none';
  }

  /** §5.1: owners and admins enter as moderators. */
  roleOf(bareJid: string): Role {
    return MODERATING.has(this.of(bareJid)) ? 'moderator' : 'participant';
  }

  isModerator(bareJid: string): boolean {
    return MODERATING.has(this.of(bareJid));
  }

  /** Who may build in the game: owners and admins. Bound, so it can be handed to the room as it is. */
  readonly isBuilder = (bareJid: string): boolean => this.isModerator(bareJid);

  /** §9.5, §9.8, §10.5, §10.8: the JIDs with one affiliation, in JID order. */
  list(affiliation: Affiliation): Listed[] {
    return [...this.committed.values()].filter((e) => e.affiliation === affiliation).sort((a, b) => (a.jid < b.jid ? -1 : a.jid > b.jid ? 1 : 0));
  }

  /** Every entry, in JID order (replay compares them). */
  all(): Listed[] {
    return AFFILIATIONS.flatMap((a) => this.list(a));
  }

  /** The affiliation once every queued change has committed. */
  intended(bareJid: string): Affiliation {
    for (let i = this.pending.length - 1; i >= 0; i--) if (this.pending[i]!.jid === bareJid) return this.pending[i]!.affiliation;
    return this.of(bareJid);
  }

  /**
   * Whether `actor` may give `change.jid` the affiliation `change.affiliation`
   * (XEP-0045 §9: admins manage members and outcasts; §10: owners manage everyone),
   * as things will stand once the queued changes commit. Null: allowed.
   */
  refusal(actor: string, change: AffiliationChange): Refusal | null {
    const mine = this.intended(actor);
    const theirs = this.intended(change.jid);
    const wanted = change.affiliation;
    if (!MODERATING.has(mine)) return ['forbidden', 'auth', 'Only the owners and admins of this world change affiliations.'];
    if (mine === 'admin' && MODERATING.has(wanted)) return ['forbidden', 'auth', `Only an owner may make someone ${wanted === 'owner' ? 'an owner' : 'an admin'} (XEP-0045 §10).`];
    if (mine === 'admin' && MODERATING.has(theirs)) return ['not-allowed', 'cancel', `An admin cannot change the affiliation of an ${theirs} (XEP-0045 §9).`];
    if (theirs === wanted) return null;
    if (theirs === 'owner' && this.countIntended('owner') === 1) return ['conflict', 'cancel', 'That is the last owner of this world: make someone else an owner first.'];
    if (wanted === 'owner' && this.countIntended('owner') >= OWNERS_PER_ROOM_MAX) return ['policy-violation', 'cancel', `A world has at most ${OWNERS_PER_ROOM_MAX} owners.`];
    if (theirs === 'none' && this.sizeIntended() >= AFFILIATIONS_PER_ROOM_MAX) {
      return ['policy-violation', 'cancel', `A world keeps at most ${AFFILIATIONS_PER_ROOM_MAX} owners, admins, members and outcasts; set someone to none first.`];
    }
    return null;
  }

  /**
   * §8.2: whether the moderator `actor` may kick `target` (by bare JID). Owners and
   * admins cannot be kicked (not-allowed); only moderators kick (forbidden).
   */
  kickRefusal(actor: string, target: string): Refusal | null {
    if (!MODERATING.has(this.intended(actor))) return ['forbidden', 'auth', 'Only moderators (the owners and admins of this world) may kick.'];
    const theirs = this.intended(target);
    if (MODERATING.has(theirs)) return ['not-allowed', 'cancel', `An ${theirs} of this world cannot be kicked.`];
    return null;
  }

  /** A change accepted into a batch: later requests are checked as if it had committed. */
  hold(change: AffiliationChange): void {
    this.pending.push(change);
  }

  /** After COMMIT: the batch's changes are the room's (in order); not committed: they are forgotten. */
  settle(changes: readonly AffiliationChange[], committed: boolean): void {
    for (const change of changes) {
      const i = this.pending.findIndex((p) => p.jid === change.jid && p.affiliation === change.affiliation);
      if (i >= 0) this.pending.splice(i, 1);
      if (committed) apply(this.committed, change);
    }
  }

  /** After a reload: the database's list, nothing queued. */
  replaceWith(other: Affiliations): void {
    this.committed.clear();
    for (const e of other.committed.values()) this.committed.set(e.jid, e);
    this.pending = [];
  }

  private countIntended(affiliation: Affiliation): number {
    let n = 0;
    for (const jid of this.jidsIntended()) if (this.intended(jid) === affiliation) n++;
    return n;
  }

  private sizeIntended(): number {
    let n = 0;
    for (const jid of this.jidsIntended()) if (this.intended(jid) !== 'none') n++;
    return n;
  }

  private jidsIntended(): Set<string> {
    return new Set([...this.committed.keys(), ...this.pending.map((p) => p.jid)]);
  }
}

function apply(list: Map<string, Listed>, change: AffiliationChange): void {
  if (change.affiliation === 'none') list.delete(change.jid);
  else list.set(change.jid, { jid: change.jid, affiliation: change.affiliation, ...(change.reason === undefined ? {} : { reason: change.reason }) });
}

/** Replay: the list after `changes`, from `start`. */
export function replayAffiliations(start: Affiliations, changes: readonly AffiliationChange[]): Affiliations {
  const list = new Map(start.all().map((e) => [e.jid, e]));
  for (const change of changes) apply(list, change);
  return new Affiliations(list.values());
}

/**
 * SQL for a batch's affiliation changes, in its transaction: the last change of each
 * JID wins, as in `settle`. Two statements at most, whatever the count.
 */
export function statementsFor(roomId: string, changes: readonly AffiliationChange[]): Statement[] {
  if (changes.length === 0) return [];
  const last = new Map<string, AffiliationChange>();
  for (const c of changes) last.set(c.jid, c);
  const kept = [...last.values()].filter((c) => c.affiliation !== 'none');
  const gone = [...last.values()].filter((c) => c.affiliation === 'none').map((c) => c.jid);
  assert(kept.length + gone.length === last.size, 'every change is kept or dropped');
  const statements: Statement[] = [];
  if (gone.length > 0) statements.push({ text: 'DELETE FROM affiliations WHERE room_id = $1 AND jid = ANY($2::text[])', values: [roomId, gone] });
  if (kept.length > 0) {
    statements.push({
      text: `INSERT INTO affiliations (room_id, jid, affiliation, reason) SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[])
        ON CONFLICT (room_id, jid) DO UPDATE SET affiliation = EXCLUDED.affiliation, reason = EXCLUDED.reason`,
      values: [roomId, kept.map((c) => c.jid), kept.map((c) => c.affiliation), kept.map((c) => c.reason ?? null)],
    });
  }
  return statements;
}

/** The change an `affiliate` command stands for. */
export function changeOf(command: { readonly jid?: string; readonly affiliation?: Affiliation; readonly text?: string }): AffiliationChange {
  assert(command.jid !== undefined && command.affiliation !== undefined, 'an affiliate command names a JID and an affiliation');
  return { jid: command.jid, affiliation: command.affiliation, ...(command.text === undefined ? {} : { reason: command.text }) };
}

/** RFC 7622 §3.3.1: characters a localpart may not hold; no JID part holds white space or controls. */
const LOCALPART = /^[^\s\p{Cc}"&'/:<>@]{1,1023}$/u;
const DOMAINPART = /^[^\s\p{Cc}/@]{1,1023}$/u;

/**
 * A bare JID (RFC 7622 §3: local@domain, no resource), in the lower case servers
 * compare by (nodeprep folds case), or null. Affiliations name accounts, so a JID
 * without a localpart (a server) or with a resource (one session) is not one.
 */
export function bareJid(text: string): string | null {
  const at = text.indexOf('@');
  if (at <= 0) return null;
  const local = text.slice(0, at);
  const domain = text.slice(at + 1);
  if (!LOCALPART.test(local) || !DOMAINPART.test(domain) || domain.startsWith('.') || domain.endsWith('.')) return null;
  return `${local}@${domain}`.toLowerCase();
}
