/**
 * API responsiveness: p50/p95 of the core endpoints over repeated samples, against a p95 budget.
 *
 * Tier P5 for the endpoints a user waits on (token verification, reading, creating and deleting
 * threads): slowness annoys but nothing is lost. Tier P6 for the health endpoints: only load
 * balancers and monitors wait on them.
 *
 * Every sample must also be a correct answer (status and body), so a fast error is never
 * counted as a fast response. Raw samples go to `report.measurements` (unit ms); a p95 over the
 * budget fails with a CheckError (layer 'budget') naming the endpoint, the p95 and the budget.
 */
import type { Budget } from '../../helpers/core/budgets.ts';
import { check, expectFields } from '../../helpers/contract/body.ts';
import { CheckError, type Component } from '../../helpers/core/errors.ts';
import { readKpiThresholds } from '../../helpers/core/kpi-thresholds.ts';
import { httpBudgetFor } from '../../helpers/core/endpoint-classes.ts';
import type { SuiteConfig } from '../../helpers/core/config.ts';
import { type HttpResult } from '../../helpers/transport/http.ts';
import { expectStatus } from '../../helpers/contract/http-checks.ts';
import type { StagecheckMeta } from '../../helpers/core/meta.ts';
import { runScopedName } from '../../helpers/core/run-names.ts';
import { summarize } from '../../helpers/core/stats.ts';
import { describe, test } from '../../fixtures/index.ts';
import { CHECK_IDS } from '../check-ids.ts';

/** Samples per endpoint (the KPI catalog's minimum for latency KPIs is 10). */
const SAMPLES = 12;
const MIN_SAMPLES = 10;
/** Requests in flight at once per endpoint. */
const CONCURRENCY = 3;
/**
 * p95 budget per request: the KPI catalog's database response-time target (p95 < 3 s). Each of
 * these endpoints answers from PostgreSQL or Redis (or, for /health, from nothing at all), so
 * a p95 above the database target means the API, not the database probe, is what is slow.
 * Read from the catalog (STAGECHECK_CATALOG included), like the database probe's own check.
 */
const P95_BUDGET_MS = readKpiThresholds().latency('database-response-p95').targetMs;

/**
 * Takes `count` samples, `concurrency` at a time, each a budget step; `take` returns the
 * response time in ms of one checked request. The first failing sample fails the test.
 */
async function sample(budget: Budget, what: string, take: (index: number) => Promise<number>, count = SAMPLES, concurrency = CONCURRENCY): Promise<number[]> {
  const samples: number[] = new Array<number>(count);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < count) {
      const index = next++;
      samples[index] = await budget.step(`${what} sample ${index + 1}`, () => take(index));
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane));
  return samples.map((ms) => Math.round(ms * 10) / 10);
}

/** The request's own response time (connect to last body byte). */
function msOf(result: HttpResult): number {
  return result.timings.totalMs;
}

/** Records the samples, then fails when there are too few or their p95 is over the budget. */
function expectP95WithinBudget(report: StagecheckMeta, endpoint: string, component: Component, samples: number[], budgetMs = P95_BUDGET_MS): void {
  report.measurements.push({ name: `${endpoint} response time`, unit: 'ms', samples });
  const summary = summarize(samples);
  if (summary.count < MIN_SAMPLES) {
    throw new CheckError(`${endpoint}: only ${summary.count} of ${MIN_SAMPLES} latency samples were measured`, {
      component, layer: 'budget', endpoint, code: 'too-few-samples', evidence: { samples },
    });
  }
  const p95 = summary.p95 as number;
  if (p95 > budgetMs) {
    throw new CheckError(
      `${endpoint}: p95 ${Math.round(p95)} ms over its ${budgetMs} ms budget (p50 ${Math.round(summary.p50 as number)} ms, max ${Math.round(summary.max as number)} ms, ${summary.count} samples, ${CONCURRENCY} at a time)`,
      { component, layer: 'budget', endpoint, code: 'p95-over-budget', elapsedMs: Math.round(p95), evidence: { budgetMs, summary, samples } },
    );
  }
}

/** Time for all samples of an endpoint: its class's request budget per round of CONCURRENCY requests. */
function samplingBudgetMs(config: SuiteConfig, path: string): number {
  return httpBudgetFor(config.budgets)(path) * Math.ceil(SAMPLES / CONCURRENCY);
}

describe('health endpoint response times', { tags: ['p6', 'backend'], concurrent: true }, () => {
  test(`answers GET /health with p95 within ${P95_BUDGET_MS} ms over ${SAMPLES} samples`, { meta: { checkId: CHECK_IDS.latencyHealth } }, async ({ api, budget, config, report }) => {
    const samples = await sample(budget('GET /health samples', samplingBudgetMs(config, '/health')), 'GET /health', async () => {
      const result = await api.request('GET', '/health');
      expectStatus(result, 200, 'GET /health', 'backend');
      const body = expectFields(result, 'GET /health', 'backend', { status: 'string' });
      check(body.status === 'healthy' || body.status === 'ok', `GET /health answered status "${body.status}"`, { component: 'backend', layer: 'content', endpoint: 'GET /health' });
      return msOf(result);
    });
    expectP95WithinBudget(report, 'GET /health', 'backend', samples);
  });

  test(`answers GET /api/health with p95 within ${P95_BUDGET_MS} ms over ${SAMPLES} samples`, { meta: { checkId: CHECK_IDS.latencyApiHealth } }, async ({ api, budget, config, report }) => {
    const databaseMs: number[] = [];
    const samples = await sample(budget('GET /api/health samples', samplingBudgetMs(config, '/api/health')), 'GET /api/health', async () => {
      const result = await api.request('GET', '/api/health');
      expectStatus(result, 200, 'GET /api/health', 'backend');
      const body = expectFields(result, 'GET /api/health', 'backend', { status: 'string', checks: 'object' });
      check(body.status === 'healthy' || body.status === 'degraded', `GET /api/health answered status "${body.status}"`, { component: 'backend', layer: 'content', endpoint: 'GET /api/health' });
      // The database response time the backend reports: a sample of the catalog's database KPI.
      const reported = (body.checks as { postgres?: { response_time_ms?: unknown } }).postgres?.response_time_ms;
      if (typeof reported === 'number' && Number.isFinite(reported)) databaseMs.push(reported);
      return msOf(result);
    });
    if (databaseMs.length) report.kpis.push({ kpi: 'database-response-backend', samples: databaseMs });
    expectP95WithinBudget(report, 'GET /api/health', 'backend', samples);
  });
});

describe('API response times', { tags: ['p5', 'backend', 'auth', 'postgres'], concurrent: true }, () => {
  test(`answers POST /auth/verify with p95 within ${P95_BUDGET_MS} ms over ${SAMPLES} samples`, { meta: { checkId: CHECK_IDS.latencyVerify } }, async ({ authApi, identity, budget, config, report }) => {
    const samples = await sample(budget('POST /auth/verify samples', samplingBudgetMs(config, '/auth/verify')), 'POST /auth/verify', async () => {
      const result = await authApi.request('POST', '/auth/verify', { auth: await identity.accessToken() });
      expectStatus(result, 200, 'POST /auth/verify', 'auth');
      const body = expectFields(result, 'POST /auth/verify', 'auth', { valid: 'boolean' });
      check(body.valid, `POST /auth/verify said valid:false for the suite's own token (${String(body.error)})`, { component: 'auth', layer: 'content', endpoint: 'POST /auth/verify' });
      return msOf(result);
    });
    expectP95WithinBudget(report, 'POST /auth/verify', 'auth', samples);
  });

  test(`answers GET /api/threads/:id with p95 within ${P95_BUDGET_MS} ms over ${SAMPLES} samples`, { meta: { checkId: CHECK_IDS.latencyThreadRead } }, async ({ api, threads, budget, config, report }) => {
    const thread = await threads.create('latency-read');
    const path = `/api/threads/${encodeURIComponent(thread.id)}`;
    const samples = await sample(budget('GET /api/threads/:id samples', samplingBudgetMs(config, '/api/threads/:id')), 'GET /api/threads/:id', async () => {
      const result = await api.request('GET', path, { auth: true });
      expectStatus(result, 200, 'GET /api/threads/:id', 'backend');
      const body = expectFields(result, 'GET /api/threads/:id', 'backend', { id: 'string' });
      check(body.id === thread.id, `GET /api/threads/:id answered thread ${body.id}, asked for ${thread.id}`, { component: 'backend', layer: 'content', endpoint: 'GET /api/threads/:id' });
      return msOf(result);
    });
    expectP95WithinBudget(report, 'GET /api/threads/:id', 'backend', samples);
  });

  test(`answers POST /api/threads and DELETE /api/threads/:id with p95 within ${P95_BUDGET_MS} ms over ${SAMPLES} samples each`, { meta: { checkId: CHECK_IDS.latencyThreadCreateDelete } }, async ({ api, threads, budget, config, report }) => {
    const deletes: number[] = [];
    const creates = await sample(budget('POST + DELETE /api/threads samples', 2 * samplingBudgetMs(config, '/api/threads')), 'POST + DELETE /api/threads', async (index) => {
      const title = runScopedName(config.runId, `latency-${index + 1}`);
      const created = await api.request('POST', '/api/threads', { body: { title }, auth: true });
      expectStatus(created, 201, 'POST /api/threads', 'backend');
      const thread = expectFields(created, 'POST /api/threads', 'backend', { id: 'string', title: 'string' });
      threads.adopt(thread.id); // deleted by the fixture if the DELETE below fails
      check(thread.title === title, `POST /api/threads answered title "${thread.title}", sent "${title}"`, { component: 'backend', layer: 'content', endpoint: 'POST /api/threads' });
      const deleted = await api.request('DELETE', `/api/threads/${encodeURIComponent(thread.id)}`, { auth: true });
      expectStatus(deleted, 204, 'DELETE /api/threads/:id', 'backend');
      deletes[index] = Math.round(msOf(deleted) * 10) / 10;
      return msOf(created);
    });
    // Both series are recorded before either is judged.
    const failures: unknown[] = [];
    for (const [endpoint, samples] of [['POST /api/threads', creates], ['DELETE /api/threads/:id', deletes]] as const) {
      try {
        expectP95WithinBudget(report, endpoint, 'backend', samples);
      } catch (error) {
        failures.push(error);
      }
    }
    if (failures.length > 0) throw failures[0];
  });
});
