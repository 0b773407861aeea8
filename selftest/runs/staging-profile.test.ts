/**
 * Issue 13 §2: the whole suite against the reference platform's staging profile (HTTPS/WSS with
 * a generated CA, the contract's 35 s heartbeat, a +3 s cold start, an LLM-like agent with varied
 * wording, one or several tools, progress events, sub-agents, refusals after agent_started,
 * data-wrapped frames, ~1 s event gaps, envelope history) passes: PASS, 0 failed, exit 0, with
 * the shipped example prompt file for an LLM agent.
 *
 * Slow tier (SLOW_SELFTESTS): the heartbeat test alone waits 2 × 35 s there.
 * The CA reaches the child through NODE_EXTRA_CA_CERTS (STAGING_CA_FILE is printed too).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalPlatform, type LocalPlatform } from '../../helpers/transport/local-platform.ts';
import { CHECK_IDS } from '../../tests/check-ids.ts';
import { ROOT, runE2e, tailOf } from '../support/run-e2e.ts';
import { speedBlindEnv } from '../support/speed-blind.ts';

const PROMPT_FILE = join(ROOT, 'fixtures', 'prompts', 'llm-agent.example.json');

let platform: LocalPlatform;
let reportDir: string;

beforeAll(async () => {
  platform = await startLocalPlatform({ args: ['--profile', 'staging'] });
  reportDir = mkdtempSync(join(tmpdir(), 'stagecheck-staging-profile-'));
});

afterAll(async () => {
  await platform?.stop();
  if (reportDir) rmSync(reportDir, { recursive: true, force: true });
});

describe('the whole suite against the staging profile', () => {
  it('passes every test it runs, 0 failed, exit 0, with the example LLM prompt file', async () => {
    const ca = platform.env.STAGING_CA_FILE;
    expect(ca, 'the staging profile prints its CA').toBeTruthy();
    const run = await runE2e([], {
      reportDir,
      timeoutMs: 420_000,
      env: {
        ...platform.env,
        ...speedBlindEnv(),
        NODE_EXTRA_CA_CERTS: ca!,
        STAGING_WS_HEARTBEAT_S: '35',
        GOLDEN_PROMPTS_FILE: PROMPT_FILE,
        STAGECHECK_RUN_ID: `selftest-staging-${randomUUID().slice(0, 8)}`,
      },
    });
    const report = run.report;
    expect(report, tailOf(run)).toBeDefined();
    const failed = report!.tests.filter((t) => t.verdict !== 'PASS' && t.verdict !== 'NOT RUN');
    expect(failed.map((t) => `${t.fullName}: ${t.verdict} ${t.failure?.message ?? t.reason}`), 'tests that did not pass').toEqual([]);
    // PASS, not DEGRADED: latency is judged by the speed-blind catalog (selftest/support/speed-blind.ts),
    // since a p95 crossing its line on the loaded 2-core machine says nothing about the contract.
    expect(report!.verdict, report!.reason).toBe('PASS');
    expect(run.exitCode, tailOf(run)).toBe(0);
    // The whole suite ran: both phases, nothing blocked.
    expect(report!.tests.filter((t) => t.verdict === 'PASS').length, tailOf(run)).toBeGreaterThanOrEqual(60);
    // The 2 × 35 s heartbeat wait starts with phase 2, whatever Vitest's cache says (tests/sequencer.ts):
    // everything else runs beside it, so the run ends soon after it.
    const startOf = (t: { startedAt: string | null }) => Date.parse(t.startedAt ?? '');
    const phase2Start = Math.min(...report!.tests.filter((t) => t.project === 'phase2' && t.startedAt).map(startOf));
    const heartbeat = report!.tests.find((t) => t.checkId === CHECK_IDS.heartbeat);
    expect(startOf(heartbeat!) - phase2Start, 'the heartbeat test starts with phase 2').toBeLessThan(5_000);
  });
});
