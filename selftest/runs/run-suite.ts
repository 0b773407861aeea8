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
  meta: { stagecheck?: StagecheckMeta };
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
