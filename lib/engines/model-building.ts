// The `model` engine's building rules, written for reading: one reducer
// per building command over the draft, the same checks in the same order as the
// kernel's (wasm/assembly/index.ts, "building"), so the records agree byte for byte.
import { assert } from '../assert.ts';
import type { Reducer, Turn } from './model.ts';
import {
  Cmd, CREATED_ITEM_WEIGHT, DIRECTION_COUNT, Entity, Field, FLAG_CREATED, FLAG_NPC, FLAG_PRESENT, Fx, ITEMS_MAX, LOCATIONS_MAX, NOWHERE,
  NPC_DAMAGE_BUILT, NPC_HP_BUILT, NPCS_MAX, Refusal, UNDO_I32S, UNDO_RECORD_I32S, UNDO_STEPS_MAX,
} from './protocol.ts';

const door = (location: number, direction: number) => location * DIRECTION_COUNT + direction;
const opposite = (direction: number) => (direction < 4 ? (direction + 2) % 4 : direction ^ 1);
const refuse = (t: Turn, actor: number, reason: number, arg = 0) => t.tell(actor, Fx.buildRefused, reason, arg);

function setExit(t: Turn, d: number, to: number): void {
  t.map.exits[d] = to;
  t.changes.push(Entity.exit, d, Field.to, to);
}

function setLock(t: Turn, d: number, item: number): void {
  t.map.locks[d] = item;
  t.changes.push(Entity.exit, d, Field.lock, item);
}

/** A new way is open: a stale lock on a door with no way goes first. */
function openWay(t: Turn, d: number, to: number): void {
  if (t.map.locks[d]! >= 0) setLock(t, d, -1);
  setExit(t, d, to);
}

const directed = (direction: number) => assert(direction >= 0 && direction < DIRECTION_COUNT, 'a direction');

const dig: Reducer = (t, actor, direction, title) => {
  directed(direction);
  const here = t.where(actor);
  if (t.map.exits[door(here, direction)]! >= 0) return refuse(t, actor, Refusal.exitExists, direction);
  if (t.map.locationCount >= LOCATIONS_MAX) return refuse(t, actor, Refusal.placesMax, LOCATIONS_MAX);
  const made = t.map.locationCount++;
  t.map.exits.push(...new Array<number>(DIRECTION_COUNT).fill(-1));
  t.map.locks.push(...new Array<number>(DIRECTION_COUNT).fill(-1));
  t.changes.push(Entity.location, made, Field.created, 1, Entity.location, made, Field.title, title);
  openWay(t, door(here, direction), made);
  setExit(t, door(made, opposite(direction)), here);
  remember(t, actor, Cmd.dig, here, direction, made);
  t.broadcast(here, -1, Fx.dug, actor, direction, made);
};

const retitle = (field: number, fx: number): Reducer => (t, actor, text) => {
  const here = t.where(actor);
  const step = remember(t, actor, field === Field.title ? Cmd.title : Cmd.describe, here, 0, 0);
  t.changes.push(Entity.undo, actor * UNDO_STEPS_MAX + step, field === Field.title ? Field.saveTitle : Field.saveDescription, here);
  t.changes.push(Entity.location, here, field, text);
  t.broadcast(here, -1, fx, actor, here);
};

const exit: Reducer = (t, actor, direction, to) => {
  directed(direction);
  const here = t.where(actor);
  if (t.map.exits[door(here, direction)]! >= 0) return refuse(t, actor, Refusal.exitExists, direction);
  if (to < 0 || to >= t.map.locationCount) return refuse(t, actor, Refusal.noPlace);
  openWay(t, door(here, direction), to);
  remember(t, actor, Cmd.exit, door(here, direction), to, 0);
  t.broadcast(here, -1, Fx.exitMade, actor, direction, to);
};

const unexit: Reducer = (t, actor, direction) => {
  directed(direction);
  const here = t.where(actor);
  const d = door(here, direction);
  if (t.map.exits[d]! < 0) return refuse(t, actor, Refusal.noExit, direction);
  remember(t, actor, Cmd.unexit, d, t.map.exits[d]!, t.map.locks[d]!);
  if (t.map.locks[d]! >= 0) setLock(t, d, -1);
  setExit(t, d, -1);
  t.broadcast(here, -1, Fx.exitRemoved, actor, direction);
};

const lock: Reducer = (t, actor, direction, offset, count) => {
  directed(direction);
  const here = t.where(actor);
  const d = door(here, direction);
  if (t.map.exits[d]! < 0) return refuse(t, actor, Refusal.noExit, direction);
  const item = t.resolve(actor, offset, count, 'thing');
  if (item === null) return;
  remember(t, actor, Cmd.lock, d, t.map.locks[d]!, item);
  setLock(t, d, item);
  t.broadcast(here, -1, Fx.lockMade, actor, direction, item);
};

const create: Reducer = (t, actor, name) => {
  if (t.room.itemPlace.length >= ITEMS_MAX) return refuse(t, actor, Refusal.itemsMax, ITEMS_MAX);
  const here = t.where(actor);
  const made = t.room.itemPlace.length;
  t.room.itemPlace.push(NOWHERE);
  t.map.itemWeight.push(CREATED_ITEM_WEIGHT);
  t.map.itemDamage.push(0);
  t.map.itemHome.push(here);
  t.changes.push(Entity.item, made, Field.created, here, Entity.item, made, Field.title, name);
  t.setPlace(made, here);
  remember(t, actor, Cmd.create, made, 0, 0);
  t.broadcast(here, -1, Fx.created, actor, made);
};

/** It opens a way, or completes a creature's quest (which would be lost). */
const isKey = (t: Turn, item: number) => t.map.locks.some((key, d) => key === item && t.map.exits[d]! >= 0)
  || t.map.npcWants.some((wanted, c) => wanted === item && t.isNpc(c));

const destroy: Reducer = (t, actor, offset, count) => {
  const item = t.resolve(actor, offset, count, 'thing');
  if (item === null) return;
  if (isKey(t, item)) return refuse(t, actor, Refusal.isKey, item);
  remember(t, actor, Cmd.destroy, item, t.room.itemPlace[item]!, 0);
  t.setPlace(item, NOWHERE);
  t.broadcast(t.where(actor), -1, Fx.destroyed, actor, item);
};

/** A creature that stays put, in the next character slot; the NPC tables reach it, players between get none. */
const npc: Reducer = (t, actor, name) => {
  const npcs = t.room.characters.filter((_, c) => t.isNpc(c)).length;
  if (npcs >= NPCS_MAX) return refuse(t, actor, Refusal.npcsMax, NPCS_MAX);
  const here = t.where(actor);
  const made = t.room.characters.length;
  t.room.characters.push({ location: 0, flags: FLAG_CREATED | FLAG_NPC, hp: 0 });
  const m = t.map;
  while (m.npcHp.length < made) {
    m.npcHp.push(0);
    m.npcDamage.push(0);
    m.npcHome.push(0);
    m.npcWander.push(0);
    m.npcWants.push(0);
  }
  m.npcHp.push(NPC_HP_BUILT);
  m.npcDamage.push(NPC_DAMAGE_BUILT);
  m.npcHome.push(here);
  m.npcWander.push(0);
  m.npcWants.push(-1);
  t.changes.push(Entity.character, made, Field.npc, name);
  t.setHp(made, NPC_HP_BUILT);
  t.setLocation(made, here);
  t.setFlag(made, FLAG_PRESENT, Field.present, true);
  remember(t, actor, Cmd.npc, made, 0, 0);
  t.broadcast(here, -1, Fx.npcMade, actor, made);
};

// ---- @undo: a ring of the builder's last UNDO_STEPS_MAX records (kind, x, y, z), written as change records ----

const undoCell = (t: Turn, actor: number, cell: number) => t.map.undo[actor * UNDO_I32S + cell] ?? 0;

function setUndoCell(t: Turn, actor: number, cell: number, value: number): void {
  while (t.map.undo.length < actor * UNDO_I32S + cell) t.map.undo.push(0);
  t.map.undo[actor * UNDO_I32S + cell] = value;
  t.changes.push(Entity.undo, actor * UNDO_I32S + cell, Field.cell, value);
}

/** Pushes a record, the oldest dropped when the ring is full; returns its step. */
function remember(t: Turn, actor: number, kind: number, x: number, y: number, z: number): number {
  const step = undoCell(t, actor, 0);
  const base = 2 + step * UNDO_RECORD_I32S;
  [kind, x, y, z].forEach((value, i) => setUndoCell(t, actor, base + i, value));
  setUndoCell(t, actor, 0, (step + 1) % UNDO_STEPS_MAX);
  if (undoCell(t, actor, 1) < UNDO_STEPS_MAX) setUndoCell(t, actor, 1, undoCell(t, actor, 1) + 1);
  return step;
}

const someoneAt = (t: Turn, location: number) => t.room.characters.some((c, i) => t.isPresent(i) && c.location === location);
const placeOf = (t: Turn, item: number) => t.room.itemPlace[item]!;

/** Is what the record made or changed still as it was left? */
function unchanged(t: Turn, kind: number, x: number, y: number, z: number): boolean {
  const { exits, locks } = t.map;
  switch (kind) {
    case Cmd.dig: return exits[door(x, y)] === z && locks[door(x, y)]! < 0 && exits[door(z, opposite(y))] === x && !someoneAt(t, z);
    case Cmd.exit: return exits[x] === y && locks[x]! < 0;
    case Cmd.unexit: return exits[x]! < 0;
    case Cmd.lock: return exits[x]! >= 0 && locks[x] === z;
    case Cmd.create: return placeOf(t, x) !== NOWHERE && !isKey(t, x);
    case Cmd.destroy: return placeOf(t, x) === NOWHERE;
    case Cmd.npc: return t.isPresent(x);
    default: return true; // a title or description: the text it replaced goes back
  }
}

/** A key destroyed since cannot lock again: the way stays open. */
const keyOrOpen = (t: Turn, item: number) => (item >= 0 && placeOf(t, item) !== NOWHERE ? item : -1);

function putBack(t: Turn, actor: number, step: number, kind: number, x: number, y: number, z: number): void {
  if (kind === Cmd.dig) {
    setExit(t, door(x, y), -1); // the place stays, unreachable
    setExit(t, door(z, opposite(y)), -1);
  } else if (kind === Cmd.exit) setExit(t, x, -1);
  else if (kind === Cmd.unexit) {
    setExit(t, x, y);
    if (keyOrOpen(t, z) >= 0) setLock(t, x, z);
  } else if (kind === Cmd.lock) setLock(t, x, keyOrOpen(t, y));
  else if (kind === Cmd.create) t.setPlace(x, NOWHERE);
  else if (kind === Cmd.destroy) t.setPlace(x, y);
  else if (kind === Cmd.npc) {
    t.broadcast(t.where(x), -1, Fx.depart, x, -1);
    t.setFlag(x, FLAG_PRESENT, Field.present, false);
  } else t.changes.push(Entity.location, x, kind === Cmd.title ? Field.restoreTitle : Field.restoreDescription, actor * UNDO_STEPS_MAX + step);
}

const undo: Reducer = (t, actor) => {
  const count = undoCell(t, actor, 1);
  if (count === 0) return refuse(t, actor, Refusal.nothingToUndo);
  const step = (undoCell(t, actor, 0) + UNDO_STEPS_MAX - 1) % UNDO_STEPS_MAX;
  const base = 2 + step * UNDO_RECORD_I32S;
  const [kind, x, y, z] = [0, 1, 2, 3].map((i) => undoCell(t, actor, base + i)) as [number, number, number, number];
  setUndoCell(t, actor, 0, step);
  setUndoCell(t, actor, 1, count - 1);
  if (!unchanged(t, kind, x, y, z)) return refuse(t, actor, Refusal.changedSince, kind);
  putBack(t, actor, step, kind, x, y, z);
  t.broadcast(t.where(actor), -1, Fx.undone, actor, kind);
};

export const build: Record<number, Reducer> = {
  [Cmd.dig]: dig,
  [Cmd.title]: retitle(Field.title, Fx.titled),
  [Cmd.describe]: retitle(Field.description, Fx.described),
  [Cmd.exit]: exit,
  [Cmd.unexit]: unexit,
  [Cmd.lock]: lock,
  [Cmd.create]: create,
  [Cmd.destroy]: destroy,
  [Cmd.npc]: npc,
  [Cmd.undo]: undo,
};
