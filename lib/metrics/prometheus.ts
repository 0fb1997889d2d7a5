// Prometheus metrics for a running server, with prom-client rather
// than a hand-written exposition format. Served on FLUX_METRICS_HOST:FLUX_METRICS_PORT
// (127.0.0.1 by default), beside the health and readiness probes (health.ts).
import http from 'node:http';
import { once } from 'node:events';
import client from 'prom-client';
import type { RefusalReason, StageDurations, Telemetry } from './telemetry.ts';
import type { Readiness } from './health.ts';

/** Gauges read when scraped: what the server holds right now. */
export interface Gauges {
  rooms(): number;
  occupants(): number;
  engineMemoryBytes(): number;
  /** How far behind the XMPP server is in reading the component stream (lib/xmpp/server-lag.ts). */
  serverLagMs(): number;
}

const STAGES: [keyof StageDurations, string][] = [
  ['contextualizeMs', 'contextualization'], ['transformMs', 'transformation'], ['planMs', 'planning'], ['actuateMs', 'actuation'], ['renderMs', 'render'],
];

export class PrometheusTelemetry implements Telemetry {
  readonly registry = new client.Registry();
  private readonly accepted = new client.Counter({ name: 'flux_commands_accepted_total', help: 'Commands taken into a batch', labelNames: ['room'], registers: [this.registry] });
  private readonly refused = new client.Counter({ name: 'flux_commands_refused_total', help: 'Commands answered without reaching the world, by reason', labelNames: ['room', 'reason'], registers: [this.registry] });
  private readonly batchSize = new client.Histogram({
    name: 'flux_batch_commands', help: 'Commands per batch', labelNames: ['room'], buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 4096], registers: [this.registry],
  });
  private readonly stage = new client.Histogram({
    name: 'flux_stage_seconds', help: 'Time per batch in each pipeline stage', labelNames: ['room', 'stage'],
    buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1], registers: [this.registry],
  });
  private readonly stanzas = new client.Counter({ name: 'flux_stanzas_sent_total', help: 'Effect stanzas sent to sessions after COMMIT', labelNames: ['room'], registers: [this.registry] });
  private readonly retries = new client.Counter({ name: 'flux_transaction_retries_total', help: 'Batch transactions that failed and were retried', labelNames: ['room'], registers: [this.registry] });
  private readonly fences = new client.Counter({ name: 'flux_fence_conflicts_total', help: 'Batches refused by the version fence', labelNames: ['room'], registers: [this.registry] });

  constructor(gauges: Gauges) {
    new client.Gauge({ name: 'flux_rooms', help: 'Rooms this instance serves', registers: [this.registry], collect() { this.set(gauges.rooms()); } });
    new client.Gauge({ name: 'flux_occupants', help: 'Players joined, over all rooms', registers: [this.registry], collect() { this.set(gauges.occupants()); } });
    new client.Gauge({ name: 'flux_engine_memory_bytes', help: 'Engine memory (WASM linear memory) over all rooms', registers: [this.registry], collect() { this.set(gauges.engineMemoryBytes()); } });
    new client.Gauge({ name: 'flux_server_lag_seconds', help: 'How far behind the XMPP server is in reading what Flux writes', registers: [this.registry], collect() { this.set(gauges.serverLagMs() / 1000); } });
    client.collectDefaultMetrics({ register: this.registry }); // includes nodejs_eventloop_lag_seconds
  }

  commandAccepted(room: string): void {
    this.accepted.inc({ room });
  }
  commandRefused(room: string, reason: RefusalReason): void {
    this.refused.inc({ room, reason });
  }
  batch(room: string, size: number, stages: StageDurations): void {
    this.batchSize.observe({ room }, size);
    for (const [key, stage] of STAGES) this.stage.observe({ room, stage }, stages[key] / 1000);
  }
  stanzasSent(room: string, count: number): void {
    this.stanzas.inc({ room }, count);
  }
  transactionRetry(room: string): void {
    this.retries.inc({ room });
  }
  fenceConflict(room: string): void {
    this.fences.inc({ room });
  }
}

export interface MetricsServerOptions {
  readonly port: number;
  /** The address to bind (FLUX_METRICS_HOST): loopback unless the operator opens it. */
  readonly host: string;
  readonly readiness: Readiness;
}

/**
 * GET /metrics (Prometheus), /healthz (200 "ok" while the process answers) and
 * /readyz (200 "ready", or 503 with one line per thing that is not ready).
 * Returns a closer and the address it listens on.
 */
export async function serveMetrics(registry: client.Registry, options: MetricsServerOptions): Promise<{ url: string; close(): Promise<void> }> {
  const text = (res: http.ServerResponse, status: number, body: string) => res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' }).end(body);
  const server = http.createServer((req, res) => {
    const route = req.method === 'GET' || req.method === 'HEAD' ? req.url : undefined;
    if (route === '/healthz') return text(res, 200, 'ok\n');
    if (route === '/readyz') {
      return void options.readiness().then(
        (missing) => (missing.length === 0 ? text(res, 200, 'ready\n') : text(res, 503, `${missing.join('\n')}\n`)),
        (err: Error) => text(res, 503, `readiness check failed: ${err.message}\n`),
      );
    }
    if (req.method !== 'GET' || route !== '/metrics') return void res.writeHead(404).end();
    registry.metrics().then(
      (body) => res.writeHead(200, { 'content-type': registry.contentType }).end(body),
      (err: Error) => res.writeHead(500).end(err.message),
    );
  });
  server.listen(options.port, options.host);
  await once(server, 'listening');
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return { url: `http://${host}:${options.port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
