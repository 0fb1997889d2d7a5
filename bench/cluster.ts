// Several instances behind an ejabberd cluster (DESIGN §5), part `cluster` of
// make bench (BENCH_ONLY=cluster; PostgreSQL only, as the cluster is).
// - Forwarding cost: two peer links in this process; a typical command stanza is
//   forwarded from one to the other and parsed there as the owner does. CPU per
//   forwarded stanza (both ends, one core), and the time each took, at a steady rate.
// - Throughput and latency with 1, 2 and 3 instances behind a private two-node
//   ejabberd cluster: four worlds, anonymous players on both nodes saying things at
//   an offered rate. On 2 cores this shows what forwarding costs and that every
//   command is answered, not a speed-up: all of it shares the same two cores.
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { pino } from 'pino';
import { ROOT_DIR } from '../lib/config/index.ts';
import { PeerLink, type Frame } from '../lib/cluster/link.ts';
import { parseElement } from '../lib/xmpp/xml-parser.ts';
import { startPrivateEjabberdCluster } from '../lib/demo/ejabberd.ts';
import { Crowd } from '../lib/load/index.ts';
import { quantile } from '../lib/load/answers.ts';
import { clockTicksPerS, cpuUsOfAll } from './proc.ts';
import { schemaUrl } from './databases.ts';

const GAME = 'game.localhost';
const GUESTS = 'anon.localhost';
const SECRET = 'bench';
const WORLDS = ['realm', 'north', 'south', 'west'] as const;
const START_MS_MAX = 60000;
const SPREAD_MS_MAX = 15000;
/** A command as a player's server hands it to the component. */
const STANZA = `<message from="load-abc12-7@${GUESTS}/5523" to="realm@${GAME}" type="groupchat" id="cmd-12345"><body>say the quick brown fox jumps over the lazy dog</body></message>`;

export interface ClusterSizes {
  readonly forwarded: number;
  readonly ratePerS: number;
  /** Clients per world on each node. */
  readonly clientsPerNode: number;
  /** Says per second each world's clients on one node offer, and for how long. */
  readonly offeredPerS: number;
  readonly seconds: number;
  readonly instances: readonly number[];
}

export function clusterSizes(quick: boolean): ClusterSizes {
  return quick
    ? { forwarded: 5000, ratePerS: 2000, clientsPerNode: 3, offeredPerS: 10, seconds: 3, instances: [1, 3] }
    : { forwarded: 40000, ratePerS: 4000, clientsPerNode: 5, offeredPerS: 20, seconds: 6, instances: [1, 2, 3] };
}

export interface LinkFigures {
  readonly stanzas: number;
  readonly cpu_us_per_stanza: number;
  readonly rate_per_s: number;
  readonly p50_ms: number | null;
  readonly p99_ms: number | null;
}

export interface InstancesRun {
  readonly instances: number;
  readonly offered_per_s: number;
  readonly sent: number;
  readonly answered: number;
  readonly refused: number;
  readonly unanswered: number;
  readonly answered_per_s: number;
  readonly p50_ms: number | null;
  readonly p99_ms: number | null;
  /** Stanzas the instances passed to one another over the link, and Flux's CPU per answered command. */
  readonly forwarded: number | null;
  readonly flux_cpu_us_per_command: number | null;
}

export interface ClusterFigures {
  readonly link: LinkFigures;
  readonly runs: readonly (InstancesRun | { instances: number; error: string })[];
}

/** Forwarding alone: A sends a stanza frame to B, B parses it, as the router does on both ends. */
export async function benchLink(count: number, ratePerS: number): Promise<LinkFigures> {
  const log = pino({ level: 'silent' });
  const sentAt = new Map<string, number>();
  const took: number[] = [];
  let received = 0;
  const onFrame = (f: Frame) => {
    if (f.kind !== 'stanza') return;
    const el = parseElement(f.xml);
    const at = sentAt.get(String(el.attrs.id));
    if (at !== undefined) took.push(performance.now() - at);
    received++;
  };
  const a = await PeerLink.listen({ listen: '127.0.0.1:0', secret: SECRET, log, onFrame: () => {} });
  const b = await PeerLink.listen({ listen: '127.0.0.1:0', secret: SECRET, log, onFrame });
  try {
    const template = parseElement(STANZA);
    a.send(b.endpoint, { kind: 'stanza', hops: 1, xml: template.toString() }); // the handshake, out of the measurement
    while (received < 1) await sleep(5);
    received = 0;
    const cpu0 = process.cpuUsage();
    const perTick = Math.max(1, Math.round(ratePerS / 1000));
    for (let i = 0; i < count; i += perTick) {
      for (let j = i; j < Math.min(count, i + perTick); j++) {
        template.attrs.id = `f${j}`;
        sentAt.set(`f${j}`, performance.now());
        a.send(b.endpoint, { kind: 'stanza', hops: 1, xml: template.toString() });
      }
      await sleep(1);
    }
    const deadline = Date.now() + 30000;
    while (received < count && Date.now() < deadline) await sleep(5);
    const cpu = process.cpuUsage(cpu0);
    if (received < count) throw new Error(`${count - received} of ${count} forwarded stanzas did not arrive`);
    took.sort((x, y) => x - y);
    return {
      stanzas: count, cpu_us_per_stanza: Math.round(((cpu.user + cpu.system) / count) * 10) / 10,
      rate_per_s: Math.round(count / ((count / perTick) / 1000)), p50_ms: round(quantile(took, 0.5)), p99_ms: round(quantile(took, 0.99)),
    };
  } finally {
    await a.close();
    await b.close();
  }
}

const round = (v: number | null) => (v === null ? null : Math.round(v * 100) / 100);

export async function benchCluster(s: ClusterSizes, progress: (line: string) => void): Promise<ClusterFigures> {
  progress('  forwarding over the peer link...');
  const link = await benchLink(s.forwarded, s.ratePerS);
  progress(`  ${link.stanzas} stanzas forwarded at ${link.rate_per_s}/s: ${link.cpu_us_per_stanza} µs of CPU each (both ends), p50 ${link.p50_ms} ms, p99 ${link.p99_ms} ms`);
  if (!process.env.DATABASE_URL) throw new Error('instances share rooms through PostgreSQL: set DATABASE_URL');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'flux-bench-cluster-'));
  mkdirSync(path.join(dir, 'worlds'));
  const realm = readFileSync(path.join(ROOT_DIR, 'config/worlds/realm.yaml'), 'utf8');
  for (const id of WORLDS) writeFileSync(path.join(dir, 'worlds', `${id}.yaml`), realm.replace(/^id: realm$/m, `id: ${id}`));
  const cluster = await startPrivateEjabberdCluster({ dir: path.join(dir, 'ejabberd'), nodes: 2, componentDomain: GAME, componentSecret: SECRET, anonymousHost: GUESTS });
  const runs: ClusterFigures['runs'][number][] = [];
  try {
    for (const n of s.instances) {
      progress(`  ${n} instance(s) behind the two-node cluster...`);
      try {
        runs.push(await runInstances(n, s, cluster.nodes.map((node) => ({ c2s: node.c2sPort, component: node.componentPort })), dir, progress));
      } catch (err) {
        progress(`  FAILED with ${n} instance(s): ${(err as Error).message}`);
        runs.push({ instances: n, error: (err as Error).message.split('\n')[0]! });
      }
    }
  } finally {
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return { link, runs };
}

interface Instance {
  readonly child: ChildProcess;
  readonly lines: string[];
}

function startInstance(i: number, node: number, ports: readonly { component: number }[], dir: string, database: string): Instance {
  const services = [node, ...ports.keys()].filter((k, at, all) => all.indexOf(k) === at).map((k) => `xmpp://127.0.0.1:${ports[k]!.component}`).join(',');
  const child = spawn(path.join(ROOT_DIR, 'bin/flux'), ['serve'], {
    env: {
      ...process.env, FLUX_XMPP_SERVICE: services, FLUX_XMPP_DOMAIN: GAME, FLUX_XMPP_SECRET: SECRET, DATABASE_URL: database,
      FLUX_DATA_DIR: path.join(dir, `flux-${i}`), FLUX_WORLDS_DIR: path.join(dir, 'worlds'), FLUX_TICK_MS: '50', FLUX_NPC_TICK_MS: '0',
      FLUX_COMMANDS_PER_S: '1000', FLUX_NEW_CHARACTERS_PER_DOMAIN_PER_MIN: '1000000', FLUX_HEARTBEAT_MS: '300', LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const onExit = () => child.kill('SIGKILL');
  process.on('exit', onExit);
  child.once('exit', () => process.removeListener('exit', onExit));
  const lines: string[] = [];
  let partial = '';
  child.stdout!.on('data', (d: Buffer) => {
    const parts = (partial + d.toString()).split('\n');
    partial = parts.pop()!;
    lines.push(...parts);
  });
  child.stderr!.on('data', () => {});
  return { child, lines };
}

async function until(check: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} within ${ms} ms`);
    await sleep(50);
  }
}

async function runInstances(n: number, s: ClusterSizes, ports: readonly { c2s: number; component: number }[], dir: string, progress: (line: string) => void): Promise<InstancesRun> {
  const database = await schemaUrl();
  const instances: Instance[] = [];
  const crowds: Crowd[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const instance = startInstance(i, i % ports.length, ports, dir, database.url);
      instances.push(instance);
      await until(() => instance.lines.some((l) => l.includes('"serving"')) || instance.child.exitCode !== null, START_MS_MAX, `instance ${i} serving`);
      if (instance.child.exitCode !== null) throw new Error(`instance ${i} exited with ${instance.child.exitCode}`);
    }
    // The first instance took every world; the others are handed their share (one a second).
    const owners = new pg.Client({ connectionString: database.url });
    await owners.connect();
    try {
      const serving = async () => Number((await owners.query<{ n: string }>('SELECT count(DISTINCT owner_instance) AS n FROM rooms WHERE owner_instance IS NOT NULL')).rows[0]!.n);
      await until(async () => (await serving()) === Math.min(n, WORLDS.length), SPREAD_MS_MAX, 'the worlds spread over the instances');
    } finally {
      await owners.end();
    }
    for (const world of WORLDS) {
      for (const port of ports) {
        crowds.push(await Crowd.login({ service: `xmpp://127.0.0.1:${port.c2s}`, domain: GUESTS, target: `${world}@${GAME}`, kind: 'flux', clients: s.clientsPerNode }));
      }
    }
    for (const crowd of crowds) await crowd.join();
    const ticks = clockTicksPerS();
    const pids = instances.map((inst) => inst.child.pid!);
    const cpu0 = cpuUsOfAll(pids, ticks);
    const reports = await Promise.all(crowds.map((crowd) => crowd.drive(s.offeredPerS, s.seconds, 'says')));
    const cpu1 = cpuUsOfAll(pids, ticks);
    const answered = reports.reduce((x, r) => x + r.answered, 0);
    const p50s = reports.map((r) => r.p50Ms).filter((v): v is number => v !== null).sort((x, y) => x - y);
    const p99s = reports.map((r) => r.p99Ms).filter((v): v is number => v !== null);
    const run = {
      instances: n, offered_per_s: s.offeredPerS * crowds.length, sent: reports.reduce((x, r) => x + r.sent, 0), answered,
      refused: reports.reduce((x, r) => x + r.refused, 0), unanswered: reports.reduce((x, r) => x + r.unanswered, 0),
      answered_per_s: Math.round(reports.reduce((x, r) => x + r.answeredPerS, 0)),
      p50_ms: p50s.length === 0 ? null : round(p50s[Math.floor(p50s.length / 2)]!), p99_ms: p99s.length === 0 ? null : round(Math.max(...p99s)),
      forwarded: null as number | null,
      flux_cpu_us_per_command: cpu0 === null || cpu1 === null || answered === 0 ? null : Math.round((cpu1 - cpu0) / answered),
    };
    for (const crowd of crowds.splice(0)) await crowd.stop();
    let forwarded = 0;
    for (const inst of instances) {
      inst.child.kill('SIGTERM');
      await Promise.race([once(inst.child, 'exit'), sleep(20000)]);
      const totals = inst.lines.map((l) => { try { return JSON.parse(l) as { msg?: string; forwarded?: number }; } catch { return {}; } }).find((l) => l.msg === 'peer link totals');
      forwarded += totals?.forwarded ?? 0;
    }
    const result = { ...run, forwarded };
    progress(`  ${n} instance(s): ${result.answered}/${result.sent} answered (${result.refused} busy, ${result.unanswered} unanswered), ${result.answered_per_s}/s, p50 ${result.p50_ms} ms, p99 ${result.p99_ms} ms, ${forwarded} stanzas forwarded, Flux ${result.flux_cpu_us_per_command} µs CPU per command`);
    return result;
  } finally {
    for (const crowd of crowds) await crowd.stop().catch(() => {});
    for (const inst of instances) inst.child.kill('SIGKILL');
    await database.drop().catch(() => {});
  }
}

export function printCluster(f: ClusterFigures): void {
  const lines = [`forwarding: ${f.link.cpu_us_per_stanza} µs CPU per stanza (both ends), p50 ${f.link.p50_ms} ms, p99 ${f.link.p99_ms} ms at ${f.link.rate_per_s}/s`];
  for (const r of f.runs) {
    lines.push('error' in r ? `${r.instances} instance(s): FAILED ${r.error}` : `${r.instances} instance(s): ${r.answered_per_s} says/s answered of ${r.offered_per_s} offered, p50 ${r.p50_ms} ms, p99 ${r.p99_ms} ms, ${r.forwarded} forwarded`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}
