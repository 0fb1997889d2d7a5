// Projection + Transformation (DESIGN §3 stage 4): the world rules over flat tables
// in linear memory. The host (lib/engines/wasm.ts) owns the memory, lays out the
// tables (lib/engines/layout.ts), writes one packed command buffer and calls
// `run` once per batch; out come a change log and effect records. Only numbers
// cross the boundary; nothing here allocates, reads a clock or draws randomness.
//
// The numeric codes below mirror lib/engines/protocol.ts; a spec checks they agree.

// Command kinds (4 x i32 per command: kind, actor, a, b).
const CMD_JOIN: i32 = 1;
const CMD_LEAVE: i32 = 2;
const CMD_LOOK: i32 = 3;
const CMD_GO: i32 = 4;
const CMD_SAY: i32 = 5;
const CMD_WHO: i32 = 6;
const CMD_HELP: i32 = 7;

// Change log records (4 x i32: entity, id, field, value).
const ENTITY_CHARACTER: i32 = 1;
const FIELD_LOCATION: i32 = 1;
const FIELD_PRESENT: i32 = 2;
const FIELD_CREATED: i32 = 3;

// Effect records (5 x i32: recipient character, template, a, b, c).
const FX_DESCRIPTION: i32 = 1; // a = location
const FX_DESCRIPTION_PERSON: i32 = 2; // a = character seen (continues the previous effect)
const FX_ARRIVE: i32 = 3; // a = character, b = direction they came from (-1: appeared)
const FX_DEPART: i32 = 4; // a = character, b = direction they left by (-1: faded away)
const FX_SAY: i32 = 5; // a = speaker, b = text index, c = command index
const FX_NO_EXIT: i32 = 6; // a = direction
const FX_WHO: i32 = 7; // a = number of players present
const FX_WHO_PERSON: i32 = 8; // a = character, b = location (continues the previous effect)
const FX_HELP: i32 = 9;
const FX_NOT_PRESENT: i32 = 10; // the actor is not in the world (left before the command ran)

const DIRECTIONS: i32 = 6;
const FLAG_CREATED: i32 = 1;
const FLAG_PRESENT: i32 = 2;

const COMMAND_I32S: i32 = 4;
const CHANGE_I32S: i32 = 4;
const EFFECT_I32S: i32 = 5;

// Layout, set by the host before any run.
let exitsPtr: usize = 0; // i32[locations * 6]: destination location or -1
let charLocationPtr: usize = 0; // i32[characters]
let charFlagsPtr: usize = 0; // i32[characters]
let commandsPtr: usize = 0; // i32[commands * 4]
let changesPtr: usize = 0; // i32[changes * 4]
let effectsPtr: usize = 0; // i32[effects * 5]
let locationCount: i32 = 0;
let characterCount: i32 = 0;
let changesMax: i32 = 0;
let effectsMax: i32 = 0;
let startLocation: i32 = 0;

let changeCount: i32 = 0;
let effectCount: i32 = 0;

export function heapBase(): usize {
  return __heap_base;
}

export function setLayout(
  exits: usize, charLocation: usize, charFlags: usize, commands: usize, changes: usize, effects: usize,
  locations: i32, characters: i32, changesCap: i32, effectsCap: i32, start: i32,
): void {
  assert(exits >= __heap_base);
  assert(start >= 0 && start < locations);
  exitsPtr = exits; charLocationPtr = charLocation; charFlagsPtr = charFlags;
  commandsPtr = commands; changesPtr = changes; effectsPtr = effects;
  locationCount = locations; characterCount = characters;
  changesMax = changesCap; effectsMax = effectsCap; startLocation = start;
}

/** Characters the host has made room for (it grows this as players join). */
export function setCharacterCount(characters: i32): void {
  characterCount = characters;
}

@inline function exitOf(location: i32, direction: i32): i32 {
  return load<i32>(exitsPtr + (<usize>(location * DIRECTIONS + direction) << 2));
}
@inline function locationOf(c: i32): i32 {
  return load<i32>(charLocationPtr + (<usize>c << 2));
}
@inline function flagsOf(c: i32): i32 {
  return load<i32>(charFlagsPtr + (<usize>c << 2));
}
@inline function isPresent(c: i32): bool {
  return (flagsOf(c) & FLAG_PRESENT) != 0;
}

function change(id: i32, field: i32, value: i32): void {
  assert(changeCount < changesMax);
  const p = changesPtr + (<usize>(changeCount * CHANGE_I32S) << 2);
  store<i32>(p, ENTITY_CHARACTER);
  store<i32>(p, id, 4);
  store<i32>(p, field, 8);
  store<i32>(p, value, 12);
  changeCount++;
}

function effect(recipient: i32, template: i32, a: i32, b: i32, c: i32): void {
  assert(effectCount < effectsMax);
  const p = effectsPtr + (<usize>(effectCount * EFFECT_I32S) << 2);
  store<i32>(p, recipient);
  store<i32>(p, template, 4);
  store<i32>(p, a, 8);
  store<i32>(p, b, 12);
  store<i32>(p, c, 16);
  effectCount++;
}

function setLocation(c: i32, location: i32): void {
  store<i32>(charLocationPtr + (<usize>c << 2), location);
  change(c, FIELD_LOCATION, location);
}

function setPresent(c: i32, present: bool): void {
  const flags = flagsOf(c);
  store<i32>(charFlagsPtr + (<usize>c << 2), present ? flags | FLAG_PRESENT : flags & ~FLAG_PRESENT);
  change(c, FIELD_PRESENT, present ? 1 : 0);
}

/** Everyone present at `location` except `except` receives the effect. */
function tellLocation(location: i32, except: i32, template: i32, a: i32, b: i32, c: i32): void {
  for (let i = 0; i < characterCount; i++) {
    if (i != except && isPresent(i) && locationOf(i) == location) effect(i, template, a, b, c);
  }
}

function describe(viewer: i32): void {
  const here = locationOf(viewer);
  effect(viewer, FX_DESCRIPTION, here, 0, 0);
  for (let i = 0; i < characterCount; i++) {
    if (i != viewer && isPresent(i) && locationOf(i) == here) effect(viewer, FX_DESCRIPTION_PERSON, i, 0, 0);
  }
}

function join(actor: i32): void {
  if ((flagsOf(actor) & FLAG_CREATED) == 0) {
    store<i32>(charFlagsPtr + (<usize>actor << 2), FLAG_CREATED);
    change(actor, FIELD_CREATED, 1);
    setLocation(actor, startLocation);
  }
  if (!isPresent(actor)) {
    setPresent(actor, true);
    tellLocation(locationOf(actor), actor, FX_ARRIVE, actor, -1, 0);
  }
  describe(actor);
}

function leave(actor: i32): void {
  setPresent(actor, false);
  tellLocation(locationOf(actor), actor, FX_DEPART, actor, -1, 0);
}

/** The direction you arrive from when you walk `direction` (north <-> south...). */
@inline function opposite(direction: i32): i32 {
  return direction < 4 ? (direction + 2) & 3 : direction ^ 1;
}

function go(actor: i32, direction: i32): void {
  assert(direction >= 0 && direction < DIRECTIONS);
  const from = locationOf(actor);
  const to = exitOf(from, direction);
  if (to < 0) {
    effect(actor, FX_NO_EXIT, direction, 0, 0);
    return;
  }
  tellLocation(from, actor, FX_DEPART, actor, direction, 0);
  setLocation(actor, to);
  tellLocation(to, actor, FX_ARRIVE, actor, opposite(direction), 0);
  describe(actor);
}

function who(actor: i32): void {
  let present = 0;
  for (let i = 0; i < characterCount; i++) if (isPresent(i)) present++;
  effect(actor, FX_WHO, present, 0, 0);
  for (let i = 0; i < characterCount; i++) {
    if (isPresent(i)) effect(actor, FX_WHO_PERSON, i, locationOf(i), 0);
  }
}

function apply(index: i32, kind: i32, actor: i32, a: i32): void {
  assert(actor >= 0 && actor < characterCount);
  if (kind == CMD_JOIN) return join(actor);
  if (!isPresent(actor)) {
    if (kind != CMD_LEAVE) effect(actor, FX_NOT_PRESENT, 0, 0, 0);
    return;
  }
  if (kind == CMD_LEAVE) leave(actor);
  else if (kind == CMD_LOOK) describe(actor);
  else if (kind == CMD_GO) go(actor, a);
  else if (kind == CMD_SAY) tellLocation(locationOf(actor), -1, FX_SAY, actor, a, index);
  else if (kind == CMD_WHO) who(actor);
  else if (kind == CMD_HELP) effect(actor, FX_HELP, 0, 0, 0);
  else assert(false);
}

/** Effect records one command may write at most: a header and everyone once, twice over. */
@inline function effectsPerCommandMax(): i32 {
  return 2 * characterCount + 2;
}

/**
 * Runs commands `first` .. `first + count - 1` of the batch in the command buffer.
 * Stops early when the effect buffer might not hold the next command's effects and
 * returns how many commands it ran; the host reads the output out and calls again
 * from there. Counts of output records: `changes()` and `effects()`.
 */
export function run(first: i32, count: i32): i32 {
  changeCount = 0;
  effectCount = 0;
  const end = first + count;
  for (let i = first; i < end; i++) {
    if (effectsMax - effectCount < effectsPerCommandMax()) return i - first;
    const p = commandsPtr + (<usize>(i * COMMAND_I32S) << 2);
    apply(i, load<i32>(p), load<i32>(p, 4), load<i32>(p, 8));
  }
  return count;
}

export function changes(): i32 {
  return changeCount;
}

export function effects(): i32 {
  return effectCount;
}
