// What a result was measured on: the commit (and whether the tree differed from
// it where the measured code lives), the machine and the date. All read here, by
// the script, so that no figure in latest.json is typed by hand.
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { ROOT_DIR } from '../lib/config/index.ts';

/** Where the code a figure depends on lives; a change elsewhere (docs) does not make a result dirty. */
const MEASURED_PATHS = ['lib', 'wasm', 'bench'];

export interface Commit {
  /** git rev-parse HEAD, or null outside a git checkout. */
  readonly sha: string | null;
  /** Uncommitted changes (or untracked files) under lib/, wasm/ or bench/. */
  readonly dirty: boolean;
}

export interface Machine {
  readonly cpu: string | null;
  readonly cores: number;
  readonly memoryBytes: number;
  readonly node: string;
}

function git(args: string[]): string {
  return execFileSync('git', args, { cwd: ROOT_DIR, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
}

export function currentCommit(): Commit {
  try {
    const sha = git(['rev-parse', 'HEAD']);
    // bench/results is what a run writes: it does not make the next run dirty.
    const changes = git(['status', '--porcelain', '--', ...MEASURED_PATHS, ':!bench/results']);
    return { sha, dirty: changes !== '' };
  } catch {
    return { sha: null, dirty: false };
  }
}

export function currentMachine(): Machine {
  return { cpu: os.cpus()[0]?.model ?? null, cores: os.cpus().length, memoryBytes: os.totalmem(), node: process.version };
}
