export { noTelemetry, type RefusalReason, type StageDurations, type Telemetry } from './telemetry.ts';
export { PrometheusTelemetry, serveMetrics, type Gauges, type MetricsServerOptions } from './prometheus.ts';
export { readiness, type Readiness, type ReadinessSources } from './health.ts';
export { ago, formatInstances, readInstances, startHeartbeat, type Heartbeat, type InstanceIdentity, type InstanceState, type InstanceStatus } from './instances.ts';
