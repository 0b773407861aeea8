/**
 * Phase 1 run end to end, as a user runs it, against the reference platform: healthy, with
 * Redis silently dropping traffic, and with the whole target down. Proves the phase-1
 * checks pass on a healthy target and fail, fast and correctly attributed, on a broken one.
 */
import { describe, expect, it } from 'vitest';
import { CHECK_IDS } from '../../tests/check-ids.ts';
import { checkIdProblems, deadTargetEnv, runSuite } from './run-suite.ts';
import { speedBlindEnv } from '../support/speed-blind.ts';

const HTTP_BUDGET_MS = 20_000;

describe('phase 1 against the reference platform', () => {
  it('passes on a healthy platform with at least 20 tests and none skipped, each with its own check id', async () => {
    const run = await runSuite({ args: ['--project', 'phase1'], env: speedBlindEnv() });
    const notPassed = run.tests.filter((t) => t.status !== 'passed').map((t) => `${t.fullName}: ${t.status} ${t.failureMessages[0] ?? ''}`);
    expect(notPassed, run.stderr.slice(-2000)).toEqual([]);
    expect(run.exitCode).toBe(0);
    expect(run.tests.length).toBeGreaterThanOrEqual(20);
    for (const test of run.tests) expect(test.meta.stagecheck?.schema, `${test.fullName} records its meta`).toBe(1);
    expect(checkIdProblems(run.tests, 'phase1')).toEqual([]);
  });

  it('fails every Redis check at its store budget, not the HTTP budget, naming redis and the layer, when Redis stops answering', async () => {
    // The checks must stop at the 3 s store-connect budget. The HTTP budgets are set far above
    // the bound, so a check that waited it out is told apart however loaded the machine is.
    const run = await runSuite({ args: ['--project', 'phase1'], env: { PLATFORM_FAULTS: 'redis_silent', BUDGET_HTTP_MS: String(HTTP_BUDGET_MS), BUDGET_HTTP_HEALTH_MS: String(HTTP_BUDGET_MS) } });
    expect(run.exitCode).toBe(1);
    const redisChecks = run.tests.filter((t) => t.tags.includes('redis'));
    expect(redisChecks.map((t) => t.meta.checkId)).toEqual(expect.arrayContaining([CHECK_IDS.ready, CHECK_IDS.redisProbe]));
    for (const test of redisChecks) {
      expect(test.status, test.fullName).toBe('failed');
      expect(test.duration ?? Infinity, `${test.fullName} took too long`).toBeLessThan(HTTP_BUDGET_MS / 2);
      const failure = test.meta.stagecheck?.failure;
      expect(failure?.component, `${test.fullName}: ${failure?.message}`).toBe('redis');
      expect(['tcp', 'budget', 'protocol', 'content'], `${test.fullName} layer`).toContain(failure?.layer);
    }
    // Exactly the checks that do not depend on Redis still pass: the fault is attributed, not
    // smeared over everything, and nothing that needs Redis passes by accident.
    const passed = run.tests.filter((t) => t.status === 'passed').map((t) => t.meta.checkId ?? t.fullName).sort();
    expect(passed).toEqual([
      CHECK_IDS.health,
      CHECK_IDS.testAuthWrongKey,
      CHECK_IDS.pgProbe,
      CHECK_IDS.wsNoCredentials,
      CHECK_IDS.authHealth,
      CHECK_IDS.backendNoToken,
      CHECK_IDS.networkWs,
      CHECK_IDS.networkAuth,
      CHECK_IDS.networkBackend,
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
