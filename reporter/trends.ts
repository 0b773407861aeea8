/**
 * Trends of a target over its last runs, from the history store and this run (pure): what the
 * HTML report draws as sparklines (reporter/render-trends.ts) and the Markdown as a row of icons.
 *
 * - Per KPI and per tier: its verdict and value in each of the last N runs (STAGECHECK_TREND_RUNS,
 *   default 20; helpers/core/trend-settings.ts), oldest first, this run last. A tier's value is
 *   its pass ratio: tests that passed (PASS or DEGRADED) of those that ran to a product verdict.
 *   A run that did not measure it is a NOT RUN point with no value, never a guess.
 * - Uptime: per component, the runs of the whole history window (every entry the store returned,
 *   this run included) in which it was up, of those that measured it (reporter/component-states.ts
 *   says when a run counts it up or down), with the date of the first of them.
 * - Unstable tests: tests of this run that both passed and failed across the last N runs. A test
 *   is followed by its check id where it has one of its own (a title change keeps its trend), else
 *   by its title key, as reporter/history.ts indexHistory does.
 */
import type { HistoryEntry } from './history.ts';
import type { BusinessImpactReport, TestOut, TrendPoint, TrendsOut, Verdict } from './schema.ts';
import { COMPONENTS } from '../helpers/core/errors.ts';

const PASSED: ReadonlySet<Verdict> = new Set(['PASS', 'DEGRADED']);

/**
 * `entries`: this target's runs, oldest first, the current run's own entry last
 * (history.ts historyEntry of this report).
 */
export function computeTrends(entries: readonly HistoryEntry[], report: Pick<BusinessImpactReport, 'kpis' | 'tiers' | 'tests'>, window: number): TrendsOut {
  const recent = entries.slice(-Math.max(1, window));
  const point = (e: HistoryEntry, verdict: Verdict | undefined, value: number | null | undefined): TrendPoint => ({
    runId: e.runId,
    at: e.at,
    verdict: verdict ?? 'NOT RUN',
    value: value ?? null,
  });
  const measuredOnce = (points: TrendPoint[]) => points.some((p) => p.verdict !== 'NOT RUN');

  const kpis = report.kpis
    .map((k) => ({ id: k.id, name: k.name, kind: k.kind, points: recent.map((e) => point(e, e.kpis[k.id]?.verdict, e.kpis[k.id]?.value)) }))
    .filter((k) => measuredOnce(k.points));

  const tiers = report.tiers
    .map((t) => ({
      id: t.id,
      name: t.name,
      points: recent.map((e) => {
        const tier = e.tiers?.[t.id];
        const ratio = tier && tier.executed > 0 ? tier.passed / tier.executed : null;
        return { ...point(e, tier?.verdict, ratio), passed: tier?.passed ?? 0, executed: tier?.executed ?? 0 };
      }),
    }))
    .filter((t) => measuredOnce(t.points));

  return {
    window,
    runs: recent.map((e) => ({ runId: e.runId, at: e.at, verdict: e.verdict })),
    kpis,
    tiers,
    uptime: uptimeOf(entries),
    unstable: unstableTests(recent, report.tests),
  };
}

/** Per component: runs up of runs that measured it, over every entry given. */
export function uptimeOf(entries: readonly HistoryEntry[]): TrendsOut['uptime'] {
  const stats = new Map<string, { upRuns: number; runs: number; since: string | null }>();
  let since: string | null = null;
  for (const e of entries) {
    if (!e.components) continue;
    if (since === null || e.at < since) since = e.at;
    for (const [component, state] of Object.entries(e.components)) {
      const s = stats.get(component) ?? { upRuns: 0, runs: 0, since: null };
      s.runs += 1;
      if (state === 'up') s.upRuns += 1;
      if (s.since === null || e.at < s.since) s.since = e.at;
      stats.set(component, s);
    }
  }
  const known: readonly string[] = COMPONENTS;
  const order = [...known.filter((c) => stats.has(c)), ...[...stats.keys()].filter((c) => !known.includes(c)).sort()];
  return {
    runs: entries.length,
    since,
    components: order.map((component) => {
      const s = stats.get(component) as { upRuns: number; runs: number; since: string | null };
      return { component, ...s, text: `up in ${s.upRuns} of ${s.runs} run${s.runs === 1 ? '' : 's'}${s.since ? ` since ${s.since.slice(0, 10)}` : ''}` };
    }),
  };
}

/** Tests of this run that both passed and failed across `recent` (oldest first, this run last). */
export function unstableTests(recent: readonly HistoryEntry[], tests: readonly TestOut[]): TrendsOut['unstable'] {
  const idCount = new Map<string, number>();
  for (const t of tests) if (t.checkId) idCount.set(t.checkId, (idCount.get(t.checkId) ?? 0) + 1);
  const out: TrendsOut['unstable'] = [];
  for (const t of tests) {
    const ownId = t.checkId && idCount.get(t.checkId) === 1 ? t.checkId : undefined;
    const verdicts = recent.map((e) => (ownId !== undefined ? e.checks?.[ownId] : undefined) ?? e.tests[t.key] ?? 'NOT RUN');
    const passed = verdicts.filter((v) => PASSED.has(v)).length;
    const failed = verdicts.filter((v) => v === 'FAIL').length;
    if (passed > 0 && failed > 0) out.push({ key: t.key, ...(t.checkId ? { checkId: t.checkId } : {}), name: t.fullName, passed, failed, verdicts });
  }
  return out;
}

/** Flags the report's unstable tests (`unstable: true`), so every table that lists tests can mark them. */
export function markUnstable(tests: TestOut[], unstable: TrendsOut['unstable']): void {
  const keys = new Set(unstable.map((u) => u.key));
  for (const t of tests) if (keys.has(t.key)) t.unstable = true;
}
