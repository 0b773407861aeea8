/**
 * `npm run fault-matrix`: runs the whole suite (phase 1 and phase 2, each on its own so phase
 * 2 is not gated away) against the reference platform once healthy and once per fault of
 * selftest/support/fault-scenarios.ts, and records what the suite concluded: which tests FAIL or
 * DEGRADE, blamed on which component and layer, which functions and tiers are at risk. Writes
 * reports/fault-matrix.json and reports/fault-matrix.md; `--write-docs` also replaces the
 * generated tables of docs/fault-matrix.md. Every number and verdict in them was measured by this run.
 *
 *   npx tsx scripts/fault-matrix.ts [--only id,id] [--concurrency N] [--write-docs]
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { TestOut } from '../reporter/schema.ts';
import { FAULT_SCENARIOS, type FaultScenario } from '../selftest/support/fault-scenarios.ts';
import { ROOT, runE2e, tailOf, type E2eRun } from '../selftest/support/run-e2e.ts';
import { startTargetPlatform } from '../selftest/support/target-platform.ts';
import { docsFile, writeGeneratedSection } from './docs-section.ts';

const PHASES = ['phase1', 'phase2'] as const;
/** The generated section of docs/fault-matrix.md (between its `fault-matrix` markers). */
const FAULT_MATRIX_DOC = docsFile('fault-matrix.md');
const FAULT_MATRIX_SECTION = 'fault-matrix';

interface TestOutcome {
  /**
   * The same test across scenarios: its check id (tests/check-ids.ts), with the item's place
   * for a test.for family (`phase2.golden.answers-prompt#2`); the report's title key for a test
   * without an id.
   */
  key: string;
  checkId?: string;
  fullName: string;
  project: string;
  tier: string | null;
  verdict: string;
  component?: string;
  layer?: string;
  durationMs: number | null;
}

export interface ScenarioResult {
  id: string;
  means: string;
  exitCodes: Record<string, number | null>;
  wallMs: Record<string, number>;
  tests: TestOutcome[];
  functionsAtRisk: string[];
  tiersAtRisk: string[];
  /** Set when a run produced no report: its output tail, to read what went wrong. */
  problems: string[];
}

const HEALTHY: FaultScenario = { id: 'healthy', fault: { name: 'none' }, when: 'runtime', means: 'no fault (false alarms)' };

async function runScenario(scenario: FaultScenario): Promise<ScenarioResult> {
  const faulty = scenario !== HEALTHY;
  const platform = await startTargetPlatform({ atStart: faulty && scenario.when === 'start' ? [scenario.fault] : [] });
  const dirs: string[] = [];
  try {
    if (faulty && scenario.when === 'runtime') await platform.setFault(scenario.fault);
    const runs = await Promise.all(
      PHASES.map((phase) => {
        const reportDir = mkdtempSync(join(tmpdir(), `stagecheck-matrix-${phase}-`));
        dirs.push(reportDir);
        return runE2e(['--project', phase], { reportDir, env: platform.suiteEnv(scenario.env), timeoutMs: 300_000 });
      }),
    );
    return summarise(scenario, runs);
  } finally {
    await platform.stop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }
}

function summarise(scenario: FaultScenario, runs: E2eRun[]): ScenarioResult {
  const seen = new Map<string, number>();
  const tests = runs.flatMap((run) => run.report?.tests ?? []).map((test) => {
    const n = test.checkId === undefined ? 0 : (seen.get(test.checkId) ?? 0);
    if (test.checkId !== undefined) seen.set(test.checkId, n + 1);
    return outcomeOf(test, test.checkId === undefined ? test.key : `${test.checkId}#${n}`);
  });
  const problems = runs.filter((run) => !run.report).map((run) => `no report: ${tailOf(run)}`);
  const atRisk = (items: { id: string; verdict: string }[]) => items.filter((item) => item.verdict === 'FAIL' || item.verdict === 'DEGRADED').map((item) => item.id);
  return {
    id: scenario.id,
    means: scenario.means,
    exitCodes: Object.fromEntries(runs.map((run, i) => [PHASES[i], run.exitCode])),
    wallMs: Object.fromEntries(runs.map((run, i) => [PHASES[i], Math.round(run.wallMs)])),
    tests,
    functionsAtRisk: [...new Set(runs.flatMap((run) => atRisk(run.report?.functions ?? [])))].sort(),
    tiersAtRisk: [...new Set(runs.flatMap((run) => atRisk(run.report?.tiers ?? [])))].sort(),
    problems,
  };
}

function outcomeOf(test: TestOut, key: string): TestOutcome {
  return {
    key,
    ...(test.checkId !== undefined ? { checkId: test.checkId } : {}),
    fullName: test.fullName,
    project: test.project,
    tier: test.tier,
    verdict: test.verdict,
    ...(test.failure ? { component: test.failure.component, layer: test.failure.layer } : {}),
    durationMs: test.durationMs,
  };
}

const caught = (test: TestOutcome) => test.verdict === 'FAIL' || test.verdict === 'DEGRADED';

/** The two tables of docs/fault-matrix.md: per fault what the suite concluded, per test which faults it catches. */
export function renderMatrix(healthy: ScenarioResult, faults: ScenarioResult[], conditions: string): string {
  const lines: string[] = [conditions, ''];
  const falseAlarms = healthy.tests.filter((t) => t.verdict !== 'PASS');
  lines.push(
    `Healthy platform: ${healthy.tests.length - falseAlarms.length} of ${healthy.tests.length} tests PASS` +
      (falseAlarms.length ? `; not PASS: ${falseAlarms.map((t) => `${t.fullName} (${t.verdict})`).join('; ')}` : ', no false alarm') + '.',
    '',
    '| fault | what it simulates | tests caught (FAIL/DEGRADED) | blamed on (component/layer) | functions at risk | tiers at risk | phase 1 wall |',
    '|---|---|---|---|---|---|---|',
  );
  for (const result of faults) {
    const hits = result.tests.filter(caught);
    const blame = countBy(hits.map((t) => `${t.component ?? '?'}/${t.layer ?? '?'}`));
    lines.push(
      `| \`${result.id}\` | ${result.means} | ${hits.length} | ${blame} | ${result.functionsAtRisk.join(', ') || '—'} | ${result.tiersAtRisk.join(', ') || '—'} | ${(result.wallMs.phase1! / 1000).toFixed(1)} s |`,
    );
  }
  lines.push('', '| test | tier | faults that make it fail |', '|---|---|---|');
  for (const test of healthy.tests) {
    const faultsCaught = faults.filter((result) => result.tests.some((t) => t.key === test.key && caught(t))).map((result) => `\`${result.id}\``);
    lines.push(`| ${test.project} › ${test.fullName} | ${test.tier ?? '—'} | ${faultsCaught.join(', ') || '**none**'} |`);
  }
  return lines.join('\n');
}

function countBy(values: string[]): string {
  const counts = new Map<string, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1]).map(([value, n]) => `${value} ×${n}`).join(', ') || '—';
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { only: { type: 'string' }, concurrency: { type: 'string', default: '1' }, 'write-docs': { type: 'boolean', default: false } },
  });
  const only = values.only?.split(',').map((id) => id.trim());
  const unknown = only?.filter((id) => !FAULT_SCENARIOS.some((s) => s.id === id)) ?? [];
  if (unknown.length) throw new Error(`--only: unknown scenario ${unknown.join(', ')}; known: ${FAULT_SCENARIOS.map((s) => s.id).join(', ')}`);
  const scenarios = FAULT_SCENARIOS.filter((s) => !only || only.includes(s.id));
  const concurrency = Math.max(1, Number(values.concurrency));

  const started = performance.now();
  const healthy = await runScenario(HEALTHY);
  report(healthy);
  const results: ScenarioResult[] = new Array(scenarios.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < scenarios.length) {
        const index = next++;
        results[index] = await runScenario(scenarios[index]!);
        report(results[index]!);
      }
    }),
  );
  const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
  const conditions =
    `Measured by \`npm run fault-matrix -- --concurrency ${concurrency}\` on ${new Date().toISOString().slice(0, 10)} at ${commit} (2 cores): ` +
    `${concurrency} fault(s) at a time, phase 1 and phase 2 side by side, so the wall times include that load.`;
  const markdown = renderMatrix(healthy, results, conditions);
  mkdirSync(join(ROOT, 'reports'), { recursive: true });
  writeFileSync(join(ROOT, 'reports', 'fault-matrix.json'), JSON.stringify({ measuredAt: new Date().toISOString(), healthy, faults: results }, null, 2));
  writeFileSync(join(ROOT, 'reports', 'fault-matrix.md'), `${markdown}\n`);
  if (values['write-docs']) writeGeneratedSection(FAULT_MATRIX_DOC, FAULT_MATRIX_SECTION, markdown);
  process.stdout.write(`\n${markdown}\n\nfault matrix: ${results.length} faults in ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
}

function report(result: ScenarioResult): void {
  const hits = result.tests.filter(caught).length;
  process.stdout.write(`${result.id}: ${hits}/${result.tests.length} caught, exit ${JSON.stringify(result.exitCodes)}, ${JSON.stringify(result.wallMs)} ms${result.problems.length ? `\n  ${result.problems.join('\n  ')}` : ''}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`fault-matrix: ${(error as Error).message}\n`);
  process.exit(2);
});
