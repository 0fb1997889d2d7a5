// The host owns the kernel's memory and lays the tables out in it (STYLE.md, the
// AssemblyScript model): a header saying where everything is, then the world's
// static tables, the state, and the batch's input and output buffers. Offsets are
// in bytes, each table 8-byte aligned.
import { CHANGE_I32S, COMMAND_I32S, DIRECTION_COUNT, EFFECT_I32S, Header, HEADER_I32S, MATCHES_PER_NAME_MAX } from './protocol.ts';
import type { EngineState, WorldMap } from './engine.ts';

export interface Capacity {
  readonly characters: number;
  readonly commands: number;
}

export type Layout = Record<keyof typeof Header, number> & { readonly header: number; readonly end: number; readonly matchesMax: number };

/** Output records a pass must have room for: a typical batch at once, and always the largest commands. */
export const CHANGES_PER_COMMAND_TYPICAL = 4;
export const EFFECTS_PER_COMMAND_TYPICAL = 4;

export function computeLayout(base: number, map: WorldMap, cap: Capacity): Layout {
  const align = (n: number) => (n + 7) & ~7;
  let at = align(base);
  const take = (i32s: number) => {
    const start = at;
    at = align(at + i32s * 4);
    return start;
  };
  const items = map.itemWeight.length;
  const npcs = map.npcHp.length;
  const changesMax = Math.max(cap.commands * CHANGES_PER_COMMAND_TYPICAL, 4 * (9 + 2 * items + npcs));
  const effectsMax = Math.max(cap.commands * EFFECTS_PER_COMMAND_TYPICAL, 4 * (16 + MATCHES_PER_NAME_MAX + 2 * npcs));
  const matchesMax = cap.commands * 2 * MATCHES_PER_NAME_MAX;
  const header = take(HEADER_I32S);
  return {
    header,
    locationCount: map.locationCount,
    startLocation: map.startLocation,
    exits: take(map.locationCount * DIRECTION_COUNT),
    locks: take(map.locationCount * DIRECTION_COUNT),
    itemCount: items,
    itemWeight: take(items),
    itemDamage: take(items),
    itemHome: take(items),
    itemPlace: take(items),
    npcCount: npcs,
    npcHp: take(npcs),
    npcDamage: take(npcs),
    npcHome: take(npcs),
    npcWander: take(npcs),
    npcWants: take(npcs),
    characterCount: 0,
    charLocation: take(cap.characters),
    charFlags: take(cap.characters),
    charHp: take(cap.characters),
    seed: 0,
    commands: take(cap.commands * COMMAND_I32S),
    matches: take(matchesMax),
    changes: take(changesMax * CHANGE_I32S),
    changesMax,
    effects: take(effectsMax * EFFECT_I32S),
    effectsMax,
    changeCount: 0,
    effectCount: 0,
    changeBase: 0,
    matchesMax,
    end: at,
  };
}

/** Writes the header and the static tables; the state comes with `writeState`. */
export function writeWorld(heap: Int32Array, l: Layout, map: WorldMap): void {
  for (const [name, slot] of Object.entries(Header)) heap[(l.header >> 2) + slot] = l[name as keyof typeof Header];
  const put = (offset: number, table: Int32Array) => heap.set(table, offset >> 2);
  put(l.exits, map.exits);
  put(l.locks, map.locks);
  put(l.itemWeight, map.itemWeight);
  put(l.itemDamage, map.itemDamage);
  put(l.itemHome, map.itemHome);
  put(l.npcHp, map.npcHp);
  put(l.npcDamage, map.npcDamage);
  put(l.npcHome, map.npcHome);
  put(l.npcWander, map.npcWander);
  put(l.npcWants, map.npcWants);
}

export function writeState(heap: Int32Array, l: Layout, state: EngineState): void {
  const count = state.location.length;
  heap[(l.header >> 2) + Header.characterCount] = count;
  heap[(l.header >> 2) + Header.seed] = state.seed;
  heap.set(state.location, l.charLocation >> 2);
  heap.set(state.flags, l.charFlags >> 2);
  heap.set(state.hp, l.charHp >> 2);
  heap.set(state.itemPlace, l.itemPlace >> 2);
}

export function readState(heap: Int32Array, l: Layout): EngineState {
  const count = heap[(l.header >> 2) + Header.characterCount]!;
  const copy = (offset: number, n: number) => heap.slice(offset >> 2, (offset >> 2) + n);
  return {
    seed: heap[(l.header >> 2) + Header.seed]!,
    location: copy(l.charLocation, count),
    flags: copy(l.charFlags, count),
    hp: copy(l.charHp, count),
    itemPlace: copy(l.itemPlace, l.itemCount),
  };
}
