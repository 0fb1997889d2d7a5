// A room's occupants, kept in room_sessions (sql/009_owners.sql) so that the
// instance that takes a room over serves the same people without asking anyone
// to join again: after a crash (what was written by then) and after a handover
// on SIGTERM (written in full before the room is let go). The journal writes the
// difference from what it wrote last, at most every SESSION_JOURNAL_MS, in one
// statement, fenced on the owner epoch: an instance that lost the room writes
// nothing.
import type { Logger } from 'pino';
import type { Queryable } from '../db/index.ts';
import { SESSION_JOURNAL_MS } from '../constants.ts';

export interface SessionRow {
  readonly session: string;
  readonly nick: string;
}

const WRITE_SQL = `WITH owner AS (SELECT 1 FROM rooms WHERE id = $1 AND owner_epoch = $2),
gone AS (DELETE FROM room_sessions WHERE room_id = $1 AND session_jid = ANY($3::text[]) AND EXISTS (SELECT 1 FROM owner))
INSERT INTO room_sessions (room_id, session_jid, nick)
SELECT $1, s, n FROM unnest($4::text[], $5::text[]) AS t(s, n) WHERE EXISTS (SELECT 1 FROM owner)
ON CONFLICT (room_id, session_jid) DO UPDATE SET nick = EXCLUDED.nick`;

export class SessionJournal {
  /** What the table holds for this room, as far as this instance knows. */
  private written = new Map<string, string>();
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> | null = null;

  /** `current()`: every joined session now, with its occupant's nick. */
  constructor(private readonly db: Queryable, private readonly roomId: string, private readonly epoch: number,
    private readonly current: () => Iterable<SessionRow>, private readonly log: Logger, loaded: readonly SessionRow[] = []) {
    for (const r of loaded) this.written.set(r.session, r.nick);
  }

  static async load(db: Queryable, roomId: string): Promise<SessionRow[]> {
    const r = await db.query<{ session_jid: string; nick: string }>('SELECT session_jid, nick FROM room_sessions WHERE room_id = $1 ORDER BY session_jid', [roomId]);
    return r.rows.map((row) => ({ session: row.session_jid, nick: row.nick }));
  }

  /** Something changed: written within SESSION_JOURNAL_MS. */
  changed(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.flush();
    }, SESSION_JOURNAL_MS);
    this.timer.unref();
  }

  /** Writes the difference now (and waits for a write in flight first). */
  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    while (this.writing) await this.writing;
    this.writing = this.write().finally(() => { this.writing = null; });
    await this.writing;
  }

  /** Stops writing (the room is gone from this instance). */
  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private async write(): Promise<void> {
    const now = new Map<string, string>();
    for (const r of this.current()) now.set(r.session, r.nick);
    const gone = [...this.written.keys()].filter((s) => !now.has(s));
    const upserts = [...now].filter(([s, n]) => this.written.get(s) !== n);
    if (gone.length === 0 && upserts.length === 0) return;
    try {
      await this.db.query(WRITE_SQL, [this.roomId, this.epoch, gone, upserts.map(([s]) => s), upserts.map(([, n]) => n)]);
      this.written = now;
    } catch (err) {
      this.log.warn({ room: this.roomId, err: (err as Error).message }, 'cannot write the room occupants now; trying again');
      this.changed();
    }
  }
}
