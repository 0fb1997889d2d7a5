// Through a real XMPP server, against the right peer: the server's
// own MUC (Prosody's or ejabberd's mod_muc) and Flux, each with one crowd of real
// clients (lib/load) in ONE room on the same server and machine, so that a say
// fans out to the same number of people on both sides. Per side: how long the
// crowd takes to join; the capacity in says per second (./capacity.ts: the
// highest offered load with p99 <= 150 ms and >= 98% answered); p50/p99 at half
// the MUC's capacity, with the CPU each process spent per stanza there. The echo
// component's capacity in round trips per second is the server's own ceiling.
// Flux runs as its own process (bin/flux serve); the server is its own process;
// the load generator and the echo component share this one.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startPrivateEjabberd } from '../lib/demo/ejabberd.ts';
import { startPrivateProsody } from '../lib/demo/prosody.ts';
import { freePort, type PrivateXmppServer } from '../lib/demo/private-server.ts';
import type { ServerKind } from '../lib/demo/servers.ts';
import { Crowd, ms, startEcho, type JoinReport, type StepReport, type TargetKind } from '../lib/load/index.ts';
import { findCapacity, type Capacity } from './capacity.ts';
import { isAlive, startFlux, type FluxProcess } from './flux-process.ts';
import { attempt, figure, isFailed, type Outcome } from './outcome.ts';
import { cpuMeter } from './proc.ts';
import { settle } from './settle.ts';

export const GAME = 'game.localhost';
export const ANON = 'anon.localhost';
const ECHO = 'echo.localhost';
const MUC = 'muc.localhost';
/** Deliveries per second the says search starts at, spread over the room: says/s = this / occupants. */
const START_DELIVERIES_PER_S = 5000;
/** Bound on waiting for a crowd's joins to be delivered before its first step (a thousand joins are half a million presences). */
const JOIN_DRAIN_MS_MAX = 30000;
/** Bisecting stops within 10% of the capacity. */
const RESOLUTION_SHARE = 0.1;

export interface Sizes {
  /** Clients in the one room, on both sides. */
  readonly roomClients: number;
  readonly stepS: number;
  readonly stepsMax: number;
  /** The step at half the MUC's capacity (the p50/p99 and CPU figures). */
  readonly halfStepS: number;
  readonly echoClients: number;
  readonly echoStartPerS: number;
  readonly echoStepsMax: number;
  /** Time budgets, so that a slow machine shortens the run instead of stretching it: joins not done by then fail ... */
  readonly joinWindowS: number;
  /** ... and no new step starts once a search has run this long. */
  readonly searchBudgetS: number;
  readonly echoBudgetS: number;
}

export function sizes(quick: boolean, env: NodeJS.ProcessEnv): Sizes {
  const roomClients = Number(env.BENCH_ROOM_CLIENTS) || (quick ? 50 : 1000);
  const echo = { echoStartPerS: 500 };
  return quick
    ? { roomClients, ...echo, stepS: 1, stepsMax: 3, halfStepS: 2, echoClients: 10, echoStepsMax: 2, joinWindowS: 20, searchBudgetS: 8, echoBudgetS: 4 }
    : { roomClients, ...echo, stepS: 4, stepsMax: 6, halfStepS: 8, echoClients: 50, echoStepsMax: 5, joinWindowS: 120, searchBudgetS: 45, echoBudgetS: 25 };
}

/** A side measured at one offered load, and the CPU each process spent on what was delivered there. */
export interface AtLoad {
  readonly step: StepReport;
  /** CPU microseconds per stanza the clients received (Flux's output). */
  readonly fluxUsPerStanza: number | null;
  /**
   * The server's CPU microseconds per stanza it routed: every stanza passes through it
   * once, from a client (counted as the clients sent it) or to a client (counted as
   * they received it); what goes to and from a component is one of those two.
   */
  readonly serverUsPerStanza: number | null;
}

export interface RoomSide {
  /** failed: logins and joins that failed, of the clients asked for. */
  readonly join: Outcome<JoinReport & { readonly loginFailed: number; readonly loginReasons: readonly string[] }>;
  readonly capacity: Outcome<Capacity<StepReport>>;
  readonly atHalfMuc: Outcome<AtLoad>;
}

export interface ServerRun {
  readonly muc: Outcome<RoomSide>;
  readonly flux: Outcome<RoomSide>;
  readonly echo: Outcome<Capacity<StepReport>>;
  readonly sizes: Sizes;
}

interface Context {
  readonly server: PrivateXmppServer;
  readonly flux: Outcome<FluxProcess>;
  readonly sizes: Sizes;
  readonly log: (line: string) => void;
}

export async function benchServer(kind: ServerKind, s: Sizes, log: (line: string) => void): Promise<ServerRun> {
  const dir = mkdtempSync(path.join(os.tmpdir(), `flux-bench-${kind}-`));
  try {
    const server = await startServer(kind, path.join(dir, kind));
    try {
      return await withServer(server, dir, s, log);
    } finally {
      await server.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function withServer(server: Started, dir: string, s: Sizes, log: (line: string) => void): Promise<ServerRun> {
  const echo = await attempt('the echo component did not start', () => startEcho(`xmpp://127.0.0.1:${server.echoPort}`, ECHO, 'echo'), log);
  const settings = { componentPort: server.componentPort, domain: GAME, secret: 'bench', dataDir: path.join(dir, 'flux') };
  const flux = await attempt('flux did not start', () => startFlux(settings), log);
  const ctx: Context = { server, flux, sizes: s, log };
  try {
    log(`  its mod_muc: ${s.roomClients} clients in one room`);
    const muc = await attempt('muc', () => roomSide(ctx, 'muc', null), log);
    const mucPerS = isFailed(muc) || isFailed(muc.capacity) ? null : muc.capacity.perS;
    log(`  Flux: ${s.roomClients} clients in one place of one world`);
    const fluxSide = isFailed(flux) ? flux : await attempt('flux', () => roomSide(ctx, 'flux', mucPerS), log);
    log(`  echo component: ${s.echoClients} clients, round trips`);
    const echoSide = isFailed(echo) ? echo : await attempt('echo', () => echoCapacity(ctx), log);
    return { muc, flux: fluxSide, echo: echoSide, sizes: s };
  } finally {
    if (!isFailed(flux)) await flux.stop();
    if (!isFailed(echo)) await echo.stop();
  }
}

/** A started server and the port the echo component connects to. */
type Started = PrivateXmppServer & { readonly echoPort: number };

async function startServer(kind: ServerKind, dir: string): Promise<Started> {
  const options = { dir, componentDomain: GAME, componentSecret: 'bench', anonymousHost: ANON, mucDomain: MUC };
  if (kind === 'prosody') {
    // Prosody routes a component by the domain it authenticated for: one port serves both.
    const server = await startPrivateProsody({ ...options, extraComponents: [{ domain: ECHO, secret: 'echo' }] });
    return Object.assign(server, { echoPort: server.componentPort });
  }
  const echoPort = await freePort();
  const server = await startPrivateEjabberd({ ...options, extraComponents: [{ domain: ECHO, secret: 'echo', port: echoPort }] });
  return Object.assign(server, { echoPort });
}

/** One side's crowd in its one room: join, capacity, then the step at half the MUC's capacity (its own, for the MUC). */
async function roomSide(ctx: Context, side: 'muc' | 'flux', mucPerS: number | null): Promise<RoomSide> {
  const target = side === 'muc' ? `bench-${Date.now()}@${MUC}` : `realm@${GAME}`;
  const crowd = await Crowd.login({ ...clientsOf(ctx), target, kind: side, clients: ctx.sizes.roomClients });
  try {
    const join = await attempt('join', async () => ({
      ...await crowd.join(ctx.sizes.joinWindowS * 1000), loginFailed: crowd.loginFailed, loginReasons: crowd.loginReasons,
    }), ctx.log);
    await crowd.quiet(JOIN_DRAIN_MS_MAX);
    const capacity = await attempt('capacity', () => searchSays(ctx, crowd, side), ctx.log);
    const halfOf = side === 'muc' ? figure(capacity, (c) => c.perS) : mucPerS;
    const atHalfMuc = await attempt('at half the MUC capacity', () => atHalf(ctx, crowd, side, halfOf), ctx.log);
    return { join, capacity, atHalfMuc };
  } finally {
    await crowd.stop();
    // Everyone leaving is a presence to everyone left: let the server (and Flux) finish before the next side.
    await settle([...ctx.server.processIds(), ...(side === 'flux' && !isFailed(ctx.flux) ? [ctx.flux.pid] : [])]);
  }
}

function searchSays(ctx: Context, crowd: Crowd, side: TargetKind): Promise<Capacity<StepReport>> {
  const startPerS = Math.max(1, Math.round(START_DELIVERIES_PER_S / Math.max(1, crowd.size)));
  return findCapacity(async (offeredPerS) => {
    const step = await crowd.drive(offeredPerS, ctx.sizes.stepS, 'says');
    ctx.log(`    ${side} ${offeredPerS} says/s offered: ${describe(step)}`);
    assertFluxAlive(ctx, side);
    return step;
  }, { startPerS, stepsMax: ctx.sizes.stepsMax, resolutionShare: RESOLUTION_SHARE, outOfTime: budget(ctx.sizes.searchBudgetS) });
}

async function atHalf(ctx: Context, crowd: Crowd, side: TargetKind, mucPerS: Outcome<number> | null): Promise<AtLoad> {
  if (mucPerS === null || isFailed(mucPerS) || mucPerS <= 0) throw new Error('the MUC passed no step: no capacity to take half of');
  const offeredPerS = Math.round(mucPerS * 5) / 10; // half, to 0.1/s
  await crowd.quiet();
  const fluxPid = side === 'flux' && !isFailed(ctx.flux) ? ctx.flux.pid : null;
  const fluxCpu = fluxPid === null ? null : cpuMeter([fluxPid]);
  const serverCpu = cpuMeter(ctx.server.processIds());
  const step = await crowd.drive(offeredPerS, ctx.sizes.halfStepS, 'says');
  const fluxUs = fluxCpu?.stop() ?? null;
  const serverUs = serverCpu.stop();
  ctx.log(`    ${side} at half the MUC's capacity, ${offeredPerS} says/s: ${describe(step)}`);
  assertFluxAlive(ctx, side);
  return {
    step,
    fluxUsPerStanza: fluxUs === null || step.stanzasIn === 0 ? null : fluxUs / step.stanzasIn,
    serverUsPerStanza: serverUs === null ? null : serverUs / Math.max(1, step.sent + step.stanzasIn),
  };
}

async function echoCapacity(ctx: Context): Promise<Capacity<StepReport>> {
  const crowd = await Crowd.login({ ...clientsOf(ctx), target: ECHO, kind: 'echo', clients: ctx.sizes.echoClients });
  try {
    return await findCapacity(async (offeredPerS) => {
      const step = await crowd.drive(offeredPerS, ctx.sizes.stepS, 'says');
      ctx.log(`    echo ${offeredPerS}/s offered: ${describe(step)}`);
      return step;
    }, { startPerS: ctx.sizes.echoStartPerS, stepsMax: ctx.sizes.echoStepsMax, resolutionShare: RESOLUTION_SHARE, outOfTime: budget(ctx.sizes.echoBudgetS) });
  } finally {
    await crowd.stop();
  }
}

/** Where the load clients log in: anonymously, on the server's anonymous host. */
function clientsOf(ctx: Context) {
  return { service: `xmpp://127.0.0.1:${ctx.server.c2sPort}`, domain: ANON, progress: ctx.log };
}

/** True once `seconds` have passed since it was made. */
function budget(seconds: number): () => boolean {
  const endMs = performance.now() + seconds * 1000;
  return () => performance.now() > endMs;
}

function assertFluxAlive(ctx: Context, side: TargetKind): void {
  if (side === 'flux' && !isFailed(ctx.flux) && !isAlive(ctx.flux.pid)) throw new Error('the Flux process died');
}

export function describe(s: StepReport): string {
  const share = s.sent === 0 ? 0 : (100 * s.answered) / s.sent;
  return `${s.answered}/${s.sent} answered (${share.toFixed(1)}%), p50 ${ms(s.p50Ms)}, p99 ${ms(s.p99Ms)}`
    + `${s.refused > 0 ? `, ${s.refused} refused (p99 ${s.refusedP99Ms?.toFixed(1)} ms)` : ''}${s.unanswered > 0 ? `, ${s.unanswered} unanswered` : ''}${s.drainedBefore ? '' : ', began before the last step drained'}`
    + `; generator ${Math.round(s.generatorCpuShare * 100)}% of a core`;
}
