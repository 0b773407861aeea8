import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunningPlatform } from '../index.ts';
import { admin, readyAgain, request, startTestPlatform } from './support.ts';

let platform: RunningPlatform;

beforeAll(async () => {
  platform = await startTestPlatform({ version: 'build-health-1', environment: 'staging-test' });
});
afterAll(async () => {
  await platform?.stop();
});
afterEach(async () => {
  await platform.clearFaults();
  // The next test starts with both stores answering, whatever this one switched off.
  await readyAgain(platform);
});

describe('GET /health (backend)', () => {
  it('answers healthy with service, version and timestamp', async () => {
    const { status, body } = await request(`${platform.urls.backend}/health`);
    expect(status).toBe(200);
    expect(body).toMatchObject({ status: 'healthy', service: 'netra-backend', version: 'build-health-1' });
    expect(Date.parse(body.timestamp)).not.toBeNaN();
  });

  it('echoes an inbound x-correlation-id and mints one otherwise', async () => {
    const echoed = await request(`${platform.urls.backend}/health`, { headers: { 'x-correlation-id': 'corr-123' } });
    expect(echoed.headers.get('x-correlation-id')).toBe('corr-123');
    const minted = await request(`${platform.urls.backend}/api/health`);
    expect(minted.headers.get('x-correlation-id')).toMatch(/^[0-9a-f-]{36}$/);
    const auth = await request(`${platform.urls.auth}/health`, { headers: { 'x-correlation-id': 'corr-auth' } });
    expect(auth.headers.get('x-correlation-id')).toBe('corr-auth');
  });

  it('answers 404 with a JSON body for unknown paths and 405 for wrong methods', async () => {
    expect((await request(`${platform.urls.backend}/nope`)).status).toBe(404);
    expect((await request(`${platform.urls.backend}/health`, { method: 'DELETE' })).status).toBe(405);
  });
});

describe('GET /health/ready', () => {
  it('is ready with both stores connected', async () => {
    const { status, body } = await request(`${platform.urls.backend}/health/ready`);
    expect(status).toBe(200);
    expect(body).toMatchObject({ status: 'ready', core_db: 'connected', redis_db: 'connected' });
    expect(body.details.postgres.connected).toBe(true);
  });

  it('answers 503 while PostgreSQL is down', async () => {
    await platform.setFault('pg_down');
    const { status, body } = await request(`${platform.urls.backend}/health/ready`);
    expect(status).toBe(503);
    expect(body).toMatchObject({ status: 'not_ready', core_db: 'disconnected' });
  });

  it('stays 200 with redis_db "degraded" when Redis refuses connections', async () => {
    await platform.setFault('redis_refused');
    const { status, body } = await request(`${platform.urls.backend}/health/ready`);
    expect(status).toBe(200);
    expect(body).toMatchObject({ status: 'ready', core_db: 'connected', redis_db: 'degraded' });
  });

  it('reports a silent Redis as degraded within about a second instead of hanging', async () => {
    await platform.setFault('redis_silent');
    const started = performance.now();
    const { status, body } = await request(`${platform.urls.backend}/health/ready`);
    expect(status).toBe(200);
    expect(body.redis_db).toBe('degraded');
    // A 1 s timeout decided (the Redis client's or the check's own, whichever fires first): the
    // measured time says so. The wall-clock bound only rules out hanging, with room for a busy machine.
    expect(body.details.redis.error).toMatch(/timed out/i);
    expect(body.details.redis.response_time_ms).toBeGreaterThanOrEqual(990);
    expect(performance.now() - started).toBeLessThan(10_000);
  });

  it('recovers once the faults are cleared', async () => {
    await platform.setFault('pg_down');
    await platform.setFault('redis_silent');
    await platform.clearFaults();
    const { status, body } = await readyAgain(platform);
    expect(status).toBe(200);
    expect(body).toMatchObject({ core_db: 'connected', redis_db: 'connected' });
  });
});

describe('GET /api/health', () => {
  it('reports per-store status with measured response times', async () => {
    const { status, body } = await request(`${platform.urls.backend}/api/health`);
    expect(status).toBe(200);
    expect(body).toMatchObject({ status: 'healthy', version: 'build-health-1', environment: 'staging-test' });
    // Uptime is measured, not constant: it is positive and no longer than this test file has run.
    expect(typeof body.uptime_seconds).toBe('number');
    expect(body.uptime_seconds).toBeGreaterThan(0);
    expect(body.uptime_seconds).toBeLessThan(process.uptime());
    for (const store of ['postgres', 'redis']) {
      expect(body.checks[store]).toMatchObject({ status: 'healthy', connected: true, error: null });
      expect(body.checks[store].response_time_ms).toBeGreaterThan(0);
    }
  });

  it('measures pg_slow as PostgreSQL latency', async () => {
    await platform.setFault('pg_slow', { ms: 300 });
    const { status, body } = await request(`${platform.urls.backend}/api/health`);
    expect(status).toBe(200);
    expect(body.checks.postgres.response_time_ms).toBeGreaterThanOrEqual(290);
  });

  it('is degraded (200) when Redis fails', async () => {
    await platform.setFault('redis_refused');
    const { status, body } = await request(`${platform.urls.backend}/api/health`);
    expect(status).toBe(200);
    expect(body.status).toBe('degraded');
    expect(body.checks.redis).toMatchObject({ status: 'unhealthy', connected: false });
    expect(body.checks.redis.error).toEqual(expect.any(String));
  });

  it('is unhealthy (503) when PostgreSQL fails', async () => {
    await platform.setFault('pg_down');
    const { status, body } = await request(`${platform.urls.backend}/api/health`);
    expect(status).toBe(503);
    expect(body.status).toBe('unhealthy');
    expect(body.checks.postgres).toMatchObject({ status: 'unhealthy', connected: false });
  });
});

describe('GET /ws/health', () => {
  it('answers 200 healthy with components', async () => {
    const { status, body } = await request(`${platform.urls.backend}/ws/health`);
    expect(status).toBe(200);
    expect(body.status).toBe('healthy');
    expect(body.components.websocket).toMatchObject({ status: 'healthy', active_connections: expect.any(Number) });
  });

  it('answers 200 with status "unhealthy" when a store the agent needs is down: the body decides', async () => {
    await platform.setFault('pg_down');
    const { status, body } = await request(`${platform.urls.backend}/ws/health`);
    expect(status).toBe(200);
    expect(body.status).toBe('unhealthy');
    expect(body.components.postgres.status).toBe('unhealthy');
  });
});

describe('GET /health (auth service)', () => {
  it('answers healthy with the database connected', async () => {
    const { status, body } = await request(`${platform.urls.auth}/health`);
    expect(status).toBe(200);
    expect(body).toMatchObject({ status: 'healthy', database_status: 'connected' });
  });

  it('answers 503 unhealthy with a reason when PostgreSQL is down', async () => {
    await platform.setFault('pg_down');
    const { status, body } = await request(`${platform.urls.auth}/health`);
    expect(status).toBe(503);
    expect(body.status).toBe('unhealthy');
    expect(body.reason).toEqual(expect.any(String));
  });
});

describe('fault switch /__platform/faults', () => {
  it('rejects a missing or wrong admin token with 401', async () => {
    expect((await admin(platform, 'GET', '/faults', undefined, '')).status).toBe(401);
    expect((await admin(platform, 'PUT', '/faults/pg_down', {}, 'wrong-token')).status).toBe(401);
    expect((await admin(platform, 'DELETE', '/faults', undefined, 'wrong-token')).status).toBe(401);
    expect(platform.activeFaults()).toEqual([]);
  });

  it('lists the catalog with parameter schemas and the active faults', async () => {
    const { status, body } = await admin(platform, 'GET', '/faults');
    expect(status).toBe(200);
    expect(body.active).toEqual([]);
    expect(body.catalog.map((fault: { name: string }) => fault.name)).toEqual(expect.arrayContaining(['pg_slow', 'pg_down', 'redis_silent', 'redis_refused']));
    const slow = body.catalog.find((fault: { name: string }) => fault.name === 'pg_slow');
    expect(slow.params.properties.ms).toBeDefined();
  });

  it('activates, re-parameterises and clears faults over HTTP', async () => {
    const put = await admin(platform, 'PUT', '/faults/pg_slow', { ms: 50 });
    expect(put.status).toBe(200);
    expect(put.body.fault).toMatchObject({ name: 'pg_slow', params: { ms: 50 } });
    await admin(platform, 'PUT', '/faults/pg_slow', { ms: 80 });
    expect((await admin(platform, 'GET', '/faults')).body.active).toMatchObject([{ name: 'pg_slow', params: { ms: 80 } }]);
    const del = await admin(platform, 'DELETE', '/faults/pg_slow');
    expect(del.body).toMatchObject({ cleared: true, active: [] });
    await admin(platform, 'PUT', '/faults/redis_refused');
    await admin(platform, 'PUT', '/faults/pg_down');
    const all = await admin(platform, 'DELETE', '/faults');
    expect(all.body.cleared.sort()).toEqual(['pg_down', 'redis_refused']);
    expect((await readyAgain(platform)).body.redis_db).toBe('connected');
  });

  it('answers 404 for an unknown fault and 422 for bad parameters', async () => {
    expect((await admin(platform, 'PUT', '/faults/no_such_fault', {})).status).toBe(404);
    expect((await admin(platform, 'PUT', '/faults/pg_slow', { ms: -5 })).status).toBe(422);
    expect((await admin(platform, 'PUT', '/faults/pg_down', { unexpected: 1 })).status).toBe(422);
    expect((await request(`${platform.admin.url}/faults/pg_slow`, { method: 'PUT', rawBody: '{nope', headers: { 'x-platform-admin-token': platform.admin.token } })).status).toBe(422);
  });
});
