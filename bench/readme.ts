// The README's measured figures, generated from bench/results/latest.json: the
// tables between `<!-- bench:begin -->` and `<!-- bench:end -->` are this file's
// output and nothing else, so every figure there is one a script measured.
// `npm run bench:readme` rewrites them; make bench does at its end;
// spec/bench/readme.spec.ts fails when they differ from what this produces.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT_DIR } from '../lib/config/index.ts';
import { CHANGES_PER_BATCH } from './write-path.ts';

export const BEGIN = '<!-- bench:begin -->';
export const END = '<!-- bench:end -->';
export const README_FILE = path.join(ROOT_DIR, 'README.md');
export const RESULTS_FILE = path.join(ROOT_DIR, 'bench/results/latest.json');

/** latest.json as read: any key may be missing (a part not run) or { error } (a part that failed). */
type Json = Record<string, any>;

const NOT_RUN = 'not measured in this run';
/** An error is cut to this in a table cell; latest.json has all of it. */
const ERROR_CHARS_MAX = 80;

/** A figure for a table cell: the formatted number, "failed: why", or "not measured". */
function cell(v: unknown, format: (x: any) => string): string {
  if (v === undefined) return NOT_RUN;
  if (v === null) return 'none';
  if (typeof v === 'object' && typeof (v as { error?: unknown }).error === 'string') {
    const why = (v as { error: string }).error;
    return `failed: ${why.length > ERROR_CHARS_MAX ? `${why.slice(0, ERROR_CHARS_MAX)}...` : why}`.replace(/\|/g, '\\|');
  }
  return format(v);
}

const int = (x: number) => Math.round(x).toLocaleString('en');
/** A rate: whole when it is, else to 0.1 (half of an odd capacity). */
const rate = (x: number) => (Number.isInteger(x) ? int(x) : x.toFixed(1));
const fixed = (digits: number) => (x: number) => x.toFixed(digits);
const msText = (x: number) => (x >= 100 ? int(x) : x.toFixed(1));
/** Several figures in one cell, "a / b": one cell() each. */
const pair = (...cells: string[]) => cells.join(' / ');
const failedOrMissing = (v: unknown) => v === undefined || v === null || (typeof v === 'object' && 'error' in (v as object));

function header(r: Json): string {
  const m = r.machine ?? {};
  const memoryGiB = typeof m.memoryBytes === 'number' ? `${Math.round(m.memoryBytes / 2 ** 30)} GiB` : 'memory unknown';
  const run = r.quick ? `a BENCH_QUICK=1 pass of ${r.seconds} s (fewer clients, shorter steps)` : `a full run of ${r.seconds} s`;
  const commit = r.commit ? `commit \`${String(r.commit).slice(0, 12)}\`${r.dirty ? ' plus uncommitted changes in lib/, wasm/ or bench/' : ''}` : 'no commit (not a git checkout)';
  const parts = Array.isArray(r.parts) ? r.parts.join(', ') : 'unknown';
  return `Measured by \`make bench\` at ${commit}, ${String(r.date).slice(0, 10)}: ${run}; parts run: ${parts}. `
    + `Machine: ${m.cpu ?? 'unknown CPU'}, ${m.cores} cores, ${memoryGiB}, Node.js ${m.node}, the XMPP servers and PostgreSQL (when measured) on the same machine.`;
}

function mainTable(r: Json): string {
  const e = r.engines;
  const on = (kind: string, list: unknown, key: string) => cell(list, (l: Json[]) => {
    const found = l.find((x) => x.database === kind);
    return found ? int(found[key]) : 'no DATABASE_URL';
  });
  const f = r.fragment_ms;
  const c = r.crowd_1000;
  const rows = [
    ['`wasm` engine, commands/s', cell(e, (x) => int(x.wasm_cps)), '>= 10 million'],
    ['`js` engine (the same rules compiled to JS), commands/s', cell(e, (x) => int(x.js_cps)), 'wasm >= js'],
    ['`model` engine (readable Immer reducers), commands/s', cell(e, (x) => int(x.model_cps)), 'the "before"'],
    ['wasm/model', cell(e, (x) => `${Math.round(x.wasm_over_model)}x`), '15-25x; aim 50x'],
    ['wasm/js', cell(e, (x) => `${x.wasm_over_js.toFixed(1)}x`), '>= 1'],
    ['Immer fragment detection, median ms: no change / one update / many updates / 500 actors',
      cell(f, (x) => pair(fixed(4)(x.no_change), fixed(4)(x.one_update), fixed(3)(x.many_updates), fixed(2)(x.actors_500))), '0.015 / 0.113 / 0.751 / 3.209; <= 3.2'],
    ['whole pipeline, one room, no XMPP, commands/s (embedded / PostgreSQL)', pair(on('embedded', r.pipeline, 'commandsPerS'), on('postgresql', r.pipeline, 'commandsPerS')), ''],
    ['end to end, 4 rooms in parallel, Batcher -> Actuation, commands/s (embedded / PostgreSQL)',
      pair(on('embedded', r.rooms_in_parallel, 'commandsPerS'), on('postgresql', r.rooms_in_parallel, 'commandsPerS')), '>= 150,000'],
    [`${typeof c?.clients === 'number' ? int(c.clients) : '1,000'} clients spread over one world at 1 command/s, \`FLUX_TICK_MS=50\`: p50 / p99 ms`,
      cell(c, (x) => `${pair(cell(x.p50_ms, msText), cell(x.p99_ms, msText))} (${int(x.answered)} of ${int(x.sent)} answered)`), 'p99 <= 75 ms'],
    ['memory, bytes per resident character (heap + WASM)',
      cell(r.memory, (x) => `${int(x.bytes_per_character)} (${((x.bytes_per_character * 10_000) / 1e6).toFixed(1)} MB per 10,000)`), '<= 20 MB per 10,000'],
  ];
  return table(['measured', 'this machine', 'the target'], rows);
}

function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((row) => `| ${row.join(' | ')} |`)].join('\n');
}

function gateText(r: Json): string {
  if (failedOrMissing(r.stanza_gate)) return `The stanza gate: ${cell(r.stanza_gate, () => '')}.`;
  return cell(r.stanza_gate, (g) => `The stanza gate in front of the XML parser (\`bench/stanza-gate.ts\`): the parser xmpp.js uses reads `
    + `${Math.round(g.parserOnlyMBs)} MB/s of ordinary player commands alone and ${Math.round(g.gatedMBs)} MB/s behind the gate `
    + `(${int(g.stanzasPerS)} commands/s; ${g.overhead.toFixed(2)}x the parser's time). Fed 1 MB stanzas in 64 KB reads, the parser alone `
    + `hands the component ${(g.hugeHandedBytes.parserOnly / 1e6).toFixed(2)} MB stanzas; behind the gate, at most `
    + `${Math.round(g.hugeHandedBytes.gated / 1024)} KiB.`);
}

const STAGE_NAMES: Record<string, string> = {
  contextualization: 'contextualization (encode: slots, names -> candidates)',
  transformation: 'projection + transformation (WASM)',
  planning: 'planning (Immer + SQL)',
  actuation: 'actuation (one transaction)',
  render: 'render',
};

function stagesText(r: Json): string {
  if (failedOrMissing(r.stages_ms)) return `Stages: ${cell(r.stages_ms, () => '')}.`;
  const messages = cell(r.pipeline, (l: Json[]) => int(l[0]?.messagesPerBatch ?? 0));
  const stage = (db: string, name: string) => {
    const s = r.stages_ms[db]?.[name];
    return s ? `${s.median.toFixed(3)} / ${s.p99.toFixed(2)}` : 'no DATABASE_URL';
  };
  const rows = Object.keys(STAGE_NAMES).map((name) => [STAGE_NAMES[name]!, stage('embedded', name), stage('postgresql', name)]);
  return `Stages, median / p99 ms per 1,000-command batch (about ${messages} messages rendered per batch):\n\n`
    + `${table(['stage', 'embedded (PGlite)', 'PostgreSQL'], rows)}\n\n![stages](bench/results/stages.svg)`;
}

function writePathText(r: Json): string {
  if (failedOrMissing(r.write_path)) return `The write path: ${cell(r.write_path, () => '')}.`;
  const of = (db: string, changes: number) => {
    const w = (r.write_path as Json[]).find((x) => x.database === db);
    const row = w?.rows?.[changes];
    return row ? `${int(row.batchesPerS)}, ${int(row.rowsPerS)}` : 'no DATABASE_URL';
  };
  const rows = CHANGES_PER_BATCH.map((n) => [int(n), of('embedded', n), of('postgresql', n)]);
  return `The write path alone (planning + one transaction per batch, every change a real row update):\n\n`
    + table(['changed rows per batch', 'embedded: batches/s, rows/s', 'PostgreSQL: batches/s, rows/s'], rows);
}

/**
 * The highest load that passed, and the lowest that failed when bisecting had not
 * closed the gap to within 25%; ">=" when no step failed (a lower bound); "cut
 * short" when the time budget ended the search first.
 */
function capacityCell(perS: unknown, failedAt: unknown, cutShort: unknown): string {
  return cell(perS, (x: number) => {
    const gap = typeof failedAt === 'number' && failedAt > x * 1.25 ? ` (fails at ${int(failedAt)})` : '';
    return `${failedAt === null ? '>= ' : ''}${int(x)}${gap}${cutShort === true ? ' (cut short)' : ''}`;
  });
}

/** The ratio, saying so when the two rooms did not hold the same crowd (then the fan-out differs too). */
function ratioCell(s: Json): string {
  return cell(s.flux_over_muc, (r: number) => {
    const same = s.flux_occupants === s.muc_occupants;
    return `${r.toFixed(2)}${same ? '' : ` (rooms of ${cell(s.flux_occupants, int)} and ${cell(s.muc_occupants, int)}: not the same fan-out)`}`;
  });
}

/** One figure of both sides, "Flux / MUC", from keys `flux_<key>` and `muc_<key>` (or `<key>_flux_...`). */
function sides(s: Json, key: (side: 'flux' | 'muc') => string, format: (x: any) => string): string {
  return pair(cell(s[key('flux')], format), cell(s[key('muc')], format));
}

function capacities(s: Json): string {
  const of = (side: string) => capacityCell(s[`${side}_says_per_s`], s[`${side}_says_failed_at_per_s`], s[`${side}_says_cut_short`]);
  return pair(of('flux'), of('muc'));
}

/** Says/s times the occupants who heard each: the stanzas a side delivered per second. */
function deliveries(s: Json): string {
  const of = (side: string) => cell(s[`${side}_says_per_s`], (x: number) => cell(s[`${side}_occupants`], (n: number) => int(x * n)));
  return pair(of('flux'), of('muc'));
}

function xmppRows(servers: [string, Json][]): string[][] {
  const row = (label: string, f: (s: Json) => string) => [label, ...servers.map(([, s]) => cell(s, f))];
  const cpu = (s: Json) => s.cpu_us_per_stanza ?? {};
  return [
    row('clients in the room: Flux / MUC', (s) => `${sides(s, (x) => `${x}_occupants`, int)} (of ${int(s.join_clients)})`),
    row('all joined, s: Flux / MUC', (s) => sides(s, (x) => `join_${x}_s`, fixed(1))),
    row('capacity, says/s, each heard by the whole room: Flux / MUC', capacities),
    row('Flux / MUC capacity', ratioCell),
    row('stanzas delivered/s at capacity (says x occupants): Flux / MUC', deliveries),
    row('send -> own say back at half the MUC\'s capacity, p50 / p99 ms: Flux',
      (s) => `${pair(cell(s.flux_p50_ms, msText), cell(s.flux_p99_ms, msText))} (${cell(s.at_half_muc_says_per_s, rate)} says/s)`),
    row('the same for the MUC', (s) => pair(cell(s.muc_p50_ms, msText), cell(s.muc_p99_ms, msText))),
    row('echo component capacity, round trips/s (the server\'s ceiling)', (s) => capacityCell(s.echo_rt_per_s, s.echo_rt_failed_at_per_s, s.echo_rt_cut_short)),
    row('CPU µs per stanza there: Flux / the server routing Flux\'s / the server running its MUC',
      (s) => pair(cell(cpu(s).flux, fixed(1)), cell(cpu(s).server, fixed(1)), cell(cpu(s).server_muc, fixed(1)))),
  ];
}

function xmppText(r: Json): string {
  if (failedOrMissing(r.xmpp)) return `Through the XMPP servers: ${cell(r.xmpp, () => '')}.`;
  const servers = Object.entries(r.xmpp as Json) as [string, Json][];
  const names: Record<string, string> = { prosody: 'Prosody', ejabberd: 'ejabberd' };
  return 'Through each XMPP server, Flux against the server\'s own MUC (mod_muc): the same real clients (`lib/load`) in ONE room on '
    + 'each side, all of Flux\'s in one place, so that a say reaches the same people. Capacity is the highest offered load with '
    + 'p99 <= 150 ms and >= 98% answered (doubling, then bisecting: `bench/capacity.ts`); ">=" where no step failed. '
    + 'CPU per stanza: the process\'s user + system time over the stanzas it delivered (the server: those it routed, sent and received by the clients). '
    + 'Every step, with the load generator\'s own CPU share, is in `bench/results/latest.json`.\n\n'
    + `${table(['measured', ...servers.map(([k]) => names[k] ?? k)], xmppRows(servers))}\n\n![latency](bench/results/latency.svg)`;
}

function crowdText(r: Json): string {
  const c = r.crowd_1000;
  if (failedOrMissing(c)) return `The crowd of 1,000: ${cell(c, () => '')}.`;
  const mb = (x: number) => `${Math.round(x / 1e6)} MB`;
  return `${int(c.clients)} clients through Prosody into one Flux world, spread over its places, each typing one command a second of the game mix `
    + `(30% say, 10% emote, 25% look, 20% a step, 15% take/drop), every command matched to its own answer (\`lib/load/answers.ts\`)`
    + `${c.drained_before === false ? '; the measured step began before the joins and the walk had all been delivered' : ''}:\n\n`
    + table(['joined (failed) in s', 'sent', 'answered: p50 / p99 / max ms', 'refused (busy): p99 ms', 'unanswered', 'Flux RSS: peak (at start, VmHWM)'], [[
      `${int(c.clients - c.login_failed - c.join_failed)} (${int(c.login_failed + c.join_failed)}) in ${cell(c.join_s, String)}`, int(c.sent),
      `${int(c.answered)}: ${pair(cell(c.p50_ms, msText), cell(c.p99_ms, msText), cell(c.max_ms, msText))}`,
      `${int(c.refused)}: ${cell(c.refused_p99_ms, msText)}`, cell(c.unanswered, int), `${cell(c.rss_bytes, mb)} (${cell(c.rss_start_bytes, mb)}, ${cell(c.rss_hwm_bytes, mb)})`,
    ]]);
}

function fanoutText(r: Json): string {
  if (r.fanout === undefined) return '';
  if (failedOrMissing(r.fanout)) return `The fan-out path: ${cell(r.fanout, () => '')}.`;
  return cell(r.fanout, (f) => `The fan-out path alone (\`bench/fanout.ts\`: a batch's messages to ${int(f.occupants)} players in one place, `
    + `${int(f.messagesPerBatch)} stanzas, into a local socket): ${f.usPerStanza.toFixed(2)} µs per stanza, `
    + `${f.socketWritesPerBatch} socket write${f.socketWritesPerBatch === 1 ? '' : 's'} per batch, ${Math.round(f.bytesPerStanza)} bytes per stanza.`);
}

const MULTICAST_VARIANTS: readonly [string, string][] = [['fanout', 'plain fan-out'], ['xep0033', 'XEP-0033, one stanza'], ['xep0033/20', 'XEP-0033, 20 addresses a stanza']];

/** XEP-0033 through ejabberd's mod_multicast against plain fan-out (bench/multicast.ts): ejabberd's CPU and the bytes Flux writes per delivery. */
function multicastText(r: Json): string {
  if (r.multicast === undefined) return '';
  if (failedOrMissing(r.multicast)) return `XEP-0033 against plain fan-out: ${cell(r.multicast, () => '')}.`;
  const m = r.multicast as Json;
  const spread = (x: Json | null | undefined, format: (v: number) => string) => (x ? `${format(x.median)} [${format(x.min)}-${format(x.max)}]` : 'no complete run');
  const rows = Object.entries(m.summary as Json).flatMap(([recipients, byVariant]) => MULTICAST_VARIANTS.map(([key, label]) => {
    const v = (byVariant as Json)[key];
    const base = (byVariant as Json).fanout?.serverUsPerStanza?.median;
    const mine = v?.serverUsPerStanza?.median;
    const ratio = typeof base === 'number' && typeof mine === 'number' && base > 0 ? `${(mine / base).toFixed(2)}x` : '';
    return [int(Number(recipients)), label, spread(v?.serverUsPerStanza, fixed(1)), ratio, spread(v?.bytesPerStanza, fixed(0))];
  }));
  return `One stanza for many through ejabberd's mod_multicast (\`bench/multicast.ts\`: a component hands a private ejabberd `
    + `${int(m.sizes.deliveries)} deliveries to N clients, every delivery counted; median [min-max] over ${m.sizes.runs} interleaved runs):\n\n`
    + table(['N', 'how', 'ejabberd CPU µs per delivered stanza', 'against fan-out', 'bytes Flux writes per delivered stanza'], rows);
}

/** Several instances behind the two-node ejabberd cluster (bench/cluster.ts): forwarding cost, and the same load with 1, 2 and 3 instances. */
function clusterText(r: Json): string {
  if (r.cluster === undefined) return '';
  if (failedOrMissing(r.cluster)) return `Several instances behind an ejabberd cluster: ${cell(r.cluster, () => '')}.`;
  const c = r.cluster as Json;
  const rows = (c.runs as Json[]).map((run) => ('error' in run
    ? [int(run.instances), `failed: ${run.error}`, '', '', '', '']
    : [int(run.instances), `${int(run.answered)} of ${int(run.sent)} (${int(run.refused)} busy, ${int(run.unanswered)} unanswered)`,
      `${int(run.answered_per_s)} of ${int(run.offered_per_s)} offered`, pair(cell(run.p50_ms, msText), cell(run.p99_ms, msText)), cell(run.forwarded, int), cell(run.flux_cpu_us_per_command, int)]));
  return `Several instances behind a private two-node ejabberd cluster (\`bench/cluster.ts\`). Forwarding a command stanza over the peer link `
    + `costs ${c.link.cpu_us_per_stanza} µs of CPU (sender and owner together, one core) and takes ${c.link.p50_ms} ms at p50, ${c.link.p99_ms} ms at p99 `
    + `(${int(c.link.stanzas)} stanzas at ${int(c.link.rate_per_s)}/s). The same offered load, four worlds with anonymous players on both nodes, `
    + `with 1, 2 and 3 instances on these 2 cores (it shows what forwarding costs and that every command is answered, not a speed-up):\n\n`
    + table(['instances', 'says answered', 'says/s', 'p50 / p99', 'stanzas forwarded', 'Flux CPU µs per say (all instances)'], rows);
}

/** The 10-node model's assumptions: a player's pace, and what one command makes the server deliver. */
const MODEL = { nodes: 10, commandsPerPlayerPerS: 0.2, stanzasPerCommand: 5 };

/**
 * Players a cluster of MODEL.nodes machines holds, from this run's measured costs
 * (one core each for a Flux instance and an ejabberd node, one PostgreSQL), and
 * which runs out first. A model, not a measurement: its inputs are named.
 */
function modelText(r: Json): string {
  const fluxUs = r.cpu_us_per_stanza?.flux;
  const ejabberdUs = r.cpu_us_per_stanza?.ejabberd;
  const pgCps = r.e2e_pg_cps;
  const forwardUs = r.cluster?.link?.cpu_us_per_stanza;
  if (![fluxUs, ejabberdUs, pgCps, forwardUs].every((v) => typeof v === 'number' && v > 0)) return '';
  const { nodes, commandsPerPlayerPerS: c, stanzasPerCommand: f } = MODEL;
  const perCommandUs = 1e6 / pgCps; // the whole pipeline, one command, PostgreSQL, rooms in parallel
  const flux = 1e6 / (c * (perCommandUs + f * fluxUs + (1 - 1 / nodes) * forwardUs));
  const ejabberd = 1e6 / (c * (f + 1) * ejabberdUs);
  const postgres = pgCps / c;
  const limits: [string, number][] = [['Flux instances', nodes * flux], ['ejabberd nodes', nodes * ejabberd], ['PostgreSQL', postgres]];
  const first = [...limits].sort((a, b) => a[1] - b[1])[0]!;
  return `A model of ${nodes} machines, each running one Flux instance and one ejabberd node on a core each, and one PostgreSQL like this machine's, `
    + `from this run's costs: a player types ${c} commands a second, each makes the server deliver ${f} stanzas. A Flux instance spends `
    + `${perCommandUs.toFixed(1)} µs a command (the pipeline's ${int(pgCps)} commands/s on PostgreSQL), ${fluxUs} µs per stanza it writes and `
    + `${forwardUs} µs to forward the ${(100 * (1 - 1 / nodes)).toFixed(0)}% of commands that reach another instance first: about ${int(flux)} players a core. `
    + `An ejabberd node spends ${ejabberdUs} µs per stanza from Flux and, taken alike, per command in: about ${int(ejabberd)} players a core. `
    + `PostgreSQL commits ${int(pgCps)} commands/s: ${int(postgres)} players. So ${nodes} machines hold about ${int(first[1])} players, bounded by ${first[0]} `
    + `(${limits.map(([what, n]) => `${what} ${int(n)}`).join(', ')}). Not measured: the cost of ejabberd passing stanzas between its nodes, and PostgreSQL on its own machine.`;
}

/** What goes between the markers, from latest.json alone. */
export function renderMeasured(r: Json): string {
  return [
    '<!-- Generated from bench/results/latest.json by bench/readme.ts (npm run bench:readme; make bench runs it). Edit those, not this. -->',
    header(r), '![engines](bench/results/engines.svg)', mainTable(r), gateText(r), fanoutText(r), multicastText(r), stagesText(r), writePathText(r), xmppText(r), crowdText(r), clusterText(r), modelText(r),
  ].filter((part) => part !== '').join('\n\n');
}

/** The text between the markers; throws when README.md has not exactly one pair. */
export function markedSection(readme: string): string {
  const begin = readme.indexOf(BEGIN);
  const end = readme.indexOf(END);
  if (begin < 0 || end < begin || readme.indexOf(BEGIN, begin + 1) >= 0) throw new Error(`README.md needs one ${BEGIN} ... ${END} pair`);
  return readme.slice(begin + BEGIN.length, end).trim();
}

export function spliceReadme(readme: string, section: string): string {
  markedSection(readme); // the same checks
  const begin = readme.indexOf(BEGIN) + BEGIN.length;
  return `${readme.slice(0, begin)}\n${section}\n${readme.slice(readme.indexOf(END))}`;
}

/** Rewrites README.md's marked section from latest.json; true when it changed. */
export function updateReadme(readmeFile = README_FILE, resultsFile = RESULTS_FILE): boolean {
  const readme = readFileSync(readmeFile, 'utf8');
  const next = spliceReadme(readme, renderMeasured(JSON.parse(readFileSync(resultsFile, 'utf8'))));
  if (next === readme) return false;
  writeFileSync(readmeFile, next);
  return true;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(updateReadme() ? 'README.md: the measured figures updated from bench/results/latest.json\n' : 'README.md: already up to date\n');
}
