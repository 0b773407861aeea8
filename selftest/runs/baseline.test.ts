/**
 * "Since the baseline" end to end (issue 16 §3, done when "the baseline diff names a test that
 * newly fails"): npm run e2e three times against one reference platform, sharing a report
 * directory and its history, over the test-auth slice of phase 1.
 *   1. healthy: PASS, and "no baseline" (the history is empty), said plainly;
 *   2. test-auth ignoring the bypass key (fault bypass_key_ignored): the wrong-key check fails, and
 *      business-impact.json, .md, index.html and the terminal name it as newly failing since run 1
 *      (the history's previous run), matched by its check id; the trends show the P1 dip;
 *   3. the same fault with --baseline run 1's business-impact.json: newly failing again (run 2,
 *      the history's previous run, failed too, so only the file can show it).
 * And a --baseline file that does not exist is exit 2 naming the flag and the file.
 * Latency is judged by the speed-blind catalog (selftest/support/speed-blind.ts). Three e2e runs
 * of a slice: in the slow tier (SLOW_SELFTESTS).
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CHECK_IDS, titlePattern } from '../../tests/check-ids.ts';
import { runE2e, tailOf } from '../support/run-e2e.ts';
import { startTargetPlatform } from '../support/target-platform.ts';
import { findAll, parseHtml } from '../support/html-tree.ts';
import { speedBlindEnv } from '../support/speed-blind.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
const tempDir = (label: string): string => {
  const dir = mkdtempSync(join(tmpdir(), `stagecheck-${label}-`));
  dirs.push(dir);
  return dir;
};

const SLICE = ['--project', 'phase1', '-t', titlePattern('testAuth')];
/** Speed is not this test's subject: latency is judged by the 5x catalog, so a loaded machine cannot change a verdict. */
const env = (platform: { suiteEnv(): Record<string, string> }) => ({ ...platform.suiteEnv(), ...speedBlindEnv() });

describe('since the baseline, across runs of npm run e2e', () => {
  it('names the check that newly fails, from the history\'s previous run and from a --baseline file', async ({ onTestFinished }) => {
    const platform = await startTargetPlatform();
    onTestFinished(() => platform.stop());
    const reportDir = tempDir('baseline');

    const first = await runE2e(SLICE, { env: env(platform), reportDir });
    expect(first.exitCode, tailOf(first)).toBe(0);
    expect(first.report?.sinceBaseline).toMatchObject({ baseline: null, text: 'no baseline: no earlier run of this target in the history', newlyFailing: [] });
    expect(first.stdout).toContain('  since     no baseline: no earlier run of this target in the history');
    const firstRunId = first.report?.run.runId as string;
    const firstReport = join(tempDir('baseline-file'), 'business-impact.json');
    copyFileSync(join(reportDir, 'business-impact.json'), firstReport);

    await platform.setFault({ name: 'bypass_key_ignored' });
    const second = await runE2e(SLICE, { env: env(platform), reportDir });
    expect(second.exitCode, tailOf(second)).toBe(1);
    const wrongKey = second.report?.tests.find((t) => t.checkId === CHECK_IDS.testAuthWrongKey);
    expect(wrongKey?.verdict, `${wrongKey?.reason}\n${tailOf(second)}`).toBe('FAIL');
    const since = second.report?.sinceBaseline;
    expect(since?.baseline).toMatchObject({ runId: firstRunId, source: 'history', verdict: 'PASS' });
    expect(since?.newlyFailing).toEqual([expect.objectContaining({ key: wrongKey?.key, checkId: CHECK_IDS.testAuthWrongKey, matchedBy: 'check-id', before: 'PASS', now: 'FAIL' })]);
    expect(since?.fixed).toEqual([]);
    const markdown = readFileSync(join(reportDir, 'business-impact.md'), 'utf8');
    expect(markdown).toContain(`## Since the baseline\n\nSince the baseline (run ${firstRunId} at `);
    expect(markdown).toContain(`- ❌ newly failing: [P1] ${wrongKey?.fullName} \`${CHECK_IDS.testAuthWrongKey}\` (PASS → FAIL)`);
    expect(second.stdout).toContain(`newly failing: ${wrongKey?.fullName}`);
    // The trend of the P1 tier: run 1 passed, run 2 (this one) failed, marked in the page.
    expect(second.report?.trends?.tiers.find((t) => t.id === 'p1')?.points.map((p) => p.verdict)).toEqual(['PASS', 'FAIL']);
    const page = parseHtml(readFileSync(join(reportDir, 'index.html'), 'utf8'));
    const tier = findAll(page, (n) => n.attrs['data-trend'] === 'tier:p1')[0];
    const points = tier ? findAll(tier, (n) => n.attrs['data-run-id'] !== undefined) : [];
    expect(points.map((p) => [p.attrs['data-run-id'], p.attrs['data-verdict'], p.attrs.class ?? ''])).toEqual([[firstRunId, 'PASS', ''], [second.report?.run.runId, 'FAIL', 'failing']]);
    expect(findAll(page, (n) => n.attrs['data-change'] === 'newly-failing').map((n) => n.attrs['data-test-key'])).toEqual([wrongKey?.key]);

    const third = await runE2e([...SLICE, '--baseline', firstReport], { env: env(platform), reportDir });
    expect(third.exitCode, tailOf(third)).toBe(1);
    expect(third.report?.sinceBaseline?.baseline).toMatchObject({ runId: firstRunId, source: 'file', file: firstReport });
    expect(third.report?.sinceBaseline?.newlyFailing.map((c) => c.checkId)).toEqual([CHECK_IDS.testAuthWrongKey]);
  });

  it('refuses a --baseline file that does not exist: exit 2 before any test, naming the flag and the file', async () => {
    const reportDir = tempDir('baseline-missing');
    const missing = join(reportDir, 'no-such-report.json');
    const run = await runE2e(['--baseline', missing], { reportDir, timeoutMs: 60_000 });
    expect(run.exitCode, tailOf(run)).toBe(2);
    expect(run.stderr).toContain(`--baseline (STAGECHECK_BASELINE): ${missing} does not exist`);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(run.report).toBeUndefined();
  });
});
