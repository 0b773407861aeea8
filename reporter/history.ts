/**
 * The history store: one JSON line per finished run (never per shard), holding each test's
 * and each KPI's verdict. Reports read it to say how often something failed in earlier runs
 * of the same target ("failed 3 of 40 runs since 2026-11-01"): counts of stored runs, never
 * an extrapolation.
 *
 * Location: STAGECHECK_HISTORY_FILE, default `<report dir>/history.jsonl`. Runs are compared
 * only with runs of the same target (`local` for the reference platform, else the host).
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { BusinessImpactReport, Verdict } from './schema.ts';
import { componentStates, type ComponentState } from './component-states.ts';

export const HISTORY_SCHEMA = 'stagecheck.history';
export const HISTORY_VERSION = 1;
/** Only the most recent lines are read: enough for a trend, bounded in cost. */
export const HISTORY_MAX_RUNS = 1000;

export interface HistoryEntry {
  schema: typeof HISTORY_SCHEMA;
  v: typeof HISTORY_VERSION;
  runId: string | null;
  at: string;
  target: string;
  version: string | null;
  verdict: Verdict;
  /** Each test's verdict by its title key (project, file, full name): every entry has it. */
  tests: Record<string, Verdict>;
  /**
   * Each test's verdict by its check id (tests/check-ids.ts), for the ids one test of the run
   * carries (a test.for family's shared id stays out). Absent in entries written before ids.
   */
  checks?: Record<string, Verdict>;
  kpis: Record<string, { verdict: Verdict; value: number | null }>;
  /**
   * Each tier's verdict and its tests that passed (PASS or DEGRADED) of those executed, for the
   * tier trends (reporter/trends.ts). Absent in entries written before trends.
   */
  tiers?: Record<string, { verdict: Verdict; passed: number; executed: number }>;
  /**
   * Each component the run measured, up or down (reporter/component-states.ts), for the uptime
   * in the trends. A component the run never reached is absent. Absent in entries written before trends.
   */
  components?: Record<string, ComponentState>;
}

export interface HistoryStat {
  runs: number;
  failures: number;
  since: string | null;
  text: string;
}

export interface HistoryIndex {
  file: string | null;
  runsConsidered: number;
  since: string | null;
  /** By check id where an entry has it, else by title key: entries of either kind count. */
  test(key: string, checkId?: string): HistoryStat;
  kpi(id: string): HistoryStat;
}

const MEASURED: ReadonlySet<Verdict> = new Set(['PASS', 'FAIL', 'DEGRADED']);

export function readHistory(file: string | null, target: string, warnings: string[]): HistoryEntry[] {
  if (!file || !existsSync(file)) return [];
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    warnings.push(`history ${file} could not be read: ${(error as Error).message}`);
    return [];
  }
  const lines = text.split('\n').filter((line) => line.trim() !== '');
  const entries: HistoryEntry[] = [];
  let malformed = 0;
  for (const line of lines.slice(-HISTORY_MAX_RUNS)) {
    try {
      const entry = JSON.parse(line) as HistoryEntry;
      if (entry?.schema !== HISTORY_SCHEMA || typeof entry.at !== 'string' || typeof entry.tests !== 'object') throw new Error('shape');
      if (entry.target === target) entries.push(entry);
    } catch {
      malformed += 1;
    }
  }
  if (malformed > 0) warnings.push(`history ${file}: ${malformed} malformed line(s) skipped`);
  return entries;
}

export function indexHistory(file: string | null, entries: readonly HistoryEntry[]): HistoryIndex {
  const stat = (pick: (entry: HistoryEntry) => Verdict | undefined): HistoryStat => {
    let runs = 0;
    let failures = 0;
    let since: string | null = null;
    for (const entry of entries) {
      const verdict = pick(entry);
      if (!verdict || !MEASURED.has(verdict)) continue;
      runs += 1;
      if (verdict === 'FAIL') failures += 1;
      if (since === null || entry.at < since) since = entry.at;
    }
    const text = runs === 0
      ? 'no earlier run measured it'
      : `failed ${failures} of ${runs} earlier run${runs === 1 ? '' : 's'} since ${since?.slice(0, 10)}`;
    return { runs, failures, since, text };
  };
  const since = entries.reduce<string | null>((min, e) => (min === null || e.at < min ? e.at : min), null);
  return {
    file,
    runsConsidered: entries.length,
    since,
    test: (key, checkId) => stat((e) => (checkId !== undefined && e.checks?.[checkId] !== undefined ? e.checks[checkId] : e.tests[key])),
    kpi: (id) => stat((e) => e.kpis[id]?.verdict),
  };
}

/** A finished run as one history line: each test's and KPI's verdict, keyed as reports key them. */
export function historyEntry(report: BusinessImpactReport, target: string): HistoryEntry {
  return {
    schema: HISTORY_SCHEMA,
    v: HISTORY_VERSION,
    runId: report.run.runId,
    at: report.run.startedAt ?? report.generatedAt,
    target,
    version: report.target.after,
    verdict: report.verdict,
    tests: Object.fromEntries(report.tests.map((t) => [t.key, t.verdict])),
    checks: checkVerdicts(report),
    kpis: Object.fromEntries(report.kpis.map((k) => [k.id, { verdict: k.verdict, value: k.value }])),
    tiers: Object.fromEntries(report.tiers.filter((t) => t.counts.total > 0).map((t) => [t.id, { verdict: t.verdict, passed: t.counts.PASS + t.counts.DEGRADED, executed: t.counts.executed }])),
    components: componentStates(report),
  };
}

/** Verdicts by check id, for the ids that exactly one test of the report carries. */
function checkVerdicts(report: BusinessImpactReport): Record<string, Verdict> {
  const count = new Map<string, number>();
  for (const t of report.tests) if (t.checkId) count.set(t.checkId, (count.get(t.checkId) ?? 0) + 1);
  return Object.fromEntries(report.tests.filter((t) => t.checkId && count.get(t.checkId) === 1).map((t) => [t.checkId, t.verdict]));
}

export function appendHistory(file: string, entry: HistoryEntry): void {
  mkdirSync(dirname(file), { recursive: true });
  appendFileSync(file, `${JSON.stringify(entry)}\n`);
}

/** `local` for the reference platform (its ports change every run), else the target's host. */
export function targetKey(baseUrl: string | null, local: boolean): string {
  if (local) return 'local';
  if (!baseUrl) return 'unknown';
  try {
    return new URL(baseUrl).host;
  } catch {
    return baseUrl;
  }
}

/** Whether a base URL is this machine: the reference platform started for the run. */
export function isLoopback(url: string | null): boolean {
  if (!url) return false;
  try {
    const host = new URL(url).hostname;
    return host === 'localhost' || /^127\./.test(host) || host === '[::1]' || host === '::1';
  } catch {
    return false;
  }
}
