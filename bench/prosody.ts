// Through a real Prosody (issue #8): many real client connections drive Flux, and,
// for comparison, a trivial echo component on the same server and machine; the
// ratio shows what is Flux's and what is the server's. Then latency with many
// clients at 1 command/s each and FLUX_TICK_MS=50. Flux runs as its own process
// (bin/flux serve, on DATABASE_URL in a private schema, else embedded); Prosody is its own process; the load generator and the echo
// component share this one. Part of `make bench`.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startPrivateProsody } from '../lib/demo/prosody.ts';
import { ROOT_DIR } from '../lib/config/index.ts';
import { ms, runLoad, type LoadReport } from '../lib/load/index.ts';
import { startEcho } from '../lib/load/echo.ts';
import { schemaUrl } from './databases.ts';
import { once } from 'node:events';

const QUICK = process.env.BENCH_QUICK === '1';
const GAME = 'game.localhost';
const ECHO = 'echo.localhost';
const ANON = 'anon.localhost';

export interface ProsodyFigures {
  /** Offered load per step: clients x rate. */
  readonly steps: { offered: number; flux: LoadReport; echo: LoadReport }[];
  readonly fluxCps: number;
  readonly echoCps: number;
  readonly manyClients: LoadReport;
}

export async function benchProsody(progress: (line: string) => void): Promise<ProsodyFigures> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'flux-bench-prosody-'));
  const prosody = await startPrivateProsody({
    dir: path.join(dir, 'prosody'), componentDomain: GAME, componentSecret: 'bench', anonymousHost: ANON,
    extraComponents: [{ domain: ECHO, secret: 'echo' }],
  });
  let flux: ChildProcess | undefined;
  const echo = await startEcho(`xmpp://127.0.0.1:${prosody.componentPort}`, ECHO, 'echo');
  const database = await schemaUrl();
  try {
    flux = await startFlux(prosody.componentPort, dir, database.url);
    const service = `xmpp://127.0.0.1:${prosody.c2sPort}`;
    const seconds = QUICK ? 5 : 15;
    const clients = QUICK ? 20 : 50;
    const rates = QUICK ? [10, 40] : [10, 20, 40, 80];
    const steps = [];
    for (const rate of rates) {
      progress(`  ${clients} clients x ${rate}/s through Prosody: echo component, then Flux`);
      const e = await runLoad({ service, domain: ANON, target: `bench@${ECHO}`, clients, rate, seconds, echo: true });
      const f = await runLoad({ service, domain: ANON, target: `realm@${GAME}`, clients, rate, seconds, saysOnly: true });
      steps.push({ offered: clients * rate, flux: f, echo: e });
      progress(`    offered ${clients * rate}/s: echo answered ${e.answeredPerS}/s (p99 ${ms(e.p99Ms)}), Flux answered ${f.answeredPerS}/s (p99 ${ms(f.p99Ms)})`);
    }
    const many = QUICK ? 200 : 1000;
    progress(`  ${many} clients at 1 command/s each (FLUX_TICK_MS=50)`);
    const manyClients = await runLoad({ service, domain: ANON, target: `realm@${GAME}`, clients: many, rate: 1, seconds: QUICK ? 10 : 20, progress });
    return {
      steps, manyClients,
      fluxCps: Math.max(...steps.map((st) => st.flux.answeredPerS)),
      echoCps: Math.max(...steps.map((st) => st.echo.answeredPerS)),
    };
  } finally {
    flux?.kill('SIGTERM');
    if (flux && flux.exitCode === null) await once(flux, 'exit');
    await database.drop();
    await echo.stop();
    await prosody.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function startFlux(componentPort: number, dir: string, databaseUrl: string): Promise<ChildProcess> {
  const child = spawn(path.join(ROOT_DIR, 'bin/flux'), ['serve'], {
    env: {
      ...process.env, FLUX_XMPP_SERVICE: `xmpp://127.0.0.1:${componentPort}`, FLUX_XMPP_DOMAIN: GAME, FLUX_XMPP_SECRET: 'bench',
      DATABASE_URL: databaseUrl, FLUX_DATA_DIR: path.join(dir, 'flux'), FLUX_TICK_MS: '50', FLUX_COMMANDS_PER_S: '1000', FLUX_OCCUPANTS_MAX: '5000',
      FLUX_NPC_TICK_MS: '0', LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('"serving"') && resolve()); // read on, so the pipe never fills
    child.on('exit', (code) => reject(new Error(`flux exited with ${code}`)));
  });
  return child;
}

export function printProsody(r: ProsodyFigures): void {
  process.stdout.write('\nthrough Prosody (says answered per second; p50 / p99 ms from send to seeing it come back):\n  offered/s   echo answered   Flux answered   echo p50/p99    Flux p50/p99\n');
  for (const st of r.steps) {
    process.stdout.write(`  ${String(st.offered).padStart(9)}${String(st.echo.answeredPerS).padStart(16)}${String(st.flux.answeredPerS).padStart(16)}`
      + `${`${ms(st.echo.p50Ms)} / ${ms(st.echo.p99Ms)}`.padStart(22)}${`${ms(st.flux.p50Ms)} / ${ms(st.flux.p99Ms)}`.padStart(22)}\n`);
  }
  process.stdout.write(`  best: Flux ${r.fluxCps}/s, echo ${r.echoCps}/s, ratio ${(r.fluxCps / r.echoCps).toFixed(2)}\n`);
  const m = r.manyClients;
  process.stdout.write(`  ${m.clients} clients at 1/s: p50 ${ms(m.p50Ms)}, p99 ${ms(m.p99Ms)}, max ${ms(m.maxMs)} (${m.answered} measured, ${m.errors} errors)\n`);
}
