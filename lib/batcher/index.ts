// Batcher (DESIGN §3 stage 2): one bounded queue per room. A batch closes when the
// tick since its first command passes or when it holds batchMax commands; batches
// of one queue run strictly one after another.
import { assert } from '../assert.ts';

export interface BatcherOptions<T> {
  readonly tickMs: number;
  readonly batchMax: number;
  readonly queueMax: number;
  readonly process: (batch: T[]) => Promise<void>;
}

export class Batcher<T> {
  private readonly queue: T[] = [];
  /** Parallel to `queue`: true where the item must be in the same batch as the next one (`submitAll`). */
  private readonly tied: boolean[] = [];
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  /** When the open batch's tick ends: set by its first command, also while another batch runs. */
  private dueMs = 0;
  /** After stop(), no tick runs a batch; only drain() does. */
  private stopped = false;

  constructor(private readonly options: BatcherOptions<T>) {
    assert(options.batchMax >= 1 && options.batchMax <= options.queueMax, 'a batch fits the queue');
  }

  get pending(): number {
    return this.queue.length;
  }

  /**
   * False when the queue is full: the caller must refuse the command with a reply.
   * `always` queues past the bound: for what must not be refused and is bounded elsewhere (one leave per occupant).
   */
  submit(item: T, always = false): boolean {
    if (this.queue.length >= this.options.queueMax && !always) return false;
    if (this.queue.length === 0) this.dueMs = performance.now() + this.options.tickMs;
    this.queue.push(item);
    this.tied.push(false);
    this.schedule();
    return true;
  }

  /**
   * Several items that run in one batch or not at all (an admin request and the
   * kicks it causes): all are queued, or none (false). A batch that would split
   * them grows past batchMax by at most the group's length.
   */
  submitAll(items: readonly T[], always = false): boolean {
    assert(items.length >= 1 && items.length <= this.options.batchMax, 'a group fits one batch');
    if (this.queue.length + items.length > this.options.queueMax && !always) return false;
    if (this.queue.length === 0) this.dueMs = performance.now() + this.options.tickMs;
    items.forEach((item, i) => {
      this.queue.push(item);
      this.tied.push(i < items.length - 1);
    });
    this.schedule();
    return true;
  }

  /** The open batch closes now, or as soon as the running one is done: what is queued need not wait for its tick. */
  hurry(): void {
    if (this.queue.length === 0 || this.stopped) return;
    this.dueMs = performance.now();
    this.clearTimer();
    this.schedule();
  }

  /** Closes the open batch now and resolves when the queue is empty and idle. */
  async drain(): Promise<void> {
    this.clearTimer();
    while (this.running || this.queue.length > 0) {
      if (this.running) await this.running;
      else this.start();
    }
  }

  /** Cancels the tick; queued commands stay queued until drain(). */
  stop(): void {
    this.clearTimer();
    this.stopped = true;
  }

  private schedule(): void {
    if (this.running || this.stopped) return;
    if (this.queue.length >= this.options.batchMax) this.start();
    else if (this.timer === null) this.timer = setTimeout(() => this.start(), Math.max(0, this.dueMs - performance.now()));
  }

  private start(): void {
    this.clearTimer();
    if (this.running || this.queue.length === 0) return;
    let size = Math.min(this.options.batchMax, this.queue.length);
    while (size < this.queue.length && this.tied[size - 1]) size++;
    const batch = this.queue.splice(0, size);
    this.tied.splice(0, size);
    // What stays queued was already waiting: its tick counts from now at the latest.
    if (this.queue.length > 0) this.dueMs = Math.min(this.dueMs, performance.now() + this.options.tickMs);
    this.running = this.options.process(batch).finally(() => {
      this.running = null;
      if (this.queue.length > 0) this.schedule();
    });
  }

  private clearTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}
