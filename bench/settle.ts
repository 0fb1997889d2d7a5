// Between two parts of the bench, the server may still be busy with the last one
// (a thousand clients leaving a room is half a million presences): the next part
// starts once it has gone quiet, so that it does not pay for the one before.
import { setTimeout as sleep } from 'node:timers/promises';
import { clockTicksPerS, cpuUsOfAll } from './proc.ts';

/** Quiet: under this share of one core over one window. */
const BUSY_SHARE_MAX = 0.1;
const WINDOW_MS = 500;
/** Bound on the wait; a server still busy after it is left to it. */
const SETTLE_MS_MAX = 30000;

/** Resolves once `pids` use little CPU (or are gone), at most SETTLE_MS_MAX later; true when they went quiet. */
export async function settle(pids: readonly number[]): Promise<boolean> {
  const ticksPerS = clockTicksPerS();
  const deadline = Date.now() + SETTLE_MS_MAX;
  let before = cpuUsOfAll(pids, ticksPerS);
  while (before !== null && Date.now() < deadline) {
    await sleep(WINDOW_MS);
    const after = cpuUsOfAll(pids, ticksPerS);
    if (after === null) return true;
    if (after - before < BUSY_SHARE_MAX * WINDOW_MS * 1000) return true;
    before = after;
  }
  return before === null;
}
