/**
 * Latency per endpoint and each component's cold start, judged from the request timings the
 * tests recorded (`task.meta.stagecheck.requests`, helpers/core/request-log.ts). Pure: timings
 * and budgets in, verdicts out.
 *
 * - Cold start: per component (backend, auth, websocket), the time from the first request of the
 *   run until the component's first answer. Every request that started before that first answer
 *   waited on the cold start: it is left out of its endpoint's latency and counted here instead.
 *   Past the contract's cold-start allowance (BUDGET_COLD_START_MS) → DEGRADED, naming the component.
 * - Endpoint: per component and method + path template, p50/p95/max over the rest of its
 *   requests against the catalog's budget (`endpointLatency`): the percentile from `degradedMs`
 *   DEGRADED, from `failMs` FAIL. An endpoint whose every request overlapped the cold start has
 *   no sample: NOT RUN (not measured), never passed.
 */
import { formatReportMs as formatMs } from '../helpers/core/format.ts';
import type { RequestTiming } from '../helpers/core/request-log.ts';
import { percentile, summarize } from '../helpers/core/stats.ts';
import { endpointBudget, type EndpointLatencyDef } from './catalog.ts';
import type { ColdStartOut, EndpointOut } from './schema.ts';

/** The contract's cold-start allowance when the configuration gives none (+3–4 s). */
export const DEFAULT_COLD_START_ALLOWANCE_MS = 4_000;

/** Components whose requests are judged per endpoint: the HTTP services. */
const HTTP_COMPONENTS = new Set(['backend', 'auth']);

export interface LatencyOut {
  coldStartAllowanceMs: number;
  percentile: number;
  functions: string[];
  endpoints: EndpointOut[];
  coldStarts: ColdStartOut[];
  /** Requests the workers recorded, and how many their log dropped over its cap. */
  requests: number;
  dropped: number;
}

export function judgeLatency(
  requests: readonly RequestTiming[],
  def: EndpointLatencyDef | undefined,
  coldStartAllowanceMs: number,
  warnings: string[],
  dropped = 0,
): LatencyOut {
  const byComponent = new Map<string, RequestTiming[]>();
  for (const r of requests) byComponent.set(r.component, [...(byComponent.get(r.component) ?? []), r]);

  const coldStarts: ColdStartOut[] = [];
  const cold = new Set<RequestTiming>();
  for (const component of [...byComponent.keys()].sort()) {
    const list = [...(byComponent.get(component) ?? [])].sort((a, b) => a.startedAt - b.startedAt);
    const first = list[0] as RequestTiming;
    const firstAnswerAt = Math.min(...list.map((r) => r.startedAt + r.ms));
    const firstAnswered = list.find((r) => r.startedAt + r.ms === firstAnswerAt) as RequestTiming;
    const overlapping = list.filter((r) => r.startedAt < firstAnswerAt);
    for (const r of overlapping) cold.add(r);
    const ms = Math.round((firstAnswerAt - first.startedAt) * 10) / 10;
    const past = ms > coldStartAllowanceMs;
    coldStarts.push({
      component,
      verdict: past ? 'DEGRADED' : 'PASS',
      reason: `${component} cold start: first answer ${formatMs(ms)} after the run's first request (${first.endpoint})` +
        `${past ? `, past the ${formatMs(coldStartAllowanceMs)} cold-start allowance` : `, within the ${formatMs(coldStartAllowanceMs)} cold-start allowance`}` +
        `; ${overlapping.length} request${overlapping.length === 1 ? '' : 's'} waited on it, left out of the endpoint latencies`,
      ms,
      allowanceMs: coldStartAllowanceMs,
      firstRequest: first.endpoint,
      firstAnswered: firstAnswered.endpoint,
      startedAt: new Date(first.startedAt).toISOString(),
      excludedRequests: overlapping.length,
    });
  }

  const endpoints: EndpointOut[] = [];
  const unlisted: string[] = [];
  if (def) {
    const groups = new Map<string, { component: string; endpoint: string; warm: number[]; excluded: number }>();
    for (const r of requests) {
      if (!HTTP_COMPONENTS.has(r.component)) continue;
      const key = `${r.component} ${r.endpoint}`;
      const group = groups.get(key) ?? { component: r.component, endpoint: r.endpoint, warm: [], excluded: 0 };
      if (cold.has(r)) group.excluded += 1;
      else group.warm.push(r.ms);
      groups.set(key, group);
    }
    for (const group of [...groups.values()].sort((a, b) => a.component.localeCompare(b.component) || a.endpoint.localeCompare(b.endpoint))) {
      const budget = endpointBudget(def, group.component, group.endpoint);
      if (!budget.listed) unlisted.push(`${group.component} ${group.endpoint}`);
      const latency = summarize(group.warm);
      const value = group.warm.length ? percentile(group.warm, def.percentile) : null;
      const p = `p${def.percentile}`;
      const name = `${group.component === 'backend' ? '' : `${group.component} `}${group.endpoint}`;
      const common = {
        component: group.component,
        endpoint: group.endpoint,
        name,
        percentile: def.percentile,
        degradedMs: budget.degradedMs,
        failMs: budget.failMs,
        budget: budget.listed ? ('catalog' as const) : ('default' as const),
        samples: group.warm.length,
        excludedColdStart: group.excluded,
        value,
        latency,
      };
      if (value === null) {
        endpoints.push({ ...common, verdict: 'NOT RUN', reason: `${name}: not measured (its ${group.excluded} request(s) all waited on the cold start)` });
        continue;
      }
      const measured = `${name}: ${p} ${formatMs(value)} over ${group.warm.length} request${group.warm.length === 1 ? '' : 's'} (p50 ${formatMs(latency.p50 as number)}, max ${formatMs(latency.max as number)})`;
      if (value >= budget.failMs) endpoints.push({ ...common, verdict: 'FAIL', reason: `${measured}, at or past its ${formatMs(budget.failMs)} failure threshold` });
      else if (value >= budget.degradedMs) endpoints.push({ ...common, verdict: 'DEGRADED', reason: `${measured}, past its ${formatMs(budget.degradedMs)} degraded threshold` });
      else endpoints.push({ ...common, verdict: 'PASS', reason: `${measured}, under ${formatMs(budget.degradedMs)}` });
    }
    if (unlisted.length) {
      warnings.push(`endpointLatency: the catalog has no budget for ${unlisted.join(', ')}; judged against its default (degraded ${formatMs(def.default.degradedMs)}, fail ${formatMs(def.default.failMs)})`);
    }
  }
  if (dropped) warnings.push(`${dropped} request timing(s) were not kept (a worker's request log was over its cap): endpoint latencies are judged on the rest`);

  return {
    coldStartAllowanceMs,
    percentile: def?.percentile ?? 95,
    functions: def?.functions ?? [],
    endpoints,
    coldStarts,
    requests: requests.length,
    dropped,
  };
}
