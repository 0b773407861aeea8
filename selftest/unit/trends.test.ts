/**
 * Trends (reporter/trends.ts) and their HTML (reporter/render-trends.ts) on reports the verdict
 * engine makes from hand-made records: per KPI and tier the last N runs, a component's uptime
 * (reporter/component-states.ts: when a run counts it down), unstable tests, old history entries
 * without the new fields, the trend window's setting, and the contract markup read back from the
 * rendered page (data-trend points, the failing point marked, uptime rows, unstable tests).
 */
import { describe, expect, it } from 'vitest';
import { FALLBACK_CATALOG } from '../../reporter/catalog.ts';
import { componentStates, unavailableComponent } from '../../reporter/component-states.ts';
import { historyEntry, type HistoryEntry } from '../../reporter/history.ts';
import type { TestRecord } from '../../reporter/records.ts';
import { renderHtml } from '../../reporter/render-html.ts';
import { renderMarkdown } from '../../reporter/render-text.ts';
import { reportSchema, type BusinessImpactReport } from '../../reporter/schema.ts';
import { computeTrends, markUnstable, uptimeOf } from '../../reporter/trends.ts';
import { computeReport } from '../../reporter/verdicts.ts';
import { readTrendRuns } from '../../helpers/core/trend-settings.ts';
import { findAll, parseHtml, textOf } from '../support/html-tree.ts';

const META = { schema: 1, components: [], measurements: [], kpis: [], timelines: [], retries: [], ledgers: [] };

/** A test of the same identity in every run: same title key and check id. */
function test(name: string, outcome: 'pass' | { component: string; layer: string; code?: string | number } | 'skip', tags = ['p1', 'backend']): TestRecord {
  const base = { id: name, project: 'phase1', file: 'tests/phase1/x.test.ts', name, fullName: `x > ${name}`, checkId: `phase1.x.${name}`, tags, mode: 'run' as const, errors: [], durationMs: 5 };
  if (outcome === 'pass') return { ...base, state: 'passed', meta: META };
  if (outcome === 'skip') return { ...base, state: 'skipped', meta: META };
  return {
    ...base,
    state: 'failed',
    errors: [{ name: 'CheckError', message: 'broke' }],
    meta: { ...META, failure: { ...outcome, message: `${outcome.component} broke`, name: 'CheckError' } },
  };
}

/** A run of the engine, its run id and start time numbered. */
function report(i: number, tests: TestRecord[], extra: Partial<Parameters<typeof computeReport>[0]> = {}): BusinessImpactReport {
  const at = new Date(Date.UTC(2026, 10, 1, 10, i)).toISOString();
  return computeReport({ catalog: FALLBACK_CATALOG, catalogPath: 'test', tests, run: { runId: `run-${i}`, startedAt: at }, ...extra });
}

const healthy = (i: number) => report(i, [test('a', 'pass'), test('b', 'pass', ['p1', 'redis'])]);
const redisRefused = (i: number) => report(i, [test('a', 'pass'), test('b', { component: 'redis', layer: 'tcp', code: 'ECONNREFUSED' }, ['p1', 'redis'])]);

describe('component states in a run', () => {
  it('are down for an outage or a FAIL at DNS, TCP, TLS or a 502/503/504, up when measured otherwise, absent when not reached', () => {
    expect(componentStates(healthy(0))).toEqual({ backend: 'up', redis: 'up' });
    expect(componentStates(redisRefused(0))).toEqual({ backend: 'up', redis: 'down' });
    const r = report(0, [
      test('503', { component: 'websocket', layer: 'ws-handshake', code: 503 }, ['p1', 'websocket']),
      test('500', { component: 'auth', layer: 'http-status', code: 500 }, ['p1', 'auth']),
      test('slow', { component: 'agent', layer: 'budget' }, ['p1', 'agent']),
      test('skipped', 'skip', ['p1', 'postgres']),
    ]);
    // A 500 is a bug, a budget overrun is slow: both measured the component, neither is an outage.
    expect(componentStates(r)).toEqual({ auth: 'up', websocket: 'down', agent: 'up' });
    const outage = { ...healthy(0), outages: [{ component: 'backend', since: '', confirmedAt: '', cause: 'tcp ECONNREFUSED', lastGoodAt: null, backAt: null, testsCutShort: 3 }] };
    expect(componentStates(outage).backend).toBe('down');
  });

  it('never call a harness error or a tolerated slow answer an outage', () => {
    expect(unavailableComponent({ verdict: 'INCONCLUSIVE', failure: { component: 'redis', layer: 'tcp', message: '', ledgers: [], nextSteps: [] } })).toBeUndefined();
    expect(unavailableComponent({ verdict: 'FAIL', failure: { component: 'redis', layer: 'tcp', message: '', ledgers: [], nextSteps: [], harnessError: true } })).toBeUndefined();
    expect(unavailableComponent({ verdict: 'FAIL', failure: { component: 'backend', layer: 'http-status', code: '502', message: '', ledgers: [], nextSteps: [] } })).toBe('backend');
  });

  it('go into the history entry with each tier\'s pass counts', () => {
    const entry = historyEntry(redisRefused(0), 'local');
    expect(entry.components).toEqual({ backend: 'up', redis: 'down' });
    expect(entry.tiers).toEqual({ p1: { verdict: 'FAIL', passed: 1, executed: 2 } });
  });
});

describe('trends over the last runs', () => {
  // Runs 0-5: healthy, healthy, Redis refused, Redis refused, healthy, and this run (6) healthy.
  const reports = [0, 1, 4, 6].map(healthy);
  reports.splice(2, 0, redisRefused(2), redisRefused(3));
  const entries = reports.map((r) => historyEntry(r, 'local'));
  const current = reports[reports.length - 1] as BusinessImpactReport;

  it('give every KPI and tier one point per run, oldest first, this run last, with its verdict and value', () => {
    const trends = computeTrends(entries, current, 20);
    expect(trends.runs.map((r) => r.runId)).toEqual(['run-0', 'run-1', 'run-2', 'run-3', 'run-4', 'run-6']);
    const tier = trends.tiers.find((t) => t.id === 'p1')!;
    expect(tier.points.map((p) => [p.verdict, p.value])).toEqual([['PASS', 1], ['PASS', 1], ['FAIL', 0.5], ['FAIL', 0.5], ['PASS', 1], ['PASS', 1]]);
    const kpi = trends.kpis.find((k) => k.id === 'p1-test-success')!;
    expect(kpi.points.map((p) => p.verdict)).toEqual(['PASS', 'PASS', 'FAIL', 'FAIL', 'PASS', 'PASS']);
    expect(kpi.points[2]).toMatchObject({ runId: 'run-2', value: 0.5 });
    // Tiers and KPIs no run measured are left out, not drawn flat.
    expect(trends.tiers.map((t) => t.id)).toEqual(['p1']);
    expect(reportSchema.safeParse({ ...current, trends }).success).toBe(true);
  });

  it('keep only the last N runs for the points and unstable tests, the whole history for uptime', () => {
    const trends = computeTrends(entries, current, 2);
    expect(trends.runs.map((r) => r.runId)).toEqual(['run-4', 'run-6']);
    expect(trends.unstable).toEqual([]);
    expect(trends.uptime.runs).toBe(6);
    expect(trends.uptime.components).toEqual([
      { component: 'backend', upRuns: 6, runs: 6, since: entries[0]!.at, text: 'up in 6 of 6 runs since 2026-11-01' },
      { component: 'redis', upRuns: 4, runs: 6, since: entries[0]!.at, text: 'up in 4 of 6 runs since 2026-11-01' },
    ]);
  });

  it('flag a test that both passed and failed in the window as unstable, in the trends and on the test', () => {
    const trends = computeTrends(entries, current, 20);
    expect(trends.unstable).toEqual([{ key: 'phase1:tests/phase1/x.test.ts:x > b', checkId: 'phase1.x.b', name: 'x > b', passed: 4, failed: 2, verdicts: ['PASS', 'PASS', 'FAIL', 'FAIL', 'PASS', 'PASS'] }]);
    const tests = structuredClone(current.tests);
    markUnstable(tests, trends.unstable);
    expect(tests.map((t) => t.unstable ?? false)).toEqual([false, true]);
  });

  it('follow a test by its check id across a title change, and read old entries without tiers or components', () => {
    const old: HistoryEntry = { ...entries[2]!, tests: { 'phase1:tests/phase1/x.test.ts:old title of b': 'FAIL' } };
    delete old.tiers;
    delete old.components;
    const trends = computeTrends([old, entries[5]!], current, 20);
    expect(trends.unstable.map((u) => u.key)).toEqual(['phase1:tests/phase1/x.test.ts:x > b']);
    expect(trends.tiers.find((t) => t.id === 'p1')!.points.map((p) => [p.verdict, p.value])).toEqual([['NOT RUN', null], ['PASS', 1]]);
    expect(uptimeOf([old, entries[5]!]).components.map((c) => [c.component, c.upRuns, c.runs])).toEqual([['backend', 1, 1], ['redis', 1, 1]]);
  });

  it('come from STAGECHECK_TREND_RUNS, 2 to 200, default 20, a bad value named', () => {
    expect(readTrendRuns({})).toEqual({ runs: 20, problems: [] });
    expect(readTrendRuns({ STAGECHECK_TREND_RUNS: ' 50 ' })).toEqual({ runs: 50, problems: [] });
    expect(readTrendRuns({ STAGECHECK_TREND_RUNS: '1' }).problems[0]).toMatch(/^STAGECHECK_TREND_RUNS must be at least 2/);
    expect(readTrendRuns({ STAGECHECK_TREND_RUNS: '500' }).problems[0]).toMatch(/^STAGECHECK_TREND_RUNS must be at most 200/);
    expect(readTrendRuns({ STAGECHECK_TREND_RUNS: 'ten' })).toMatchObject({ runs: 20, problems: [expect.stringMatching(/positive whole number, got "ten"/)] });
  });

  describe('in the HTML report', () => {
    const trends = computeTrends(entries, current, 20);
    const withTrends: BusinessImpactReport = { ...current, trends, tests: current.tests.map((t) => (t.key.endsWith('> b') ? { ...t, unstable: true } : t)) };
    const page = parseHtml(renderHtml(withTrends, FALLBACK_CATALOG.kpis));
    const svg = (trend: string) => findAll(page, (n) => n.tag === 'svg' && n.attrs['data-trend'] === trend)[0]!;

    it('draw one point per run in each trend, oldest first, with run id, verdict and value', () => {
      const tier = svg('tier:p1');
      expect(tier.attrs.class).toBe('trend');
      const points = findAll(tier, (n) => n.attrs['data-run-id'] !== undefined);
      expect(points.map((p) => [p.attrs['data-run-id'], p.attrs['data-verdict'], p.attrs['data-value']])).toEqual([
        ['run-0', 'PASS', '1'], ['run-1', 'PASS', '1'], ['run-2', 'FAIL', '0.5'], ['run-3', 'FAIL', '0.5'], ['run-4', 'PASS', '1'], ['run-6', 'PASS', '1'],
      ]);
      expect(findAll(svg('kpi:p1-test-success'), (n) => n.attrs['data-run-id'] !== undefined)).toHaveLength(6);
    });

    it('mark a failing point in red, larger, with a tooltip naming run, date and value', () => {
      const points = findAll(svg('tier:p1'), (n) => n.attrs['data-run-id'] !== undefined);
      const failing = points[2]!;
      const passing = points[1]!;
      expect(failing.attrs.fill).toBe('#cf222e');
      expect(failing.attrs.class).toBe('failing');
      expect(Number(failing.attrs.r)).toBeGreaterThan(Number(passing.attrs.r));
      expect(passing.attrs.fill).not.toBe('#cf222e');
      const title = findAll(failing, (n) => n.tag === 'title')[0]!;
      expect(textOf(title)).toBe('run run-2 · 2026-11-01 10:02 UTC · 1/2 passed (50%) · FAIL');
    });

    it('show each component\'s uptime as a row with its counts, and the unstable tests by key, marked in the tests table', () => {
      const rows = findAll(page, (n) => n.tag === 'tr' && n.attrs['data-uptime'] !== undefined);
      expect(rows.map((r) => [r.attrs['data-uptime'], r.attrs['data-up-runs'], r.attrs['data-runs']])).toEqual([['backend', '6', '6'], ['redis', '4', '6']]);
      const list = findAll(page, (n) => n.attrs.id === 'unstable-tests');
      expect(list).toHaveLength(1);
      expect(findAll(list[0]!, (n) => n.tag === 'li').map((li) => li.attrs['data-test-key'])).toEqual(['phase1:tests/phase1/x.test.ts:x > b']);
      const marked = findAll(page, (n) => n.tag === 'tr' && n.attrs['data-unstable'] === 'true');
      expect(marked.map((r) => textOf(r))).toEqual([expect.stringContaining('x > b')]);
    });

    it('say there is no trend, with an empty unstable list, when the report has none', () => {
      const bare = parseHtml(renderHtml(current, FALLBACK_CATALOG.kpis));
      expect(findAll(bare, (n) => n.attrs['data-trend'] !== undefined)).toEqual([]);
      expect(findAll(bare, (n) => n.attrs.id === 'unstable-tests')[0]!.children).toEqual([]);
      expect(textOf(bare)).toContain('No trends: the history is off');
    });

    it('and the Markdown gives a row of icons per KPI and tier, the uptime and the unstable tests', () => {
      const text = renderMarkdown(withTrends);
      expect(text).toContain('## Trends (last 6 runs since 2026-11-01, oldest first, this run last)');
      expect(text).toMatch(/\| P1 critical \| ✅✅❌❌✅✅ \| 2\/2 passed \|/);
      expect(text).toContain('backend 6/6 · redis 4/6');
      expect(text).toContain('- x > b `phase1.x.b`: ✅✅❌❌✅✅ passed 4, failed 2');
    });
  });
});
