// A room is one world shard: its own queue, engine instance, projection and rows.
// This file wires the six stages together for one batch (DESIGN §3); each stage
// lives in its own module.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { Db } from '../db/index.ts';
import { Batcher } from '../batcher/index.ts';
import { engineStateOf, isPlayer, loadRoom, type LoadedRoom, type Projection, type RoomWorld } from '../contextualization/index.ts';
import type { Engine } from '../engines/index.ts';
import { plan } from '../planning/index.ts';
import { commitBatch, committedYet, FenceError, type Outcome } from '../actuation/index.ts';
import { render, type Rendered } from '../effects/index.ts';
import type { Submission } from '../negotiation/index.ts';
import { ACTUATION_RETRIES_MAX, ACTUATION_RETRY_MS, COMMIT_OUTCOME_WAIT_MS_MAX, ROOM_QUEUE_COMMANDS_MAX } from '../constants.ts';
import { encodeBatch, makeResident, Names, releasedBy, type Encoded } from './encode.ts';
import { CharacterIndex } from './characters.ts';
import { Affiliations, statementsFor as affiliationStatements, type AffiliationChange } from './affiliations.ts';
import { noTelemetry, type StageDurations, type Telemetry } from '../metrics/index.ts';

export type StageTimes = StageDurations;

export interface RoomOptions {
  readonly db: Db;
  readonly log: Logger;
  readonly loaded: LoadedRoom;
  readonly engine: Engine;
  readonly tickMs: number;
  readonly batchMax: number;
  /** How often wandering NPCs get a turn while players are in the room; 0: never. */
  readonly npcTickMs: number;
  /** Delivers rendered messages (after COMMIT) to the players' sessions. */
  readonly deliver: (room: Room, rendered: Rendered, batch: readonly Submission[]) => void;
  /** Tells the senders of a batch that did not commit (or whose outcome is unknown) what became of it. */
  readonly refuse: (room: Room, batch: readonly Submission[], reason: string) => void;
  /** Tells the senders of commands nobody could act on (no such player by then). */
  readonly unanswerable?: (room: Room, commands: readonly Submission[]) => void;
  /** Called after every batch, committed or not (benches). */
  readonly onBatch?: (room: Room, size: number, times: StageTimes) => void;
  readonly telemetry?: Telemetry;
  /** The room's affiliations (XEP-0045 §5.2), loaded with it; absent: nobody has one. Batches keep them. */
  readonly affiliations?: Affiliations;
  /** Whether a bare JID may build in this world (owners and admins, wired from `affiliations.isBuilder`). Absent: nobody may. */
  readonly isBuilder?: (jid: string) => boolean;
  /** The owner epoch this instance claimed the room at: every batch is fenced on it. Absent: no ownership fence (one process). */
  readonly epoch?: number;
  /** Called once when the fence says another instance claimed the room since: the caller stops serving it. */
  readonly lost?: (room: Room) => void;
}

const NOBODY = (): boolean => false;

export class Room {
  readonly id: string;
  private worldNow: RoomWorld;
  private projectionNow: Projection;
  private readonly batcher: Batcher<Submission>;
  private names: Names;
  private characters: CharacterIndex;
  private readonly npcTimer: NodeJS.Timeout | undefined;
  private abandoned = false;
  private readonly telemetry: Telemetry;
  /** Who owns, administers, is a member of or is banned from this world: committed changes only. */
  readonly affiliations: Affiliations;

  constructor(private readonly options: RoomOptions) {
    this.affiliations = options.affiliations ?? new Affiliations();
    this.worldNow = options.loaded.world;
    this.id = this.worldNow.id;
    this.telemetry = options.telemetry ?? noTelemetry;
    this.projectionNow = options.loaded.projection;
    this.names = new Names(this.world, this.projectionNow.characters);
    this.characters = new CharacterIndex(this.projectionNow.characters, this.world.npcs);
    options.engine.load(engineStateOf(this.world, this.projectionNow));
    this.batcher = new Batcher({
      tickMs: options.tickMs, batchMax: options.batchMax, queueMax: ROOM_QUEUE_COMMANDS_MAX,
      process: (batch) => this.runBatchSafely(batch),
    });
    const wanderers = this.world.npcWander.some((w) => w === 1);
    if (options.npcTickMs > 0 && wanderers) {
      this.npcTimer = setInterval(() => this.npcTurn(), options.npcTickMs);
      this.npcTimer.unref();
    }
  }

  /** The world's own turn, logged like any command, while someone is there to see it. */
  private npcTurn(): void {
    if (this.projectionNow.characters.some((c) => c.present && isPlayer(this.world, c))) this.submit({ command: { kind: 'tick', nick: '' } });
  }

  /** The committed state. */
  get projection(): Projection {
    return this.projectionNow;
  }

  /** The committed world: its map grows as builders build. */
  get world(): RoomWorld {
    return this.worldNow;
  }

  /** Whether this bare JID may build here; `help @` and the building commands ask. */
  isBuilder(jid: string): boolean {
    return (this.options.isBuilder ?? NOBODY)(jid);
  }

  /** Memory the room's engine holds (WASM linear memory, or the js engine's heap array). */
  engineMemoryBytes(): number {
    return this.options.engine.memoryBytes();
  }

  /** The committed character with this nick, if any. */
  character(nick: string) {
    const id = this.names.idOf(nick);
    return id === undefined ? undefined : this.projectionNow.characters[id];
  }

  /** The committed character whose nick compares equal to `key` (RFC 8266 §2.4). */
  characterByKey(key: string) {
    return this.characters.byNickKey(key);
  }

  /** Player characters the world keeps. */
  get characterCount(): number {
    return this.characters.size;
  }

  charactersOwnedBy(jid: string): number {
    return this.characters.ownedCount(jid);
  }

  /**
   * False when the room's queue is full, or the room was given up. `always`: past
   * a full queue too (a leave must never be refused; there is one per occupant).
   */
  submit(submission: Submission, { always = false } = {}): boolean {
    return !this.abandoned && this.batcher.submit(submission, always);
  }

  /** What is queued goes in a batch now instead of at the end of its tick (joins the XMPP server has room for). */
  hurry(): void {
    if (!this.abandoned) this.batcher.hurry();
  }

  /** Submissions that go in one batch, or not at all (an admin request and its kicks). */
  submitAll(submissions: readonly Submission[]): boolean {
    return !this.abandoned && this.batcher.submitAll(submissions);
  }

  /** Another instance owns the room now: take nothing more, and stop the tick; what is queued is never written. */
  abandon(): void {
    this.abandoned = true;
    this.batcher.stop();
    clearInterval(this.npcTimer);
  }

  /** Runs everything queued (shutdown); the NPCs stop wandering. */
  drain(): Promise<void> {
    clearInterval(this.npcTimer);
    return this.batcher.drain();
  }

  /**
   * A broken invariant in one batch must not take the server down. Before COMMIT
   * the batch is refused and the room goes on from its committed state; after
   * COMMIT it happened, and nobody is told otherwise.
   */
  private async runBatchSafely(batch: Submission[]): Promise<void> {
    const progress: { committed: boolean; affiliated: readonly AffiliationChange[] } = { committed: false, affiliated: [] };
    try {
      await this.runBatch(batch, progress);
    } catch (err) {
      this.options.log.error({ room: this.id, err, committed: progress.committed }, 'batch failed');
      if (progress.committed) return this.options.refuse(this, batch, COMMITTED_UNSHOWN);
      this.affiliations.settle(progress.affiliated, false);
      this.rollback();
      this.options.refuse(this, batch, 'Something went wrong on our side, so nothing happened. Please try again.');
    }
  }

  private async runBatch(batch: Submission[], progress: { committed: boolean; affiliated: readonly AffiliationChange[] }): Promise<void> {
    if (this.abandoned) return this.options.refuse(this, batch, MOVED);
    const t0 = performance.now();
    const before = this.projectionNow;
    const worldBefore = this.worldNow;
    const encoded = encodeBatch({
      world: worldBefore, projection: before, names: this.names, isBuilder: (jid) => this.isBuilder(jid),
      nickHeld: (key) => this.characters.byNickKey(key) !== undefined,
    }, batch);
    progress.affiliated = encoded.affiliated;
    if (encoded.unacted.length > 0) this.options.unanswerable?.(this, encoded.unacted);
    this.decline(encoded.declined);
    makeResident(this.options.engine, worldBefore, before, encoded);
    const t1 = performance.now();
    const output = this.options.engine.run(encoded);
    const t2 = performance.now();
    const planned = plan(this.id, this.projectionNow, output.changes, encoded.created, encoded.renamed, worldBefore, encoded.texts.map((t) => t.text));
    const t3 = performance.now();
    const committed = await this.actuate([...planned.statements, ...affiliationStatements(this.id, encoded.affiliated)], encoded.log);
    const t4 = performance.now();
    if (committed === 'committed') {
      progress.committed = true;
      this.projectionNow = planned.next;
      this.worldNow = planned.world;
      this.affiliations.settle(encoded.affiliated, true);
      const released = releasedBy(encoded, planned.next);
      if (planned.world !== worldBefore) {
        // Built: new things and creatures have names; index everything again (building is rare).
        this.names = new Names(planned.world, planned.next.characters);
        this.characters = new CharacterIndex(planned.next.characters, planned.world.npcs);
      } else {
        this.names.admit(encoded.created, encoded.renamed, before.characters, released);
        this.characters.admit([...encoded.created.keys()].map((id) => planned.next.characters[id]!),
          [...encoded.renamed.keys()].map((id) => ({ before: before.characters[id] ?? planned.next.characters[id]!, after: planned.next.characters[id]! })), released);
      }
      const rendered = render(output, { world: planned.world, before, after: planned.next, texts: encoded.texts });
      this.options.deliver(this, rendered, encoded.accepted);
    } else if (committed === 'lost') {
      this.affiliations.settle(encoded.affiliated, false);
      this.options.refuse(this, encoded.accepted, MOVED);
      this.abandon();
      this.options.lost?.(this);
    } else {
      this.affiliations.settle(encoded.affiliated, false);
      if (committed !== 'failed') await this.reload();
      this.rollback();
      for (const _ of encoded.accepted) this.telemetry.commandRefused(this.id, 'not-committed');
      this.options.refuse(this, encoded.accepted, committed === 'unknown' ? OUTCOME_UNKNOWN : 'The world could not save that, so nothing happened. Please try again.');
    }
    const t5 = performance.now();
    const times = { contextualizeMs: t1 - t0, transformMs: t2 - t1, planMs: t3 - t2, actuateMs: t4 - t3, renderMs: t5 - t4 };
    this.telemetry.batch(this.id, batch.length, times);
    this.options.onBatch?.(this, batch.length, times);
  }

  /** Commands the room will not run (building by a non-builder...): each sender hears why, as for a batch that did not commit. */
  private decline(declined: Encoded['declined']): void {
    const byReason = new Map<string, Submission[]>();
    for (const { submission, reason } of declined) byReason.set(reason, [...(byReason.get(reason) ?? []), submission]);
    for (const [reason, submissions] of byReason) this.options.refuse(this, submissions, reason);
  }

  private async actuate(statements: Parameters<typeof commitBatch>[1]['statements'], log: readonly unknown[]): Promise<'committed' | 'fenced' | 'lost' | 'unknown' | 'failed'> {
    const record = { roomId: this.id, version: this.projectionNow.version, statements, log, ...(this.options.epoch === undefined ? {} : { epoch: this.options.epoch }) };
    for (let attempt = 1; attempt <= ACTUATION_RETRIES_MAX; attempt++) {
      let outcome = await commitBatch(this.options.db, record);
      if (outcome.committed === 'unknown') outcome = await this.learnOutcome(outcome.batchId, outcome.error);
      if (outcome.committed === true) return 'committed';
      if (outcome.committed === 'unknown') return 'unknown'; // still unknowable: the database is the truth, read it again
      if (outcome.error instanceof FenceError) {
        this.telemetry.fenceConflict(this.id);
        if (outcome.error.lost === 'owner') {
          this.options.log.error({ room: this.id, epoch: this.options.epoch }, 'fenced: another instance claimed the room; this one stops serving it');
          return 'lost';
        }
        this.options.log.error({ room: this.id, err: outcome.error.message }, 'fenced: another writer moved the room on');
        return 'fenced';
      }
      this.options.log.warn({ room: this.id, attempt, err: outcome.error.message }, 'batch did not commit');
      if (attempt < ACTUATION_RETRIES_MAX) this.telemetry.transactionRetry(this.id);
      await sleep(ACTUATION_RETRY_MS * attempt);
    }
    return 'failed';
  }

  /**
   * The transaction broke where it may have committed and the database could not
   * be asked: ask again until it answers (batches of a room wait; nothing is shown
   * and nothing is retried before we know).
   */
  private async learnOutcome(batchId: string, error: Error): Promise<Outcome> {
    this.options.log.warn({ room: this.id, err: error.message }, 'batch outcome unknown; asking the database until it answers');
    const deadline = Date.now() + COMMIT_OUTCOME_WAIT_MS_MAX;
    for (let pause = ACTUATION_RETRY_MS; Date.now() < deadline; pause = Math.min(pause * 2, 1000)) {
      await sleep(pause);
      const known = await committedYet(this.options.db, this.id, batchId);
      if (known === true) return { committed: true, batchId };
      if (known === false) return { committed: false, error };
    }
    return { committed: 'unknown', batchId, error };
  }

  /**
   * After a fence refusal the database is ahead of us: read the room again and go on
   * from its committed state, never overwriting it. (Which instance serves a room
   * is lib/rooms/ownership.ts.)
   */
  private async reload(): Promise<void> {
    try {
      const fresh = await loadRoom(this.options.db, this.id);
      if (!fresh) return;
      this.projectionNow = fresh.projection;
      this.worldNow = fresh.world;
      this.names = new Names(this.worldNow, fresh.projection.characters);
      this.characters = new CharacterIndex(fresh.projection.characters, this.worldNow.npcs);
      this.affiliations.replaceWith(await Affiliations.load(this.options.db, this.id));
    } catch (err) {
      this.options.log.error({ room: this.id, err: (err as Error).message }, 'reload after fence failed');
    }
  }

  /** Back to the last committed state: the projection is the truth, the engine follows. */
  private rollback(): void {
    this.options.engine.load(engineStateOf(this.world, this.projectionNow));
  }
}

/** A batch committed, but showing its effects failed: it happened; the players must not hear that it did not. */
const COMMITTED_UNSHOWN = 'That was done, but we could not show you what happened. Type look to see where you stand.';
/** The batch was not written because the room is served by another instance now. */
const MOVED = 'This world moved to another server before that was saved, so nothing happened. Please try again.';
/** The database could not tell whether the batch committed (the room reloaded whatever it holds). */
const OUTCOME_UNKNOWN = 'We could not tell whether that was saved. Type look to see where you stand.';
