// SVG charts from bench/results/latest.json, drawn by hand: a bar chart
// needs no library. The README shows them beside the table.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT_DIR } from '../lib/config/index.ts';

interface Bar { readonly label: string; readonly value: number; readonly note?: string }

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

/** Horizontal bars, one per row; `log` uses a log scale (engines span two orders of magnitude). */
export function barChart(title: string, unit: string, bars: readonly Bar[], log = false): string {
  const width = 760;
  const left = 260;
  const row = 34;
  const height = 60 + bars.length * row;
  const max = Math.max(...bars.map((b) => b.value), 1e-9);
  const scale = (v: number) => (log ? (Math.log10(Math.max(v, 1)) / Math.log10(Math.max(max, 10))) : v / max) * (width - left - 170);
  const rows = bars.map((b, i) => {
    const y = 44 + i * row;
    const w = Math.max(2, scale(b.value));
    return `<text x="${left - 8}" y="${y + 16}" text-anchor="end">${esc(b.label)}</text>`
      + `<rect x="${left}" y="${y}" width="${w.toFixed(1)}" height="22" fill="#3b6ea8"/>`
      + `<text x="${(left + w + 6).toFixed(1)}" y="${y + 16}">${esc(b.note ?? `${b.value.toLocaleString('en')} ${unit}`)}</text>`;
  }).join('\n  ');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="13">
  <rect width="100%" height="100%" fill="white"/>
  <text x="12" y="24" font-size="15" font-weight="bold">${esc(title)}</text>
  ${rows}
</svg>
`;
}

function latencyBar(label: string, l: { p50Ms: number | null; p99Ms: number | null }): Bar {
  if (l.p99Ms === null || l.p50Ms === null) return { label, value: 0, note: 'no answer came back' };
  return { label, value: l.p99Ms, note: `p50 ${l.p50Ms.toFixed(1)} / p99 ${l.p99Ms.toFixed(1)} ms` };
}

/** A part's figures, or nothing when the run did not measure them or their step failed (its { error }). */
function measured<T>(v: T | { error: string } | undefined | null): T | null {
  return v === undefined || v === null || (typeof v === 'object' && 'error' in (v as object)) ? null : (v as T);
}

type Latency = { p50_ms: number | null; p99_ms: number | null; offered_per_s?: number };

function latencyBars(r: { xmpp?: Record<string, unknown>; crowd_1000?: unknown }): Bar[] {
  const bars: Bar[] = [];
  for (const [server, run] of Object.entries(r.xmpp ?? {})) {
    const steps = measured(run as { steps?: Record<string, unknown> })?.steps;
    for (const [side, name] of [['muc_at_half', `${server} MUC`], ['flux_at_half', `Flux on ${server}`]] as const) {
      const s = measured(steps?.[side] as Latency | undefined);
      if (s) bars.push(latencyBar(`${name}, ${s.offered_per_s} says/s`, { p50Ms: s.p50_ms, p99Ms: s.p99_ms }));
    }
  }
  const crowd = measured(r.crowd_1000 as (Latency & { clients: number }) | undefined);
  if (crowd) bars.push(latencyBar(`Flux, ${crowd.clients} clients at 1/s`, { p50Ms: crowd.p50_ms, p99Ms: crowd.p99_ms }));
  return bars;
}

export function renderCharts(resultsFile = path.join(ROOT_DIR, 'bench/results/latest.json')): string[] {
  const r = JSON.parse(readFileSync(resultsFile, 'utf8'));
  const dir = path.dirname(resultsFile);
  const written: string[] = [];
  const write = (name: string, svg: string) => {
    writeFileSync(path.join(dir, name), svg);
    written.push(name);
  };
  const engines = measured<{ wasm_cps: number; js_cps: number; model_cps: number }>(r.engines);
  if (engines) {
    write('engines.svg', barChart(`Projection + transformation, commands/s (log scale), ${r.date.slice(0, 10)}`, 'cmd/s', [
      { label: 'wasm', value: engines.wasm_cps }, { label: 'js', value: engines.js_cps }, { label: 'model (Immer)', value: engines.model_cps },
    ], true));
  }
  const stagesByDb = measured<Record<string, Record<string, { median: number; p99: number }>>>(r.stages_ms);
  const stages = stagesByDb?.postgresql ?? stagesByDb?.embedded;
  if (stages) {
    write('stages.svg', barChart(`Median ms per 1,000-command batch, by stage (${stagesByDb?.postgresql ? 'PostgreSQL' : 'embedded'})`, 'ms',
      Object.entries(stages).map(([name, s]) => ({ label: name, value: s.median, note: `${s.median.toFixed(3)} ms (p99 ${s.p99.toFixed(2)})` }))));
  }
  const bars = latencyBars(r);
  if (bars.length > 0) write('latency.svg', barChart('Send -> own message back, p99 ms (log scale): one room, one crowd', 'ms', bars, true));
  return written;
}

if (import.meta.url === `file://${process.argv[1]}`) process.stdout.write(`wrote ${renderCharts().join(', ')}\n`);
