export { noTelemetry, type RefusalReason, type StageDurations, type Telemetry } from './telemetry.ts';
export { PrometheusTelemetry, serveMetrics, type Gauges } from './prometheus.ts';
