// The host owns the kernel's memory and lays the tables out in it (STYLE.md, the
// AssemblyScript model): a header saying where everything is, then the map, the
// state, and the batch's input and output buffers. Offsets are in bytes, each
// table 8-byte aligned. Building grows the map while the room runs, so
// its tables have a capacity (reserved) beyond their count, like the characters'.
import { CHANGE_I32S, COMMAND_I32S, DIRECTION_COUNT, EFFECT_I32S, Header, HEADER_I32S, MATCHES_PER_NAME_MAX, UNDO_I32S } from './protocol.ts';
import type { EngineState, WorldMap } from './engine.ts';

/** Table capacities, in entries. NPC tables are per character (a built NPC takes a character slot). */
export interface Capacity {
  readonly characters: number;
  readonly commands: number;
  readonly locations: number;
  readonly items: number;
}

export type Layout = Record<'header' | 'exits' | 'locks' | 'itemWeight' | 'itemDamage' | 'itemHome' | 'itemPlace' | 'npcHp' | 'npcDamage'
  | 'npcHome' | 'npcWander' | 'npcWants' | 'charLocation' | 'charFlags' | 'charHp' | 'undo' | 'commands' | 'matches' | 'changes' | 'effects'
  | 'changesMax' | 'effectsMax' | 'matchesMax' | 'end', number> & { readonly capacity: Capacity };

/** Output records a pass must have room for: a typical batch at once, and always the largest commands. */
export const CHANGES_PER_COMMAND_TYPICAL = 4;
export const EFFECTS_PER_COMMAND_TYPICAL = 4;

export function computeLayout(base: number, cap: Capacity): Layout {
  const align = (n: number) => (n + 7) & ~7;
  let at = align(base);
  const take = (i32s: number) => {
    const start = at;
    at = align(at + i32s * 4);
    return start;
  };
  // The kernel's own bounds per command (changesPerCommandMax, effectsPerCommandMax), at full capacity.
  const changesMax = Math.max(cap.commands * CHANGES_PER_COMMAND_TYPICAL, 4 * (17 + 2 * cap.items + cap.characters));
  const effectsMax = Math.max(cap.commands * EFFECTS_PER_COMMAND_TYPICAL, 4 * (16 + MATCHES_PER_NAME_MAX + 2 * cap.characters));
  const matchesMax = cap.commands * 2 * MATCHES_PER_NAME_MAX;
  const header = take(HEADER_I32S);
  const doors = cap.locations * DIRECTION_COUNT;
  return {
    header, capacity: cap,
    exits: take(doors), locks: take(doors),
    itemWeight: take(cap.items), itemDamage: take(cap.items), itemHome: take(cap.items), itemPlace: take(cap.items),
    npcHp: take(cap.characters), npcDamage: take(cap.characters), npcHome: take(cap.characters), npcWander: take(cap.characters), npcWants: take(cap.characters),
    charLocation: take(cap.characters), charFlags: take(cap.characters), charHp: take(cap.characters),
    undo: take(cap.characters * UNDO_I32S),
    commands: take(cap.commands * COMMAND_I32S),
    matches: take(matchesMax),
    changes: take(changesMax * CHANGE_I32S), changesMax,
    effects: take(effectsMax * EFFECT_I32S), effectsMax,
    matchesMax,
    end: at,
  };
}

/** The capacity a map and its characters need, at least. */
export function needed(map: WorldMap, characters: number): { locations: number; items: number; characters: number } {
  return { locations: map.locationCount, items: map.itemWeight.length, characters: Math.max(characters, map.npcHp.length) };
}

/** Writes the header and the whole state: the map and the characters. */
export function writeState(heap: Int32Array, l: Layout, state: EngineState, map: WorldMap): void {
  const h = l.header >> 2;
  const set = (slot: number, value: number) => {
    heap[h + slot] = value;
  };
  for (const table of ['exits', 'locks', 'itemWeight', 'itemDamage', 'itemHome', 'itemPlace', 'npcHp', 'npcDamage', 'npcHome', 'npcWander', 'npcWants',
    'undo', 'commands', 'matches', 'changes', 'changesMax', 'effects', 'effectsMax'] as const) set(Header[table], l[table]);
  set(Header.charLocation, l.charLocation);
  set(Header.charFlags, l.charFlags);
  set(Header.charHp, l.charHp);
  set(Header.locationsReserved, l.capacity.locations);
  set(Header.itemsReserved, l.capacity.items);
  set(Header.charactersReserved, l.capacity.characters);
  set(Header.locationCount, map.locationCount);
  set(Header.startLocation, map.startLocation);
  set(Header.itemCount, map.itemWeight.length);
  set(Header.npcCount, map.npcHp.length);
  set(Header.characterCount, state.location.length);
  set(Header.seed, state.seed);
  const put = (offset: number, table: Int32Array) => heap.set(table, offset >> 2);
  put(l.exits, map.exits.subarray(0, map.locationCount * DIRECTION_COUNT));
  put(l.locks, map.locks.subarray(0, map.locationCount * DIRECTION_COUNT));
  put(l.itemWeight, map.itemWeight);
  put(l.itemDamage, map.itemDamage);
  put(l.itemHome, map.itemHome);
  put(l.itemPlace, state.itemPlace);
  put(l.npcHp, map.npcHp);
  put(l.npcDamage, map.npcDamage);
  put(l.npcHome, map.npcHome);
  put(l.npcWander, map.npcWander);
  put(l.npcWants, map.npcWants);
  put(l.charLocation, state.location);
  put(l.charFlags, state.flags);
  put(l.charHp, state.hp);
  // Slots past the committed characters (a batch's joins and creatures) start with no undo steps.
  heap.fill(0, l.undo >> 2, (l.undo >> 2) + l.capacity.characters * UNDO_I32S);
  if (map.undo) put(l.undo, map.undo.subarray(0, Math.min(map.undo.length, l.capacity.characters * UNDO_I32S)));
}

export function readState(heap: Int32Array, l: Layout): Required<EngineState> {
  const h = l.header >> 2;
  const count = heap[h + Header.characterCount]!;
  const locations = heap[h + Header.locationCount]!;
  const items = heap[h + Header.itemCount]!;
  const npcs = heap[h + Header.npcCount]!;
  const copy = (offset: number, n: number) => heap.slice(offset >> 2, (offset >> 2) + n);
  return {
    seed: heap[h + Header.seed]!,
    location: copy(l.charLocation, count),
    flags: copy(l.charFlags, count),
    hp: copy(l.charHp, count),
    itemPlace: copy(l.itemPlace, items),
    map: {
      locationCount: locations, startLocation: heap[h + Header.startLocation]!,
      exits: copy(l.exits, locations * DIRECTION_COUNT), locks: copy(l.locks, locations * DIRECTION_COUNT),
      itemWeight: copy(l.itemWeight, items), itemDamage: copy(l.itemDamage, items), itemHome: copy(l.itemHome, items),
      npcHp: copy(l.npcHp, npcs), npcDamage: copy(l.npcDamage, npcs), npcHome: copy(l.npcHome, npcs),
      npcWander: copy(l.npcWander, npcs), npcWants: copy(l.npcWants, npcs),
      ...undoOrNone(copy(l.undo, count * UNDO_I32S)),
    },
  };
}

/** A snapshot carries the @undo rings only when some builder has a step kept (absent: none, as in a world file's map). */
export function undoOrNone(undo: Int32Array): { undo?: Int32Array } {
  return undo.some((v) => v !== 0) ? { undo } : {};
}
