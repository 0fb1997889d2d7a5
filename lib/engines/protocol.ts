// The numbers that cross the engine boundary (DESIGN §3 stage 4). They mirror the
// constants at the top of wasm/assembly/index.ts; spec/engines/protocol.spec.ts
// checks that both sides agree.

export const DIRECTIONS = ['north', 'east', 'south', 'west', 'up', 'down'] as const;
export type Direction = (typeof DIRECTIONS)[number];
export const DIRECTION_COUNT = DIRECTIONS.length;

export const Cmd = {
  join: 1,
  leave: 2,
  look: 3,
  go: 4,
  say: 5,
  who: 6,
  help: 7,
} as const;
export type CommandKind = keyof typeof Cmd;

export const Field = {
  location: 1,
  present: 2,
  created: 3,
} as const;
export const ENTITY_CHARACTER = 1;

export const Fx = {
  description: 1,
  descriptionPerson: 2,
  arrive: 3,
  depart: 4,
  say: 5,
  noExit: 6,
  who: 7,
  whoPerson: 8,
  help: 9,
  notPresent: 10,
} as const;

/** Templates that continue the previous effect to the same recipient (one message). */
export const CONTINUATIONS: ReadonlySet<number> = new Set([Fx.descriptionPerson, Fx.whoPerson]);

export const COMMAND_I32S = 4;
export const CHANGE_I32S = 4;
export const EFFECT_I32S = 5;

export const FLAG_CREATED = 1;
export const FLAG_PRESENT = 2;
