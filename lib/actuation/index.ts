// Actuation (DESIGN §3 stage 6): one transaction per batch. The fence bumps the
// room's version only if nobody else did since we loaded it; then the planned
// upserts and the command-log row. Effects are the caller's to send, after this
// resolves (after COMMIT), never before.
import { randomUUID } from 'node:crypto';
import type { Db } from '../db/index.ts';
import { FluxError } from '../errors.ts';
import type { Statement } from '../planning/index.ts';

/**
 * The fence refused the batch. version: another writer moved the room on (reload
 * and go on from there); owner: another instance claimed the room since this one
 * did (stop serving it: nothing more of ours may be written).
 */
export class FenceError extends FluxError {
  override name = 'FenceError';
  constructor(roomId: string, version: number, readonly lost: 'version' | 'owner') {
    super('conflict', lost === 'owner'
      ? `room ${roomId} was claimed by another instance: this one may no longer write it`
      : `room ${roomId} is no longer at version ${version}: another instance wrote it`);
  }
}

export interface BatchRecord {
  readonly roomId: string;
  /** The committed version this batch builds on; it commits as version + 1. */
  readonly version: number;
  readonly statements: readonly Statement[];
  /** The batch's commands as the command log keeps them (enough to replay). */
  readonly log: readonly unknown[];
  /** The owner epoch this instance claimed the room at (lib/rooms/ownership.ts); absent: not fenced on ownership. */
  readonly epoch?: number;
}

/**
 * committed: true, or false (it did not, and may be retried), or 'unknown': the
 * transaction failed in a way that may have committed (COMMIT sent, connection
 * gone) and the database could not be asked; `committedYet` asks again.
 */
export type Outcome =
  | { readonly committed: true; readonly batchId: string }
  | { readonly committed: false; readonly error: Error }
  | { readonly committed: 'unknown'; readonly batchId: string; readonly error: Error };

export async function commitBatch(db: Db, batch: BatchRecord, batchId = randomUUID()): Promise<Outcome> {
  try {
    await db.transaction(async (tx) => {
      const fence = await tx.query(
        'UPDATE rooms SET version = version + 1, last_batch = $3 WHERE id = $1 AND version = $2 AND ($4::bigint IS NULL OR owner_epoch = $4)',
        [batch.roomId, batch.version, batchId, batch.epoch ?? null]);
      if (fence.rowCount !== 1) {
        const now = await tx.query<{ owner_epoch: string }>('SELECT owner_epoch FROM rooms WHERE id = $1', [batch.roomId]);
        const claimedSince = batch.epoch !== undefined && Number(now.rows[0]?.owner_epoch) !== batch.epoch;
        throw new FenceError(batch.roomId, batch.version, claimedSince ? 'owner' : 'version');
      }
      for (const s of batch.statements) await tx.query(s.text, s.values);
      await tx.query(
        'INSERT INTO command_log (room_id, version, batch_id, commands) VALUES ($1, $2, $3, $4)',
        [batch.roomId, batch.version + 1, batchId, JSON.stringify(batch.log)]);
    });
    return { committed: true, batchId };
  } catch (err) {
    if (err instanceof FenceError) return { committed: false, error: err };
    // The connection may have died during COMMIT: the database knows whether it happened.
    const known = await committedYet(db, batch.roomId, batchId);
    if (known === true) return { committed: true, batchId };
    if (known === false) return { committed: false, error: err as Error };
    return { committed: 'unknown', batchId, error: err as Error };
  }
}

/** Whether batch `batchId` is the room's last committed batch; null when the database cannot say now. */
export async function committedYet(db: Db, roomId: string, batchId: string): Promise<boolean | null> {
  try {
    const r = await db.query<{ last_batch: string | null }>('SELECT last_batch FROM rooms WHERE id = $1', [roomId]);
    return r.rows[0]?.last_batch === batchId;
  } catch {
    return null;
  }
}
