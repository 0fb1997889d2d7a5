// The world as the renderer walks a batch's effects: the committed state the batch
// started from, moved on by the change log up to each effect's mark. Broadcast
// effects reach whoever is present at a location at that moment, and descriptions
// list what is there then, so the kernel writes one record per event, not one
// per listener.
import { CHANGE_I32S, Entity, Field, holderOf } from '../engines/protocol.ts';
import type { Projection } from '../contextualization/index.ts';

export class Mirror {
  readonly location: number[];
  readonly present: boolean[];
  readonly hp: number[];
  readonly itemPlace: number[];
  /** Characters present at each location, in the order they came. */
  private readonly rosters = new Map<number, Set<number>>();
  private applied = 0;

  constructor(before: Projection, characters: number, private readonly changes: Int32Array) {
    this.location = before.characters.map((c) => c.location);
    this.present = before.characters.map((c) => c.present);
    this.hp = before.characters.map((c) => c.hp);
    this.itemPlace = before.items.map((i) => i.place);
    for (let id = before.characters.length; id < characters; id++) {
      this.location.push(0);
      this.present.push(false);
      this.hp.push(0);
    }
    this.location.forEach((l, id) => {
      if (this.present[id]) this.roster(l).add(id);
    });
  }

  /** Applies the change records before `mark`. */
  advance(mark: number): void {
    const c = this.changes;
    for (; this.applied < mark; this.applied++) {
      const at = this.applied * CHANGE_I32S;
      const [entity, id, field, value] = [c[at]!, c[at + 1]!, c[at + 2]!, c[at + 3]!];
      if (entity === Entity.item) this.itemPlace[id] = value;
      else if (entity !== Entity.character) continue;
      else if (field === Field.location) this.move(id, value, this.present[id]!);
      else if (field === Field.present) this.move(id, this.location[id]!, value === 1);
      else if (field === Field.hp) this.hp[id] = value;
    }
  }

  /** Who is present at `location` now. */
  at(location: number): Iterable<number> {
    return this.roster(location);
  }

  itemsAt(location: number): number[] {
    return this.itemPlace.flatMap((place, item) => (place === location ? [item] : []));
  }

  carriedBy(character: number): number[] {
    return this.itemPlace.flatMap((place, item) => (place < 0 && holderOf(place) === character ? [item] : []));
  }

  private move(id: number, location: number, present: boolean): void {
    if (this.present[id]) this.roster(this.location[id]!).delete(id);
    this.location[id] = location;
    this.present[id] = present;
    if (present) this.roster(location).add(id);
  }

  private roster(location: number): Set<number> {
    let r = this.rosters.get(location);
    if (!r) this.rosters.set(location, (r = new Set()));
    return r;
  }
}
