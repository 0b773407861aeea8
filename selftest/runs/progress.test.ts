/**
 * Progress a person can follow (issue 14 §3), as a CI log shows it: `npm run e2e` as a child
 * with GITHUB_ACTIONS=true and no TTY (its output is a pipe), against a reference platform that
 * sends no heartbeat and answers no ping, on a small slice of both phases. The heartbeat
 * budget is made to last past 10 s on purpose (STAGING_WS_HEARTBEAT_S=12: 15 s), so the
 * heartbeat test must say it is still waiting before it fails. The output must hold the banner
 * with its phases, each phase's test count, a line per finished file, the still-waiting line,
 * and exactly one `::error` for the one cause that failed two tests (websocket/budget); the
 * JUnit report must carry the agent run's timeline as a property.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DESCRIBES } from '../../tests/check-ids.ts';
import { runE2e, tailOf } from '../support/run-e2e.ts';
import { startTargetPlatform, type TargetPlatform } from '../support/target-platform.ts';

/** Phase 1: the backend's health and one agent run (neither pings); phase 2: the heartbeat and malformed-frame checks. */
const SLICE = `^(${[DESCRIBES.health, DESCRIBES.agentRun, 'WebSocket idle connection', 'WebSocket frame handling'].join('|')}) `;

let platform: TargetPlatform | undefined;
let reportDir: string | undefined;
afterAll(async () => {
  await platform?.stop();
  if (reportDir) rmSync(reportDir, { recursive: true, force: true });
});

describe('progress in a CI log (GITHUB_ACTIONS=true, no TTY)', () => {
  it('shows the banner with its phases, each phase\'s test count, a line per file, a still-waiting line and one ::error per cause', async () => {
    platform = await startTargetPlatform({ atStart: [{ name: 'no_heartbeat' }, { name: 'no_pong' }] });
    reportDir = mkdtempSync(join(tmpdir(), 'stagecheck-progress-'));
    const run = await runE2e(['-t', SLICE], {
      reportDir,
      env: platform.suiteEnv({ GITHUB_ACTIONS: 'true', STAGING_WS_HEARTBEAT_S: '12' }),
    });
    const out = run.stdout;
    const context = tailOf(run);
    expect(run.exitCode, context).toBe(1);

    // The banner, once, before any test, with the phases it plans (the summary at the end repeats
    // its head, not the phases); then each phase's count once its files are collected.
    const phases = [...out.matchAll(/^ {2}phases {4}phase1 1 file · phase2 \d+ files \(tests counted as each phase is collected\)$/gm)];
    expect(phases, context).toHaveLength(1);
    expect(out.indexOf('stagecheck run '), context).toBeLessThan(phases[0]!.index);
    expect(phases[0]!.index, context).toBeLessThan(out.indexOf('stagecheck: phase1:'));
    expect(out, context).toMatch(/^stagecheck: phase1: \d+ of \d+ tests selected in 1 file$/m);
    expect(out, context).toMatch(/^stagecheck: phase2: 3 of \d+ tests selected in \d+ files$/m);

    // A line per finished file, with its counts and time.
    expect(out, context).toMatch(/^stagecheck: tests\/phase1\/phase1\.test\.ts \d+ passed · \d+ skipped \(\d+(\.\d)? m?s\)$/m);
    expect(out, context).toMatch(/^stagecheck: tests\/phase2\/realtime\.test\.ts 1 passed · 2 failed · \d+ skipped \(\d+(\.\d)? s\)$/m);

    // The heartbeat wait (15 s) said it was still waiting, naming what, its budget and the test.
    // Printed once, by the business-impact reporter alone (not again under Vitest's "stdout |" header).
    const waiting = out.split('\n').filter((line) => line.includes('still waiting'));
    expect(waiting, context).toHaveLength(1);
    expect(waiting[0]).toMatch(/^stagecheck: still waiting 10 s of 15 s: wait a heartbeat after 12 s of client silence \(budget first heartbeat\) — tests\/phase2\/realtime\.test\.ts > WebSocket idle connection > sends a heartbeat/);

    // The KPI lines show their target and ✓/✗ (NO_COLOR is set by the child env: no escape codes).
    expect(out, context).toMatch(/^ {4}✓ p1-test-success 2\/2 = 100\.0% \(target ≥ 95% of all P1 tests\)$/m);
    expect(out, context).not.toContain('\x1b[');

    // Two tests failed with one cause: one annotation.
    const failed = (run.report?.tests ?? []).filter((t) => t.verdict === 'FAIL');
    expect(failed.map((t) => `${t.failure?.component}/${t.failure?.layer}`), context).toEqual(['websocket/budget', 'websocket/budget']);
    const errors = out.split('\n').filter((line) => line.startsWith('::error'));
    expect(errors, context).toHaveLength(1);
    expect(errors[0]).toMatch(/^::error title=stagecheck FAIL websocket\/budget::2 test\(s\) failed/);

    // The agent run's timeline reached JUnit as a property of its test.
    const junit = readFileSync(join(reportDir, 'junit.xml'), 'utf8');
    expect(junit).toMatch(/<property name="agent-timeline" value="agent run [^"]+: agent_started \+\d+ ms · [^"]*agent_completed \+[\d.]+ m?s">/);
  });
});
