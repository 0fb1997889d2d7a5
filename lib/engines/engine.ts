// One interface for every engine (DESIGN §3): the same state and the same packed
// commands give the same change log and effects, byte for byte.

/**
 * The map, its things and its NPCs. A world file's NPCs are characters 0..n-1 and
 * players come after them; builders dig places, make things and NPCs
 * while the room runs, so the map is part of the state (EngineState.map). Items
 * are numbered 0..items-1 (a destroyed one keeps its number, its place NOWHERE);
 * the NPC tables are indexed by character, and a character past their end, or
 * without FLAG_NPC, is a player.
 */
export interface WorldMap {
  readonly locationCount: number;
  readonly startLocation: number;
  /** locations * DIRECTION_COUNT destinations, -1 where there is no exit. */
  readonly exits: Int32Array;
  /** Same shape: the item a walker must carry to pass, -1 where the way is open. */
  readonly locks: Int32Array;
  readonly itemWeight: Int32Array;
  /** Added to the carrier's blows (the best weapon carried counts). */
  readonly itemDamage: Int32Array;
  /** Where an item lies at the start, and goes back to when a quest takes it. */
  readonly itemHome: Int32Array;
  readonly npcHp: Int32Array;
  readonly npcDamage: Int32Array;
  readonly npcHome: Int32Array;
  /** 1 when the NPC wanders on the world's ticks. */
  readonly npcWander: Int32Array;
  /** The item that completes the NPC's quest, -1 for none. */
  readonly npcWants: Int32Array;
  /** Each character's @undo ring (UNDO_I32S per character, protocol.ts); absent or short: no steps. */
  readonly undo?: Int32Array;
}

/** The changing part of a room, as flat tables: one entry per character or item. */
export interface EngineState {
  /** The PRNG state (never 0 once drawn from). */
  readonly seed: number;
  readonly location: Int32Array;
  readonly flags: Int32Array;
  readonly hp: Int32Array;
  /** Per item: a location (>= 0) or the character carrying it (protocol `carriedBy`), or NOWHERE (destroyed). */
  readonly itemPlace: Int32Array;
  /** The map as built so far; absent in a load: the map the engine was made with. A snapshot always has it. */
  readonly map?: WorldMap;
}

/** Table room a batch may need beyond the resident state: the places, things and NPCs its building commands may make. */
export interface Spare {
  readonly locations: number;
  readonly items: number;
  readonly characters: number;
}

export interface BatchInput {
  /** COMMAND_I32S per command. */
  readonly commands: Int32Array;
  /** The entity codes the commands' match lists point into. */
  readonly matches: Int32Array;
}

export interface BatchOutput {
  /** CHANGE_I32S per record: entity, id, field, value. */
  readonly changes: Int32Array;
  /** EFFECT_I32S per record: audience, template, a, b, c, except, mark. */
  readonly effects: Int32Array;
}

export interface Engine {
  readonly name: string;
  /** Replace the resident state (initial load, a new player's slot, or rollback to the last commit). */
  load(state: EngineState): void;
  /** Make room for what the next batch may build, keeping the resident state. */
  reserve(spare: Spare): void;
  /** Run one batch. */
  run(batch: BatchInput): BatchOutput;
  /** A copy of the resident state. */
  snapshot(): EngineState;
  /** Bytes of memory the engine holds for this room. */
  memoryBytes(): number;
}
