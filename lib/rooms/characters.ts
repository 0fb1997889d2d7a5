// Who owns which names in a room, for the edge's checks before a join: a nick's
// comparison key (RFC 8266 §2.4: "Bob", "bob" and "Ｂｏｂ" are one nick) -> the
// committed character, and how many characters each bare JID has made. Follows
// the committed state only; the engine never reads it.
import { nickKey } from '../negotiation/index.ts';
import type { Character } from '../contextualization/index.ts';

export class CharacterIndex {
  private readonly byKey = new Map<string, Character>();
  private readonly ownedBy = new Map<string, number>();
  private count = 0;

  constructor(characters: readonly Character[], npcs: ReadonlyMap<number, unknown>) {
    // NPCs' names are taken too ("Giant Rat" is the giant rat's), but they are no player's characters.
    for (const c of characters) {
      if (npcs.has(c.id)) this.byKey.set(nickKey(c.nick), c);
      else if (!c.released) this.add(c);
    }
  }

  get size(): number {
    return this.count;
  }

  byNickKey(key: string): Character | undefined {
    return this.byKey.get(key);
  }

  ownedCount(jid: string): number {
    return this.ownedBy.get(jid) ?? 0;
  }

  /** After COMMIT: characters the batch made, new names for renamed ones (old names free again), released ones gone (their names free). */
  admit(created: Iterable<Character>, renamed: Iterable<{ before: Character; after: Character }>, released: Iterable<Character> = []): void {
    for (const c of created) this.add(c);
    for (const c of released) this.remove(c);
    for (const { before, after } of renamed) {
      if (this.byKey.get(nickKey(before.nick))?.id === before.id) this.byKey.delete(nickKey(before.nick));
      this.byKey.set(nickKey(after.nick), after);
    }
  }

  private remove(c: Character): void {
    const key = nickKey(c.nick);
    if (this.byKey.get(key)?.id !== c.id) return;
    this.byKey.delete(key);
    const owned = (this.ownedBy.get(c.jid) ?? 0) - 1;
    if (owned > 0) this.ownedBy.set(c.jid, owned);
    else this.ownedBy.delete(c.jid);
    this.count--;
  }

  private add(c: Character): void {
    this.byKey.set(nickKey(c.nick), c);
    this.ownedBy.set(c.jid, (this.ownedBy.get(c.jid) ?? 0) + 1);
    this.count++;
  }
}
