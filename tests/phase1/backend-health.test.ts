/**
 * Tier P1: if the backend's own health endpoints are wrong, nothing else can be trusted.
 * The body decides: a 200 whose body says "unhealthy" or "degraded" fails.
 */
import { describe, expect, test } from '../../fixtures/index.ts';
import { expectStatus } from '../../helpers/http.ts';
import { expectFields } from '../../helpers/body.ts';

describe('GET /health', { tags: ['p1', 'backend'] }, () => {
  test('answers 200 healthy with service, version and timestamp', async ({ api, report }) => {
    const result = await api.request('GET', '/health');
    report.measurements.push({ name: 'GET /health', unit: 'ms', samples: [result.timings.totalMs] });
    expectStatus(result, 200, 'GET /health', 'backend');
    const body = expectFields(result, 'GET /health', 'backend', { status: 'string', service: 'string', version: 'string', timestamp: 'string' });
    expect(['healthy', 'ok'], `GET /health status`).toContain(body.status);
    expect(Number.isNaN(Date.parse(body.timestamp)), 'GET /health timestamp is a date').toBe(false);
  });
});

describe('GET /health/ready', { tags: ['p1', 'backend', 'postgres', 'redis'] }, () => {
  test('reports ready with both databases connected', async ({ api }) => {
    const result = await api.request('GET', '/health/ready');
    expectStatus(result, 200, 'GET /health/ready', 'backend');
    const body = expectFields(result, 'GET /health/ready', 'backend', { status: 'string', core_db: 'string', redis_db: 'string' });
    expect(body.status, 'readiness status').toBe('ready');
    // Redis trouble shows as redis_db:"degraded" with a 200: the body decides.
    expect(body.redis_db, 'GET /health/ready redis_db').not.toMatch(/degraded|unhealthy|down|error/i);
    expect(body.core_db, 'GET /health/ready core_db').not.toMatch(/degraded|unhealthy|down|error/i);
  });
});

describe('GET /api/health', { tags: ['p1', 'backend', 'postgres', 'redis'] }, () => {
  test('reports healthy with PostgreSQL and Redis connected and their response times', async ({ api, report }) => {
    const result = await api.request('GET', '/api/health');
    expectStatus(result, 200, 'GET /api/health', 'backend');
    const body = expectFields(result, 'GET /api/health', 'backend', {
      status: 'string', version: 'string', uptime_seconds: 'number', checks: 'object',
    });
    const checks = body.checks as Record<string, { status?: string; connected?: boolean; response_time_ms?: number; error?: unknown }>;
    for (const store of ['postgres', 'redis'] as const) {
      const check = checks[store];
      expect(check, `GET /api/health checks.${store}`).toBeDefined();
      expect(check?.connected, `checks.${store}.connected (error: ${JSON.stringify(check?.error ?? null)})`).toBe(true);
      expect(typeof check?.response_time_ms, `checks.${store}.response_time_ms`).toBe('number');
      report.measurements.push({ name: `platform-reported ${store} response time`, unit: 'ms', samples: [check?.response_time_ms ?? NaN] });
    }
    expect(body.status, 'GET /api/health status').toBe('healthy');
  });
});

describe('GET /ws/health', { tags: ['p1', 'websocket'] }, () => {
  test('reports the WebSocket service healthy in its body', async ({ api }) => {
    const result = await api.request('GET', '/ws/health');
    expectStatus(result, 200, 'GET /ws/health', 'websocket');
    const body = expectFields(result, 'GET /ws/health', 'websocket', { status: 'string' });
    // This endpoint answers 200 even when unhealthy.
    expect(body.status, 'GET /ws/health status').toBe('healthy');
  });
});
