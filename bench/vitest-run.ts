/**
 * One Vitest run of the suite as a child process (`node node_modules/vitest/vitest.mjs run ...`,
 * what `npx vitest run ...` ends up executing, without npx's own start-up), with the default
 * reporter (for Vitest's "Duration (transform, setup, import, tests, environment)" line), the
 * JSON reporter (per-test status and duration) and, in the suite, its own business-impact
 * reporter (`reporter/index.ts`: it writes the phase-1 gate phase 2 reads, and its work is part of
 * a real run), which the suite's config keeps when the command line names reporters
 * (reporter/keep-reporter.ts), as in any user's run; its outputs go to a temp dir, never to `reports/`.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BusinessImpactReport } from '../reporter/schema.ts';
import { runTimed, type TimedRun } from './proc.ts';
import { ROOT } from './targets.ts';

export const VITEST = join(ROOT, 'node_modules', 'vitest', 'vitest.mjs');

export interface VitestTest {
  file: string;
  fullName: string;
  /** The check id the test declares (tests/check-ids.ts), from its meta in Vitest's JSON report. */
  checkId: string | null;
  status: string;
  durationMs: number | null;
  /** Epoch ms at which the test's file started its first test (Vitest JSON `startTime`). */
  fileStartEpoch: number | null;
}

/** Vitest's own "Duration 5.90s (transform 1.53s, setup 0ms, import 6.30s, tests 2.25s, environment 1ms)", in ms. */
export interface VitestDuration {
  totalMs: number;
  parts: Record<string, number>;
}

export interface VitestFile {
  file: string;
  /** Epoch ms: first test of the file started / last test of the file ended (Vitest JSON). */
  startEpoch: number | null;
  endEpoch: number | null;
}

export interface VitestRun extends TimedRun {
  files: VitestFile[];
  passed: number;
  failed: number;
  skipped: number;
  total: number;
  tests: VitestTest[];
  duration: VitestDuration | null;
  /** Epoch ms of Vitest's own run start (JSON `startTime`). */
  runStartEpoch: number | null;
  /** The suite's business-impact report (per-test `startedAt`), when its reporter ran. */
  report?: BusinessImpactReport;
}

export async function runVitest(
  args: string[],
  env: NodeJS.ProcessEnv,
  options: {
    timeoutMs?: number;
    measureMemory?: boolean;
    /** default the repository; a scratch project's dir for Vitest's own floor, another checkout for an A/B */ cwd?: string;
  } = {},
): Promise<VitestRun> {
  const cwd = options.cwd ?? ROOT;
  // The checkout's own Vitest: its config imports vitest from its own node_modules (one copy of it).
  const vitest = join(cwd, 'node_modules', 'vitest', 'vitest.mjs');
  const dir = mkdtempSync(join(tmpdir(), 'stagecheck-bench-vitest-'));
  const output = join(dir, 'report.json');
  try {
    const reporters = ['--reporter=default', '--reporter=json', `--outputFile.json=${output}`];
    const run = await runTimed(process.execPath, [vitest, 'run', ...args, ...reporters], {
      cwd,
      env: { ...env, STAGECHECK_REPORT_DIR: join(dir, 'reports'), STAGECHECK_HISTORY_FILE: join(dir, 'history.jsonl') },
      timeoutMs: options.timeoutMs ?? 300_000,
      measureMemory: options.measureMemory ?? false,
    });
    let report: JsonReport | undefined;
    try {
      report = JSON.parse(readFileSync(output, 'utf8')) as JsonReport;
    } catch {
      // no report: the run died first; counts stay 0 and the caller shows stderr
    }
    let impact: BusinessImpactReport | undefined;
    try {
      impact = JSON.parse(readFileSync(join(dir, 'reports', 'business-impact.json'), 'utf8')) as BusinessImpactReport;
    } catch {
      // no business-impact reporter in this run, or it wrote nothing
    }
    const tests: VitestTest[] = (report?.testResults ?? []).flatMap((file) =>
      file.assertionResults.map((a) => ({
        file: file.name.slice(cwd.length),
        fullName: a.fullName,
        checkId: typeof a.meta?.checkId === 'string' ? a.meta.checkId : null,
        status: a.status,
        durationMs: typeof a.duration === 'number' ? a.duration : null,
        fileStartEpoch: typeof file.startTime === 'number' ? file.startTime : null,
      })),
    );
    const files: VitestFile[] = (report?.testResults ?? []).map((file) => ({
      file: file.name.slice(cwd.length),
      startEpoch: typeof file.startTime === 'number' ? file.startTime : null,
      endEpoch: typeof file.endTime === 'number' ? file.endTime : null,
    }));
    return {
      ...run,
      files,
      passed: report?.numPassedTests ?? 0,
      failed: report?.numFailedTests ?? 0,
      skipped: (report?.numPendingTests ?? 0) + (report?.numTodoTests ?? 0),
      total: report?.numTotalTests ?? 0,
      tests,
      duration: parseDuration(run.stdout),
      runStartEpoch: report?.startTime ?? null,
      ...(impact ? { report: impact } : {}),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface JsonReport {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
  numTotalTests: number;
  startTime: number;
  testResults: { name: string; startTime?: number; endTime?: number; assertionResults: { fullName: string; status: string; duration?: number; meta?: { checkId?: unknown } }[] }[];
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000 };

export function parseDuration(stdout: string): VitestDuration | null {
  // eslint-disable-next-line no-control-regex
  const text = stdout.replace(/\u001b\[[0-9;]*m/g, '');
  const match = /Duration\s+([\d.]+)(ms|s|m)\s*\(([^)]*)\)/.exec(text);
  if (!match) return null;
  const parts: Record<string, number> = {};
  for (const part of match[3]!.split(',')) {
    const m = /^\s*(\w+)\s+([\d.]+)(ms|s|m)\s*$/.exec(part);
    if (m) parts[m[1]!] = Number(m[2]) * UNIT_MS[m[3]!]!;
  }
  return { totalMs: Number(match[1]) * UNIT_MS[match[2]!]!, parts };
}

/**
 * Where the wall time of a run went, from the spawn time, Vitest's JSON timestamps and the
 * exit: `boot` spawn → Vitest's run start (Node, Vitest, config); `toFirstTest` run start →
 * first test started (global setup, fork start-up, the first files' imports); `testSpan`
 * first test started → last test ended (tests, plus the imports of files that waited for a
 * worker); `exit` last test ended → process exit (fixture/global teardown, reporters, exit).
 */
export interface WallSplit {
  bootMs: number;
  toFirstTestMs: number;
  testSpanMs: number;
  exitMs: number;
}

export function splitWall(run: VitestRun): WallSplit | null {
  const starts = run.files.map((f) => f.startEpoch).filter((v): v is number => v !== null);
  const ends = run.files.map((f) => f.endEpoch).filter((v): v is number => v !== null);
  if (run.runStartEpoch === null || starts.length === 0 || ends.length === 0) return null;
  const first = Math.min(...starts);
  const last = Math.max(...ends);
  const exitEpoch = run.spawnedAtEpoch + run.wallMs;
  return {
    bootMs: run.runStartEpoch - run.spawnedAtEpoch,
    toFirstTestMs: first - run.runStartEpoch,
    testSpanMs: last - first,
    exitMs: exitEpoch - last,
  };
}

/** The first test carrying this check id (tests/check-ids.ts). */
export function findTest(run: VitestRun, checkId: string): VitestTest | undefined {
  return run.tests.find((t) => t.checkId === checkId);
}
