/**
 * The KPI part of the verdict engine (reporter/verdicts.ts): each catalog KPI judged over the
 * samples the tests recorded (latency and rate KPIs) or over the tier's executed tests
 * (test-success), and the latency band a test's own samples fall in. Rules in docs/reports.md ("Verdicts").
 */
import { formatReportMs as formatMs } from '../helpers/core/format.ts';
import type { StagecheckMeta } from '../helpers/core/meta.ts';
import { percentile, rate, summarize, type Rate, type Summary } from '../helpers/core/stats.ts';
import type { KpiDef } from './catalog.ts';
import type { HistoryIndex } from './history.ts';
import type { TestRecord } from './records.ts';
import type { KpiOut, TestOut, Verdict } from './schema.ts';

/** A test with its record, its validated meta and its verdict so far. */
export interface Judged {
  record: TestRecord;
  meta?: StagecheckMeta;
  out: TestOut;
}

export function latencyBand(def: Extract<KpiDef, { kind: 'latency' }>, value: number): Verdict {
  if (value < def.targetMs) return 'PASS';
  if (def.failMs !== undefined && value < def.failMs) return 'DEGRADED';
  return 'FAIL';
}

export function safeSummary(samples: readonly number[]): Summary {
  try {
    return summarize(samples);
  } catch {
    return { count: samples.length, min: null, p50: null, p95: null, max: null, mean: null };
  }
}

// ---------------------------------------------------------------------------------------
// KPIs

export function judgeKpi(def: KpiDef, judged: readonly Judged[], history: HistoryIndex | undefined): KpiOut {
  const base = {
    id: def.id,
    name: def.name,
    kind: def.kind,
    functions: def.functions,
    ...(history ? { history: history.kpi(def.id) } : {}),
  };
  if (def.kind === 'test-success') {
    const members = judged.filter((j) => j.out.tier === def.tier);
    const executed = members.filter((j) => ['PASS', 'FAIL', 'DEGRADED'].includes(j.out.verdict));
    const meant = members.filter((j) => j.out.verdict !== 'NOT RUN');
    const samples = executed.map((j) => (j.out.verdict === 'FAIL' ? 0 : 1));
    const min = def.minSamples === 'all' ? Math.max(1, meant.length) : def.minSamples;
    const r = rate(samples.filter((s) => s === 1).length, samples.length);
    const target = `>= ${formatPercent(def.target)} of ${def.minSamples === 'all' ? `all ${def.tier.toUpperCase()} tests` : `${min} tests`}`;
    const out = { ...base, target, degraded: null, minSamples: min, samples: samples.length, value: r.ratio, rate: r, sampleValues: samples, sources: executed.map((j) => j.out.key) };
    if (meant.length === 0) return { ...out, verdict: 'NOT RUN', reason: `no ${def.tier.toUpperCase()} test ran` };
    if (samples.length < min) {
      return { ...out, verdict: 'INCONCLUSIVE', reason: `${samples.length} of ${min} ${def.tier.toUpperCase()} tests ran to a verdict (${meant.length - samples.length} blocked or inconclusive)` };
    }
    return { ...out, ...rateVerdict(r, def.target, undefined) };
  }

  const contributions = judged.flatMap((j) => (j.meta?.kpis ?? []).filter((k) => k.kpi === def.id).map((k) => ({ j, k })));
  const sampleValues = contributions.flatMap(({ k }) => k.samples);
  const sources = [...new Set(contributions.map(({ j }) => j.out.key))];
  const common = { ...base, minSamples: def.minSamples, samples: sampleValues.length, sampleValues, sources };

  if (def.kind === 'latency') {
    const target = `p${def.percentile} < ${formatMs(def.targetMs)}`;
    const degraded = def.failMs !== undefined ? `${formatMs(def.targetMs)} – ${formatMs(def.failMs)}` : null;
    const latency = safeSummary(sampleValues);
    const value = sampleValues.length > 0 ? percentile(sampleValues, def.percentile) : null;
    const out = { ...common, target, degraded, value, latency };
    if (sampleValues.length === 0) return { ...out, verdict: 'NOT RUN', reason: notMeasuredReason(def, judged) };
    if (sampleValues.length < def.minSamples) {
      return { ...out, verdict: 'INCONCLUSIVE', reason: `${sampleValues.length} samples, fewer than the ${def.minSamples} the KPI needs` };
    }
    const band = latencyBand(def, value as number);
    const measured = `p${def.percentile} ${formatMs(value as number)} over ${sampleValues.length} samples`;
    const reason = band === 'PASS' ? `${measured}, under ${formatMs(def.targetMs)}`
      : band === 'DEGRADED' ? `${measured}, in the degraded band ${degraded}`
      : `${measured}, at or past ${formatMs(def.failMs ?? def.targetMs)}`;
    return { ...out, verdict: band, reason };
  }

  // rate
  const target = `>= ${formatPercent(def.target)}`;
  const degraded = def.degradedFrom !== undefined ? `${formatPercent(def.degradedFrom)} – ${formatPercent(def.target)}` : null;
  const successes = sampleValues.filter((s) => s === 1).length;
  const invalid = sampleValues.filter((s) => s !== 0 && s !== 1).length;
  const r = rate(successes, sampleValues.length);
  // First attempt vs after retry, where a test reported it; a sample set without it had no retries.
  const firstAttempt = contributions.some(({ k }) => k.firstAttemptSuccesses !== undefined)
    ? rate(Math.min(successes, contributions.reduce((n, { k }) => n + (k.firstAttemptSuccesses ?? k.samples.filter((s) => s === 1).length), 0)), sampleValues.length)
    : undefined;
  const out = { ...common, target, degraded, value: r.ratio, rate: r, ...(firstAttempt ? { firstAttempt } : {}) };
  if (sampleValues.length === 0) return { ...out, verdict: 'NOT RUN', reason: notMeasuredReason(def, judged) };
  if (invalid > 0) return { ...out, verdict: 'INCONCLUSIVE', reason: `${invalid} samples are neither 0 nor 1: not a success rate` };
  if (sampleValues.length < def.minSamples) {
    return { ...out, verdict: 'INCONCLUSIVE', reason: `${r.text} from ${sampleValues.length} samples, fewer than the ${def.minSamples} the KPI needs` };
  }
  return { ...out, ...rateVerdict(r, def.target, def.degradedFrom) };
}

function rateVerdict(r: Rate, target: number, degradedFrom: number | undefined): { verdict: Verdict; reason: string } {
  const ratio = r.ratio ?? 0;
  // successes/total compared exactly: 19/20 meets 95%.
  if (ratio + 1e-9 >= target) return { verdict: 'PASS', reason: `${r.text}, meets ${formatPercent(target)}` };
  if (degradedFrom !== undefined && ratio + 1e-9 >= degradedFrom) return { verdict: 'DEGRADED', reason: `${r.text}, below ${formatPercent(target)} but within the degraded band` };
  return { verdict: 'FAIL', reason: `${r.text}, below the ${formatPercent(target)} target` };
}

function notMeasuredReason(def: KpiDef, judged: readonly Judged[]): string {
  const notConfigured = judged.find((j) => j.out.reason.startsWith('not configured') && kpiFeedHint(def.id, j));
  if (notConfigured) return `not measured: ${notConfigured.out.fullName} is ${notConfigured.out.reason}`;
  if (judged.some((j) => j.out.verdict === 'BLOCKED')) return 'not measured: the tests that sample it were blocked or not selected';
  return 'not measured in this run (the tests that sample it were not selected)';
}

/** Which not-configured tests would have fed a KPI: the direct store probes. */
function kpiFeedHint(kpi: string, j: Judged): boolean {
  if (kpi === 'database-response-p95') return j.out.tags.includes('postgres');
  if (kpi === 'redis-connectivity') return j.out.tags.includes('redis');
  return false;
}

// ---------------------------------------------------------------------------------------
// Formatting shared with the renderers (firstLine lives in records.ts, which the gate, loaded
// by the workers, imports without the engine)

export function formatPercent(ratio: number): string {
  const pct = ratio * 100;
  return `${Number.isInteger(pct) ? pct.toFixed(0) : pct.toFixed(1)}%`;
}
