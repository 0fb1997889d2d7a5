// Prometheus metrics for a running server, with prom-client rather
// than a hand-written exposition format. Served on 127.0.0.1:FLUX_METRICS_PORT.
import http from 'node:http';
import { once } from 'node:events';
import client from 'prom-client';
import type { RefusalReason, StageDurations, Telemetry } from './telemetry.ts';

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

/** GET /metrics on 127.0.0.1 only. Returns a closer. */
export async function serveMetrics(registry: client.Registry, port: number): Promise<{ close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (err: Error) => res.writeHead(500).end(err.message),
    );
  });
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  return { close: () => new Promise((resolve) => server.close(() => resolve())) };
}
