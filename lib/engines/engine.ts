// One interface for every engine (DESIGN §3): the same state and the same packed
// commands give the same change log and effects, byte for byte.

/** What never changes while a room runs: its map. */
export interface WorldMap {
  /** locations * DIRECTION_COUNT destinations, -1 where there is no exit. */
  readonly exits: Int32Array;
  readonly locationCount: number;
  readonly startLocation: number;
}

/** The mutable tables, one entry per character slot. */
export interface CharacterTables {
  readonly location: Int32Array;
  readonly flags: Int32Array;
}

export interface BatchOutput {
  /** CHANGE_I32S per record: entity, id, field, value. */
  readonly changes: Int32Array;
  /** EFFECT_I32S per record: recipient, template, a, b, c. */
  readonly effects: Int32Array;
}

export interface Engine {
  readonly name: string;
  /** Replace the resident character tables (initial load, or rollback to the last commit). */
  load(characters: CharacterTables): void;
  /** Run one batch: `commands` holds COMMAND_I32S per command. */
  run(commands: Int32Array): BatchOutput;
  /** A copy of the resident character tables. */
  snapshot(): CharacterTables;
  /** Bytes of memory the engine holds for this room. */
  memoryBytes(): number;
}
