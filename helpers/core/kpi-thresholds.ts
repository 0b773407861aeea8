/**
 * The KPI thresholds the suite's own checks and config need (minimum samples, latency target and
 * failure threshold, rate target), read from the business catalog the reporter judges them by:
 * `catalog/stagecheck.catalog.json`, or the file named by STAGECHECK_CATALOG. One source, so a
 * check asserts the threshold the report shows, and editing the catalog changes both.
 *
 * Only the KPI part is read here, and only as far as these values go; the whole catalog (tiers,
 * rules, the schema) is the reporter's (reporter/catalog.ts), which validates it at start.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const DEFAULT_CATALOG_PATH = fileURLToPath(new URL('../../catalog/stagecheck.catalog.json', import.meta.url));

export interface LatencyThresholds {
  /** Which percentile of the samples is compared. */
  percentile: number;
  /** PASS below this. */
  targetMs: number;
  /** FAIL from this (DEGRADED between targetMs and failMs); targetMs when the catalog gives none. */
  failMs: number;
  minSamples: number;
}

export interface RateThresholds {
  /** Success ratio the samples must reach (0..1). */
  target: number;
  minSamples: number;
}

export interface KpiThresholds {
  /** The catalog file they were read from. */
  readonly path: string;
  latency(id: string): LatencyThresholds;
  rate(id: string): RateThresholds;
  /** A latency or rate KPI's minimum number of samples. */
  minSamples(id: string): number;
  /**
   * The per-endpoint latency failure lines (the catalog's `endpointLatency`), each endpoint as
   * "METHOD /path/template", and the line of an endpoint the catalog does not list.
   */
  endpointFailMs(): { endpoints: Array<{ component: string; endpoint: string; failMs: number }>; defaultFailMs: number | undefined };
}

type RawKpi = Record<string, unknown>;

const cache = new Map<string, KpiThresholds>();

/** The catalog's KPI thresholds; read once per file. Throws an Error naming the file and the KPI. */
export function readKpiThresholds(path: string = process.env.STAGECHECK_CATALOG || DEFAULT_CATALOG_PATH): KpiThresholds {
  const cached = cache.get(path);
  if (cached) return cached;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`the business catalog ${path} cannot be read: ${(error as Error).message}`);
  }
  const list = (raw as { kpis?: unknown } | null)?.kpis;
  if (!Array.isArray(list)) throw new Error(`the business catalog ${path} has no "kpis" list`);
  const kpis = new Map<string, RawKpi>();
  for (const entry of list) {
    if (entry !== null && typeof entry === 'object' && typeof (entry as RawKpi).id === 'string') kpis.set((entry as RawKpi).id as string, entry as RawKpi);
  }
  const fail = (id: string, what: string): never => {
    throw new Error(`the business catalog ${path}: KPI "${id}" ${what} (kpis)`);
  };
  const kpiOf = (id: string, kind: string): RawKpi => {
    const kpi = kpis.get(id);
    if (!kpi) return fail(id, 'is missing');
    if (kpi.kind !== kind) return fail(id, `is not a ${kind} KPI`);
    return kpi;
  };
  const number = (id: string, kpi: RawKpi, field: string): number => {
    const value = kpi[field];
    return typeof value === 'number' && Number.isFinite(value) ? value : fail(id, `has no numeric "${field}"`);
  };
  const latency = (id: string, seen: string[] = []): LatencyThresholds => {
    const kpi = kpiOf(id, 'latency');
    const minSamples = number(id, kpi, 'minSamples');
    // `thresholdsOf`: one threshold for one quantity measured two ways.
    const of = kpi.thresholdsOf;
    if (typeof of === 'string') {
      if (seen.includes(of)) fail(id, `takes its thresholds from a loop (${[...seen, id, of].join(' -> ')})`);
      const base = latency(of, [...seen, id]);
      const targetMs = typeof kpi.targetMs === 'number' ? kpi.targetMs : base.targetMs;
      return {
        percentile: typeof kpi.percentile === 'number' ? kpi.percentile : base.percentile,
        targetMs,
        failMs: typeof kpi.failMs === 'number' ? kpi.failMs : typeof kpi.targetMs === 'number' ? targetMs : base.failMs,
        minSamples,
      };
    }
    const targetMs = number(id, kpi, 'targetMs');
    return { percentile: number(id, kpi, 'percentile'), targetMs, failMs: typeof kpi.failMs === 'number' ? kpi.failMs : targetMs, minSamples };
  };
  const thresholds: KpiThresholds = {
    path,
    latency: (id) => latency(id),
    rate: (id) => {
      const kpi = kpiOf(id, 'rate');
      return { target: number(id, kpi, 'target'), minSamples: number(id, kpi, 'minSamples') };
    },
    minSamples: (id) => {
      const kpi = kpis.get(id) ?? fail(id, 'is missing');
      return number(id, kpi, 'minSamples');
    },
    endpointFailMs: () => endpointFailLines((raw as { endpointLatency?: unknown }).endpointLatency),
  };
  cache.set(path, thresholds);
  return thresholds;
}

/** The endpointLatency rows that carry a numeric failMs; the reporter validates the rest. */
function endpointFailLines(latency: unknown): ReturnType<KpiThresholds['endpointFailMs']> {
  const section = (latency ?? {}) as { endpoints?: unknown; default?: { failMs?: unknown } };
  const rows = Array.isArray(section.endpoints) ? (section.endpoints as RawKpi[]) : [];
  const endpoints = rows
    .filter((row) => typeof row.component === 'string' && typeof row.endpoint === 'string' && typeof row.failMs === 'number')
    .map((row) => ({ component: row.component as string, endpoint: row.endpoint as string, failMs: row.failMs as number }));
  const defaultFailMs = typeof section.default?.failMs === 'number' ? section.default.failMs : undefined;
  return { endpoints, defaultFailMs };
}
