/**
 * `npm run repeat-selftest`: the flakiness check of the project's own tests. Runs `npm test`
 * (the fast tier, or `--slow` for `npm run test:slow`) N times in a row and prints how many
 * runs passed and the title of every test that failed, with the run it failed in. A test whose
 * verdict depends on how fast or busy the machine is shows up here.
 *
 *   npm run repeat-selftest -- [--runs 10] [--load 2] [--slow] [-- <vitest args, e.g. a file>]
 *
 * --load N starts N CPU-bound processes beside the runs (a loaded machine) and stops them at
 * the end. Exit 0 when every run passed, 1 otherwise.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { percentile } from '../helpers/core/stats.ts';
import { ROOT } from '../selftest/support/run-e2e.ts';
import { startBusyLoad } from './busy-load.ts';

interface VitestJson {
  numPassedTests: number;
  numFailedTests: number;
  testResults: { name: string; message?: string; assertionResults: { fullName: string; status: string; failureMessages: string[] }[] }[];
}

interface RunOutcome {
  passed: boolean;
  wallMs: number;
  tests: number;
  failures: string[];
}

function parsePositive(name: string, value: string, min: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}, got "${value}"`);
  return n;
}

/** The start of a failure message: its first lines that say something, on one line. */
function firstLines(message: string, lines = 4, chars = 600): string {
  return message.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('at ')).slice(0, lines).join(' | ').slice(0, chars);
}

/** One `npm test` (or `npm run test:slow`) to its end, read back from its JSON report. */
async function runOnce(script: string, extra: string[]): Promise<RunOutcome> {
  const dir = mkdtempSync(join(tmpdir(), 'stagecheck-repeat-selftest-'));
  const output = join(dir, 'report.json');
  const started = performance.now();
  try {
    const child = spawn('npm', ['run', '--silent', script, '--', '--reporter=dot', '--reporter=json', `--outputFile.json=${output}`, ...extra], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let tail = '';
    const keep = (chunk: Buffer) => (tail = (tail + chunk.toString('utf8')).slice(-4000));
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    const code = await new Promise<number | null>((resolve) => child.once('close', (c) => resolve(c)));
    const wallMs = performance.now() - started;
    let report: VitestJson;
    try {
      report = JSON.parse(readFileSync(output, 'utf8')) as VitestJson;
    } catch {
      return { passed: false, wallMs, tests: 0, failures: [`no test report (exit ${code}): ${tail.trim().split('\n').slice(-8).join(' | ')}`] };
    }
    const failures = report.testResults.flatMap((file) => {
      const rel = file.name.replace(`${ROOT}`, '');
      const failed = file.assertionResults.filter((t) => t.status === 'failed');
      if (failed.length === 0 && file.message) return [`${rel}: ${file.message.split('\n')[0]}`];
      return failed.map((t) => `${rel} › ${t.fullName}: ${firstLines(t.failureMessages[0] ?? '')}`);
    });
    if (code !== 0 && failures.length === 0) failures.push(`exit ${code} with no failed test: ${tail.trim().split('\n').slice(-8).join(' | ')}`);
    return { passed: code === 0 && failures.length === 0, wallMs, tests: report.numPassedTests + report.numFailedTests, failures };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    options: { runs: { type: 'string', default: '10' }, load: { type: 'string', default: '0' }, slow: { type: 'boolean', default: false } },
    allowPositionals: true,
  });
  const runs = parsePositive('runs', values.runs, 1);
  const load = parsePositive('load', values.load, 0);
  const script = values.slow ? 'test:slow' : 'test';

  const busy = startBusyLoad(load);
  const outcomes: RunOutcome[] = [];
  try {
    for (let run = 1; run <= runs; run += 1) {
      const outcome = await runOnce(script, positionals);
      outcomes.push(outcome);
      process.stdout.write(`run ${run}/${runs}: ${outcome.passed ? 'passed' : 'FAILED'}, ${outcome.tests} tests, ${(outcome.wallMs / 1000).toFixed(1)} s\n`);
      for (const failure of outcome.failures) process.stdout.write(`  ${failure}\n`);
    }
  } finally {
    busy.stop();
  }

  const passed = outcomes.filter((o) => o.passed).length;
  const walls = outcomes.map((o) => o.wallMs / 1000);
  process.stdout.write(
    `\nrepeat-selftest: ${passed} of ${runs} runs of \`npm ${script === 'test' ? 'test' : 'run test:slow'}\` passed` +
      `${load ? ` with ${load} CPU-bound process(es) beside them` : ''}; wall median ${percentile(walls, 50).toFixed(1)} s, ` +
      `max ${Math.max(...walls).toFixed(1)} s\n`,
  );
  const failed = outcomes.flatMap((o, i) => o.failures.map((f) => `run ${i + 1}: ${f}`));
  if (failed.length) process.stdout.write(`failures:\n${failed.map((f) => `  ${f}`).join('\n')}\n`);
  process.exit(passed === runs ? 0 : 1);
}

main().catch((error: unknown) => {
  process.stderr.write(`repeat-selftest: ${(error as Error).message}\n`);
  process.exit(2);
});
