/**
 * Vitest used directly, the way a developer types it, without surprises (issue 15 §2): a bare
 * `vitest run` runs the suite and nothing else, a reporter named on the command line does not
 * drop the business-impact verdict, filters that select no test fail the run, a sharded e2e run
 * without `--project` is refused (it would run phase 2 ungated), and every watch-mode rerun is a
 * fresh run with its own run id, decided gate and start time.
 *
 * Each child run takes a one-check slice (`-t`, tests/check-ids.ts) of phase 1 against one
 * reference platform started here, so the whole file costs a few seconds of child runs.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GATE_FILE_NAME, readGate, type GateFile } from '../../reporter/gate.ts';
import { failFastStateDir } from '../../helpers/transport/component-watch.ts';
import type { BusinessImpactReport } from '../../reporter/schema.ts';
import { titlePattern } from '../../tests/check-ids.ts';
import { childEnv, childEnvWithReports } from '../support/child-env.ts';
import { ROOT, runE2e, tailOf } from '../support/run-e2e.ts';
import { startTargetPlatform, type TargetPlatform } from '../support/target-platform.ts';
import { runVitestChild, startVitestWatch, waitFor, type VitestChildRun } from '../support/vitest-child.ts';

const SLICE = ['--project', 'phase1', '-t', titlePattern('health')];
/** The phase-1 module: saving it is what starts a rerun in watch mode (stdin is not a terminal). */
const PHASE1_MODULE = join(ROOT, 'tests', 'phase1', 'phase1.test.ts');

const tempDirs: string[] = [];
let platform: Promise<TargetPlatform> | undefined;
afterAll(async () => {
  await (await platform?.catch(() => undefined))?.stop();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'stagecheck-vitest-surprises-'));
  tempDirs.push(dir);
  return dir;
}
/** One reference platform for every run of this file, as if it were a staging. */
async function targetEnv(): Promise<Record<string, string>> {
  platform ??= startTargetPlatform();
  return (await platform).suiteEnv();
}
const tail = (run: VitestChildRun) => `exit ${run.exitCode}\n${run.stdout.slice(-2500)}\n${run.stderr.slice(-2500)}`;
function readReport(dir: string): BusinessImpactReport | undefined {
  const file = join(dir, 'business-impact.json');
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as BusinessImpactReport) : undefined;
}

/** The project list a `vitest list --filesOnly` selects: `[phase1] tests/...` lines → project names. */
async function projectsListed(args: string[]): Promise<string[]> {
  const run = await runVitestChild(['list', '--filesOnly', ...args], childEnv(), 60_000);
  expect(run.exitCode, tail(run)).toBe(0);
  return [...new Set([...run.stdout.matchAll(/^\[([\w-]+)\] /gm)].map((m) => m[1] as string))].sort();
}

/** The `--project` flags an npm script passes to `vitest run`. */
function scriptProjects(script: string): string[] {
  const command = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts[script] ?? '';
  return [...command.matchAll(/--project[ =](\S+)/g)].flatMap((m) => ['--project', m[1] as string]);
}

describe('Vitest used directly', () => {
  it('runs only the suite projects (phase1, phase2) when no --project is given; npm test and test:slow still select the own tests', async () => {
    const [bare, fast, slow] = await Promise.all([projectsListed([]), projectsListed(scriptProjects('test')), projectsListed(scriptProjects('test:slow'))]);
    expect(bare).toEqual(['phase1', 'phase2']);
    expect(fast).toEqual(['platform', 'selftest', 'unit']);
    expect(slow).toEqual(['selftest-slow']);
  });

  it('keeps the business-impact verdict and reports when a reporter is named on the command line', async () => {
    const dir = tempDir();
    const run = await runVitestChild(['run', ...SLICE, '--reporter=verbose'], childEnvWithReports(dir, await targetEnv()));
    expect(run.exitCode, tail(run)).toBe(0);
    expect(run.stdout, 'the verbose reporter still prints each test').toMatch(/✓ .*GET \/health/);
    expect(run.stdout, 'the business-impact summary').toContain('stagecheck ▶ PASS');
    expect(readReport(dir)?.verdict, tail(run)).toBe('PASS');
  });

  it("links Vitest's own HTML report from the business page when the run writes one (--reporter=html)", async () => {
    const dir = tempDir();
    const run = await runVitestChild(['run', ...SLICE, '--reporter=html', `--outputFile.html=${join(dir, 'vitest', 'index.html')}`], childEnvWithReports(dir, await targetEnv()));
    expect(run.exitCode, tail(run)).toBe(0);
    expect(existsSync(join(dir, 'vitest', 'index.html')), 'Vitest wrote its HTML report').toBe(true);
    const page = readFileSync(join(dir, 'index.html'), 'utf8');
    expect(page).toContain('<a href="vitest/index.html">');
    expect(page).toMatch(/npx vite preview --outDir \S*vitest/);
  });

  it('fails, naming why, when its filters select no suite test', async () => {
    const dir = tempDir();
    const run = await runVitestChild(['run', '--project', 'phase1', '-t', 'no test is called this'], childEnvWithReports(dir, await targetEnv()));
    expect(run.exitCode, tail(run)).not.toBe(0);
    expect(`${run.stdout}\n${run.stderr}`).toMatch(/stagecheck: no suite test ran/);
  });
});

describe('npm run e2e sharded', () => {
  it('refuses --shard without --project, naming the two-step run that keeps phase 2 gated', async () => {
    const run = await runE2e(['--shard', '1/3'], { reportDir: tempDir(), env: await targetEnv(), timeoutMs: 60_000 });
    expect(run.exitCode, tailOf(run)).toBe(2);
    expect(run.stderr).toContain('--project phase1');
    expect(run.stderr).toContain('--project phase2 --shard 1/3 --phase1-gate');
    expect(run.stdout, 'refused before Vitest starts').not.toContain('RUN');
  });

  it('refuses a phase-2 shard without a phase-1 gate', async () => {
    const run = await runE2e(['--project', 'phase2', '--shard', '2/3'], { reportDir: tempDir(), env: await targetEnv(), timeoutMs: 60_000 });
    expect(run.exitCode, tailOf(run)).toBe(2);
    expect(run.stderr).toContain('--phase1-gate');
  });
});

describe('Vitest in watch mode', () => {
  it('makes every rerun a fresh run: a new run id, a decided gate, a start time of its own', async () => {
    const dir = tempDir();
    const gateFile = join(dir, GATE_FILE_NAME);
    const env = await targetEnv();
    const session = startVitestWatch(SLICE, childEnvWithReports(dir, env));
    let lastRunId: string | undefined;
    try {
      const last = () => `gate: ${JSON.stringify(readGate(gateFile))}\n${session.output().slice(-3000)}`;
      const decided = (not?: GateFile) => () => {
        const gate = readGate(gateFile);
        const report = readReport(dir);
        // A run is over when its gate is decided and its report carries the same run id.
        return gate && gate.status !== 'pending' && gate.runId !== not?.runId && report?.run.runId === gate.runId ? { gate, report } : undefined;
      };
      const first = await waitFor('the first run to decide its gate and write its report', decided(), 90_000, last);
      const touchedAt = new Date();
      utimesSync(PHASE1_MODULE, touchedAt, touchedAt);
      const second = await waitFor('the rerun to decide a gate of its own', decided(first.gate), 90_000, last);
      lastRunId = second.gate.runId ?? undefined;
      // The rerun removed the first run's fail-fast marks (tests/global-setup.ts): the first run is over.
      expect(existsSync(failFastStateDir(first.gate.runId ?? '')), last()).toBe(false);

      // Decided is the subject here, passed or failed alike (a check may fail on a loaded machine).
      expect(['passed', 'failed'], last()).toContain(second.gate.status);
      expect(second.gate.runId, last()).toMatch(/\S/);
      expect(second.gate.runId, last()).not.toBe(first.gate.runId);
      expect(Date.parse(second.report.run.startedAt ?? ''), `the rerun counts from its own start\n${last()}`).toBeGreaterThanOrEqual(touchedAt.getTime() - 1_000);
      expect(second.report.run.durationMs ?? Infinity, last()).toBeLessThanOrEqual(Date.now() - touchedAt.getTime() + 1_000);
      expect(session.output(), 'the rerun names its own run id').toContain(`stagecheck run ${second.gate.runId ?? '(none)'}`);
    } finally {
      await session.stop();
      // Stopped, the watch process ran no teardown: the last run's marks are this test's to remove.
      if (lastRunId) rmSync(failFastStateDir(lastRunId), { recursive: true, force: true });
    }
  });
});
