/**
 * Progress a person can follow while the run goes (issue 14 §3), apart from the verdict at
 * the end: the phases planned (in the start banner), each phase's test count once its files
 * are collected, and, without a TTY (CI logs), a line per finished test file with its counts.
 * With a TTY, Vitest's own live output already shows the files; the reporter adds none there.
 * Still-waiting lines come from the workers (helpers/core/progress.ts) through the console.
 */
import { relative } from 'node:path';
import type { TestModule } from 'vitest/node';
import { formatMs, plural } from '../helpers/core/format.ts';
import { PROGRESS_PREFIX, STILL_WAITING_PREFIX } from '../helpers/core/progress.ts';

/** A planned test file: its project (phase) and module id. */
export interface PlannedFile {
  project: string;
  moduleId: string;
}

/** A collected test file: what {@link PhaseCounts} needs of Vitest's TestModule. */
export interface CollectedFile extends PlannedFile {
  /** Per test: whether it will run (not skipped by a filter, `.skip` or `.todo`). */
  tests: { selected: boolean }[];
}

export interface FileCounts {
  /** Path from the project root: `tests/phase2/realtime.test.ts`. */
  file: string;
  passed: number;
  failed: number;
  skipped: number;
  durationMs: number;
  /** The file failed before any test ran (import or collection error). */
  loadError?: string;
}

/** The projects whose runs the business-impact reporter acts on: the suite's two phases. */
export const SUITE_PROJECTS: ReadonlySet<string> = new Set(['phase1', 'phase2']);

/** The banner's line of what the run plans: files per phase, in phase order. */
export function phasePlanLine(files: readonly PlannedFile[]): string {
  const perPhase = countBy(files.map((f) => f.project));
  const phases = [...perPhase.entries()].map(([phase, n]) => `${phase} ${plural(n, 'file')}`).join(' · ');
  return `  phases    ${phases || 'none'} (tests counted as each phase is collected)`;
}

/**
 * Counts each phase's tests as its files are collected, and says so once per phase, when its
 * last file is in: Vitest collects a file only when it starts to run, so phase 2's count comes
 * when phase 2 starts, after phase 1.
 */
export class PhaseCounts {
  readonly #pending = new Map<string, Set<string>>();
  readonly #collected = new Map<string, CollectedFile[]>();

  constructor(files: readonly PlannedFile[]) {
    for (const f of files) {
      const set = this.#pending.get(f.project) ?? new Set<string>();
      set.add(f.moduleId);
      this.#pending.set(f.project, set);
    }
  }

  /** Records a collected file; returns the phase's line when it was its last one, else undefined. */
  collected(file: CollectedFile): string | undefined {
    const pending = this.#pending.get(file.project);
    if (!pending?.delete(file.moduleId)) return undefined;
    const done = [...(this.#collected.get(file.project) ?? []), file];
    this.#collected.set(file.project, done);
    return pending.size === 0 ? phaseCountLine(file.project, done) : undefined;
  }
}

/** `stagecheck: phase2: 51 tests in 7 files`, or `… 3 of 51 tests selected …` under a filter. */
export function phaseCountLine(phase: string, files: readonly CollectedFile[]): string {
  const tests = files.flatMap((f) => f.tests);
  const selected = tests.filter((t) => t.selected).length;
  const count = selected === tests.length ? plural(tests.length, 'test') : `${selected} of ${plural(tests.length, 'test')} selected`;
  return `${PROGRESS_PREFIX}${phase}: ${count} in ${plural(files.length, 'file')}`;
}

/** `stagecheck: tests/phase2/realtime.test.ts 9 passed · 1 failed (12.3 s)`. */
export function fileProgressLine(c: FileCounts): string {
  const parts = ([['passed', c.passed], ['failed', c.failed], ['skipped', c.skipped]] as const).filter(([, n]) => n > 0).map(([what, n]) => `${n} ${what}`);
  const counts = parts.join(' · ') || 'no test';
  const load = c.loadError ? ` · failed to load: ${c.loadError}` : '';
  return `${PROGRESS_PREFIX}${c.file} ${counts}${load} (${formatMs(c.durationMs)})`;
}

/** Whether a worker's console output is a still-waiting line (printed by this reporter alone). */
export function isStillWaitingLog(content: string): boolean {
  return content.startsWith(STILL_WAITING_PREFIX);
}

/** Live per-file lines are for logs without a terminal; a TTY shows Vitest's own. */
export function fileLinesWanted(stream: { isTTY?: boolean } = process.stdout): boolean {
  return stream.isTTY !== true;
}

/** What {@link PhaseCounts} needs of a collected module. */
export function collectedFile(module: TestModule): CollectedFile {
  const tests = [...module.children.allTests()].map((t) => ({ selected: t.options.mode === 'run' || t.options.mode === 'only' }));
  return { project: module.project.name, moduleId: module.moduleId, tests };
}

/** A finished module's counts, its path relative to `root`. */
export function fileCounts(module: TestModule, root: string): FileCounts {
  const counts = { passed: 0, failed: 0, skipped: 0 };
  for (const test of module.children.allTests()) {
    const state = test.result().state;
    if (state === 'passed' || state === 'failed' || state === 'skipped') counts[state] += 1;
  }
  const error = module.errors()[0];
  const total = counts.passed + counts.failed + counts.skipped;
  return {
    file: relative(root, module.moduleId) || module.moduleId,
    ...counts,
    durationMs: module.diagnostic().duration,
    ...(total === 0 && error ? { loadError: String(error.message ?? error).split('\n')[0] as string } : {}),
  };
}

function countBy(keys: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const key of [...keys].sort()) counts.set(key, (counts.get(key) ?? 0) + 1);
  return counts;
}
