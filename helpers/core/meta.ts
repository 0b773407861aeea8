/**
 * The one shape in which a test hands its measurements to the reporter: `task.meta.stagecheck`.
 * Everything here was measured in this run; the reporter computes verdicts from it and never
 * invents a number. Keep it JSON-serialisable and free of secrets.
 *
 * Documented in docs/reports.md ("What a test records").
 */
import type { CheckErrorDetails, Component } from './errors.ts';
import type { RequestTiming } from './request-log.ts';

export const META_SCHEMA_VERSION = 1;

/** One named measurement series, e.g. latencies of `GET /health` or a KPI's pass/fail samples. */
export interface Measurement {
  name: string;
  unit: 'ms' | 'bool';
  /** Raw samples in the order taken; for `bool`, 1 = success and 0 = failure. */
  samples: number[];
  /** For retried samples: how many succeeded on their first attempt. */
  firstAttemptSuccesses?: number;
}

/** A KPI sample set; the catalog decides target, degraded threshold and minimum samples. */
export interface KpiSample {
  kpi: 'database-response-p95' | 'database-response-backend' | 'redis-connectivity' | 'ws-connection-success' | 'agent-execution-success' | 'golden-path-completion';
  /** bool samples for rates, ms samples for latencies. */
  samples: number[];
  firstAttemptSuccesses?: number;
}

export interface AgentTimelineEntry {
  type: string;
  tMs: number;
}

export interface RetryRecord {
  what: string;
  attempts: { n: number; ok: boolean; ms: number; error?: string }[];
}

/** A component marked down after a confirmed transport failure, or back (transport/component-watch.ts). */
export interface ComponentEvent {
  component: Component;
  kind: 'down' | 'back';
  /** When the mark was set or lifted (epoch ms). */
  at: number;
  /** `down`: when the failure that raised the suspicion happened (epoch ms). */
  since?: number;
  /** `down`: layer and code, e.g. `tcp ECONNREFUSED`. */
  cause?: string;
  /** `down`: the run's last good answer from the component before it (epoch ms). */
  lastGoodAt?: number;
}

export interface StagecheckMeta {
  schema: typeof META_SCHEMA_VERSION;
  components: Component[];
  measurements: Measurement[];
  kpis: KpiSample[];
  timelines: { runId: string; events: AgentTimelineEntry[] }[];
  retries: RetryRecord[];
  /** Budget ledgers of the steps this test ran, by budget name. */
  ledgers: { budget: string; entries: unknown[] }[];
  /**
   * Timings of the requests this worker answered since the previous test ended (core/request-log.ts):
   * judged per endpoint and per component's cold start over the run, not per test.
   */
  requests?: RequestTiming[];
  /** Request timings not kept because the worker's log was over its cap. */
  requestsDropped?: number;
  /** Outages this worker confirmed and components it saw come back since the previous test ended. */
  componentEvents?: ComponentEvent[];
  /**
   * Why a test that passed is DEGRADED rather than PASS: it works, but something measured is
   * close to breaking (a TLS certificate expiring within 14 days, naming the date). Never blocks
   * phase 2.
   */
  degraded?: string[];
  /** Set when a probe was not configured: the test is NOT RUN, never passed. */
  notConfigured?: string;
  /** Evidence of the failure, from the CheckError that failed the test. */
  failure?: CheckErrorDetails & { message: string; name: string; harnessError?: boolean };
  /** Captured WebSocket frames of the failing test (text dump, secrets removed). */
  wsDump?: string;
}

declare module '@vitest/runner' {
  interface TaskMeta {
    stagecheck?: StagecheckMeta;
  }
}

export function emptyMeta(components: Component[] = []): StagecheckMeta {
  return { schema: META_SCHEMA_VERSION, components, measurements: [], kpis: [], timelines: [], retries: [], ledgers: [] };
}
