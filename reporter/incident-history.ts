/**
 * When a failure was first seen, from the history store (pure): the earliest run of the unbroken
 * streak of failing runs that ends with this one. Used by the incident write-up
 * (reporter/incident.ts) for each failure cause and each failed KPI.
 *
 * Walking back from the newest earlier run:
 * - a run in which any of the checks FAILed extends the streak;
 * - a run that measured them (PASS, FAIL or DEGRADED) without a failure ends it: "last passed";
 * - a run that did not measure them (filtered, blocked by phase 1, inconclusive, or a run of
 *   another phase) is stepped over: it could see the failure neither come nor go.
 * Only stored runs count: a streak that reaches the oldest stored run says it may have begun earlier.
 */
import type { HistoryEntry } from './history.ts';
import type { TestOut, Verdict } from './schema.ts';

const MEASURED: ReadonlySet<Verdict> = new Set(['PASS', 'FAIL', 'DEGRADED']);

export interface RunRef {
  runId: string | null;
  at: string;
  version: string | null;
}

export interface FirstSeen {
  /** Earlier runs in the failing streak (this run not counted). */
  earlierRuns: number;
  /** The streak's earliest run; null: this run is the first to fail. */
  since: RunRef | null;
  /** The latest earlier run that measured the checks with no failure; null when none is stored. */
  lastPassed: RunRef | null;
  /** How many earlier runs the history held for this target. */
  stored: number;
  text: string;
}

/** The verdicts an entry holds for some checks (undefined: that entry does not name them). */
export type VerdictPick = (entry: HistoryEntry) => readonly (Verdict | undefined)[];

/** A test's verdicts in an entry: by check id where the entry has it, else by title key (as history.ts indexes them). */
export function testsPick(tests: readonly Pick<TestOut, 'key' | 'checkId'>[]): VerdictPick {
  return (entry) => tests.map((t) => (t.checkId !== undefined && entry.checks?.[t.checkId] !== undefined ? entry.checks[t.checkId] : entry.tests[t.key]));
}

export function kpiPick(id: string): VerdictPick {
  return (entry) => [entry.kpis?.[id]?.verdict];
}

/** `past`: this target's earlier runs, oldest first (as the reporter reads them). */
export function firstSeen(past: readonly HistoryEntry[], pick: VerdictPick): FirstSeen {
  let since: RunRef | null = null;
  let lastPassed: RunRef | null = null;
  let earlierRuns = 0;
  for (let i = past.length - 1; i >= 0; i -= 1) {
    const entry = past[i] as HistoryEntry;
    const measured = pick(entry).filter((v): v is Verdict => v !== undefined && MEASURED.has(v));
    if (measured.length === 0) continue;
    if (!measured.includes('FAIL')) {
      lastPassed = refOf(entry);
      break;
    }
    earlierRuns += 1;
    since = refOf(entry);
  }
  return { earlierRuns, since, lastPassed, stored: past.length, text: describe(earlierRuns, since, lastPassed, past) };
}

function refOf(entry: HistoryEntry): RunRef {
  return { runId: entry.runId, at: entry.at, version: entry.version };
}

/** `2026-12-01 04:10 UTC` from an ISO time. */
export function utcMinute(iso: string): string {
  return `${iso.slice(0, 16).replace('T', ' ')} UTC`;
}

function runName(ref: RunRef): string {
  return `run \`${ref.runId ?? 'unknown'}\` at ${utcMinute(ref.at)}${ref.version ? ` (version \`${ref.version}\`)` : ''}`;
}

function describe(earlierRuns: number, since: RunRef | null, lastPassed: RunRef | null, past: readonly HistoryEntry[]): string {
  if (past.length === 0) return 'first seen in this run (the history holds no earlier run of this target)';
  if (!since) {
    return lastPassed
      ? `first seen in this run (it passed in the previous run that measured it, ${runName(lastPassed)})`
      : `first seen in this run (none of the ${past.length} earlier stored run${past.length === 1 ? '' : 's'} measured it)`;
  }
  const streak = `failed in ${earlierRuns + 1} consecutive runs that measured it, this one included`;
  if (lastPassed) return `first seen in ${runName(since)}: ${streak}; last passed in ${runName(lastPassed)}`;
  const oldest = past[0] as HistoryEntry;
  return `first seen in ${runName(since)}: ${streak}; no stored run passed it before (the history begins ${utcMinute(oldest.at)}, it may have failed earlier)`;
}
