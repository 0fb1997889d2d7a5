// World definitions in and out of the database. A world is written once, in one
// transaction (the first start, or `flux world import`); after that its state is
// live and only batches change it. `exportWorld` reads the definition back.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import type { Db, Queryable } from '../db/index.ts';
import { DIRECTIONS, NOWHERE, type Direction } from '../engines/protocol.ts';
import { readWorldFile, type Anonymity, type WorldDefinition } from './definition.ts';

/** Returns true when the world was installed now, false when the room already existed. */
export async function installWorld(db: Db, world: WorldDefinition): Promise<boolean> {
  const location = new Map(world.locations.map((l, i) => [l.key, i]));
  const item = new Map(world.items.map((it, i) => [it.key, i]));
  const exits = world.locations.flatMap((l, from) =>
    Object.entries(l.exits).map(([dir, to]) => {
      const key = l.locked[dir as Direction];
      return [from, DIRECTIONS.indexOf(dir as Direction), location.get(to)!, key === undefined ? null : item.get(key)!] as const;
    }));
  return db.transaction(async (tx) => {
    const room = await tx.query(
      `INSERT INTO rooms (id, title, subject, anonymity, start_location, seed, initial_seed, owners, installed)
       VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $8) ON CONFLICT (id) DO NOTHING`,
      [world.id, world.title, world.subject, world.anonymity, location.get(world.start)!, world.seed, world.owners, JSON.stringify(world)],
    );
    if (room.rowCount === 0) return false;
    // XEP-0045 §5.2: the file's owners start the live list; batches change it from here on.
    await tx.query(
      `INSERT INTO affiliations (room_id, jid, affiliation) SELECT $1, jid, 'owner' FROM unnest($2::text[]) AS t(jid)`,
      [world.id, world.owners],
    );
    const ls = world.locations;
    await tx.query(
      `INSERT INTO locations (room_id, idx, key, title, description)
       SELECT $1, * FROM unnest($2::int[], $3::text[], $4::text[], $5::text[])`,
      [world.id, ls.map((_, i) => i), ls.map((l) => l.key), ls.map((l) => l.title), ls.map((l) => l.description)],
    );
    await tx.query(
      `INSERT INTO exits (room_id, from_idx, direction, to_idx, key_item)
       SELECT $1, * FROM unnest($2::int[], $3::smallint[], $4::int[], $5::int[])`,
      [world.id, exits.map((e) => e[0]), exits.map((e) => e[1]), exits.map((e) => e[2]), exits.map((e) => e[3])],
    );
    const is = world.items;
    await tx.query(
      `INSERT INTO items (room_id, idx, key, name, keywords, description, weight, damage, home, place)
       SELECT $1, i, k, n, ARRAY(SELECT jsonb_array_elements_text(kw)), d, w, dm, h, h
       FROM unnest($2::int[], $3::text[], $4::text[], $5::jsonb[], $6::text[], $7::int[], $8::int[], $9::int[]) AS t(i, k, n, kw, d, w, dm, h)`,
      [world.id, is.map((_, i) => i), is.map((it) => it.key), is.map((it) => it.name), is.map((it) => JSON.stringify(it.keywords)),
        is.map((it) => it.description), is.map((it) => it.weight), is.map((it) => it.damage), is.map((it) => location.get(it.at)!)],
    );
    // NPCs are the room's first characters: ids 0..npcs-1, bound to no JID, always present.
    const ns = world.npcs;
    await tx.query(
      `INSERT INTO characters (room_id, id, nick, jid, location, present, hp)
       SELECT $1, i, n, '', h, true, hp FROM unnest($2::int[], $3::text[], $4::int[], $5::int[]) AS t(i, n, h, hp)`,
      [world.id, ns.map((_, i) => i), ns.map((n) => n.name), ns.map((n) => location.get(n.at)!), ns.map((n) => n.hp)],
    );
    await tx.query(
      `INSERT INTO npcs (room_id, id, key, keywords, description, hp, damage, home, wander, wants, thanks)
       SELECT $1, i, k, ARRAY(SELECT jsonb_array_elements_text(kw)), d, hp, dm, h, w, wa, th
       FROM unnest($2::int[], $3::text[], $4::jsonb[], $5::text[], $6::int[], $7::int[], $8::int[], $9::bool[], $10::int[], $11::text[])
         AS t(i, k, kw, d, hp, dm, h, w, wa, th)`,
      [world.id, ns.map((_, i) => i), ns.map((n) => n.key), ns.map((n) => JSON.stringify(n.keywords)), ns.map((n) => n.description),
        ns.map((n) => n.hp), ns.map((n) => n.damage), ns.map((n) => location.get(n.at)!), ns.map((n) => n.wander),
        ns.map((n) => (n.wants === undefined ? null : item.get(n.wants)!)), ns.map((n) => n.thanks ?? null)],
    );
    return true;
  });
}

/**
 * The world as it was installed, before anything was built in it (replay starts
 * there). Rooms installed before building existed keep no copy: their tables are it.
 */
export async function installedWorld(db: Queryable, roomId: string): Promise<WorldDefinition | null> {
  const row = (await db.query<{ installed: WorldDefinition | null }>('SELECT installed FROM rooms WHERE id = $1', [roomId])).rows[0];
  if (!row) return null;
  return row.installed ?? exportWorld(db, roomId);
}

/**
 * The world's definition as it stands: the world file's places, things and NPCs
 * and what builders made since, not its live state (who is where,
 * who carries what). Destroyed things are left out. Null when there is no such room.
 */
export async function exportWorld(db: Queryable, roomId: string): Promise<WorldDefinition | null> {
  const room = (await db.query<{ title: string; subject: string; anonymity: Anonymity; start_location: number; initial_seed: number; owners: string[] }>(
    'SELECT title, subject, anonymity, start_location, initial_seed, owners FROM rooms WHERE id = $1', [roomId])).rows[0];
  if (!room) return null;
  const locations = (await db.query<{ key: string; title: string; description: string }>(
    'SELECT key, title, description FROM locations WHERE room_id = $1 ORDER BY idx', [roomId])).rows;
  const items = (await db.query<{ key: string; name: string; keywords: string[]; description: string; weight: number; damage: number; home: number; place: number }>(
    'SELECT key, name, keywords, description, weight, damage, home, place FROM items WHERE room_id = $1 ORDER BY idx', [roomId])).rows;
  const exits = (await db.query<{ from_idx: number; direction: number; to_idx: number; key_item: number | null }>(
    'SELECT from_idx, direction, to_idx, key_item FROM exits WHERE room_id = $1 ORDER BY from_idx, direction', [roomId])).rows;
  const npcs = (await db.query<{ name: string; key: string; keywords: string[]; description: string; hp: number; damage: number; home: number; wander: boolean; wants: number | null; thanks: string | null }>(
    `SELECT c.nick AS name, n.key, n.keywords, n.description, n.hp, n.damage, n.home, n.wander, n.wants, n.thanks
     FROM npcs n JOIN characters c ON c.room_id = n.room_id AND c.id = n.id WHERE n.room_id = $1 ORDER BY n.id`, [roomId])).rows;
  const exitsOf = (from: number, locked: boolean) => Object.fromEntries(exits
    .filter((e) => e.from_idx === from && (!locked || e.key_item !== null))
    .map((e) => [DIRECTIONS[e.direction]!, locked ? items[e.key_item!]!.key : locations[e.to_idx]!.key]));
  return {
    id: roomId, title: room.title, subject: room.subject, anonymity: room.anonymity, owners: room.owners, start: locations[room.start_location]!.key, seed: room.initial_seed,
    locations: locations.map((l, i) => ({ ...l, exits: exitsOf(i, false), locked: exitsOf(i, true) })),
    items: items.filter((it) => it.place !== NOWHERE).map((it) => ({ key: it.key, name: it.name, keywords: it.keywords, description: it.description, weight: it.weight, damage: it.damage, at: locations[it.home]!.key })),
    npcs: npcs.map((n) => ({
      key: n.key, name: n.name, keywords: n.keywords, description: n.description, at: locations[n.home]!.key, hp: n.hp, damage: n.damage, wander: n.wander,
      ...(n.wants === null ? {} : { wants: items[n.wants]!.key, thanks: n.thanks ?? '' }),
    })),
  };
}

export function worldFiles(dir: string): string[] {
  return readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort().map((f) => path.join(dir, f));
}

/** Reads every world file first (so one bad file writes nothing), then installs the new ones. */
export async function installWorlds(db: Db, dir: string): Promise<{ installed: string[]; present: string[] }> {
  const worlds = worldFiles(dir).map(readWorldFile);
  const installed: string[] = [];
  const present: string[] = [];
  for (const world of worlds) ((await installWorld(db, world)) ? installed : present).push(world.id);
  return { installed, present };
}
