/**
 * Runs `npm run e2e` (scripts/e2e.ts) as a child process, exactly as a user or CI does, with
 * its reports in a directory of the caller's, and reads back the business-impact report. The
 * project's own tests and scripts (fault matrix, repeated healthy runs) judge the suite by
 * what it concluded in that report, never by peeking into its internals.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BusinessImpactReport } from '../../reporter/schema.ts';
import { childEnvWithReports } from './child-env.ts';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const E2E = join(ROOT, 'scripts', 'e2e.ts');
const TSX = createRequire(import.meta.url).resolve('tsx');

export interface E2eRun {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  wallMs: number;
  reportDir: string;
  report?: BusinessImpactReport;
}

export interface E2eOptions {
  /** Extra environment, applied after the target variables are cleared. */
  env?: Record<string, string>;
  /** Where reports and the history file go; the caller owns (and removes) it. */
  reportDir: string;
  /** A run that outlives this is killed (SIGKILL) and returns what it printed. */
  timeoutMs?: number;
}

export async function runE2e(args: readonly string[], options: E2eOptions): Promise<E2eRun> {
  const env = childEnvWithReports(options.reportDir, options.env);
  const started = performance.now();
  const child = spawn(process.execPath, ['--import', TSX, E2E, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 170_000);
    child.once('exit', (exitCode, exitSignal) => {
      clearTimeout(timer);
      resolve({ code: exitCode, signal: exitSignal });
    });
  });
  const file = join(options.reportDir, 'business-impact.json');
  const report = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as BusinessImpactReport) : undefined;
  return { exitCode: code, signal, stdout, stderr, wallMs: performance.now() - started, reportDir: options.reportDir, ...(report ? { report } : {}) };
}

/** The end of a run's output, for assertion messages. */
export function tailOf(run: E2eRun): string {
  return `exit ${run.exitCode}\n${run.stdout.slice(-3000)}\n${run.stderr.slice(-2000)}`;
}
