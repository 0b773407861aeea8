/**
 * Issue 14 §1, end to end: the backend stops answering in the middle of phase 2 (a forwarder in
 * front of it goes silent, selftest/support/backend-dies.ts). The run fails fast: the outage is
 * confirmed by the probe, every later test that needs the backend fails at once with the same
 * message, the report names one outage, and tests that need only the auth service still pass.
 * Before fail-fast, this run took 149 s and showed 37 failures of 10 s each.
 *
 * Slow tier (SLOW_SELFTESTS): a whole run of both phases. The figure the issue targets (verdict
 * ≤ 15 s after the last answer) is measured by `bench/time-to-verdict.ts` (docs/performance.md);
 * here the bound only rules out waiting out the budgets.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CHECK_IDS } from '../../tests/check-ids.ts';
import { runWithBackendDying } from '../support/backend-dies.ts';
import { tailOf } from '../support/run-e2e.ts';

const reportDir = mkdtempSync(join(tmpdir(), 'stagecheck-fail-fast-'));
afterAll(() => rmSync(reportDir, { recursive: true, force: true }));

/** Far below the budgets the run would otherwise wait out (an HTTP request 10 s, an agent run 34 s, each). */
const VERDICT_BOUND_MS = 30_000;

describe('the backend dies in the middle of phase 2', () => {
  it('fails fast: one outage in the report, every test that needs the backend failed with its one message, auth-only tests still pass', async () => {
    const { run, lastAnsweredAt } = await runWithBackendDying(reportDir);
    const report = run.report;
    expect(report, tailOf(run)).toBeDefined();
    expect(report!.verdict, report!.reason).toBe('FAIL');
    expect(run.exitCode, tailOf(run)).toBe(1);

    const outages = report!.outages ?? [];
    expect(outages.map((o) => [o.component, o.backAt]), 'one backend outage, still down at the end').toEqual([['backend', null]]);
    const outage = outages[0]!;
    expect(outage.cause, 'a transport failure confirmed by the probe').toMatch(/^(tcp|http-status) [A-Z_]+$/);
    expect(outage.testsCutShort, 'tests failed at once with the outage').toBeGreaterThanOrEqual(10);

    const failed = report!.tests.filter((t) => t.verdict === 'FAIL');
    const downMessages = new Set(failed.map((t) => t.failure?.message ?? '').filter((m) => m.startsWith('backend is down since ')));
    expect([...downMessages], 'every cut-short failure says the same thing').toHaveLength(1);
    // A KPI test fails on its samples, each of which failed with the outage: counted as failed samples, not missing ones.
    const [downMessage] = [...downMessages];
    const otherCause = failed.filter((t) => t.failure?.component === 'backend' && !t.failure.message.includes(downMessage!));
    expect(otherCause.map((t) => `${t.fullName}: ${t.failure?.message}`), 'backend failures of another cause').toEqual([]);
    const kpi = failed.find((t) => t.checkId === CHECK_IDS.kpiAgentRuns);
    if (kpi) expect(kpi.failure?.message, 'its samples failed with the outage').toContain(downMessage!);

    const ends = report!.tests.filter((t) => t.startedAt && t.durationMs !== null).map((t) => Date.parse(t.startedAt!) + t.durationMs!);
    expect(Math.max(...ends) - lastAnsweredAt, 'ms from the backend\'s last answer to the run\'s last test end').toBeLessThan(VERDICT_BOUND_MS);

    const login = report!.tests.find((t) => t.checkId === CHECK_IDS.loginWrongPassword);
    expect(login?.verdict, 'a test that needs only the auth service').toBe('PASS');
  });
});
