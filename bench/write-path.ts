// The write path alone: Planning's statements and Actuation's one
// transaction per batch, at 1, 100 and 1,000 changed characters per batch, on one
// database. Reports batches/s and rows/s. Part of `make bench`.
import path from 'node:path';
import { migrate } from '../lib/db/index.ts';
import { installWorlds } from '../lib/world/index.ts';
import { loadRoom, type Projection } from '../lib/contextualization/index.ts';
import { plan } from '../lib/planning/index.ts';
import { commitBatch } from '../lib/actuation/index.ts';
import { Entity, Field } from '../lib/engines/protocol.ts';
import { ROOT_DIR } from '../lib/config/index.ts';
import { freshDb, type DatabaseKind } from './databases.ts';
import { CHARACTERS, nickOf } from './workload.ts';

const QUICK = process.env.BENCH_QUICK === '1';
export const CHANGES_PER_BATCH = [1, 100, 1000] as const;

export interface WritePathFigures {
  readonly database: DatabaseKind;
  readonly rows: Record<number, { batchesPerS: number; rowsPerS: number; batches: number }>;
}

export async function benchWritePath(kind: DatabaseKind): Promise<WritePathFigures> {
  const { db, done } = await freshDb(kind);
  try {
    await migrate(db);
    await installWorlds(db, path.join(ROOT_DIR, 'config/worlds'));
    const loaded = (await loadRoom(db, 'realm'))!;
    const total = Math.max(...CHANGES_PER_BATCH);
    // Players who exist, so every batch is an update of rows already there.
    const created = new Map(Array.from({ length: Math.max(CHARACTERS, total) }, (_, i) => [loaded.projection.characters.length + i, { nick: nickOf(i), jid: `${nickOf(i)}@bench` }]));
    const join = Int32Array.from([...created.keys()].flatMap((id) => [Entity.character, id, Field.created, 1, Entity.character, id, Field.present, 1]));
    let projection: Projection = loaded.projection;
    const first = plan('realm', projection, join, created);
    const ok = await commitBatch(db, { roomId: 'realm', version: projection.version, statements: first.statements, log: [] });
    if (ok.committed !== true) throw new Error('setup batch did not commit');
    projection = first.next;
    const players = [...created.keys()];
    const rows: WritePathFigures['rows'] = {};
    for (const changes of CHANGES_PER_BATCH) {
      const batches = QUICK ? 10 : changes === 1000 ? 100 : 300;
      const started = performance.now();
      for (let b = 0; b < batches; b++) {
        const log = new Int32Array(changes * 4);
        for (let i = 0; i < changes; i++) log.set([Entity.character, players[(b * changes + i) % players.length]!, Field.location, (b + i) % loaded.world.locationCount], i * 4);
        const p = plan('realm', projection, log, new Map());
        const r = await commitBatch(db, { roomId: 'realm', version: projection.version, statements: p.statements, log: [{ kind: 'look', nick: 'bench' }] });
        if (r.committed !== true) throw new Error('a bench batch did not commit');
        projection = p.next;
      }
      const seconds = (performance.now() - started) / 1000;
      rows[changes] = { batchesPerS: Math.round(batches / seconds), rowsPerS: Math.round((batches * changes) / seconds), batches };
    }
    return { database: kind, rows };
  } finally {
    await done();
  }
}

export function printWritePath(r: WritePathFigures): void {
  process.stdout.write(`\nwrite path on ${r.database} (planning + one transaction per batch):\n  changes/batch   batches/s      rows/s\n`);
  for (const [changes, f] of Object.entries(r.rows)) {
    process.stdout.write(`  ${changes.padStart(13)}${f.batchesPerS.toLocaleString('en').padStart(12)}${f.rowsPerS.toLocaleString('en').padStart(12)}\n`);
  }
}
