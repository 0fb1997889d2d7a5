// The keys latest.json gets from the XMPP parts (./xmpp.ts, ./crowd-1000.ts): flat
// figures for the README and the issue (says/s, ms, s), and each step behind them.
// A figure whose step failed is { error: "why" }, never a number.
import type { StepReport } from '../lib/load/index.ts';
import type { Capacity } from './capacity.ts';
import type { CrowdFigures } from './crowd-1000.ts';
import { figure, isFailed, type Outcome } from './outcome.ts';
import type { AtLoad, RoomSide, ServerRun } from './xmpp.ts';

const round1 = (v: number | null) => (v === null ? null : Math.round(v * 10) / 10);
const round3 = (v: number | null) => (v === null ? null : Math.round(v * 1000) / 1000);

export function stepJson(s: StepReport, passed?: boolean) {
  return {
    offered_per_s: s.offeredPerS, ...(passed === undefined ? {} : { passed }), clients: s.clients, seconds: round1(s.seconds),
    sent: s.sent, answered: s.answered, refused: s.refused, errors: s.errors, p50_ms: round1(s.p50Ms), p99_ms: round1(s.p99Ms),
    max_ms: round1(s.maxMs), stanzas_in: s.stanzasIn, drained_before: s.drainedBefore, generator_cpu_share: s.generatorCpuShare,
  };
}

function capacityJson(c: Outcome<Capacity<StepReport>>) {
  return figure(c, (v) => ({ per_s: v.perS, failed_at_per_s: v.failedPerS, cut_short: v.cutShort, steps: v.steps.map((st) => stepJson(st.outcome, st.passed)) }));
}

function sideKeys(name: 'flux' | 'muc', side: Outcome<RoomSide>) {
  const join = isFailed(side) ? side : side.join;
  const capacity = isFailed(side) ? side : side.capacity;
  const half: Outcome<AtLoad> = isFailed(side) ? side : side.atHalfMuc;
  return {
    [`join_${name}_s`]: figure(join, (j) => round1(j.seconds)),
    [`join_${name}_failed`]: figure(join, (j) => j.failed + j.loginFailed),
    [`${name}_occupants`]: figure(join, (j) => j.joined),
    [`join_${name}_reasons`]: figure(join, (j) => [...j.loginReasons, ...j.reasons]),
    [`${name}_says_per_s`]: figure(capacity, (c) => c.perS),
    [`${name}_says_failed_at_per_s`]: figure(capacity, (c) => c.failedPerS),
    [`${name}_says_cut_short`]: figure(capacity, (c) => c.cutShort),
    [`${name}_p50_ms`]: figure(half, (h) => round1(h.step.p50Ms)),
    [`${name}_p99_ms`]: figure(half, (h) => round1(h.step.p99Ms)),
  };
}

/** Flux's capacity over the MUC's: the same crowd, the same fan-out; null when either was not measured or the MUC's is 0. */
function ratio(flux: Outcome<RoomSide>, muc: Outcome<RoomSide>): number | null {
  const perS = (side: Outcome<RoomSide>) => (isFailed(side) || isFailed(side.capacity) ? null : side.capacity.perS);
  const f = perS(flux);
  const m = perS(muc);
  return f === null || m === null || m === 0 ? null : round3(f / m);
}

/** xmpp.prosody / xmpp.ejabberd. */
export function serverJson(run: Outcome<ServerRun>) {
  if (isFailed(run)) return run;
  const half = (side: Outcome<RoomSide>) => (isFailed(side) ? side : side.atHalfMuc);
  const fluxHalf = half(run.flux);
  const mucHalf = half(run.muc);
  return {
    join_clients: run.sizes.roomClients,
    ...sideKeys('muc', run.muc),
    ...sideKeys('flux', run.flux),
    flux_over_muc: ratio(run.flux, run.muc),
    echo_rt_per_s: figure(run.echo, (c) => c.perS),
    echo_rt_failed_at_per_s: figure(run.echo, (c) => c.failedPerS),
    echo_rt_cut_short: figure(run.echo, (c) => c.cutShort),
    at_half_muc_says_per_s: figure(mucHalf, (h) => h.step.offeredPerS),
    cpu_us_per_stanza: {
      flux: figure(fluxHalf, (h) => round3(h.fluxUsPerStanza)),
      server: figure(fluxHalf, (h) => round3(h.serverUsPerStanza)),
      server_muc: figure(mucHalf, (h) => round3(h.serverUsPerStanza)),
    },
    steps: {
      muc: isFailed(run.muc) ? run.muc : capacityJson(run.muc.capacity),
      flux: isFailed(run.flux) ? run.flux : capacityJson(run.flux.capacity),
      echo: capacityJson(run.echo),
      muc_at_half: figure(mucHalf, (h) => stepJson(h.step)),
      flux_at_half: figure(fluxHalf, (h) => stepJson(h.step)),
    },
    sizes: run.sizes,
  };
}

/** crowd_1000. */
export function crowdJson(c: Outcome<CrowdFigures>) {
  return figure(c, (v) => ({
    clients: v.clients, login_failed: v.loginFailed, join_failed: v.join.failed, join_s: round1(v.join.seconds),
    sent: v.step.sent, answered: v.step.answered, refused: v.step.refused, refused_p99_ms: round1(v.step.refusedP99Ms), unanswered: v.step.unanswered, errors: v.step.errors,
    p50_ms: round1(v.step.p50Ms), p99_ms: round1(v.step.p99Ms), max_ms: round1(v.step.maxMs), seconds: round1(v.step.seconds),
    rss_bytes: v.rssBytes, rss_hwm_bytes: v.rssHwmBytes, rss_start_bytes: v.rssStartBytes, drained_before: v.step.drainedBefore,
    generator_cpu_share: v.step.generatorCpuShare, kinds: v.step.kinds, join_reasons: v.join.reasons,
  }));
}
