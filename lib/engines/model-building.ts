// The `model` engine's building rules (issue 17), written for reading: one reducer
// per building command over the draft, the same checks in the same order as the
// kernel's (wasm/assembly/index.ts, "building"), so the records agree byte for byte.
import { assert } from '../assert.ts';
import type { Reducer, Turn } from './model.ts';
import {
  Cmd, CREATED_ITEM_WEIGHT, DIRECTION_COUNT, Entity, Field, FLAG_CREATED, FLAG_NPC, FLAG_PRESENT, Fx, ITEMS_MAX, LOCATIONS_MAX, NOWHERE,
  NPC_DAMAGE_BUILT, NPC_HP_BUILT, NPCS_MAX, Refusal,
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
  t.broadcast(here, -1, Fx.dug, actor, direction, made);
};

const retitle = (field: number, fx: number): Reducer => (t, actor, text) => {
  const here = t.where(actor);
  t.changes.push(Entity.location, here, field, text);
  t.broadcast(here, -1, fx, actor, here);
};

const exit: Reducer = (t, actor, direction, to) => {
  directed(direction);
  const here = t.where(actor);
  if (t.map.exits[door(here, direction)]! >= 0) return refuse(t, actor, Refusal.exitExists, direction);
  if (to < 0 || to >= t.map.locationCount) return refuse(t, actor, Refusal.noPlace);
  openWay(t, door(here, direction), to);
  t.broadcast(here, -1, Fx.exitMade, actor, direction, to);
};

const unexit: Reducer = (t, actor, direction) => {
  directed(direction);
  const here = t.where(actor);
  const d = door(here, direction);
  if (t.map.exits[d]! < 0) return refuse(t, actor, Refusal.noExit, direction);
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
  t.broadcast(here, -1, Fx.created, actor, made);
};

const destroy: Reducer = (t, actor, offset, count) => {
  const item = t.resolve(actor, offset, count, 'thing');
  if (item === null) return;
  if (t.map.locks.some((key, d) => key === item && t.map.exits[d]! >= 0)) return refuse(t, actor, Refusal.isKey, item);
  if (t.map.npcWants.some((wanted, c) => wanted === item && t.isNpc(c))) return refuse(t, actor, Refusal.isKey, item); // a quest would be lost
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
  t.broadcast(here, -1, Fx.npcMade, actor, made);
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
  [Cmd.undo]: (t, actor) => refuse(t, actor, Refusal.nothingToUndo),
};
