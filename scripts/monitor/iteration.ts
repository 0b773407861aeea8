/**
 * One monitor iteration: `npm run e2e`'s script (node --import tsx scripts/e2e.ts) as a child
 * process with its own run id and report folder, exactly as a user runs it, so the iteration
 * is judged, reported and appended to the history by the suite itself.
 *
 * Its output goes to `<folder>/e2e.log`, written by the child straight to the file: the
 * monitor keeps none of it in memory (it reads the last lines back only when there is no
 * report, to say why). Interrupting sends SIGINT, which e2e answers by stopping Vitest and
 * cleaning up what its tests in flight left; after a bounded grace it is killed.
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BusinessImpactReport } from '../../reporter/schema.ts';
import type { Phases } from './args.ts';
import { readReport } from './causes.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const E2E = join(ROOT, 'scripts', 'e2e.ts');
const TSX = createRequire(import.meta.url).resolve('tsx');

export const LOG_FILE = 'e2e.log';
/** An iteration is a whole e2e run: its own budgets end it long before this; this only stops a hung harness. */
export const ITERATION_TIMEOUT_MS = 30 * 60_000;
/** After SIGINT, e2e removes what its tests in flight left on the target: a few seconds, bounded here. */
export const INTERRUPT_GRACE_MS = 60_000;

export interface IterationRun {
  /** e2e's exit code; 2 when it ended by a signal. */
  exitCode: number;
  durationMs: number;
  /** Stopped by interrupt() or by the hang guard. */
  interrupted: boolean;
  report?: BusinessImpactReport;
  /** The log's last lines, read only when there is no report. */
  tail: string;
}

export interface RunningIteration {
  readonly pid: number | undefined;
  done: Promise<IterationRun>;
  /** SIGINT now, SIGKILL after the grace if it is still there. Idempotent. */
  interrupt(): void;
}

export interface IterationOptions {
  runId: string;
  reportDir: string;
  phases: Phases;
  /** The child's whole environment (the caller built it from its own). */
  env: Record<string, string | undefined>;
  timeoutMs?: number;
  graceMs?: number;
}

export function startIteration(options: IterationOptions): RunningIteration {
  mkdirSync(options.reportDir, { recursive: true });
  const logFile = join(options.reportDir, LOG_FILE);
  const log = openSync(logFile, 'w');
  const args = ['--import', TSX, E2E, ...(options.phases === '1' ? ['--project', 'phase1'] : [])];
  const started = performance.now();
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...options.env, STAGECHECK_RUN_ID: options.runId, STAGECHECK_REPORT_DIR: options.reportDir },
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  let interrupted = false;
  let killTimer: NodeJS.Timeout | undefined;
  const interrupt = (): void => {
    if (interrupted || child.exitCode !== null || child.signalCode !== null) return;
    interrupted = true;
    child.kill('SIGINT');
    killTimer = setTimeout(() => child.kill('SIGKILL'), options.graceMs ?? INTERRUPT_GRACE_MS);
  };
  const hangGuard = setTimeout(interrupt, options.timeoutMs ?? ITERATION_TIMEOUT_MS);
  const done = new Promise<IterationRun>((resolve) => {
    const finish = (code: number | null): void => {
      clearTimeout(hangGuard);
      clearTimeout(killTimer);
      const report = readReport(options.reportDir);
      resolve({
        exitCode: code ?? 2,
        durationMs: performance.now() - started,
        interrupted,
        ...(report ? { report } : {}),
        tail: report ? '' : tailOf(logFile),
      });
    };
    child.once('exit', (code) => finish(code));
    child.once('error', () => finish(null));
  });
  return { pid: child.pid, done, interrupt };
}

/** The last few lines of `file`, reading at most its last 2 KB. */
export function tailOf(file: string, bytes = 2048): string {
  try {
    const size = statSync(file).size;
    const length = Math.min(size, bytes);
    const buffer = Buffer.alloc(length);
    const fd = openSync(file, 'r');
    try {
      readSync(fd, buffer, 0, length, size - length);
    } finally {
      closeSync(fd);
    }
    return buffer.toString('utf8').split('\n').filter((line) => line.trim() !== '').slice(-6).join('\n');
  } catch {
    return '';
  }
}
