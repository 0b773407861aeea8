/**
 * Phase 1 run end to end, as a user runs it, against the reference platform: healthy, with
 * Redis silently dropping traffic, and with the whole target down. Proves the phase-1
 * checks pass on a healthy target and fail, fast and correctly attributed, on a broken one.
 */
import { describe, expect, it } from 'vitest';
import { deadTargetEnv, runSuite } from './run-suite.ts';

const HTTP_BUDGET_MS = 20_000;

describe('phase 1 against the reference platform', () => {
  it('passes on a healthy platform with at least 20 tests and none skipped', async () => {
    const run = await runSuite({ args: ['--project', 'phase1'] });
    const notPassed = run.tests.filter((t) => t.status !== 'passed').map((t) => `${t.fullName}: ${t.status} ${t.failureMessages[0] ?? ''}`);
    expect(notPassed, run.stderr.slice(-2000)).toEqual([]);
    expect(run.exitCode).toBe(0);
    expect(run.tests.length).toBeGreaterThanOrEqual(20);
    for (const test of run.tests) expect(test.meta.stagecheck?.schema, `${test.fullName} records its meta`).toBe(1);
  });

  it('fails every Redis check at its store budget, not the HTTP budget, naming redis and the layer, when Redis stops answering', async () => {
    // The checks must stop at the 3 s store-connect budget. The HTTP budget is set far above
    // the bound, so a check that waited it out is told apart however loaded the machine is.
    const run = await runSuite({ args: ['--project', 'phase1'], env: { PLATFORM_FAULTS: 'redis_silent', BUDGET_HTTP_MS: String(HTTP_BUDGET_MS) } });
    expect(run.exitCode).toBe(1);
    const redisChecks = run.tests.filter((t) => t.tags.includes('redis'));
    expect(redisChecks.map((t) => t.title)).toEqual(expect.arrayContaining([
      'reports ready with both databases connected',
      'answers PING and round-trips a run-scoped key on every sample',
    ]));
    for (const test of redisChecks) {
      expect(test.status, test.fullName).toBe('failed');
      expect(test.duration ?? Infinity, `${test.fullName} took too long`).toBeLessThan(HTTP_BUDGET_MS / 2);
      const failure = test.meta.stagecheck?.failure;
      expect(failure?.component, `${test.fullName}: ${failure?.message}`).toBe('redis');
      expect(['tcp', 'budget', 'protocol', 'content'], `${test.fullName} layer`).toContain(failure?.layer);
    }
    // Exactly the checks that do not depend on Redis still pass: the fault is attributed, not
    // smeared over everything, and nothing that needs Redis passes by accident.
    const passed = run.tests.filter((t) => t.status === 'passed').map((t) => t.fullName).sort();
    expect(passed).toEqual([
      'GET /health answers 200 healthy with service, version and timestamp',
      'POST /auth/e2e/test-auth refuses a wrong bypass key with 401',
      'PostgreSQL direct probe answers every query of the sample within the response-time KPI',
      'WebSocket handshake refuses a connection without credentials',
      'auth GET /health answers 200 healthy with its database connected',
      'backend authentication refuses POST /api/threads without a token with 401',
      'network path reaches the WebSocket host through DNS, TCP, TLS and HTTP',
      'network path reaches the auth service through DNS, TCP, TLS and HTTP',
      'network path reaches the backend through DNS, TCP, TLS and HTTP',
    ].sort());
  });

  it('fails, red and not skipped, within 30 s when the whole target is down', async () => {
    const run = await runSuite({ args: ['--project', 'phase1'], env: await deadTargetEnv(), timeoutMs: 60_000 });
    expect(run.exitCode).toBe(1);
    expect(run.wallMs).toBeLessThan(30_000);
    expect(run.tests.length).toBeGreaterThanOrEqual(20);
    const notFailed = run.tests.filter((t) => t.status !== 'failed').map((t) => `${t.fullName}: ${t.status}`);
    expect(notFailed).toEqual([]);
  });
});
