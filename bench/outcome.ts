// A bench step that fails leaves its reason in the results and the bench goes on:
// one broken part (a server that would not start, Flux dying under load) must not
// cost the figures of every other part.

export interface Failed {
  readonly error: string;
}

export type Outcome<T> = T | Failed;

export function isFailed(v: unknown): v is Failed {
  return typeof v === 'object' && v !== null && typeof (v as Failed).error === 'string';
}

/** Runs a step; a throw becomes { error }, said on `log` too. */
export async function attempt<T>(what: string, step: () => Promise<T>, log: (line: string) => void): Promise<Outcome<T>> {
  try {
    return await step();
  } catch (err) {
    const error = `${what}: ${(err as Error)?.message ?? String(err)}`.split('\n')[0]!;
    log(`  FAILED ${error}`);
    return { error };
  }
}

/** A figure from a step that may have failed: the figure, or the failure carried on. */
export function figure<T, R>(o: Outcome<T>, pick: (v: T) => R): Outcome<R> {
  return isFailed(o) ? o : pick(o);
}
