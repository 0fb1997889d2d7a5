// Projection + Transformation (DESIGN §3 stage 4): the world rules over flat tables
// in linear memory. The host (lib/engines/kernel.ts) owns the memory, lays out the
// tables and a header that says where they are (lib/engines/layout.ts), writes one
// packed command buffer and calls `run` once per batch; out come a change log and
// effect records. Only numbers cross the boundary; nothing here allocates, reads a
// clock or draws real randomness (a seeded xorshift whose state is in the room).
//
// This one source is both engines: asc compiles it to build/flux.wasm (`wasm`), and
// wasm/portable.ts compiles it as TypeScript to build/flux-kernel.cjs (`js`). So it
// keeps to what both languages mean the same way: i32 values only, no casts, no
// division, no decorators, memory only through ld/st.
//
// The numeric codes below mirror lib/engines/protocol.ts; a spec checks they agree.
import { ld, st, heapBase } from "./memory";

export { heapBase };

const CMD_JOIN: i32 = 1;
const CMD_LEAVE: i32 = 2;
const CMD_LOOK: i32 = 3;
const CMD_GO: i32 = 4;
const CMD_SAY: i32 = 5;
const CMD_WHO: i32 = 6;
const CMD_EMOTE: i32 = 7;
const CMD_WHISPER: i32 = 8;
const CMD_INVENTORY: i32 = 9;
const CMD_TAKE: i32 = 10;
const CMD_DROP: i32 = 11;
const CMD_GIVE: i32 = 12;
const CMD_EXAMINE: i32 = 13;
const CMD_ATTACK: i32 = 14;
const CMD_TICK: i32 = 15;
const CMD_RENAME: i32 = 16;
const CMD_RELEASE: i32 = 17;
const CMD_KICK: i32 = 18;
const CMD_AFFILIATE: i32 = 19;
const CMD_DIG: i32 = 20;
const CMD_TITLE: i32 = 21;
const CMD_DESCRIBE: i32 = 22;
const CMD_EXIT: i32 = 23;
const CMD_UNEXIT: i32 = 24;
const CMD_LOCK: i32 = 25;
const CMD_CREATE: i32 = 26;
const CMD_DESTROY: i32 = 27;
const CMD_NPC: i32 = 28;
const CMD_UNDO: i32 = 29;

const ENTITY_CHARACTER: i32 = 1;
const ENTITY_ITEM: i32 = 2;
const ENTITY_LOCATION: i32 = 4;
const ENTITY_EXIT: i32 = 5;
const ENTITY_UNDO: i32 = 6;
const FIELD_LOCATION: i32 = 1;
const FIELD_PRESENT: i32 = 2;
const FIELD_CREATED: i32 = 3;
const FIELD_HP: i32 = 4;
const FIELD_QUEST: i32 = 5;
const FIELD_RELEASED: i32 = 6;
const FIELD_PLACE: i32 = 1;
const FIELD_TITLE: i32 = 7;
const FIELD_DESCRIPTION: i32 = 8;
const FIELD_TO: i32 = 9;
const FIELD_LOCK: i32 = 10;
const FIELD_NPC: i32 = 11;
const FIELD_CELL: i32 = 12;
const FIELD_SAVE_TITLE: i32 = 13;
const FIELD_SAVE_DESCRIPTION: i32 = 14;
const FIELD_RESTORE_TITLE: i32 = 15;
const FIELD_RESTORE_DESCRIPTION: i32 = 16;

const FX_DESCRIPTION: i32 = 1;
const FX_ARRIVE: i32 = 2;
const FX_DEPART: i32 = 3;
const FX_SAY: i32 = 4;
const FX_EMOTE: i32 = 5;
const FX_NO_EXIT: i32 = 6;
const FX_LOCKED: i32 = 7;
const FX_WHO: i32 = 8;
const FX_NOT_PRESENT: i32 = 9;
const FX_WHISPER: i32 = 10;
const FX_INVENTORY: i32 = 11;
const FX_NOT_FOUND: i32 = 12;
const FX_AMBIGUOUS: i32 = 13;
const FX_CANDIDATE: i32 = 14;
const FX_TAKE: i32 = 15;
const FX_DROP: i32 = 16;
const FX_GIVE: i32 = 17;
const FX_TOO_HEAVY: i32 = 18;
const FX_REFUSES: i32 = 19;
const FX_THANKS: i32 = 20;
const FX_EXAMINE: i32 = 21;
const FX_ATTACK: i32 = 22;
const FX_DIED: i32 = 23;
const FX_RESPAWN: i32 = 24;
const FX_NOT_YOURSELF: i32 = 25;
const FX_FADE: i32 = 26;
const FX_DUG: i32 = 27;
const FX_TITLED: i32 = 28;
const FX_DESCRIBED: i32 = 29;
const FX_EXIT_MADE: i32 = 30;
const FX_EXIT_REMOVED: i32 = 31;
const FX_LOCK_MADE: i32 = 32;
const FX_CREATED: i32 = 33;
const FX_DESTROYED: i32 = 34;
const FX_NPC_MADE: i32 = 35;
const FX_BUILD_REFUSED: i32 = 36;
const FX_UNDONE: i32 = 37;

// Why a building command changed nothing (lib/engines/protocol.ts Refusal).
const REFUSAL_EXIT_EXISTS: i32 = 0;
const REFUSAL_NO_EXIT: i32 = 1;
const REFUSAL_NO_PLACE: i32 = 2;
const REFUSAL_PLACES_MAX: i32 = 3;
const REFUSAL_ITEMS_MAX: i32 = 4;
const REFUSAL_NPCS_MAX: i32 = 5;
const REFUSAL_IS_KEY: i32 = 6;
const REFUSAL_NOTHING_TO_UNDO: i32 = 7;
const REFUSAL_CHANGED_SINCE: i32 = 8;

// Where a named thing is looked for (the first four are also notFound's argument).
const SCOPE_HERE: i32 = 0; // items at the actor's location
const SCOPE_CARRIED: i32 = 1; // items the actor carries
const SCOPE_PERSON: i32 = 2; // characters present at the actor's location
const SCOPE_PLAYER: i32 = 3; // players present anywhere in the world
const SCOPE_ANY: i32 = 4; // items here or carried, and characters here
const SCOPE_THING: i32 = 5; // items here or carried

const DIRECTIONS: i32 = 6;
const FLAG_CREATED: i32 = 1;
const FLAG_PRESENT: i32 = 2;
const FLAG_NPC: i32 = 4;
const FLAG_QUEST: i32 = 8;
const FLAG_RELEASED: i32 = 16;

const PLAYER_HP: i32 = 10;
const PLAYER_DAMAGE: i32 = 2;
const CARRY_WEIGHT_MAX: i32 = 10;
const MATCHES_PER_NAME_MAX: i32 = 16;
// Building: the named limits (lib/constants.ts), what a made thing or creature starts as.
const LOCATIONS_MAX: i32 = 65536;
const ITEMS_MAX: i32 = 4096;
const NPCS_MAX: i32 = 256;
const CREATED_ITEM_WEIGHT: i32 = 1;
const NPC_HP_BUILT: i32 = 5;
const NPC_DAMAGE_BUILT: i32 = 1;
const NOWHERE: i32 = -1073741824; // a destroyed item's place: no location, no carrier
// @undo: per character a ring of UNDO_STEPS_MAX records (kind, x, y, z) after two cells (next slot, steps kept).
const UNDO_STEPS_MAX: i32 = 8;
const UNDO_RECORD_I32S: i32 = 4;
const UNDO_I32S: i32 = 34;

const COMMAND_I32S: i32 = 6;
const CHANGE_I32S: i32 = 4;
const EFFECT_I32S: i32 = 7;

// Header slots (lib/engines/protocol.ts Header).
const H_LOCATION_COUNT: i32 = 0;
const H_START_LOCATION: i32 = 1;
const H_EXITS: i32 = 2;
const H_LOCKS: i32 = 3;
const H_ITEM_COUNT: i32 = 4;
const H_ITEM_WEIGHT: i32 = 5;
const H_ITEM_DAMAGE: i32 = 6;
const H_ITEM_HOME: i32 = 7;
const H_ITEM_PLACE: i32 = 8;
const H_NPC_COUNT: i32 = 9;
const H_NPC_HP: i32 = 10;
const H_NPC_DAMAGE: i32 = 11;
const H_NPC_HOME: i32 = 12;
const H_NPC_WANDER: i32 = 13;
const H_NPC_WANTS: i32 = 14;
const H_CHARACTER_COUNT: i32 = 15;
const H_CHAR_LOCATION: i32 = 16;
const H_CHAR_FLAGS: i32 = 17;
const H_CHAR_HP: i32 = 18;
const H_SEED: i32 = 19;
const H_COMMANDS: i32 = 20;
const H_MATCHES: i32 = 21;
const H_CHANGES: i32 = 22;
const H_CHANGES_MAX: i32 = 23;
const H_EFFECTS: i32 = 24;
const H_EFFECTS_MAX: i32 = 25;
const H_CHANGE_COUNT: i32 = 26;
const H_EFFECT_COUNT: i32 = 27;
const H_CHANGE_BASE: i32 = 28;
const H_LOCATIONS_RESERVED: i32 = 29;
const H_ITEMS_RESERVED: i32 = 30;
const H_CHARACTERS_RESERVED: i32 = 31;
const H_UNDO: i32 = 32;

// The header, read at the start of every run: set only by readHeader.
let header: i32 = 0;
let locationCount: i32 = 0;
let startLocation: i32 = 0;
let exits: i32 = 0;
let locks: i32 = 0;
let itemCount: i32 = 0;
let itemWeight: i32 = 0;
let itemDamage: i32 = 0;
let itemHome: i32 = 0;
let itemPlace: i32 = 0;
let npcCount: i32 = 0;
let npcHp: i32 = 0;
let npcDamage: i32 = 0;
let npcHome: i32 = 0;
let npcWander: i32 = 0;
let npcWants: i32 = 0;
let characterCount: i32 = 0;
let charLocation: i32 = 0;
let charFlags: i32 = 0;
let charHp: i32 = 0;
let commands: i32 = 0;
let matches: i32 = 0;
let changes: i32 = 0;
let changesMax: i32 = 0;
let effects: i32 = 0;
let effectsMax: i32 = 0;
let changeBase: i32 = 0;
let locationsReserved: i32 = 0;
let itemsReserved: i32 = 0;
let charactersReserved: i32 = 0;
let undo: i32 = 0;

// Per run.
let seed: i32 = 0;
let changeCount: i32 = 0;
let effectCount: i32 = 0;
let found: i32 = 0; // the entity code the last successful resolve() chose

function slot(index: i32): i32 {
  return ld(header + (index << 2));
}

function readHeader(at: i32): void {
  header = at;
  locationCount = slot(H_LOCATION_COUNT);
  startLocation = slot(H_START_LOCATION);
  exits = slot(H_EXITS);
  locks = slot(H_LOCKS);
  itemCount = slot(H_ITEM_COUNT);
  itemWeight = slot(H_ITEM_WEIGHT);
  itemDamage = slot(H_ITEM_DAMAGE);
  itemHome = slot(H_ITEM_HOME);
  itemPlace = slot(H_ITEM_PLACE);
  npcCount = slot(H_NPC_COUNT);
  npcHp = slot(H_NPC_HP);
  npcDamage = slot(H_NPC_DAMAGE);
  npcHome = slot(H_NPC_HOME);
  npcWander = slot(H_NPC_WANDER);
  npcWants = slot(H_NPC_WANTS);
  characterCount = slot(H_CHARACTER_COUNT);
  charLocation = slot(H_CHAR_LOCATION);
  charFlags = slot(H_CHAR_FLAGS);
  charHp = slot(H_CHAR_HP);
  seed = slot(H_SEED);
  commands = slot(H_COMMANDS);
  matches = slot(H_MATCHES);
  changes = slot(H_CHANGES);
  changesMax = slot(H_CHANGES_MAX);
  effects = slot(H_EFFECTS);
  effectsMax = slot(H_EFFECTS_MAX);
  changeBase = slot(H_CHANGE_BASE);
  locationsReserved = slot(H_LOCATIONS_RESERVED);
  itemsReserved = slot(H_ITEMS_RESERVED);
  charactersReserved = slot(H_CHARACTERS_RESERVED);
  undo = slot(H_UNDO);
  assert(UNDO_I32S == 2 + UNDO_STEPS_MAX * UNDO_RECORD_I32S);
  assert(startLocation >= 0 && startLocation < locationCount);
  assert(npcCount <= characterCount);
  assert(locationCount <= locationsReserved && itemCount <= itemsReserved && characterCount <= charactersReserved);
}

/** What building changed goes back into the header, for the host's next snapshot and run. */
function writeCounts(): void {
  st(header + (H_SEED << 2), seed);
  st(header + (H_LOCATION_COUNT << 2), locationCount);
  st(header + (H_ITEM_COUNT << 2), itemCount);
  st(header + (H_NPC_COUNT << 2), npcCount);
  st(header + (H_CHARACTER_COUNT << 2), characterCount);
}

// ---- tables ----

function at(table: i32, index: i32): i32 {
  return ld(table + (index << 2));
}
function put(table: i32, index: i32, value: i32): void {
  st(table + (index << 2), value);
}
function locationOf(c: i32): i32 {
  return at(charLocation, c);
}
function flagsOf(c: i32): i32 {
  return at(charFlags, c);
}
function isPresent(c: i32): bool {
  return (flagsOf(c) & FLAG_PRESENT) != 0;
}
function isReleased(c: i32): bool {
  return (flagsOf(c) & FLAG_RELEASED) != 0;
}
function isNpc(c: i32): bool {
  return (flagsOf(c) & FLAG_NPC) != 0;
}
function placeOf(item: i32): i32 {
  return at(itemPlace, item);
}
function carriedBy(c: i32): i32 {
  return -c - 1;
}
function everyoneAt(location: i32): i32 {
  return -location - 1;
}
/** NPC tables are indexed by character: NPCs of the world file are characters 0..n-1, a built one takes the next free slot. */
function maxHpOf(c: i32): i32 {
  return isNpc(c) ? at(npcHp, c) : PLAYER_HP;
}
function homeOf(c: i32): i32 {
  return isNpc(c) ? at(npcHome, c) : startLocation;
}

// ---- output ----

function change(entity: i32, id: i32, field: i32, value: i32): void {
  assert(changeCount < changesMax);
  const p = changes + ((changeCount * CHANGE_I32S) << 2);
  st(p, entity);
  st(p + 4, id);
  st(p + 8, field);
  st(p + 12, value);
  changeCount++;
}

function effect(audience: i32, template: i32, a: i32, b: i32, c: i32, except: i32): void {
  assert(effectCount < effectsMax);
  const p = effects + ((effectCount * EFFECT_I32S) << 2);
  st(p, audience);
  st(p + 4, template);
  st(p + 8, a);
  st(p + 12, b);
  st(p + 16, c);
  st(p + 20, except);
  st(p + 24, changeBase + changeCount);
  effectCount++;
}

/** One character hears it. */
function tell(c: i32, template: i32, a: i32, b: i32, cc: i32): void {
  effect(c, template, a, b, cc, -1);
}

/** Everyone present at `location` but `except` hears it (the renderer finds them). */
function broadcast(location: i32, except: i32, template: i32, a: i32, b: i32, c: i32): void {
  effect(everyoneAt(location), template, a, b, c, except);
}

function setLocation(c: i32, location: i32): void {
  put(charLocation, c, location);
  change(ENTITY_CHARACTER, c, FIELD_LOCATION, location);
}

function setFlag(c: i32, flag: i32, field: i32, on: bool): void {
  const flags = flagsOf(c);
  put(charFlags, c, on ? flags | flag : flags & ~flag);
  change(ENTITY_CHARACTER, c, field, on ? 1 : 0);
}

function setHp(c: i32, hp: i32): void {
  put(charHp, c, hp);
  change(ENTITY_CHARACTER, c, FIELD_HP, hp);
}

function setPlace(item: i32, place: i32): void {
  put(itemPlace, item, place);
  change(ENTITY_ITEM, item, FIELD_PLACE, place);
}

// ---- randomness: xorshift32, its state is the room's seed ----

function random(below: i32): i32 {
  let x = seed;
  if (x == 0) x = 1;
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  seed = x;
  return (x >>> 1) % below;
}

// ---- finding what a player named ----

function visible(actor: i32, code: i32, scope: i32): bool {
  const here = locationOf(actor);
  if (code >= 0) {
    assert(code < itemCount);
    const place = placeOf(code);
    if (scope == SCOPE_HERE) return place == here;
    if (scope == SCOPE_CARRIED) return place == carriedBy(actor);
    if (scope == SCOPE_ANY || scope == SCOPE_THING) return place == here || place == carriedBy(actor);
    return false;
  }
  const c = -code - 1;
  assert(c < characterCount);
  if (!isPresent(c)) return false;
  if (scope == SCOPE_THING) return false;
  if (scope == SCOPE_PLAYER) return !isNpc(c);
  if (scope == SCOPE_PERSON || scope == SCOPE_ANY) return locationOf(c) == here;
  return false;
}

/**
 * Picks the one visible candidate of a match list into `found`. None: the actor
 * is told it is not there; several: the actor is told which ones, to say more.
 */
function resolve(actor: i32, offset: i32, count: i32, scope: i32): bool {
  assert(count >= 0 && count <= MATCHES_PER_NAME_MAX);
  let seen = 0;
  for (let i = 0; i < count; i++) {
    const code = at(matches, offset + i);
    if (visible(actor, code, scope)) {
      if (seen == 0) found = code;
      seen++;
    }
  }
  if (seen == 1) return true;
  if (seen == 0) {
    tell(actor, FX_NOT_FOUND, scope >= SCOPE_ANY ? SCOPE_HERE : scope, 0, 0);
    return false;
  }
  tell(actor, FX_AMBIGUOUS, seen, 0, 0);
  for (let i = 0; i < count; i++) {
    const code = at(matches, offset + i);
    if (visible(actor, code, scope)) tell(actor, FX_CANDIDATE, code, 0, 0);
  }
  return false;
}

// ---- rules ----

function describe(viewer: i32): void {
  tell(viewer, FX_DESCRIPTION, locationOf(viewer), 0, 0);
}

function join(actor: i32): void {
  if ((flagsOf(actor) & FLAG_CREATED) == 0) {
    setFlag(actor, FLAG_CREATED, FIELD_CREATED, true);
    setHp(actor, PLAYER_HP);
    setLocation(actor, startLocation);
  } else if (isReleased(actor)) {
    // Its owner came back in the batch that let it go: it starts again, with nothing.
    setFlag(actor, FLAG_RELEASED, FIELD_RELEASED, false);
    setHp(actor, PLAYER_HP);
    setLocation(actor, startLocation);
  }
  if (!isPresent(actor)) {
    setFlag(actor, FLAG_PRESENT, FIELD_PRESENT, true);
    broadcast(locationOf(actor), actor, FX_ARRIVE, actor, -1, 0);
  }
  describe(actor);
}

function leave(actor: i32): void {
  setFlag(actor, FLAG_PRESENT, FIELD_PRESENT, false);
  broadcast(locationOf(actor), actor, FX_DEPART, actor, -1, 0);
}

/**
 * An absent guest's character is let go: those where it stood hear it fade, what it
 * carried drops there, and it is marked released. One who is present (came back),
 * never made or already released is left alone.
 */
function release(actor: i32): void {
  if ((flagsOf(actor) & FLAG_CREATED) == 0 || isPresent(actor) || isReleased(actor)) return;
  const here = locationOf(actor);
  broadcast(here, actor, FX_FADE, actor, 0, 0);
  for (let i = 0; i < itemCount; i++) if (placeOf(i) == carriedBy(actor)) setPlace(i, here);
  setFlag(actor, FLAG_RELEASED, FIELD_RELEASED, true);
}

/** The direction you arrive from when you walk `direction` (north <-> south...). */
function opposite(direction: i32): i32 {
  return direction < 4 ? (direction + 2) & 3 : direction ^ 1;
}

function move(c: i32, direction: i32, to: i32): void {
  broadcast(locationOf(c), c, FX_DEPART, c, direction, 0);
  setLocation(c, to);
  broadcast(to, c, FX_ARRIVE, c, opposite(direction), 0);
}

function go(actor: i32, direction: i32): void {
  assert(direction >= 0 && direction < DIRECTIONS);
  const door = locationOf(actor) * DIRECTIONS + direction;
  const to = at(exits, door);
  if (to < 0) {
    tell(actor, FX_NO_EXIT, direction, 0, 0);
    return;
  }
  const key = at(locks, door);
  if (key >= 0 && placeOf(key) != carriedBy(actor)) {
    tell(actor, FX_LOCKED, direction, 0, 0);
    return;
  }
  move(actor, direction, to);
  describe(actor);
}

function whisper(actor: i32, offset: i32, count: i32, text: i32): void {
  if (!resolve(actor, offset, count, SCOPE_PLAYER)) return;
  const listener = -found - 1;
  if (listener == actor) {
    tell(actor, FX_NOT_YOURSELF, 0, 0, 0);
    return;
  }
  tell(listener, FX_WHISPER, actor, listener, text);
  tell(actor, FX_WHISPER, actor, listener, text);
}

function carriedWeight(c: i32): i32 {
  let total = 0;
  for (let i = 0; i < itemCount; i++) if (placeOf(i) == carriedBy(c)) total += at(itemWeight, i);
  return total;
}

function take(actor: i32, offset: i32, count: i32): void {
  if (!resolve(actor, offset, count, SCOPE_HERE)) return;
  const item = found;
  if (carriedWeight(actor) + at(itemWeight, item) > CARRY_WEIGHT_MAX) {
    tell(actor, FX_TOO_HEAVY, item, actor, 0);
    return;
  }
  setPlace(item, carriedBy(actor));
  broadcast(locationOf(actor), -1, FX_TAKE, actor, item, 0);
}

function drop(actor: i32, offset: i32, count: i32): void {
  if (!resolve(actor, offset, count, SCOPE_CARRIED)) return;
  setPlace(found, locationOf(actor));
  broadcast(locationOf(actor), -1, FX_DROP, actor, found, 0);
}

function give(actor: i32, what: i32, whatCount: i32, whom: i32, whomCount: i32): void {
  if (!resolve(actor, what, whatCount, SCOPE_CARRIED)) return;
  const item = found;
  if (!resolve(actor, whom, whomCount, SCOPE_PERSON)) return;
  const receiver = -found - 1;
  const here = locationOf(actor);
  if (receiver == actor) {
    tell(actor, FX_NOT_YOURSELF, 0, 0, 0);
  } else if (isNpc(receiver)) {
    if (at(npcWants, receiver) != item) {
      tell(actor, FX_REFUSES, receiver, item, 0);
      return;
    }
    // The quest item goes back where it is found, so the next player can bring it too.
    setPlace(item, at(itemHome, item));
    if ((flagsOf(actor) & FLAG_QUEST) == 0) setFlag(actor, FLAG_QUEST, FIELD_QUEST, true);
    broadcast(here, -1, FX_THANKS, receiver, actor, item);
  } else if (carriedWeight(receiver) + at(itemWeight, item) > CARRY_WEIGHT_MAX) {
    tell(actor, FX_TOO_HEAVY, item, receiver, 0);
  } else {
    setPlace(item, carriedBy(receiver));
    broadcast(here, -1, FX_GIVE, actor, item, receiver);
  }
}

function damageOf(c: i32): i32 {
  let best = 0;
  for (let i = 0; i < itemCount; i++) {
    if (placeOf(i) == carriedBy(c) && at(itemDamage, i) > best) best = at(itemDamage, i);
  }
  return (isNpc(c) ? at(npcDamage, c) : PLAYER_DAMAGE) + best;
}

/** Death: what they carried falls where they stood; they wake whole at home. */
function kill(victim: i32, killer: i32): void {
  const here = locationOf(victim);
  broadcast(here, -1, FX_DIED, victim, killer, 0);
  for (let i = 0; i < itemCount; i++) if (placeOf(i) == carriedBy(victim)) setPlace(i, here);
  setHp(victim, maxHpOf(victim));
  const home = homeOf(victim);
  setLocation(victim, home);
  broadcast(home, victim, FX_ARRIVE, victim, -2, 0);
  if (!isNpc(victim)) {
    tell(victim, FX_RESPAWN, victim, home, 0);
    describe(victim);
  }
}

/** One blow: three in four land, for 1..damage. Returns true when it killed. */
function strike(attacker: i32, target: i32): bool {
  const damage = random(4) == 0 ? 0 : 1 + random(damageOf(attacker));
  broadcast(locationOf(attacker), -1, FX_ATTACK, attacker, target, damage);
  if (damage == 0) return false;
  const hp = at(charHp, target) - damage;
  if (hp <= 0) {
    kill(target, attacker);
    return true;
  }
  setHp(target, hp);
  return false;
}

function attack(actor: i32, offset: i32, count: i32): void {
  if (!resolve(actor, offset, count, SCOPE_PERSON)) return;
  const target = -found - 1;
  if (target == actor) {
    tell(actor, FX_NOT_YOURSELF, 0, 0, 0);
    return;
  }
  if (!strike(actor, target) && isNpc(target)) strike(target, actor);
}

/** The world's own turn: each wandering NPC may take an open, unlocked exit. */
function tick(): void {
  for (let n = 0; n < npcCount; n++) {
    if (!isNpc(n) || at(npcWander, n) == 0 || !isPresent(n) || random(3) != 0) continue;
    const from = locationOf(n) * DIRECTIONS;
    let open = 0;
    for (let d = 0; d < DIRECTIONS; d++) if (at(exits, from + d) >= 0 && at(locks, from + d) < 0) open++;
    if (open == 0) continue;
    let pick = random(open);
    for (let d = 0; d < DIRECTIONS; d++) {
      if (at(exits, from + d) < 0 || at(locks, from + d) >= 0) continue;
      if (pick == 0) {
        move(n, d, at(exits, from + d));
        break;
      }
      pick--;
    }
  }
}

// ---- building: builders change the map while the world runs ----
// The map is state like any other: every change is a record, so a batch that does
// not commit is undone by loading the committed state again. Texts are the host's:
// a record carries the batch's text index. The host checked the builder's role and
// reserved table room for what the batch may make; the rules decide the rest.

function door(location: i32, direction: i32): i32 {
  return location * DIRECTIONS + direction;
}

function refuse(actor: i32, reason: i32, arg: i32): void {
  tell(actor, FX_BUILD_REFUSED, reason, arg, 0);
}

function setExit(d: i32, to: i32): void {
  put(exits, d, to);
  change(ENTITY_EXIT, d, FIELD_TO, to);
}

function setLock(d: i32, item: i32): void {
  put(locks, d, item);
  change(ENTITY_EXIT, d, FIELD_LOCK, item);
}

/** A new way is open: a lock left on a door with no way (a world file may have one) goes. */
function openWay(d: i32, to: i32): void {
  if (at(locks, d) >= 0) setLock(d, -1);
  setExit(d, to);
}

function dig(actor: i32, direction: i32, title: i32): void {
  const here = locationOf(actor);
  if (at(exits, door(here, direction)) >= 0) return refuse(actor, REFUSAL_EXIT_EXISTS, direction);
  if (locationCount >= LOCATIONS_MAX) return refuse(actor, REFUSAL_PLACES_MAX, LOCATIONS_MAX);
  assert(locationCount < locationsReserved);
  const made = locationCount;
  locationCount++;
  for (let d = 0; d < DIRECTIONS; d++) {
    put(exits, door(made, d), -1);
    put(locks, door(made, d), -1);
  }
  change(ENTITY_LOCATION, made, FIELD_CREATED, 1);
  change(ENTITY_LOCATION, made, FIELD_TITLE, title);
  openWay(door(here, direction), made);
  setExit(door(made, opposite(direction)), here);
  remember(actor, CMD_DIG, here, direction, made);
  broadcast(here, -1, FX_DUG, actor, direction, made);
}

function retitle(actor: i32, field: i32, text: i32): void {
  const here = locationOf(actor);
  const step = remember(actor, field == FIELD_TITLE ? CMD_TITLE : CMD_DESCRIBE, here, 0, 0);
  // The host keeps the text this one replaces, for @undo (the kernel never sees texts).
  change(ENTITY_UNDO, actor * UNDO_STEPS_MAX + step, field == FIELD_TITLE ? FIELD_SAVE_TITLE : FIELD_SAVE_DESCRIPTION, here);
  change(ENTITY_LOCATION, here, field, text);
  broadcast(here, -1, field == FIELD_TITLE ? FX_TITLED : FX_DESCRIBED, actor, here, 0);
}

function exit(actor: i32, direction: i32, to: i32): void {
  const here = locationOf(actor);
  if (at(exits, door(here, direction)) >= 0) return refuse(actor, REFUSAL_EXIT_EXISTS, direction);
  if (to < 0 || to >= locationCount) return refuse(actor, REFUSAL_NO_PLACE, 0);
  openWay(door(here, direction), to);
  remember(actor, CMD_EXIT, door(here, direction), to, 0);
  broadcast(here, -1, FX_EXIT_MADE, actor, direction, to);
}

function unexit(actor: i32, direction: i32): void {
  const here = locationOf(actor);
  const d = door(here, direction);
  if (at(exits, d) < 0) return refuse(actor, REFUSAL_NO_EXIT, direction);
  remember(actor, CMD_UNEXIT, d, at(exits, d), at(locks, d));
  if (at(locks, d) >= 0) setLock(d, -1);
  setExit(d, -1);
  broadcast(here, -1, FX_EXIT_REMOVED, actor, direction, 0);
}

function lock(actor: i32, direction: i32, offset: i32, count: i32): void {
  const here = locationOf(actor);
  const d = door(here, direction);
  if (at(exits, d) < 0) return refuse(actor, REFUSAL_NO_EXIT, direction);
  if (!resolve(actor, offset, count, SCOPE_THING)) return;
  remember(actor, CMD_LOCK, d, at(locks, d), found);
  setLock(d, found);
  broadcast(here, -1, FX_LOCK_MADE, actor, direction, found);
}

function create(actor: i32, name: i32): void {
  if (itemCount >= ITEMS_MAX) return refuse(actor, REFUSAL_ITEMS_MAX, ITEMS_MAX);
  assert(itemCount < itemsReserved);
  const here = locationOf(actor);
  const made = itemCount;
  itemCount++;
  put(itemWeight, made, CREATED_ITEM_WEIGHT);
  put(itemDamage, made, 0);
  put(itemHome, made, here);
  change(ENTITY_ITEM, made, FIELD_CREATED, here);
  change(ENTITY_ITEM, made, FIELD_TITLE, name);
  setPlace(made, here);
  remember(actor, CMD_CREATE, made, 0, 0);
  broadcast(here, -1, FX_CREATED, actor, made, 0);
}

/** It opens a way, or completes a creature's quest: destroying it would lose them. */
function isKey(item: i32): bool {
  const doors = locationCount * DIRECTIONS;
  for (let d = 0; d < doors; d++) if (at(exits, d) >= 0 && at(locks, d) == item) return true;
  for (let n = 0; n < npcCount; n++) if (isNpc(n) && at(npcWants, n) == item) return true;
  return false;
}

function destroy(actor: i32, offset: i32, count: i32): void {
  if (!resolve(actor, offset, count, SCOPE_THING)) return;
  const item = found;
  if (isKey(item)) return refuse(actor, REFUSAL_IS_KEY, item);
  remember(actor, CMD_DESTROY, item, placeOf(item), 0);
  setPlace(item, NOWHERE);
  broadcast(locationOf(actor), -1, FX_DESTROYED, actor, item, 0);
}

function npcsMade(): i32 {
  let n = 0;
  for (let c = 0; c < npcCount; c++) if (isNpc(c)) n++;
  return n;
}

/** A creature that stays put takes the next character slot, past every player the batch made. */
function npc(actor: i32, name: i32): void {
  if (npcsMade() >= NPCS_MAX) return refuse(actor, REFUSAL_NPCS_MAX, NPCS_MAX);
  assert(characterCount < charactersReserved);
  const here = locationOf(actor);
  const made = characterCount;
  characterCount++;
  for (let c = npcCount; c < made; c++) {
    // Players between the last NPC and this one: no NPC attributes.
    put(npcHp, c, 0);
    put(npcDamage, c, 0);
    put(npcHome, c, 0);
    put(npcWander, c, 0);
    put(npcWants, c, 0);
  }
  npcCount = made + 1;
  put(npcHp, made, NPC_HP_BUILT);
  put(npcDamage, made, NPC_DAMAGE_BUILT);
  put(npcHome, made, here);
  put(npcWander, made, 0);
  put(npcWants, made, -1);
  put(charFlags, made, FLAG_CREATED | FLAG_NPC);
  change(ENTITY_CHARACTER, made, FIELD_NPC, name);
  setHp(made, NPC_HP_BUILT);
  setLocation(made, here);
  setFlag(made, FLAG_PRESENT, FIELD_PRESENT, true);
  remember(actor, CMD_NPC, made, 0, 0);
  broadcast(here, -1, FX_NPC_MADE, actor, made, 0);
}

// ---- @undo: each builder's last UNDO_STEPS_MAX building commands, as state ----
// A record says what to put back; it is written through change records like the map,
// so it is logged, stored with the room and rolled back with an uncommitted batch.

function undoCell(actor: i32, cell: i32): i32 {
  return at(undo, actor * UNDO_I32S + cell);
}

function setUndoCell(actor: i32, cell: i32, value: i32): void {
  put(undo, actor * UNDO_I32S + cell, value);
  change(ENTITY_UNDO, actor * UNDO_I32S + cell, FIELD_CELL, value);
}

/** Pushes a record (the oldest goes when the ring is full); returns its step (0..UNDO_STEPS_MAX-1). */
function remember(actor: i32, kind: i32, x: i32, y: i32, z: i32): i32 {
  const step = undoCell(actor, 0);
  const base = 2 + step * UNDO_RECORD_I32S;
  setUndoCell(actor, base, kind);
  setUndoCell(actor, base + 1, x);
  setUndoCell(actor, base + 2, y);
  setUndoCell(actor, base + 3, z);
  setUndoCell(actor, 0, step + 1 == UNDO_STEPS_MAX ? 0 : step + 1);
  if (undoCell(actor, 1) < UNDO_STEPS_MAX) setUndoCell(actor, 1, undoCell(actor, 1) + 1);
  return step;
}

function someoneAt(location: i32): bool {
  for (let c = 0; c < characterCount; c++) if (isPresent(c) && locationOf(c) == location) return true;
  return false;
}

/** Whether what the record made or changed is still as it left it (else someone changed it since). */
function unchanged(kind: i32, x: i32, y: i32, z: i32): bool {
  if (kind == CMD_DIG) {
    return at(exits, door(x, y)) == z && at(locks, door(x, y)) < 0 && at(exits, door(z, opposite(y))) == x && !someoneAt(z);
  }
  if (kind == CMD_EXIT) return at(exits, x) == y && at(locks, x) < 0;
  if (kind == CMD_UNEXIT) return at(exits, x) < 0;
  if (kind == CMD_LOCK) return at(exits, x) >= 0 && at(locks, x) == z;
  if (kind == CMD_CREATE) return placeOf(x) != NOWHERE && !isKey(x);
  if (kind == CMD_DESTROY) return placeOf(x) == NOWHERE;
  if (kind == CMD_NPC) return isPresent(x);
  return true; // a title or description: the text it replaced goes back
}

/** A key that was destroyed since cannot lock again: the way stays open. */
function keyOrOpen(item: i32): i32 {
  return item >= 0 && placeOf(item) != NOWHERE ? item : -1;
}

function putBack(actor: i32, step: i32, kind: i32, x: i32, y: i32, z: i32): void {
  if (kind == CMD_DIG) {
    setExit(door(x, y), -1); // the place stays, unreachable; its number is kept like a destroyed thing's
    setExit(door(z, opposite(y)), -1);
  } else if (kind == CMD_EXIT) setExit(x, -1);
  else if (kind == CMD_UNEXIT) {
    setExit(x, y);
    if (keyOrOpen(z) >= 0) setLock(x, z);
  } else if (kind == CMD_LOCK) setLock(x, keyOrOpen(y));
  else if (kind == CMD_CREATE) setPlace(x, NOWHERE);
  else if (kind == CMD_DESTROY) setPlace(x, y);
  else if (kind == CMD_NPC) {
    broadcast(locationOf(x), -1, FX_DEPART, x, -1, 0);
    setFlag(x, FLAG_PRESENT, FIELD_PRESENT, false);
  } else change(ENTITY_LOCATION, x, kind == CMD_TITLE ? FIELD_RESTORE_TITLE : FIELD_RESTORE_DESCRIPTION, actor * UNDO_STEPS_MAX + step);
}

/** Takes back the builder's last building command still kept; one whose result was changed since is dropped, with why. */
function undoLast(actor: i32): void {
  const count = undoCell(actor, 1);
  if (count == 0) return refuse(actor, REFUSAL_NOTHING_TO_UNDO, 0);
  const next = undoCell(actor, 0);
  const step = next == 0 ? UNDO_STEPS_MAX - 1 : next - 1;
  const base = 2 + step * UNDO_RECORD_I32S;
  const kind = undoCell(actor, base);
  const x = undoCell(actor, base + 1);
  const y = undoCell(actor, base + 2);
  const z = undoCell(actor, base + 3);
  setUndoCell(actor, 0, step);
  setUndoCell(actor, 1, count - 1);
  if (!unchanged(kind, x, y, z)) return refuse(actor, REFUSAL_CHANGED_SINCE, kind);
  putBack(actor, step, kind, x, y, z);
  broadcast(locationOf(actor), -1, FX_UNDONE, actor, kind, 0);
}

function build(kind: i32, actor: i32, a: i32, b: i32, c: i32): void {
  const directed = kind == CMD_DIG || kind == CMD_EXIT || kind == CMD_UNEXIT || kind == CMD_LOCK;
  assert(!directed || (a >= 0 && a < DIRECTIONS));
  if (kind == CMD_DIG) dig(actor, a, b);
  else if (kind == CMD_TITLE) retitle(actor, FIELD_TITLE, a);
  else if (kind == CMD_DESCRIBE) retitle(actor, FIELD_DESCRIPTION, a);
  else if (kind == CMD_EXIT) exit(actor, a, b);
  else if (kind == CMD_UNEXIT) unexit(actor, a);
  else if (kind == CMD_LOCK) lock(actor, a, b, c);
  else if (kind == CMD_CREATE) create(actor, a);
  else if (kind == CMD_DESTROY) destroy(actor, a, b);
  else if (kind == CMD_NPC) npc(actor, a);
  else if (kind == CMD_UNDO) undoLast(actor);
  else assert(false);
}

function apply(kind: i32, actor: i32, a: i32, b: i32, c: i32, d: i32): void {
  if (kind == CMD_TICK) return tick();
  if (kind == CMD_AFFILIATE) return; // affiliations live in the host; no character acts
  assert(actor >= 0 && actor < characterCount && !isNpc(actor));
  if (kind == CMD_JOIN) return join(actor);
  if (kind == CMD_RELEASE) return release(actor);
  if (!isPresent(actor)) {
    if (kind != CMD_LEAVE && kind != CMD_KICK) tell(actor, FX_NOT_PRESENT, 0, 0, 0);
    return;
  }
  const here = locationOf(actor);
  if (kind == CMD_LEAVE || kind == CMD_KICK) leave(actor);
  else if (kind == CMD_LOOK) describe(actor);
  else if (kind == CMD_GO) go(actor, a);
  else if (kind == CMD_SAY) broadcast(here, -1, FX_SAY, actor, a, 0);
  else if (kind == CMD_EMOTE) broadcast(here, -1, FX_EMOTE, actor, a, 0);
  else if (kind == CMD_WHO) tell(actor, FX_WHO, 0, 0, 0);
  else if (kind == CMD_WHISPER) whisper(actor, a, b, c);
  else if (kind == CMD_INVENTORY) tell(actor, FX_INVENTORY, actor, 0, 0);
  else if (kind == CMD_TAKE) take(actor, a, b);
  else if (kind == CMD_DROP) drop(actor, a, b);
  else if (kind == CMD_GIVE) give(actor, a, b, c, d);
  else if (kind == CMD_EXAMINE) {
    if (resolve(actor, a, b, SCOPE_ANY)) tell(actor, FX_EXAMINE, found, 0, 0);
  } else if (kind == CMD_ATTACK) attack(actor, a, b);
  else if (kind == CMD_RENAME) return; // names live in the host; the rules only check the character is present
  else build(kind, actor, a, b, c);
}

/** Change records one command may write at most (a death drops everything carried). */
function changesPerCommandMax(): i32 {
  return 16 + 2 * itemCount + npcCount;
}

/** Effect records one command may write at most (a tick moves every NPC). */
function effectsPerCommandMax(): i32 {
  return 16 + MATCHES_PER_NAME_MAX + 2 * npcCount;
}

/**
 * Runs commands `first` .. `first + count - 1` of the batch in the command buffer.
 * Stops early when the output buffers might not hold the next command's records,
 * and returns how many commands it ran; the host reads the output out and calls
 * again from there. Record counts and the new seed go back into the header (the
 * host logs a changed seed once per batch).
 */
export function run(headerAt: i32, first: i32, count: i32): i32 {
  readHeader(headerAt);
  changeCount = 0;
  effectCount = 0;
  let ran = 0;
  while (ran < count) {
    if (effectsMax - effectCount < effectsPerCommandMax() || changesMax - changeCount < changesPerCommandMax() + 1) break;
    const p = commands + (((first + ran) * COMMAND_I32S) << 2);
    apply(ld(p), ld(p + 4), ld(p + 8), ld(p + 12), ld(p + 16), ld(p + 20));
    ran++;
  }
  writeCounts();
  st(header + (H_CHANGE_COUNT << 2), changeCount);
  st(header + (H_EFFECT_COUNT << 2), effectCount);
  return ran;
}
