// Capacity, not a ladder step: the highest offered load a side still serves within
// the latency bound. Double the load until a step fails, then bisect between the
// last pass and the first failure, in a bounded number of steps. A ladder's "best
// step" says only that the capacity is somewhere above it.

/** A step passes when its p99 is at most this ... */
export const P99_MS_MAX = 150;
/** ... and at least this share of what was sent was answered. */
export const ANSWERED_SHARE_MIN = 0.98;

export interface StepOutcome {
  readonly sent: number;
  readonly answered: number;
  readonly p99Ms: number | null;
}

export interface SearchOptions {
  /** The first offered load tried, per second. */
  readonly startPerS: number;
  /** Bound on the steps run, doubling and bisecting together. */
  readonly stepsMax: number;
  /** Bisecting stops when pass and failure are closer than this share of the pass (and at 1/s). */
  readonly resolutionShare: number;
  /** Asked before each step after the first: true ends the search there (a time budget spent). */
  readonly outOfTime?: () => boolean;
}

export interface Capacity<T extends StepOutcome> {
  /** The highest offered load that passed; 0 when none did. */
  readonly perS: number;
  /** The lowest that failed; null when every step passed (the capacity is at least perS). */
  readonly failedPerS: number | null;
  readonly steps: readonly { readonly offeredPerS: number; readonly passed: boolean; readonly outcome: T }[];
  /** The time budget ended the search before its resolution or its step bound did. */
  readonly cutShort: boolean;
}

export function passes(o: StepOutcome): boolean {
  return o.sent > 0 && o.answered >= ANSWERED_SHARE_MIN * o.sent && o.p99Ms !== null && o.p99Ms <= P99_MS_MAX;
}

/** The next load to try, or null when the search is done. */
export function nextLoad(passPerS: number, failPerS: number | null, resolutionShare: number): number | null {
  if (failPerS === null) return passPerS * 2;
  const gap = failPerS - passPerS;
  if (gap <= Math.max(1, passPerS * resolutionShare)) return null;
  return Math.round((passPerS + failPerS) / 2);
}

export async function findCapacity<T extends StepOutcome>(run: (offeredPerS: number) => Promise<T>, o: SearchOptions): Promise<Capacity<T>> {
  const steps: { offeredPerS: number; passed: boolean; outcome: T }[] = [];
  let pass = 0;
  let fail: number | null = null;
  let cutShort = false;
  for (let load: number | null = o.startPerS; load !== null && steps.length < o.stepsMax;) {
    if (steps.length > 0 && o.outOfTime?.()) {
      cutShort = true;
      break;
    }
    const outcome = await run(load);
    const passed = passes(outcome);
    steps.push({ offeredPerS: load, passed, outcome });
    if (passed) pass = Math.max(pass, load);
    else fail = fail === null ? load : Math.min(fail, load);
    load = nextLoad(pass, fail, o.resolutionShare);
  }
  return { perS: pass, failedPerS: fail, steps, cutShort };
}
