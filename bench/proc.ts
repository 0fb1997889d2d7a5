// What Linux's /proc says about a process the bench started: CPU time spent and
// memory held. Readings of a process that has gone are null, never 0: a figure
// that was not measured must not look like one that was.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Clock ticks per second, the unit of utime and stime in /proc/PID/stat (proc(5)). */
export function clockTicksPerS(): number {
  try {
    const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return ticks > 0 ? ticks : 100;
  } catch {
    return 100; // Linux's USER_HZ nearly everywhere
  }
}

/** User + system CPU time of one process so far, in microseconds. */
export function cpuUs(pid: number, ticksPerS: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after its closing one.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime: fields 14 and 15 of stat
    return Math.round((ticks / ticksPerS) * 1e6);
  } catch {
    return null;
  }
}

/** CPU time of several processes (a server and its helpers) added up; null when any is gone. */
export function cpuUsOfAll(pids: readonly number[], ticksPerS: number): number | null {
  let total = 0;
  for (const pid of pids) {
    const us = cpuUs(pid, ticksPerS);
    if (us === null) return null;
    total += us;
  }
  return pids.length === 0 ? null : total;
}

/** A line of /proc/PID/status in bytes: VmRSS (resident now) or VmHWM (the peak resident so far). */
export function statusBytes(pid: number, key: 'VmRSS' | 'VmHWM'): number | null {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith(`${key}:`));
    const kb = line === undefined ? NaN : Number(line.split(/\s+/)[1]);
    return Number.isFinite(kb) ? kb * 1024 : null;
  } catch {
    return null;
  }
}

/** CPU spent by `pids` between start() and stop(), in microseconds. */
export function cpuMeter(pids: readonly number[], ticksPerS = clockTicksPerS()): { stop(): number | null } {
  const before = cpuUsOfAll(pids, ticksPerS);
  return {
    stop() {
      const after = cpuUsOfAll(pids, ticksPerS);
      return before === null || after === null ? null : after - before;
    },
  };
}

/** Samples VmRSS every `everyMs` until stopped; the highest reading (null if none could be read). */
export function rssPeak(pid: number, everyMs: number): { stop(): number | null } {
  let peak: number | null = null;
  const sample = () => {
    const rss = statusBytes(pid, 'VmRSS');
    if (rss !== null && (peak === null || rss > peak)) peak = rss;
  };
  sample();
  const timer = setInterval(sample, everyMs);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return peak;
    },
  };
}
