// A room is one world shard: its own queue, engine instance, projection and rows.
// This file wires the six stages together for one batch (DESIGN §3); each stage
// lives in its own module.
import type { Logger } from 'pino';
import type { Db } from '../db/index.ts';
import { Batcher } from '../batcher/index.ts';
import { loadRoom, type LoadedRoom, type Projection, type RoomWorld } from '../contextualization/index.ts';
import { Cmd, COMMAND_I32S, tablesOf, type Engine } from '../engines/index.ts';
import { plan, type NewCharacters } from '../planning/index.ts';
import { commitBatch, FenceError } from '../actuation/index.ts';
import { render, type Message } from '../effects/index.ts';
import type { Submission } from '../negotiation/index.ts';
import { ACTUATION_RETRIES_MAX, ACTUATION_RETRY_MS, ROOM_QUEUE_COMMANDS_MAX } from '../constants.ts';

export interface StageTimes {
  contextualizeMs: number;
  transformMs: number;
  planMs: number;
  actuateMs: number;
  renderMs: number;
}

export interface RoomOptions {
  readonly db: Db;
  readonly log: Logger;
  readonly loaded: LoadedRoom;
  readonly engine: Engine;
  readonly tickMs: number;
  readonly batchMax: number;
  /** Delivers rendered messages (after COMMIT) to the players' sessions. */
  readonly deliver: (room: Room, messages: Message[], batch: readonly Submission[]) => void;
  /** Tells the senders of a batch that did not commit that nothing happened. */
  readonly refuse: (room: Room, batch: readonly Submission[], reason: string) => void;
  /** Called after every batch, committed or not (metrics, benches). */
  readonly onBatch?: (room: Room, size: number, times: StageTimes) => void;
}

/** What Contextualization prepares for one batch. */
interface Encoded {
  readonly packed: Int32Array;
  readonly texts: string[];
  readonly created: Map<number, { nick: string; jid: string }>;
  readonly log: unknown[];
  readonly accepted: Submission[];
}

export class Room {
  readonly id: string;
  readonly world: RoomWorld;
  private projectionNow: Projection;
  private readonly batcher: Batcher<Submission>;
  private readonly byNick = new Map<string, number>();

  constructor(private readonly options: RoomOptions) {
    this.world = options.loaded.world;
    this.id = this.world.id;
    this.projectionNow = options.loaded.projection;
    this.projectionNow.characters.forEach((c) => this.byNick.set(c.nick, c.id));
    options.engine.load(tablesOf(this.projectionNow.characters));
    this.batcher = new Batcher({
      tickMs: options.tickMs, batchMax: options.batchMax, queueMax: ROOM_QUEUE_COMMANDS_MAX,
      process: (batch) => this.runBatchSafely(batch),
    });
  }

  /** The committed state. */
  get projection(): Projection {
    return this.projectionNow;
  }

  /** The committed character with this nick, if any. */
  character(nick: string) {
    const id = this.byNick.get(nick);
    return id === undefined ? undefined : this.projectionNow.characters[id];
  }

  /** False when the room's queue is full. */
  submit(submission: Submission): boolean {
    return this.batcher.submit(submission);
  }

  /** Runs everything queued (shutdown). */
  drain(): Promise<void> {
    return this.batcher.drain();
  }

  /** A broken invariant in one batch must not take the server down: that batch is refused, the room goes on from its committed state. */
  private async runBatchSafely(batch: Submission[]): Promise<void> {
    try {
      await this.runBatch(batch);
    } catch (err) {
      this.options.log.error({ room: this.id, err }, 'batch failed');
      this.rollback();
      this.options.refuse(this, batch, 'Something went wrong on our side, so nothing happened. Please try again.');
    }
  }

  private async runBatch(batch: Submission[]): Promise<void> {
    const t0 = performance.now();
    const encoded = this.encode(batch);
    const t1 = performance.now();
    const output = this.options.engine.run(encoded.packed);
    const t2 = performance.now();
    const planned = plan(this.id, this.projectionNow, output.changes, encoded.created);
    const t3 = performance.now();
    const committed = await this.actuate(planned.statements, encoded.log);
    const t4 = performance.now();
    if (committed === 'committed') {
      this.projectionNow = planned.next;
      for (const [id, names] of encoded.created) this.byNick.set(names.nick, id);
      const messages = render(output.effects, { world: this.world, projection: planned.next, texts: encoded.texts });
      this.options.deliver(this, messages, encoded.accepted);
    } else {
      if (committed === 'fenced') await this.reload();
      this.rollback();
      this.options.refuse(this, encoded.accepted, 'The world could not save that, so nothing happened. Please try again.');
    }
    const t5 = performance.now();
    this.options.onBatch?.(this, batch.length, { contextualizeMs: t1 - t0, transformMs: t2 - t1, planMs: t3 - t2, actuateMs: t4 - t3, renderMs: t5 - t4 });
  }

  /**
   * Contextualization for one batch: every acting character resident (a first join
   * gets the next free slot), commands packed for the engine, the log row prepared.
   */
  private encode(batch: readonly Submission[]): Encoded {
    const created = new Map<number, { nick: string; jid: string }>();
    const pendingIds = new Map<string, number>();
    const packed = new Int32Array(batch.length * COMMAND_I32S);
    const texts: string[] = [];
    const log: unknown[] = [];
    const accepted: Submission[] = [];
    let slots = this.projectionNow.characters.length;
    for (const submission of batch) {
      const c = submission.command;
      let actor = this.byNick.get(c.nick) ?? pendingIds.get(c.nick);
      if (actor === undefined) {
        if (c.kind !== 'join' || c.jid === undefined) continue; // nobody to act: the edge never sends this
        actor = slots++;
        pendingIds.set(c.nick, actor);
        created.set(actor, { nick: c.nick, jid: c.jid });
      }
      const at = accepted.length * COMMAND_I32S;
      packed[at] = Cmd[c.kind];
      packed[at + 1] = actor;
      packed[at + 2] = c.kind === 'say' ? texts.push(c.text ?? '') - 1 : (c.direction ?? 0);
      log.push(c);
      accepted.push(submission);
    }
    if (slots > this.projectionNow.characters.length) this.options.engine.load(tablesOf(this.projectionNow.characters, slots));
    return { packed: packed.subarray(0, accepted.length * COMMAND_I32S), texts, created, log, accepted };
  }

  private async actuate(statements: Parameters<typeof commitBatch>[1]['statements'], log: unknown[]): Promise<'committed' | 'fenced' | 'failed'> {
    const record = { roomId: this.id, version: this.projectionNow.version, statements, log };
    for (let attempt = 1; attempt <= ACTUATION_RETRIES_MAX; attempt++) {
      const outcome = await commitBatch(this.options.db, record);
      if (outcome.committed) return 'committed';
      if (outcome.error instanceof FenceError) {
        this.options.log.error({ room: this.id, err: outcome.error.message }, 'fenced: another writer moved the room on');
        return 'fenced';
      }
      this.options.log.warn({ room: this.id, attempt, err: outcome.error.message }, 'batch did not commit');
      await new Promise((resolve) => setTimeout(resolve, ACTUATION_RETRY_MS * attempt));
    }
    return 'failed';
  }

  /**
   * After a fence refusal the database is ahead of us: read the room again and go on
   * from its committed state, never overwriting it. (Several instances on one
   * database, with advisory locks deciding who serves a room, are issue #7.)
   */
  private async reload(): Promise<void> {
    try {
      const fresh = await loadRoom(this.options.db, this.id);
      if (!fresh) return;
      this.projectionNow = fresh.projection;
      this.byNick.clear();
      fresh.projection.characters.forEach((c) => this.byNick.set(c.nick, c.id));
    } catch (err) {
      this.options.log.error({ room: this.id, err: (err as Error).message }, 'reload after fence failed');
    }
  }

  /** Back to the last committed state: the projection is the truth, the engine follows. */
  private rollback(): void {
    this.options.engine.load(tablesOf(this.projectionNow.characters));
  }
}
