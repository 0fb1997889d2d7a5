// What the running server reports about itself. The pipeline calls
// these; lib/metrics/prometheus.ts turns them into Prometheus metrics when
// FLUX_METRICS_PORT is set, and by default nothing listens.
export type RefusalReason = 'not-occupant' | 'shutting-down' | 'too-long' | 'stanza-too-large' | 'stanza-too-deep' | 'rate-limited' | 'not-a-command' | 'queue-full' | 'not-committed' | 'server-busy';

export interface StageDurations {
  readonly contextualizeMs: number;
  readonly transformMs: number;
  readonly planMs: number;
  readonly actuateMs: number;
  readonly renderMs: number;
}

export interface Telemetry {
  commandAccepted(room: string): void;
  commandRefused(room: string, reason: RefusalReason): void;
  batch(room: string, size: number, stages: StageDurations): void;
  stanzasSent(room: string, count: number): void;
  transactionRetry(room: string): void;
  fenceConflict(room: string): void;
}

export const noTelemetry: Telemetry = {
  commandAccepted: () => {},
  commandRefused: () => {},
  batch: () => {},
  stanzasSent: () => {},
  transactionRetry: () => {},
  fenceConflict: () => {},
};
