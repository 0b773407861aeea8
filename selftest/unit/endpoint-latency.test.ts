/**
 * Issue 13 section 7, "what is measured gets judged": request timings per endpoint template
 * (helpers/core/request-log.ts), each component's cold start judged on its own
 * (reporter/latency.ts), the endpoint budgets and the backend-reported database KPI of the
 * catalog, and how they reach the run's verdict and every output.
 */
import { describe, expect, it } from 'vitest';
import { loadCatalog, parseCatalog } from '../../reporter/catalog.ts';
import { judgeLatency } from '../../reporter/latency.ts';
import { renderHtml } from '../../reporter/render-html.ts';
import { renderMarkdown, renderTerminal } from '../../reporter/render-text.ts';
import { reportSchema } from '../../reporter/schema.ts';
import { computeReport } from '../../reporter/verdicts.ts';
import { drainRequests, endpointTemplate, recordRequest, type RequestTiming } from '../../helpers/core/request-log.ts';
import type { TestRecord } from '../../reporter/records.ts';

const { catalog } = await loadCatalog();
const budgets = catalog.endpointLatency!;
const T0 = Date.UTC(2026, 10, 30, 12);

function req(component: RequestTiming['component'], endpoint: string, startOffsetMs: number, ms: number): RequestTiming {
  return { component, endpoint, startedAt: T0 + startOffsetMs, ms, status: 200 };
}

/** A healthy run: a warm burst of requests to both services after their first answers. */
function healthyRequests(coldMs = 40): RequestTiming[] {
  const out: RequestTiming[] = [req('backend', 'GET /health', 0, coldMs), req('auth', 'POST /auth/e2e/test-auth', 0, coldMs)];
  for (let i = 0; i < 12; i += 1) {
    out.push(req('backend', 'GET /api/threads/:id/messages', coldMs + 100 + i * 50, 30 + i));
    out.push(req('backend', 'POST /api/threads', coldMs + 100 + i * 50, 20));
    out.push(req('auth', 'POST /auth/verify', coldMs + 100 + i * 50, 10));
  }
  return out;
}

function record(requests: RequestTiming[], kpis: { kpi: string; samples: number[] }[] = []): TestRecord {
  return {
    id: 't1', project: 'phase1', file: 'tests/phase1/phase1.test.ts', name: 'n', fullName: 'GET /api/health > reports healthy',
    tags: ['p1', 'backend', 'postgres'], state: 'passed', mode: 'run', errors: [], durationMs: 10,
    meta: { schema: 1, components: ['backend', 'postgres'], measurements: [], kpis, timelines: [], retries: [], ledgers: [], requests },
  };
}

function report(requests: RequestTiming[], kpis: { kpi: string; samples: number[] }[] = [], coldStartAllowanceMs?: number) {
  const out = computeReport({ catalog, catalogPath: 'catalog/stagecheck.catalog.json', tests: [record(requests, kpis)], ...(coldStartAllowanceMs ? { coldStartAllowanceMs } : {}) });
  reportSchema.parse(out);
  return out;
}

describe('endpointTemplate', () => {
  it('names a request by method and path template, ids as :id and without its query', () => {
    expect(endpointTemplate('get', '/api/threads/3f2a1c7e-9a1b-4c2d-8e3f-0a1b2c3d4e5f/messages?limit=5')).toBe('GET /api/threads/:id/messages');
    expect(endpointTemplate('DELETE', '/api/threads/e2e-20261130-abc-thread')).toBe('DELETE /api/threads/:id');
    expect(endpointTemplate('GET', '/api/threads/does-not-exist')).toBe('GET /api/threads/:id');
    expect(endpointTemplate('POST', '/api/threads')).toBe('POST /api/threads');
    expect(endpointTemplate('POST', '/auth/e2e/test-auth')).toBe('POST /auth/e2e/test-auth');
    expect(endpointTemplate('GET', '/health/')).toBe('GET /health');
    expect(endpointTemplate('GET', '/users/12345/items')).toBe('GET /users/:id/items');
  });

  it('keeps what a worker answered until the report fixture drains it, with the ms rounded to 0.1', () => {
    drainRequests();
    recordRequest({ component: 'backend', endpoint: 'GET /health', startedAt: T0, ms: 12.345 });
    recordRequest({ component: 'backend', endpoint: 'GET /health', startedAt: Number.NaN, ms: 1 });
    expect(drainRequests()).toEqual({ requests: [{ component: 'backend', endpoint: 'GET /health', startedAt: T0, ms: 12.3 }], dropped: 0 });
    expect(drainRequests().requests).toEqual([]);
  });
});

describe('the catalog budgets', () => {
  it('has a latency budget, degraded below fail, for every endpoint of the contract the suite calls', () => {
    const contract = [
      'backend GET /health', 'backend GET /health/ready', 'backend GET /api/health', 'backend GET /ws/health', 'backend POST /api/threads',
      'backend GET /api/threads/:id', 'backend GET /api/threads/:id/messages', 'backend DELETE /api/threads/:id', 'backend POST /api/websocket/ticket',
      'auth GET /health', 'auth POST /auth/login', 'auth POST /auth/refresh', 'auth POST /auth/verify', 'auth POST /auth/logout', 'auth POST /auth/e2e/test-auth',
    ];
    expect(budgets.endpoints.map((e) => `${e.component} ${e.endpoint}`).sort()).toEqual(contract.sort());
    for (const e of budgets.endpoints) expect(e.failMs, e.endpoint).toBeGreaterThan(e.degradedMs);
  });

  it('judges the backend-reported database time by the database KPI\'s own thresholds (thresholdsOf), blaming postgres', () => {
    const kpi = catalog.kpis.find((k) => k.id === 'database-response-backend');
    const base = catalog.kpis.find((k) => k.id === 'database-response-p95');
    expect(kpi).toMatchObject({ kind: 'latency', thresholdsOf: 'database-response-p95', component: 'postgres' });
    expect(kpi?.kind === 'latency' && base?.kind === 'latency' && [kpi.targetMs, kpi.failMs, kpi.percentile]).toEqual(base?.kind === 'latency' && [base.targetMs, base.failMs, base.percentile]);
  });

  it('refuses thresholdsOf naming no latency KPI, and an endpoint budget whose failMs is not above degradedMs', async () => {
    const raw = JSON.parse(JSON.stringify({ ...catalog, endpointLatency: { ...budgets, endpoints: [{ component: 'backend', endpoint: 'GET /x', degradedMs: 5000, failMs: 2000 }] } }));
    raw.kpis.push({ id: 'db-twice', name: 'x', kind: 'latency', thresholdsOf: 'redis-connectivity', percentile: 95, targetMs: 1, minSamples: 1 });
    const { warnings } = await parseCatalog(raw);
    expect(warnings.join('\n')).toMatch(/endpointLatency backend GET \/x: failMs \(2000\) must be above degradedMs \(5000\)/);
    expect(warnings.join('\n')).toMatch(/thresholdsOf names "redis-connectivity", which is not a latency KPI/);
    // Without thresholds of its own, the missing ones are named.
    raw.kpis.push({ id: 'db-thrice', name: 'x', kind: 'latency', thresholdsOf: 'nothing-such', minSamples: 1 });
    expect((await parseCatalog(raw)).warnings.join('\n')).toMatch(/kpis\.\d+\.targetMs/);
  });
});

describe('latency per endpoint', () => {
  it('passes a healthy run, with p50/p95/max and the sample count per endpoint', () => {
    const out = judgeLatency(healthyRequests(), budgets, 4000, []);
    const messages = out.endpoints.find((e) => e.endpoint === 'GET /api/threads/:id/messages')!;
    expect(messages).toMatchObject({ verdict: 'PASS', samples: 12, excludedColdStart: 0, value: 41, latency: { p50: 35, max: 41 }, budget: 'catalog' });
    expect(out.endpoints.every((e) => e.verdict === 'PASS' || e.verdict === 'NOT RUN')).toBe(true);
  });

  it('calls a message history read taking 4 s DEGRADED, naming the endpoint and its p95; past its fail threshold FAIL', () => {
    const slow = healthyRequests().map((r) => (r.endpoint === 'GET /api/threads/:id/messages' ? { ...r, ms: 4000 + (r.ms % 7) } : r));
    const r = report(slow);
    expect(r.verdict).toBe('DEGRADED');
    const messages = r.latency!.endpoints.find((e) => e.endpoint === 'GET /api/threads/:id/messages')!;
    expect(messages.verdict).toBe('DEGRADED');
    expect(messages.reason).toMatch(/^GET \/api\/threads\/:id\/messages: p95 4\.0\d s over 12 requests .*past its 2\.00 s degraded threshold/);
    expect(r.reason).toContain('GET /api/threads/:id/messages: p95 4.0');
    expect(r.functions.find((f) => f.id === 'api-responsiveness')?.verdict).toBe('DEGRADED');

    const failing = report(healthyRequests().map((r) => (r.endpoint === 'GET /api/threads/:id/messages' ? { ...r, ms: 5200 } : r)));
    expect(failing.verdict).toBe('FAIL');
    expect(failing.exitCode).toBe(1);
    expect(failing.reason).toMatch(/latency GET \/api\/threads\/:id\/messages: p95 5\.20 s .* at or past its 5\.00 s failure threshold/);
  });

  it('judges an endpoint the catalog does not list by its default, and says so', () => {
    const warnings: string[] = [];
    const out = judgeLatency([req('backend', 'GET /health', 0, 5), req('backend', 'GET /api/unknown', 100, 2500)], budgets, 4000, warnings);
    expect(out.endpoints.find((e) => e.endpoint === 'GET /api/unknown')).toMatchObject({ verdict: 'DEGRADED', budget: 'default' });
    expect(warnings.join()).toMatch(/no budget for backend GET \/api\/unknown; judged against its default/);
  });
});

describe('cold start', () => {
  it('reports a 3 s cold start per component on its own, within the 4 s allowance: PASS, and the requests that waited on it stay out of the endpoint KPIs', () => {
    // The staging profile: the first burst waits ~3 s on each component, then everything is fast.
    const requests: RequestTiming[] = [];
    for (let i = 0; i < 6; i += 1) requests.push(req('backend', i % 2 ? 'GET /health/ready' : 'GET /api/threads/:id/messages', i * 20, 3000 - i * 20 + 15));
    requests.push(req('auth', 'POST /auth/e2e/test-auth', 0, 3050), req('websocket', 'GET /ws (upgrade)', 500, 2600));
    requests.push(...healthyRequests().map((r) => ({ ...r, startedAt: r.startedAt + 3200 })));
    const r = report(requests);
    expect(r.verdict, r.reason).toBe('PASS');
    expect(r.latency!.coldStarts.map((c) => [c.component, c.verdict, c.ms])).toEqual([['auth', 'PASS', 3050], ['backend', 'PASS', 3015], ['websocket', 'PASS', 2600]]);
    expect(r.latency!.coldStarts.find((c) => c.component === 'backend')).toMatchObject({ excludedRequests: 6, firstRequest: 'GET /api/threads/:id/messages' });
    expect(r.latency!.endpoints.find((e) => e.endpoint === 'GET /api/threads/:id/messages')).toMatchObject({ verdict: 'PASS', samples: 12, excludedColdStart: 3 });
    expect(r.latency!.endpoints.find((e) => e.endpoint === 'GET /health/ready')).toMatchObject({ verdict: 'NOT RUN', samples: 0, excludedColdStart: 3 });
  });

  it('calls a cold start past BUDGET_COLD_START_MS DEGRADED, naming the component', () => {
    const requests = [req('backend', 'GET /health', 0, 5200), ...healthyRequests().map((r) => ({ ...r, startedAt: r.startedAt + 5300 }))];
    const r = report(requests, [], 4000);
    expect(r.verdict).toBe('DEGRADED');
    expect(r.reason).toMatch(/backend cold start: first answer 5\.\d+ s after the run's first request \(GET \/health\), past the 4\.00 s cold-start allowance/);
    expect(report(requests, [], 6000).verdict).toBe('PASS');
  });
});

describe('the database KPI from the backend', () => {
  it('makes /api/health reporting 4 s DEGRADED and 5.5 s FAIL (blamed on postgres), by the catalog thresholds', () => {
    const degraded = report(healthyRequests(), [{ kpi: 'database-response-backend', samples: [4000] }]);
    expect(degraded.tests[0]).toMatchObject({ verdict: 'DEGRADED' });
    expect(degraded.kpis.find((k) => k.id === 'database-response-backend')).toMatchObject({ verdict: 'DEGRADED', value: 4000, samples: 1 });
    expect(degraded.verdict).toBe('DEGRADED');

    const failed = report(healthyRequests(), [{ kpi: 'database-response-backend', samples: [5500] }]);
    expect(failed.tests[0]).toMatchObject({ verdict: 'FAIL', failure: { component: 'postgres', layer: 'budget' } });
    expect(failed.verdict).toBe('FAIL');
    expect(report(healthyRequests(), [{ kpi: 'database-response-backend', samples: [12] }]).verdict).toBe('PASS');
  });
});

describe('every output shows them', () => {
  it('terminal, Markdown, HTML and JSON carry the endpoint latencies and the cold starts', () => {
    const r = report(healthyRequests().map((x) => (x.endpoint === 'GET /api/threads/:id/messages' ? { ...x, ms: 4000 } : x)));
    const terminal = renderTerminal(r);
    expect(terminal).toMatch(/latency +\d+ endpoints: 1 DEGRADED/);
    expect(terminal).toMatch(/degraded +GET \/api\/threads\/:id\/messages: p95 4\.00 s/);
    expect(terminal).toMatch(/cold start auth .* PASS · backend .* PASS/);
    const markdown = renderMarkdown(r);
    expect(markdown).toContain('## Latency per endpoint');
    expect(markdown).toMatch(/\| `GET \/api\/threads\/:id\/messages` \| 🟠 DEGRADED \|/);
    expect(markdown).toContain('### Cold start (allowance 4.00 s, BUDGET_COLD_START_MS)');
    const html = renderHtml(r, catalog.kpis);
    expect(html).toContain('Latency per endpoint');
    expect(html).toContain('GET /api/threads/:id/messages');
    expect(JSON.parse(JSON.stringify(r)).latency.endpoints.length).toBeGreaterThan(0);
  });
});
