/**
 * `npm run repeat-healthy`: the false-alarm check. Runs the main job (`npm run e2e`, both
 * phases, its own reference platform started cold each time, as a user runs it) N times in a
 * row against a healthy platform and counts every test that was not PASS. A health suite that
 * cries wolf gets ignored, so any non-PASS verdict fails this script (exit 1).
 *
 * With `--profile staging` each run gets a reference platform of the staging profile (HTTPS/WSS
 * with its own CA, the contract's 35 s heartbeat, a cold start, the LLM-like agent), started
 * cold for that run, and the shipped example prompt file for an LLM agent.
 *
 * `--load N` runs N CPU-bound processes beside the runs (a loaded machine). A component
 * confirmed down in a healthy run (fail fast, helpers/transport/component-watch.ts) is a
 * false fail-fast, counted on its own line: it cuts a whole run short, so it is the costliest
 * false alarm there is.
 *
 *   npm run repeat-healthy -- [--runs 10] [--profile default|staging] [--load 2]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { percentile } from '../helpers/core/stats.ts';
import { ROOT, runE2e, tailOf, type E2eRun } from '../selftest/support/run-e2e.ts';
import { startTargetPlatform, type PlatformProfile } from '../selftest/support/target-platform.ts';
import { startBusyLoad } from './busy-load.ts';

interface RunSummary {
  run: number;
  verdict: string;
  exitCode: number | null;
  passed: number;
  total: number;
  wallMs: number;
  falseAlarms: string[];
  /** Components confirmed down although the platform was healthy. */
  falseFailFast: string[];
}

/** One `npm run e2e`: the default profile started by the suite itself, the staging one by this script. */
async function runOnce(profile: PlatformProfile, reportDir: string): Promise<E2eRun> {
  if (profile === 'default') return runE2e([], { reportDir, timeoutMs: 600_000 });
  const platform = await startTargetPlatform({ profile });
  try {
    const env = platform.suiteEnv({ GOLDEN_PROMPTS_FILE: join(ROOT, 'fixtures', 'prompts', 'llm-agent.example.json') });
    return await runE2e([], { reportDir, timeoutMs: 600_000, env });
  } finally {
    await platform.stop();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '10' }, profile: { type: 'string', default: 'default' }, load: { type: 'string', default: '0' } } });
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a positive integer, got "${values.runs}"`);
  const load = Number(values.load);
  if (!Number.isInteger(load) || load < 0) throw new Error(`--load must be a whole number of processes, got "${values.load}"`);
  if (values.profile !== 'default' && values.profile !== 'staging') throw new Error(`--profile must be default or staging, got "${values.profile}"`);
  const profile: PlatformProfile = values.profile;

  const summaries: RunSummary[] = [];
  const busy = startBusyLoad(load);
  for (let run = 1; run <= runs; run += 1) {
    const reportDir = mkdtempSync(join(tmpdir(), 'stagecheck-repeat-'));
    try {
      const result = await runOnce(profile, reportDir);
      const tests = result.report?.tests ?? [];
      const summary: RunSummary = {
        run,
        verdict: result.report?.verdict ?? 'NO REPORT',
        exitCode: result.exitCode,
        passed: tests.filter((t) => t.verdict === 'PASS').length,
        total: tests.length,
        wallMs: result.wallMs,
        falseAlarms: !result.report
          ? [`no report: ${tailOf(result)}`]
          : [
              ...tests.filter((t) => t.verdict !== 'PASS').map((t) => `${t.project} › ${t.fullName}: ${t.verdict} ${t.failure?.message ?? t.reason}`),
              // Every test passed yet the run is not PASS: a KPI, an endpoint's latency or a cold start said so.
              ...(result.report.verdict !== 'PASS' && tests.every((t) => t.verdict === 'PASS') ? [`run ${result.report.verdict}: ${result.report.reason}`] : []),
            ],
        falseFailFast: (result.report?.outages ?? []).map((o) => `${o.component} confirmed down at ${o.confirmedAt} (${o.cause}), ${o.testsCutShort} test(s) cut short`),
      };
      summaries.push(summary);
      process.stdout.write(
        `run ${run}/${runs}: ${summary.verdict}, ${summary.passed}/${summary.total} PASS, exit ${summary.exitCode}, ${(summary.wallMs / 1000).toFixed(1)} s\n` +
          summary.falseAlarms.map((alarm) => `  ${alarm}\n`).join('') +
          summary.falseFailFast.map((outage) => `  false fail-fast: ${outage}\n`).join(''),
      );
    } finally {
      rmSync(reportDir, { recursive: true, force: true });
    }
  }
  busy.stop();

  const alarms = summaries.flatMap((s) => s.falseAlarms);
  const falseFailFast = summaries.flatMap((s) => s.falseFailFast);
  const clean = summaries.filter((s) => s.verdict === 'PASS' && s.exitCode === 0 && s.falseAlarms.length === 0 && s.falseFailFast.length === 0).length;
  process.stdout.write(
    `\nrepeat-healthy (${profile} profile${load ? `, ${load} CPU-bound process(es) beside it` : ''}): ${clean} of ${runs} runs PASS with every test passing; ${alarms.length} false alarm(s); ${falseFailFast.length} false fail-fast; ` +
      `tests per run ${[...new Set(summaries.map((s) => s.total))].join('/')}; median wall ${(percentile(summaries.map((s) => s.wallMs), 50) / 1000).toFixed(1)} s\n`,
  );
  process.exit(clean === runs ? 0 : 1);
}

main().catch((error: unknown) => {
  process.stderr.write(`repeat-healthy: ${(error as Error).message}\n`);
  process.exit(2);
});
