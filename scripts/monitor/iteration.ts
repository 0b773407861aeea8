/**
 * One monitor iteration: `npm run e2e`'s script (node --import tsx scripts/e2e.ts) as a child
 * process with its own run id and report folder, exactly as a user runs it, so the iteration
 * is judged, reported and appended to the history by the suite itself.
 *
 * Its output goes to `<folder>/e2e.log`, written by the child straight to the file: the
 * monitor keeps none of it in memory (it reads the last lines back only when there is no
 * report, to say why).
 *
 * The run has a process group of its own (e2e, Vitest, its workers): an iteration is over when
 * the whole group is gone, not only e2e (Vitest can exit a moment before its workers do), so
 * no process of one iteration outlives it. Interrupting sends SIGINT to the group, as a
 * terminal's Ctrl-C does; e2e answers by stopping Vitest and cleaning up what its tests in
 * flight left. After a bounded grace the group is killed.
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
/** After e2e exits, how long the rest of its process group (Vitest's workers) may take to end before it is killed. */
export const GROUP_EXIT_MS = 10_000;

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
    detached: true,
  });
  closeSync(log);
  const group = child.pid;
  let interrupted = false;
  let killTimer: NodeJS.Timeout | undefined;
  const interrupt = (): void => {
    if (interrupted || group === undefined || child.exitCode !== null || child.signalCode !== null) return;
    interrupted = true;
    signalGroup(group, 'SIGINT');
    killTimer = setTimeout(() => signalGroup(group, 'SIGKILL'), options.graceMs ?? INTERRUPT_GRACE_MS);
  };
  const hangGuard = setTimeout(interrupt, options.timeoutMs ?? ITERATION_TIMEOUT_MS);
  const done = new Promise<IterationRun>((resolve) => {
    let finished = false;
    const finish = async (code: number | null): Promise<void> => {
      if (finished) return;
      finished = true;
      clearTimeout(hangGuard);
      clearTimeout(killTimer);
      if (group !== undefined) await groupGone(group, GROUP_EXIT_MS);
      const report = readReport(options.reportDir);
      resolve({
        exitCode: code ?? 2,
        durationMs: performance.now() - started,
        interrupted,
        ...(report ? { report } : {}),
        tail: report ? '' : tailOf(logFile),
      });
    };
    child.once('exit', (code) => void finish(code));
    child.once('error', () => void finish(null));
  });
  return { pid: child.pid, done, interrupt };
}

function signalGroup(group: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-group, signal);
  } catch {
    // the group is gone already
  }
}

function groupAlive(group: number): boolean {
  try {
    process.kill(-group, 0);
    return true;
  } catch {
    return false;
  }
}

/** Waits until no process of the group is left; kills what remains after `ms`. */
async function groupGone(group: number, ms: number): Promise<void> {
  const end = performance.now() + ms;
  while (groupAlive(group) && performance.now() < end) await new Promise((tick) => setTimeout(tick, 50));
  if (!groupAlive(group)) return;
  signalGroup(group, 'SIGKILL');
  const killed = performance.now() + 2000;
  while (groupAlive(group) && performance.now() < killed) await new Promise((tick) => setTimeout(tick, 50));
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
