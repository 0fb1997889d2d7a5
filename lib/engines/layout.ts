// The host owns the WASM memory and lays the tables out in it (STYLE.md, the
// AssemblyScript model). Offsets are in bytes, each table 8-byte aligned.
import { COMMAND_I32S, CHANGE_I32S, DIRECTION_COUNT, EFFECT_I32S } from './protocol.ts';

export interface Capacity {
  readonly locations: number;
  readonly characters: number;
  readonly commands: number;
}

export interface Layout {
  readonly exits: number;
  readonly charLocation: number;
  readonly charFlags: number;
  readonly commands: number;
  readonly changes: number;
  readonly effects: number;
  readonly end: number;
  readonly changesMax: number;
  readonly effectsMax: number;
}

/** Change records one command can write at most (join: created, location, present). */
export const CHANGES_PER_COMMAND_MAX = 3;
/** Effects one command can write: a description or a who list names everyone once, plus a header. */
/** Sizing guess for one pass over a batch: a say heard by a handful of people. */
export const EFFECTS_PER_COMMAND_TYPICAL = 16;

export function effectsPerCommandMax(characters: number): number {
  return 2 * characters + 2;
}

export function computeLayout(base: number, cap: Capacity): Layout {
  const align = (n: number) => (n + 7) & ~7;
  let at = align(base);
  const take = (i32s: number) => {
    const start = at;
    at = align(at + i32s * 4);
    return start;
  };
  const changesMax = cap.commands * CHANGES_PER_COMMAND_MAX;
  // Room for a typical batch in one pass, and always for a few of the largest commands;
  // the kernel stops and resumes when a batch would overflow it (wasm/assembly run()).
  const effectsMax = Math.max(cap.commands * EFFECTS_PER_COMMAND_TYPICAL, 4 * effectsPerCommandMax(cap.characters));
  return {
    exits: take(cap.locations * DIRECTION_COUNT),
    charLocation: take(cap.characters),
    charFlags: take(cap.characters),
    commands: take(cap.commands * COMMAND_I32S),
    changes: take(changesMax * CHANGE_I32S),
    effects: take(effectsMax * EFFECT_I32S),
    end: at,
    changesMax,
    effectsMax,
  };
}
