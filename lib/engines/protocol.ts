// The numbers that cross the engine boundary (DESIGN §3 stage 4). They mirror the
// constants at the top of wasm/assembly/index.ts; spec/engines/protocol.spec.ts
// checks that both sides agree.

export const DIRECTIONS = ['north', 'east', 'south', 'west', 'up', 'down'] as const;
export type Direction = (typeof DIRECTIONS)[number];
export const DIRECTION_COUNT = DIRECTIONS.length;

/**
 * Command kinds. A command is COMMAND_I32S numbers: kind, actor, a, b, c, d.
 * Things a player names travel as match lists: (offset, count) into the batch's
 * match buffer, each entry an entity code (see `itemCode`, `characterCode`).
 */
export const Cmd = {
  join: 1,
  leave: 2,
  look: 3,
  go: 4, // a = direction
  say: 5, // a = text index
  who: 6,
  emote: 7, // a = text index
  whisper: 8, // a, b = whom; c = text index
  inventory: 9,
  take: 10, // a, b = what
  drop: 11, // a, b = what
  give: 12, // a, b = what; c, d = to whom
  examine: 13, // a, b = what
  attack: 14, // a, b = whom
  tick: 15, // actor = -1: the world's own turn (NPCs wander)
  rename: 16, // a nick change (XEP-0045 §7.6): the host renames; the rules change nothing
  release: 17, // the room lets an absent guest's character go: its things drop where it stood, its name is free
  kick: 18, // XEP-0045 §8.2, §9.1: a moderator removes the actor (the kicked character), which leaves as in `leave`
  affiliate: 19, // XEP-0045 §9, §10: an affiliation changes (actor = -1); the host keeps it, the rules change nothing
  // Building: builders change the map while the world runs. Texts (titles,
  // descriptions, names) stay in the host; commands carry their batch text index.
  dig: 20, // a = direction, b = title text: a new place that way, with the way back
  title: 21, // a = text: the place the builder stands in
  describe: 22, // a = text
  exit: 23, // a = direction, b = the place it leads to (a location, -1: no such place)
  unexit: 24, // a = direction
  lock: 25, // a = direction; b, c = the thing (items here or carried)
  create: 26, // a = name text: a thing here
  destroy: 27, // a, b = the thing (items here or carried)
  npc: 28, // a = name text: a creature here that stays put (the next character slot)
  undo: 29, // the builder's last building command, undone
} as const;
export type CommandKind = keyof typeof Cmd;

/** Change log records: CHANGE_I32S numbers: entity, id, field, value. */
/** `undo`: a builder's @undo ring (id: character * UNDO_I32S + cell; or, for a saved text, character * UNDO_STEPS_MAX + step). */
export const Entity = { character: 1, item: 2, room: 3, location: 4, exit: 5, undo: 6 } as const;
export const Field = {
  location: 1,
  present: 2,
  created: 3,
  hp: 4,
  quest: 5,
  /** Of a character: let go (a guest's), its slot kept so ids stay dense, its name no longer held. */
  released: 6,
  /** Of an item: where it is (see `placeOf`). */
  place: 1,
  /** Of the room: the PRNG state. */
  seed: 1,
  /** Of a location: its title (value: the batch's text index); of an item or NPC: its name. */
  title: 7,
  /** Of a location: its description (value: the batch's text index). */
  description: 8,
  /** Of an exit (id: location * DIRECTION_COUNT + direction): where it leads, -1: gone. */
  to: 9,
  /** Of an exit: the item a walker must carry, -1: open. */
  lock: 10,
  /** Of a character: made by @npc, here (value: the batch's text index of its name). */
  npc: 11,
  /** Of the undo ring: one cell's new value. */
  cell: 12,
  /** Of the undo ring (id: character * UNDO_STEPS_MAX + step): the host keeps the title (description) of location `value` as it is now. */
  saveTitle: 13,
  saveDescription: 14,
  /** Of a location: its title (description) goes back to the text kept for that step (value: character * UNDO_STEPS_MAX + step). */
  restoreTitle: 15,
  restoreDescription: 16,
} as const;

/**
 * Effect records: EFFECT_I32S numbers: audience, template, a, b, c, except, mark.
 * audience >= 0 is one character; audience < 0 is everyone present at location
 * (-audience - 1) but `except`. `mark` counts the batch's change records written
 * before this effect, so the renderer sees the world as it was at that moment.
 */
export const Fx = {
  description: 1, // a = location
  arrive: 2, // a = who, b = from direction (-1 entered the world, -2 appeared)
  depart: 3, // a = who, b = direction (-1 left the world)
  say: 4, // a = speaker, b = text
  emote: 5, // a = who, b = text
  noExit: 6, // a = direction
  locked: 7, // a = direction
  who: 8,
  notPresent: 9,
  whisper: 10, // a = speaker, b = listener, c = text
  inventory: 11, // a = whose
  notFound: 12, // a = a Look value
  ambiguous: 13, // a = how many; followed by `candidate` records
  candidate: 14, // a = entity code (continues the previous effect)
  take: 15, // a = who, b = item
  drop: 16, // a = who, b = item
  give: 17, // a = giver, b = item, c = receiver
  tooHeavy: 18, // a = item, b = who would carry it
  refuses: 19, // a = npc, b = item
  thanks: 20, // a = npc, b = giver, c = item
  examine: 21, // a = entity code
  attack: 22, // a = attacker, b = target, c = damage (0: a miss)
  died: 23, // a = victim, b = killer
  respawn: 24, // a = who, b = location
  notYourself: 25,
  fade: 26, // a = who was released (what it carried, as of this record, is left where it stood)
  // Building: to everyone at the builder's place (a = the builder).
  dug: 27, // b = direction, c = the new location
  titled: 28, // b = location
  described: 29, // b = location
  exitMade: 30, // b = direction, c = where it leads
  exitRemoved: 31, // b = direction
  lockMade: 32, // b = direction, c = the key item
  created: 33, // b = item
  destroyed: 34, // b = item
  npcMade: 35, // b = the new character
  /** To the builder only: a = a Refusal, b = its argument (a direction, a limit, an item). */
  buildRefused: 36,
  undone: 37, // b = the kind of command undone
} as const;

/** Why a building command changed nothing (buildRefused's a). */
export const Refusal = {
  exitExists: 0, // b = direction
  noExit: 1, // b = direction
  noPlace: 2, // the place an exit would lead to does not exist
  placesMax: 3, // b = the limit
  itemsMax: 4, // b = the limit
  npcsMax: 5, // b = the limit
  isKey: 6, // b = the item: it locks a way, or completes a creature's quest
  nothingToUndo: 7,
  changedSince: 8, // b = the kind of command whose result someone changed since (its step is dropped)
} as const;

/** Building limits (lib/constants.ts names them; the kernel keeps its own copy, checked by spec/engines/protocol.spec.ts). */
export const LOCATIONS_MAX = 65536;
export const ITEMS_MAX = 4096;
export const NPCS_MAX = 256;
/** What a created thing weighs and where a destroyed one is (no location, no carrier). */
export const CREATED_ITEM_WEIGHT = 1;
export const NPC_HP_BUILT = 5;
export const NPC_DAMAGE_BUILT = 1;
export const NOWHERE = -0x40000000;
/**
 * @undo keeps each builder's last UNDO_STEPS_MAX building commands: a ring of
 * records (kind, x, y, z) after two cells (the next step, the steps kept).
 */
export const UNDO_STEPS_MAX = 8;
export const UNDO_RECORD_I32S = 4;
export const UNDO_I32S = 2 + UNDO_STEPS_MAX * UNDO_RECORD_I32S;

/** Where `notFound` looked. */
export const Look = { here: 0, carried: 1, person: 2, player: 3 } as const;

export const COMMAND_I32S = 6;
export const CHANGE_I32S = 4;
export const EFFECT_I32S = 7;

export const FLAG_CREATED = 1;
export const FLAG_PRESENT = 2;
export const FLAG_NPC = 4;
export const FLAG_QUEST = 8;
export const FLAG_RELEASED = 16;

/** Rules every world shares. */
export const PLAYER_HP = 10;
export const PLAYER_DAMAGE = 2;
export const CARRY_WEIGHT_MAX = 10;
/** Candidates the host passes for one named thing; more are cut. */
export const MATCHES_PER_NAME_MAX = 16;

/** A thing named by a player: an item (>= 0) or a character (< 0). */
export const itemCode = (item: number) => item;
export const characterCode = (character: number) => -character - 1;
export const isCharacterCode = (code: number) => code < 0;
export const characterOf = (code: number) => -code - 1;

/** An item's place: a location (>= 0) or carried by a character (< 0). */
export const carriedBy = (character: number) => -character - 1;
export const holderOf = (place: number) => -place - 1;

/** The one record a batch that drew random numbers ends with. */
export const seedChange = (seed: number) => Int32Array.of(Entity.room, 0, Field.seed, seed);

/** A broadcast audience: everyone present at `location`. */
export const everyoneAt = (location: number) => -location - 1;

/**
 * The header the host writes at the start of the kernel's memory: where each
 * table lives and how big it is. The kernel reads it at every run, so one kernel
 * module can serve any room whose memory it is given.
 */
export const Header = {
  locationCount: 0,
  startLocation: 1,
  exits: 2,
  locks: 3,
  itemCount: 4,
  itemWeight: 5,
  itemDamage: 6,
  itemHome: 7,
  itemPlace: 8,
  npcCount: 9,
  npcHp: 10,
  npcDamage: 11,
  npcHome: 12,
  npcWander: 13,
  npcWants: 14,
  characterCount: 15,
  charLocation: 16,
  charFlags: 17,
  charHp: 18,
  seed: 19,
  commands: 20,
  matches: 21,
  changes: 22,
  changesMax: 23,
  effects: 24,
  effectsMax: 25,
  changeCount: 26,
  effectCount: 27,
  changeBase: 28,
  /** Table capacities: building grows the counts up to them within a batch (the host reserves). */
  locationsReserved: 29,
  itemsReserved: 30,
  charactersReserved: 31,
  /** The @undo rings, UNDO_I32S per character (reserved). */
  undo: 32,
} as const;
export const HEADER_I32S = 33;
