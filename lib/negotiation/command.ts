import type { CommandKind } from '../engines/protocol.ts';

/** A typed, validated command, ready for a room's batch. `nick` names the acting character. */
export interface Command {
  readonly kind: CommandKind;
  readonly nick: string;
  /** join: the bare JID the character is bound to. */
  readonly jid?: string;
  /** go and the building commands that name a way: index into DIRECTIONS. */
  readonly direction?: number;
  /** say, emote, whisper; @dig, @title, @describe, @create, @npc: the words (already checked for size and cleaned of XML-forbidden characters); kick, affiliate: the reason. */
  readonly text?: string;
  /** take, drop, give, examine, @lock, @destroy: the thing as the player named it. */
  readonly what?: string;
  /** give, attack, whisper: the character as the player named them. */
  readonly whom?: string;
  /** affiliate: the JID's new affiliation (XEP-0045 §5.2); kick: 'outcast' when the kick is a ban's (§9.1: status 301, not 307). */
  readonly affiliation?: 'owner' | 'admin' | 'member' | 'outcast' | 'none';
  /** kick, affiliate: the bare JID of the owner, admin or moderator who asked (for the record; the rules do not read it). */
  readonly by?: string;
  /** @exit: the place it leads to, by key or title, as the builder named it. */
  readonly place?: string;
}

/** Where a command came from, so its replies and echo go back to the right session. */
export interface Origin {
  readonly from: string;
  /** The message's id and XEP-0359 origin-id, kept on its reflection so the client can match it. */
  readonly reflects?: { readonly id?: string; readonly originId?: string };
  /** It came as a MUC private message (a whisper the client already shows as sent). */
  readonly private?: boolean;
  /** An admin request (XEP-0045 §8, §9, §10): the nick of the one who asked, shown as <actor/>, if in the room. */
  readonly actor?: string;
  /** An admin request: told once whether its batch committed, to answer the iq (on the request's first command). */
  readonly settle?: (committed: boolean, reason?: string) => void;
}

export interface Submission {
  readonly command: Command;
  readonly origin?: Origin;
}
