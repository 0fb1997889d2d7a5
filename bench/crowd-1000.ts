// A thousand players at once: 1,000 clients through a private
// Prosody into one Flux world, spread over its places, each typing one command a
// second of the game mix (lib/load/answers.ts), every command matched to its own
// answer. With the Flux process's peak resident memory over the run.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startPrivateProsody } from '../lib/demo/prosody.ts';
import { Crowd, type JoinReport, type StepReport } from '../lib/load/index.ts';
import { startFlux } from './flux-process.ts';
import { rssPeak, statusBytes } from './proc.ts';
import { ANON, describe, GAME } from './xmpp.ts';

/** How often the Flux process's resident memory is read. */
const RSS_SAMPLE_MS = 250;
/** Bound on the joins of the whole crowd (all in the world's first place: each is a presence to everyone there). */
const JOIN_WINDOW_MS = 120000;
/** Bound on waiting for the joins and the walk to be delivered before the measured step. */
const DRAIN_MS_MAX = 30000;

export interface CrowdFigures {
  readonly clients: number;
  readonly join: JoinReport;
  readonly loginFailed: number;
  readonly step: StepReport;
  /** Highest VmRSS seen while the crowd logged in, joined, walked and played. */
  readonly rssBytes: number | null;
  /** VmHWM at the end: the peak over the process's whole life (its start included). */
  readonly rssHwmBytes: number | null;
  /** VmRSS once Flux served, before the first client: what the crowd added is the difference. */
  readonly rssStartBytes: number | null;
}

export async function benchCrowd(clients: number, seconds: number, log: (line: string) => void): Promise<CrowdFigures> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'flux-bench-crowd-'));
  try {
    const prosody = await startPrivateProsody({ dir: path.join(dir, 'prosody'), componentDomain: GAME, componentSecret: 'bench', anonymousHost: ANON });
    try {
      const flux = await startFlux({ componentPort: prosody.componentPort, domain: GAME, secret: 'bench', dataDir: path.join(dir, 'flux') });
      const rssStartBytes = statusBytes(flux.pid, 'VmRSS');
      const rss = rssPeak(flux.pid, RSS_SAMPLE_MS);
      try {
        const run = await play(`xmpp://127.0.0.1:${prosody.c2sPort}`, clients, seconds, log);
        return { ...run, rssBytes: rss.stop(), rssHwmBytes: statusBytes(flux.pid, 'VmHWM'), rssStartBytes };
      } finally {
        rss.stop();
        await flux.stop();
      }
    } finally {
      await prosody.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function play(service: string, clients: number, seconds: number, log: (line: string) => void) {
  const crowd = await Crowd.login({ service, domain: ANON, target: `realm@${GAME}`, kind: 'flux', clients, progress: log });
  try {
    const join = await crowd.join(JOIN_WINDOW_MS);
    await crowd.spread();
    await crowd.quiet(DRAIN_MS_MAX);
    log(`  ${crowd.size} players at 1 command/s each for ${seconds} s`);
    const step = await crowd.drive(crowd.size, seconds, 'game');
    log(`  ${describe(step)}`);
    return { clients, join: { ...join, reasons: [...crowd.loginReasons, ...join.reasons] }, loginFailed: crowd.loginFailed, step };
  } finally {
    await crowd.stop();
  }
}
