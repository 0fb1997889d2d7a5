// Writes a world definition into the database once: the first start installs the
// worlds of config/worlds; a world already there is left alone (its state is live).
import { readdirSync } from 'node:fs';
import path from 'node:path';
import type { Db } from '../db/index.ts';
import { DIRECTIONS } from '../engines/protocol.ts';
import { readWorldFile, type WorldDefinition } from './definition.ts';

/** Returns true when the world was installed now, false when the room already existed. */
export async function installWorld(db: Db, world: WorldDefinition): Promise<boolean> {
  const index = new Map(world.locations.map((l, i) => [l.key, i]));
  const exits = world.locations.flatMap((l, from) =>
    Object.entries(l.exits).map(([dir, to]) => [from, DIRECTIONS.indexOf(dir as never), index.get(to)!] as const));
  return db.transaction(async (tx) => {
    const room = await tx.query(
      `INSERT INTO rooms (id, title, subject, start_location) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING`,
      [world.id, world.title, world.subject, index.get(world.start)!],
    );
    if (room.rowCount === 0) return false;
    await tx.query(
      `INSERT INTO locations (room_id, idx, key, title, description)
       SELECT $1, * FROM unnest($2::int[], $3::text[], $4::text[], $5::text[])`,
      [world.id, world.locations.map((_, i) => i), world.locations.map((l) => l.key),
        world.locations.map((l) => l.title), world.locations.map((l) => l.description)],
    );
    await tx.query(
      `INSERT INTO exits (room_id, from_idx, direction, to_idx)
       SELECT $1, * FROM unnest($2::int[], $3::smallint[], $4::int[])`,
      [world.id, exits.map((e) => e[0]), exits.map((e) => e[1]), exits.map((e) => e[2])],
    );
    return true;
  });
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
