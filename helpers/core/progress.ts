/**
 * "Still waiting" progress of long bounded waits, for a person watching a run (issue 14 §3).
 *
 * Every bounded wait goes through `Budget.step` (helpers/core/budgets.ts), which watches a
 * step whose allowance is over {@link STILL_WAITING_EVERY_MS} and, every that many ms while it
 * lasts, hands a line naming the test, what it waits for and the time against its allowance to
 * the progress sink. Core knows no test runner: the fixture layer installs the sink
 * (`setProgressSink`, fixtures/report.ts); without one nothing is printed.
 */
import { formatMs } from './format.ts';

/** A wait says it is still waiting this often, and only a wait allowed longer than this does. */
export const STILL_WAITING_EVERY_MS = 10_000;

/** Every progress line starts with this (the reporter picks them out of the workers' output by it). */
export const PROGRESS_PREFIX = 'stagecheck: ';
export const STILL_WAITING_PREFIX = `${PROGRESS_PREFIX}still waiting `;

export interface WaitProgress {
  /** What the wait is for: the step's label (`wait a heartbeat after 35 s of client silence`). */
  label: string;
  /** The budget it counts against (`first heartbeat`, `agent run › connect`). */
  budgetPath: string;
  /** Who waits: the test's full name, when the budget knows it. */
  subject?: string;
  elapsedMs: number;
  /** The step's allowance: what was left of its budget when it started. */
  allowedMs: number;
}

export type ProgressSink = (line: string, progress: WaitProgress) => void;

let sink: ProgressSink | undefined;

/** Installs (or, with undefined, removes) where progress lines go. One per process. */
export function setProgressSink(next: ProgressSink | undefined): void {
  sink = next;
}

/** `stagecheck: still waiting 20 s of 36 s: wait a heartbeat … (budget first heartbeat) — realtime > sends …` */
export function stillWaitingLine(p: WaitProgress): string {
  const whole = (ms: number): string => formatMs(Math.round(ms / 1000) * 1000);
  return `${STILL_WAITING_PREFIX}${whole(p.elapsedMs)} of ${whole(p.allowedMs)}: ${p.label} (budget ${p.budgetPath})${p.subject ? ` — ${p.subject}` : ''}`;
}

/** The timers and clock a watch uses; real ones by default, a fake one in unit tests. */
export interface ProgressClock {
  now(): number;
  setInterval(fn: () => void, ms: number): { unref?(): unknown };
  clearInterval(handle: unknown): void;
}

/** The globals, looked up at each call (so Vitest's fake timers, in unit tests, replace them too). */
const REAL_CLOCK: ProgressClock = {
  now: () => globalThis.performance.now(),
  setInterval: (fn, ms) => setInterval(fn, ms),
  clearInterval: (handle) => clearInterval(handle as NodeJS.Timeout),
};

/**
 * Watches one wait from now: while it lasts, a still-waiting line every
 * {@link STILL_WAITING_EVERY_MS} to the sink installed at that moment. A wait allowed no
 * longer than that, or with no sink installed, is not watched. Returns the stop function
 * (idempotent); the timer is unref'd, so a forgotten watch never keeps the process alive.
 */
export function watchWait(wait: Omit<WaitProgress, 'elapsedMs'>, clock: ProgressClock = REAL_CLOCK): () => void {
  if (!sink || wait.allowedMs <= STILL_WAITING_EVERY_MS) return () => undefined;
  const startedAt = clock.now();
  const handle = clock.setInterval(() => {
    const progress: WaitProgress = { ...wait, elapsedMs: clock.now() - startedAt };
    try {
      sink?.(stillWaitingLine(progress), progress);
    } catch {
      // progress is a courtesy: a failing sink must not disturb the wait it reports on
    }
  }, STILL_WAITING_EVERY_MS);
  handle.unref?.();
  let stopped = false;
  return () => {
    if (stopped) return;
    stopped = true;
    clock.clearInterval(handle);
  };
}
