/**
 * "Since the baseline": what changed between a baseline run and this one (pure, but for reading
 * a baseline file): tests newly failing, tests fixed, and KPIs that moved by more than their noise.
 *
 * The baseline is `--baseline FILE` of npm run e2e (STAGECHECK_BASELINE: a business-impact.json
 * of an earlier run; `none` for no baseline), else the previous run of this target in the history
 * (the last entry before this run). Without either the report says "no baseline" and why, with
 * no number.
 *
 * Tests are matched by check id where both runs have it as a test's own id, else by the title key.
 * Newly failing: FAIL now, passed (PASS or DEGRADED) in the baseline. Fixed: the other way round.
 *
 * A KPI moved when |now - baseline| is over its noise (noiseOf): how far its values in this
 * target's history spread by themselves, 3 × the scaled median absolute deviation (1.4826 × MAD,
 * robust against the odd outlier run), never under a floor (latency: 10 ms or 5% of the median,
 * whichever is larger; a rate: 2 percentage points). With fewer than 5 measured values in the
 * history no move is claimed: the KPI is listed as changed with too little history to tell.
 */
import { existsSync, readFileSync } from 'node:fs';
import { formatReportMs as formatMs } from '../helpers/core/format.ts';
import { historyEntry, type HistoryEntry } from './history.ts';
import { formatPercent } from './kpis.ts';
import { REPORT_SCHEMA_ID } from './report-schema-id.ts';
import type { BusinessImpactReport, SinceBaselineOut, TestChangeOut, TestOut, Verdict } from './schema.ts';

/** STAGECHECK_BASELINE / --baseline value that asks for no baseline at all. */
export const NO_BASELINE = 'none';
export const NOISE_FACTOR = 3;
/** Scales the median absolute deviation to a standard deviation's size for normally spread values. */
export const MAD_SCALE = 1.4826;
export const MIN_NOISE_VALUES = 5;
/** Only the most recent values count: a KPI's noise today is not the noise of a year ago. */
export const MAX_NOISE_VALUES = 50;
export const LATENCY_FLOOR_MS = 10;
export const LATENCY_FLOOR_RATIO = 0.05;
export const RATE_FLOOR = 0.02;

export const NOISE_RULE =
  `a KPI moved when the change is over its noise: ${NOISE_FACTOR} × ${MAD_SCALE} × the median absolute deviation of its last ` +
  `${MAX_NOISE_VALUES} values in the history, at least ${LATENCY_FLOOR_MS} ms or ${LATENCY_FLOOR_RATIO * 100}% of the median for a latency ` +
  `and ${RATE_FLOOR * 100} percentage points for a rate; with fewer than ${MIN_NOISE_VALUES} values no move is claimed`;

const PASSED: ReadonlySet<Verdict> = new Set(['PASS', 'DEGRADED']);
const MEASURED: ReadonlySet<Verdict> = new Set(['PASS', 'FAIL', 'DEGRADED']);

export interface Baseline {
  source: 'history' | 'file';
  /** The file given, for `source: 'file'`. */
  file?: string;
  entry: HistoryEntry;
}

/** The baseline chosen, or why there is none (a sentence that follows "no baseline: "). */
export type BaselineChoice = { baseline: Baseline } | { baseline: null; why: string };

/**
 * Reads a business-impact.json to compare with. Throws an Error whose message names the file and
 * what is wrong with it (missing, unreadable, not JSON, not a report); npm run e2e turns it into a
 * configuration error (exit 2), the reporter into a warning.
 */
export function readBaselineFile(file: string): BusinessImpactReport {
  if (!existsSync(file)) throw new Error(`${file} does not exist`);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new Error(`${file} cannot be read: ${(error as Error).message}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new Error(`${file} is not JSON: ${(error as Error).message}`);
  }
  const report = data as Partial<BusinessImpactReport> | null;
  const shaped = report !== null && typeof report === 'object' && report.schema === REPORT_SCHEMA_ID
    && Array.isArray(report.tests) && report.tests.every((t) => typeof t?.key === 'string' && typeof t?.verdict === 'string')
    && Array.isArray(report.kpis) && Array.isArray(report.tiers) && typeof report.run === 'object' && report.run !== null;
  if (!shaped) throw new Error(`${file} is not a stagecheck business-impact report (its "schema" must be "${REPORT_SCHEMA_ID}", with tests, KPIs and tiers)`);
  return report as BusinessImpactReport;
}

/** The baseline file as a history entry (what the diff compares with); throws as readBaselineFile. */
export function baselineEntry(file: string): HistoryEntry {
  const report = readBaselineFile(file);
  try {
    return historyEntry(report, 'baseline');
  } catch (error) {
    throw new Error(`${file} is not a complete stagecheck business-impact report: ${(error as Error).message}`);
  }
}

/**
 * What is wrong with `--baseline`'s value, for npm run e2e's configuration check (exit 2): one
 * sentence naming the option, the variable and the file; undefined when it is usable or unset.
 */
export function baselineOptionProblem(option: string | undefined): string | undefined {
  const value = option?.trim();
  if (!value || value === NO_BASELINE) return undefined;
  try {
    baselineEntry(value);
    return undefined;
  } catch (error) {
    return `--baseline (STAGECHECK_BASELINE): ${(error as Error).message}; give a business-impact.json of an earlier run, or none`;
  }
}

/**
 * `option`: STAGECHECK_BASELINE as given (a file, `none`, or empty/undefined for the history's
 * previous run). A file that cannot be used is a warning here (npm run e2e refuses it earlier).
 */
export function chooseBaseline(args: { option: string | undefined; past: readonly HistoryEntry[]; historyOn: boolean; warnings: string[] }): BaselineChoice {
  const option = args.option?.trim();
  if (option === NO_BASELINE) return { baseline: null, why: 'none asked for (--baseline none)' };
  if (option) {
    try {
      return { baseline: { source: 'file', file: option, entry: baselineEntry(option) } };
    } catch (error) {
      const message = `--baseline (STAGECHECK_BASELINE): ${(error as Error).message}`;
      args.warnings.push(message);
      return { baseline: null, why: message };
    }
  }
  const previous = args.past[args.past.length - 1];
  if (previous) return { baseline: { source: 'history', entry: previous } };
  return { baseline: null, why: args.historyOn ? 'no earlier run of this target in the history' : 'the history is off and no --baseline was given' };
}

/** `2026-11-28 10:00 UTC`. */
const when = (iso: string): string => `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;

export function baselineText(choice: BaselineChoice): string {
  if (!choice.baseline) return `no baseline: ${choice.why}`;
  const { entry, source, file } = choice.baseline;
  return `since the baseline (run ${entry.runId ?? 'without id'} at ${when(entry.at)}${source === 'file' ? `, from ${file}` : ', the previous run in the history'})`;
}

/** `past`: this target's earlier runs, oldest first (the noise comes from their KPI values). */
export function diffSinceBaseline(report: Pick<BusinessImpactReport, 'tests' | 'kpis'>, choice: BaselineChoice, past: readonly HistoryEntry[]): SinceBaselineOut {
  const text = baselineText(choice);
  if (!choice.baseline) return { baseline: null, text, newlyFailing: [], fixed: [], kpis: [], kpisWithoutNoise: [], noiseRule: NOISE_RULE };
  const { entry, source, file } = choice.baseline;
  const newlyFailing: TestChangeOut[] = [];
  const fixed: TestChangeOut[] = [];
  for (const { test, before, matchedBy } of matchTests(report.tests, entry)) {
    const change = { key: test.key, ...(test.checkId ? { checkId: test.checkId } : {}), name: test.fullName, tier: test.tier, matchedBy, before, now: test.verdict };
    if (test.verdict === 'FAIL' && PASSED.has(before)) newlyFailing.push(change);
    else if (PASSED.has(test.verdict) && before === 'FAIL') fixed.push(change);
  }
  const kpis: SinceBaselineOut['kpis'] = [];
  const kpisWithoutNoise: SinceBaselineOut['kpisWithoutNoise'] = [];
  for (const k of report.kpis) {
    const then = entry.kpis[k.id];
    if (k.value === null || !MEASURED.has(k.verdict) || !then || then.value === null || !MEASURED.has(then.verdict)) continue;
    const values = past.flatMap((e) => {
      const v = e.kpis[k.id];
      return v && v.value !== null && MEASURED.has(v.verdict) ? [v.value] : [];
    }).slice(-MAX_NOISE_VALUES);
    const change = k.value - then.value;
    const noise = noiseOf(values, k.kind);
    if (noise === undefined) {
      if (change !== 0) kpisWithoutNoise.push({ id: k.id, name: k.name, values: values.length });
      continue;
    }
    if (Math.abs(change) <= noise) continue;
    const worse = k.kind === 'latency' ? change > 0 : change < 0;
    const show = (v: number) => (k.kind === 'latency' ? formatMs(v) : formatPercent(v));
    const delta = k.kind === 'latency' ? `${change > 0 ? '+' : '−'}${formatMs(Math.abs(change))}` : `${change > 0 ? '+' : '−'}${(Math.abs(change) * 100).toFixed(1)} points`;
    kpis.push({
      id: k.id,
      name: k.name,
      kind: k.kind,
      before: then.value,
      now: k.value,
      change,
      noise,
      values: values.length,
      worse,
      text: `${k.name}: ${show(then.value)} → ${show(k.value)} (${delta}, noise ±${k.kind === 'latency' ? formatMs(noise) : `${(noise * 100).toFixed(1)} points`} over ${values.length} runs), ${worse ? 'worse' : 'better'}`,
    });
  }
  return {
    baseline: { runId: entry.runId, at: entry.at, verdict: entry.verdict, source, ...(file ? { file } : {}) },
    text,
    newlyFailing,
    fixed,
    kpis,
    kpisWithoutNoise,
    noiseRule: NOISE_RULE,
  };
}

/** Each test of this run with its baseline verdict, where the baseline has it. */
export interface MatchedTest { test: TestOut; before: Verdict; matchedBy: 'check-id' | 'key' }

export function matchTests(tests: readonly TestOut[], entry: HistoryEntry): MatchedTest[] {
  const idCount = new Map<string, number>();
  for (const t of tests) if (t.checkId) idCount.set(t.checkId, (idCount.get(t.checkId) ?? 0) + 1);
  return tests.flatMap((test): MatchedTest[] => {
    const ownId = test.checkId && idCount.get(test.checkId) === 1 ? test.checkId : undefined;
    const byId = ownId !== undefined ? entry.checks?.[ownId] : undefined;
    if (byId !== undefined) return [{ test, before: byId, matchedBy: 'check-id' }];
    const byKey = entry.tests[test.key];
    return byKey !== undefined ? [{ test, before: byKey, matchedBy: 'key' }] : [];
  });
}

/** The KPI's noise from its history values (see the module comment); undefined with too few values. */
export function noiseOf(values: readonly number[], kind: string): number | undefined {
  if (values.length < MIN_NOISE_VALUES) return undefined;
  const median = medianOf(values);
  const mad = medianOf(values.map((v) => Math.abs(v - median)));
  const floor = kind === 'latency' ? Math.max(LATENCY_FLOOR_MS, LATENCY_FLOOR_RATIO * Math.abs(median)) : RATE_FLOOR;
  return Math.max(NOISE_FACTOR * MAD_SCALE * mad, floor);
}

function medianOf(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}
