// The command log is the room's history: replaying it from the world as it was
// installed must rebuild exactly the state the database holds (issue #5, #7).
// The initial world is installed in a scratch embedded database, so replay reads
// the live database and writes nothing to it.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from 'pino';
import { openDb, migrate, type Queryable } from '../db/index.ts';
import { engineStateOf, loadRoom, type Projection } from '../contextualization/index.ts';
import type { Engine, WorldMap } from '../engines/index.ts';
import { plan } from '../planning/index.ts';
import type { Command } from '../negotiation/index.ts';
import { exportWorld, installWorld } from '../world/index.ts';
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
  const definition = await exportWorld(db, roomId);
  const stored = await loadRoom(db, roomId);
  if (!definition || !stored) return null;
  const storedAffiliations = await Affiliations.load(db, roomId);
  const scratchDir = mkdtempSync(path.join(os.tmpdir(), 'flux-replay-'));
  const scratch = await openDb({ databaseUrl: '', dataDir: scratchDir, log });
  try {
    await migrate(scratch);
    await installWorld(scratch, definition);
    const initial = (await loadRoom(scratch, roomId))!;
    const { world } = initial;
    let projection = initial.projection;
    const names = new Names(world, projection.characters);
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
      const encoded = encodeBatch({ world, projection, names }, row.commands.map((command) => ({ command })));
      makeResident(engine, world, projection, encoded.created);
      const output = engine.run(encoded);
      const before = projection;
      projection = plan(roomId, projection, output.changes, encoded.created, encoded.renamed).next;
      names.admit(encoded.created, encoded.renamed, before.characters, releasedBy(encoded, projection));
      commands += encoded.accepted.length;
      affiliated.push(...encoded.affiliated);
    }
    const affiliations = replayAffiliations(await Affiliations.load(scratch, roomId), affiliated);
    const divergence = firstDifference(projection, stored.projection) ?? affiliationDifference(affiliations.all(), storedAffiliations.all());
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
