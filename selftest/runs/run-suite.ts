/**
 * Runs the suite (a Vitest project of this repo) as a child process, exactly as a user would,
 * and returns its exit code, wall time and parsed JSON report, so the project's own tests can
 * assert on what the suite concluded against a healthy or faulted target.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { StagecheckMeta } from '../../helpers/core/meta.ts';
import { CHECK_IDS, FAMILY_CHECK_IDS, type CheckId } from '../../tests/check-ids.ts';
import { childEnvWithReports } from '../support/child-env.ts';
import { refusedPort } from '../support/net.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const VITEST = join(ROOT, 'node_modules', 'vitest', 'vitest.mjs');

export interface SuiteTestResult {
  fullName: string;
  title: string;
  status: 'passed' | 'failed' | 'skipped' | 'pending' | 'todo' | string;
  duration?: number;
  failureMessages: string[];
  tags: string[];
  /** Vitest's JSON reporter gives each assertion result its task meta: the check id and the reporter's record. */
  meta: { stagecheck?: StagecheckMeta; checkId?: string };
}

export interface SuiteRun {
  exitCode: number | null;
  wallMs: number;
  stdout: string;
  stderr: string;
  tests: SuiteTestResult[];
  numTotalTests: number;
}

export async function runSuite(options: { args: string[]; env?: Record<string, string>; timeoutMs?: number }): Promise<SuiteRun> {
  const dir = mkdtempSync(join(tmpdir(), 'stagecheck-selftest-'));
  const output = join(dir, 'report.json');
  // Reports in the run's own directory: a gate file shared between runs side by side would
  // let one run's phase 1 gate another's phase 2.
  const env = childEnvWithReports(dir, options.env);

  const started = performance.now();
  const child = spawn(process.execPath, [VITEST, 'run', ...options.args, '--reporter=json', `--outputFile=${output}`], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const timeoutMs = options.timeoutMs ?? 120_000;
  const exitCode = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
  const wallMs = performance.now() - started;

  let tests: SuiteTestResult[] = [];
  let numTotalTests = 0;
  try {
    const report = JSON.parse(readFileSync(output, 'utf8')) as { numTotalTests: number; testResults: { assertionResults: SuiteTestResult[] }[] };
    tests = report.testResults.flatMap((file) => file.assertionResults);
    numTotalTests = report.numTotalTests;
  } catch {
    // No report: the run died before writing one; callers see tests = [] and the stderr.
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { exitCode, wallMs, stdout, stderr, tests, numTotalTests };
}

/** The env pointing the suite at a dead target on loopback (every endpoint refuses). */
export async function deadTargetEnv(): Promise<Record<string, string>> {
  const port = await refusedPort();
  return {
    STAGING_BASE_URL: `http://127.0.0.1:${port}`,
    STAGING_AUTH_URL: `http://127.0.0.1:${port}`,
    STAGING_WS_URL: `ws://127.0.0.1:${port}/ws`,
    STAGING_DATABASE_URL: `postgres://probe@127.0.0.1:${port}/app`,
    STAGING_REDIS_URL: `redis://127.0.0.1:${port}`,
    E2E_BYPASS_KEY: 'selftest-not-a-real-key',
  };
}

/**
 * What is wrong with the check ids of a run's tests (empty when nothing is): a test without an
 * id, an id two tests share outside a test.for family, an id not in tests/check-ids.ts, and an id
 * of the map (for this run's phase) that no test carried.
 */
export function checkIdProblems(tests: readonly SuiteTestResult[], phase: 'phase1' | 'phase2'): string[] {
  const problems: string[] = [];
  const known = new Set<string>(Object.values(CHECK_IDS));
  const seen = new Map<string, string>();
  for (const test of tests) {
    const id = test.meta.checkId;
    if (!id) {
      problems.push(`${test.fullName}: no checkId in its test options (tests/check-ids.ts)`);
      continue;
    }
    if (!known.has(id)) problems.push(`${test.fullName}: checkId "${id}" is not in CHECK_IDS`);
    const other = seen.get(id);
    if (other !== undefined && !FAMILY_CHECK_IDS.has(id as CheckId)) problems.push(`${test.fullName}: checkId "${id}" is also ${other}'s`);
    seen.set(id, test.fullName);
  }
  for (const id of known) if (id.startsWith(`${phase}.`) && !seen.has(id)) problems.push(`${id}: in CHECK_IDS, but no ${phase} test carries it`);
  return problems;
}
