// The command log is the room's history: replaying it from the world as it was
// installed must rebuild exactly the state the database holds.
// The initial world is installed in a scratch embedded database, so replay reads
// the live database and writes nothing to it.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from 'pino';
import { openDb, migrate, type Queryable } from '../db/index.ts';
import { engineStateOf, loadRoom, type Projection, type RoomWorld } from '../contextualization/index.ts';
import type { Engine, WorldMap } from '../engines/index.ts';
import { plan } from '../planning/index.ts';
import type { Command } from '../negotiation/index.ts';
import { installedWorld, installWorld } from '../world/index.ts';
import { encodeBatch, makeResident, Names, releasedBy } from './encode.ts';
import { Affiliations, replayAffiliations, type AffiliationChange, type Listed } from './affiliations.ts';

export interface ReplayResult {
  readonly room: string;
  readonly batches: number;
  readonly commands: number;
  readonly version: number;
  /** Where the replayed state first differs from the stored one; null when they agree. */
  readonly divergence: string | null;
  readonly replayed: Projection;
}

/** Replays `roomId`'s command log with a fresh engine from `makeEngine`. Null when there is no such room. */
export async function replayRoom(db: Queryable, roomId: string, makeEngine: (map: WorldMap) => Engine, log: Logger): Promise<ReplayResult | null> {
  // The world as installed: what builders made since is in the log, and is built again from it.
  const definition = await installedWorld(db, roomId);
  const stored = await loadRoom(db, roomId);
  if (!definition || !stored) return null;
  const storedAffiliations = await Affiliations.load(db, roomId);
  const scratchDir = mkdtempSync(path.join(os.tmpdir(), 'flux-replay-'));
  const scratch = await openDb({ databaseUrl: '', dataDir: scratchDir, log });
  try {
    await migrate(scratch);
    await installWorld(scratch, definition);
    const initial = (await loadRoom(scratch, roomId))!;
    let { world } = initial;
    let projection = initial.projection;
    let names = new Names(world, projection.characters);
    const engine = makeEngine(world);
    engine.load(engineStateOf(world, projection));
    const rows = await db.query<{ version: number; commands: Command[] }>(
      'SELECT version, commands FROM command_log WHERE room_id = $1 ORDER BY version', [roomId]);
    let commands = 0;
    const affiliated: AffiliationChange[] = [];
    for (const row of rows.rows) {
      if (row.version !== projection.version + 1) {
        return result(roomId, rows.rows.length, commands, projection, `the log jumps from version ${projection.version} to ${row.version}`);
      }
      // Building commands in the log were allowed when they were given.
      const encoded = encodeBatch({ world, projection, names, isBuilder: () => true }, row.commands.map((command) => ({ command })));
      makeResident(engine, world, projection, encoded);
      const output = engine.run(encoded);
      const before = projection;
      const planned = plan(roomId, projection, output.changes, encoded.created, encoded.renamed, world, encoded.texts.map((t) => t.text));
      projection = planned.next;
      if (planned.world !== world) {
        world = planned.world;
        names = new Names(world, projection.characters);
      } else {
        names.admit(encoded.created, encoded.renamed, before.characters, releasedBy(encoded, projection));
      }
      commands += encoded.accepted.length;
      affiliated.push(...encoded.affiliated);
    }
    const affiliations = replayAffiliations(await Affiliations.load(scratch, roomId), affiliated);
    const divergence = firstDifference(projection, stored.projection) ?? mapDifference(world, stored.world)
      ?? affiliationDifference(affiliations.all(), storedAffiliations.all());
    return result(roomId, rows.rows.length, commands, projection, divergence);
  } finally {
    await scratch.close();
    rmSync(scratchDir, { recursive: true, force: true });
  }
}

function result(room: string, batches: number, commands: number, replayed: Projection, divergence: string | null): ReplayResult {
  return { room, batches, commands, version: replayed.version, divergence, replayed };
}

/** The first affiliation (XEP-0045 §5.2) the log does not rebuild as stored, or null. */
function affiliationDifference(replayed: readonly Listed[], stored: readonly Listed[]): string | null {
  const text = (l: Listed | undefined) => (l === undefined ? 'nothing' : `${l.jid} ${l.affiliation}${l.reason === undefined ? '' : ` (${l.reason})`}`);
  for (let i = 0; i < Math.max(replayed.length, stored.length); i++) {
    if (text(replayed[i]) !== text(stored[i])) return `affiliation ${i}: replayed ${text(replayed[i])}, stored ${text(stored[i])}`;
  }
  return null;
}

/** The first place two maps differ (places, ways, locks, things, creatures), as a readable path, or null. */
export function mapDifference(replayed: RoomWorld, stored: RoomWorld): string | null {
  if (replayed.locationCount !== stored.locationCount) return `places: replayed ${replayed.locationCount}, stored ${stored.locationCount}`;
  for (const [i, l] of replayed.locations.entries()) {
    const s = stored.locations[i]!;
    for (const key of ['key', 'title', 'description'] as const) if (l[key] !== s[key]) return `place ${i} ${key}: replayed ${JSON.stringify(l[key])}, stored ${JSON.stringify(s[key])}`;
  }
  for (const table of ['exits', 'locks'] as const) {
    const at = replayed[table].findIndex((v, d) => d < replayed.locationCount * 6 && v !== stored[table][d]);
    if (at >= 0) return `${table} ${at}: replayed ${replayed[table][at]}, stored ${stored[table][at]}`;
  }
  if (replayed.items.length !== stored.items.length) return `things: replayed ${replayed.items.length}, stored ${stored.items.length}`;
  for (const [i, it] of replayed.items.entries()) if (it.name !== stored.items[i]!.name || it.key !== stored.items[i]!.key) return `thing ${i}: replayed ${it.key}, stored ${stored.items[i]!.key}`;
  const npcs = (w: RoomWorld) => JSON.stringify([...w.npcs].map(([id, n]) => [id, n.key]));
  if (npcs(replayed) !== npcs(stored)) return `creatures: replayed ${npcs(replayed)}, stored ${npcs(stored)}`;
  // @undo: the builders' rings (a missing cell is 0) and the texts their steps replaced.
  const [ru, su] = [replayed.undo ?? new Int32Array(0), stored.undo ?? new Int32Array(0)];
  for (let i = 0; i < Math.max(ru.length, su.length); i++) if ((ru[i] ?? 0) !== (su[i] ?? 0)) return `undo cell ${i}: replayed ${ru[i] ?? 0}, stored ${su[i] ?? 0}`;
  const texts = (w: RoomWorld) => JSON.stringify([...(w.undoTexts ?? new Map())].sort(([a], [b]) => a - b));
  if (texts(replayed) !== texts(stored)) return `undo texts: replayed ${texts(replayed)}, stored ${texts(stored)}`;
  return null;
}

/** The first place two projections differ, as a readable path, or null. */
export function firstDifference(replayed: Projection, stored: Projection): string | null {
  if (replayed.version !== stored.version) return `version: replayed ${replayed.version}, stored ${stored.version}`;
  if (replayed.seed !== stored.seed) return `seed: replayed ${replayed.seed}, stored ${stored.seed}`;
  if (replayed.characters.length !== stored.characters.length) return `characters: replayed ${replayed.characters.length}, stored ${stored.characters.length}`;
  for (const [i, c] of replayed.characters.entries()) {
    const s = stored.characters[i]!;
    for (const key of ['nick', 'jid', 'location', 'present', 'hp', 'quest', 'released'] as const) {
      if ((c[key] ?? false) !== (s[key] ?? false)) return `character ${i} (${s.nick}) ${key}: replayed ${JSON.stringify(c[key])}, stored ${JSON.stringify(s[key])}`;
    }
  }
  for (const [i, item] of replayed.items.entries()) {
    if (item.place !== stored.items[i]?.place) return `item ${i} place: replayed ${item.place}, stored ${stored.items[i]?.place}`;
  }
  return null;
}
