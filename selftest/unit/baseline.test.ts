/**
 * "Since the baseline" (reporter/baseline.ts): which baseline (--baseline file, `none`, else the
 * history's previous run), newly failing and fixed tests matched by check id or title key, the
 * noise rule for KPI moves, what every report says at its top (terminal, Markdown, HTML), and
 * npm run e2e's check of --baseline (a missing or wrong file is exit 2 naming the flag and the file).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { baselineOptionProblem, chooseBaseline, diffSinceBaseline, MIN_NOISE_VALUES, noiseOf, type BaselineChoice } from '../../reporter/baseline.ts';
import { FALLBACK_CATALOG } from '../../reporter/catalog.ts';
import { historyEntry, type HistoryEntry } from '../../reporter/history.ts';
import type { TestRecord } from '../../reporter/records.ts';
import { renderHtml } from '../../reporter/render-html.ts';
import { renderMarkdown, renderTerminal } from '../../reporter/render-text.ts';
import { reportSchema, type BusinessImpactReport } from '../../reporter/schema.ts';
import { computeReport } from '../../reporter/verdicts.ts';
import { parseArgs, reportOptionProblems } from '../../scripts/e2e.ts';
import { findAll, parseHtml, textOf } from '../support/html-tree.ts';

const dir = mkdtempSync(join(tmpdir(), 'stagecheck-baseline-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const META = { schema: 1, components: [], measurements: [], kpis: [], timelines: [], retries: [], ledgers: [] };

function test(name: string, passed: boolean, options: { checkId?: string | null; kpi?: { kpi: string; samples: number[] } } = {}): TestRecord {
  const checkId = options.checkId === undefined ? `phase1.x.${name}` : options.checkId;
  const meta = { ...META, kpis: options.kpi ? [options.kpi] : [] };
  return {
    id: name,
    project: 'phase1',
    file: 'tests/phase1/x.test.ts',
    name,
    fullName: `x > ${name}`,
    ...(checkId ? { checkId } : {}),
    tags: ['p2', 'backend'],
    mode: 'run',
    durationMs: 5,
    ...(passed
      ? { state: 'passed' as const, errors: [], meta }
      : { state: 'failed' as const, errors: [{ name: 'CheckError', message: 'broke' }], meta: { ...meta, failure: { component: 'backend', layer: 'http-status', code: 500, message: 'backend broke', name: 'CheckError' } } }),
  };
}

/** A DB probe test carrying ten latency samples around `ms`, so the latency KPI has a value. */
const dbProbe = (ms: number) => test('db', true, { kpi: { kpi: 'database-response-p95', samples: Array.from({ length: 10 }, (_, i) => ms + (i % 3)) } });

function report(i: number, tests: TestRecord[]): BusinessImpactReport {
  return computeReport({ catalog: FALLBACK_CATALOG, catalogPath: 'test', tests, run: { runId: `run-${i}`, startedAt: new Date(Date.UTC(2026, 10, 2, 9, i)).toISOString() } });
}

const fromHistory = (entry: HistoryEntry): BaselineChoice => ({ baseline: { source: 'history', entry } });

describe('the baseline', () => {
  const past = [0, 1].map((i) => historyEntry(report(i, [test('a', true)]), 'local'));

  it('is the previous run of the target in the history by default', () => {
    const choice = chooseBaseline({ option: undefined, past, historyOn: true, warnings: [] });
    expect(choice.baseline?.entry.runId).toBe('run-1');
    expect(choice.baseline?.source).toBe('history');
  });

  it('is none, said plainly, without history, when the history is off, or with --baseline none', () => {
    const why = (option: string | undefined, historyOn = true) => {
      const choice = chooseBaseline({ option, past: [], historyOn, warnings: [] });
      return choice.baseline === null ? choice.why : 'a baseline';
    };
    expect(why(undefined)).toBe('no earlier run of this target in the history');
    expect(why('', false)).toBe('the history is off and no --baseline was given');
    expect(why('none')).toBe('none asked for (--baseline none)');
    const diff = diffSinceBaseline(report(2, [test('a', false)]), { baseline: null, why: 'no earlier run of this target in the history' }, []);
    expect(diff).toMatchObject({ baseline: null, text: 'no baseline: no earlier run of this target in the history', newlyFailing: [], fixed: [], kpis: [] });
  });

  it('is the report a --baseline file names, read as a history entry; a file that is not one is a warning here', () => {
    const file = join(dir, 'business-impact.json');
    writeFileSync(file, JSON.stringify(report(7, [test('a', true)])));
    const choice = chooseBaseline({ option: file, past, historyOn: true, warnings: [] });
    expect(choice.baseline).toMatchObject({ source: 'file', file, entry: { runId: 'run-7' } });
    const warnings: string[] = [];
    const bad = join(dir, 'not-a-report.json');
    writeFileSync(bad, '{"schema":"something else"}');
    const none = chooseBaseline({ option: bad, past, historyOn: true, warnings });
    expect(none.baseline).toBeNull();
    expect(warnings).toEqual([`--baseline (STAGECHECK_BASELINE): ${bad} is not a stagecheck business-impact report (its "schema" must be "stagecheck.business-impact", with tests, KPIs and tiers)`]);
  });
});

describe('newly failing and fixed tests', () => {
  const before = historyEntry(report(0, [test('a', true), test('b', false), test('c', true), test('untitled', true, { checkId: null })]), 'local');

  it('name a test that passed in the baseline and fails now, and one fixed, with their tiers and both verdicts', () => {
    const now = report(1, [test('a', false), test('b', true), test('c', true), test('untitled', false, { checkId: null }), test('new', false)]);
    const diff = diffSinceBaseline(now, fromHistory(before), [before]);
    expect(diff.text).toBe('since the baseline (run run-0 at 2026-11-02 09:00 UTC, the previous run in the history)');
    expect(diff.newlyFailing).toEqual([
      { key: 'phase1:tests/phase1/x.test.ts:x > a', checkId: 'phase1.x.a', name: 'x > a', tier: 'p2', matchedBy: 'check-id', before: 'PASS', now: 'FAIL' },
      { key: 'phase1:tests/phase1/x.test.ts:x > untitled', name: 'x > untitled', tier: 'p2', matchedBy: 'key', before: 'PASS', now: 'FAIL' },
    ]);
    // A test the baseline did not have is not "newly failing": there is nothing to compare with.
    expect(diff.fixed.map((c) => [c.name, c.before, c.now])).toEqual([['x > b', 'FAIL', 'PASS']]);
    expect(reportSchema.safeParse({ ...now, sinceBaseline: diff }).success).toBe(true);
  });

  it('are matched by check id across a title change, and by title key where a check id is shared', () => {
    const renamed: TestRecord = { ...test('a', false), fullName: 'x > a, renamed' };
    expect(diffSinceBaseline(report(1, [renamed]), fromHistory(before), []).newlyFailing.map((c) => [c.name, c.matchedBy])).toEqual([['x > a, renamed', 'check-id']]);
    // Two items of a test.for family share an id: each is matched by its own title.
    const family = [{ ...test('c', false), checkId: 'phase1.x.family' }, { ...test('d', true), checkId: 'phase1.x.family' }];
    expect(diffSinceBaseline(report(1, family), fromHistory(before), []).newlyFailing.map((c) => [c.name, c.matchedBy])).toEqual([['x > c', 'key']]);
  });
});

describe('KPI moves and their noise', () => {
  it('noise is 3 × 1.4826 × the median absolute deviation, with a floor, and unknown below 5 values', () => {
    expect(noiseOf([100, 120, 80, 110, 90], 'latency')).toBeCloseTo(3 * 1.4826 * 10, 6);
    expect(noiseOf([100, 100, 100, 100, 100], 'latency')).toBe(10); // the 10 ms floor
    expect(noiseOf([2000, 2000, 2000, 2000, 2000], 'latency')).toBe(100); // 5% of the median
    expect(noiseOf([1, 1, 1, 1, 1], 'rate')).toBe(0.02);
    expect(noiseOf([1, 2, 3, 4], 'latency')).toBeUndefined();
    expect(MIN_NOISE_VALUES).toBe(5);
    // One wild run barely moves a median-based spread.
    expect(noiseOf([100, 101, 99, 100, 5000, 100, 101], 'latency')).toBeLessThan(11);
  });

  const history = [100, 104, 98, 101, 99, 103].map((ms, i) => historyEntry(report(i, [dbProbe(ms)]), 'local'));
  const last = history[history.length - 1]!;

  it('a move past the noise is claimed, worse when a latency grew; a move within it is not', () => {
    const slower = diffSinceBaseline(report(9, [dbProbe(160)]), fromHistory(last), history);
    expect(slower.kpis).toHaveLength(1);
    expect(slower.kpis[0]).toMatchObject({ id: 'database-response-p95', before: 105, now: 162, change: 57, values: 6, worse: true });
    expect(slower.kpis[0]!.text).toMatch(/^Database response time \(p95\): 105 ms → 162 ms \(\+57 ms, noise ±\d+ ms over 6 runs\), worse$/);
    expect(diffSinceBaseline(report(9, [dbProbe(104)]), fromHistory(last), history).kpis).toEqual([]);
  });

  it('with too little history a changed KPI is listed as such, with no move claimed', () => {
    const diff = diffSinceBaseline(report(9, [dbProbe(400)]), fromHistory(last), history.slice(0, 3));
    expect(diff.kpis).toEqual([]);
    expect(diff.kpisWithoutNoise).toEqual([{ id: 'database-response-p95', name: 'Database response time (p95)', values: 3 }]);
  });
});

describe('at the top of every report', () => {
  const before = historyEntry(report(0, [test('a', true), test('b', true)]), 'local');
  const now = report(1, [test('a', false), test('b', true)]);
  const withDiff: BusinessImpactReport = { ...now, sinceBaseline: diffSinceBaseline(now, fromHistory(before), [before]) };
  const without: BusinessImpactReport = { ...now, sinceBaseline: diffSinceBaseline(now, { baseline: null, why: 'no earlier run of this target in the history' }, []) };

  it('the terminal names the baseline run and the newly failing test right under the verdict', () => {
    const lines = renderTerminal(withDiff).split('\n');
    const verdict = lines.findIndex((l) => l.startsWith('stagecheck ▶ FAIL'));
    expect(lines[verdict + 1]).toBe('  since     baseline (run run-0 at 2026-11-02 09:00 UTC, the previous run in the history): 1 newly failing, 0 fixed, 0 KPI(s) moved');
    expect(lines[verdict + 2]).toBe('            newly failing: x > a');
    expect(renderTerminal(without)).toContain('\n  since     no baseline: no earlier run of this target in the history\n');
  });

  it('the Markdown opens with the section before anything but the verdict, and says "no baseline" plainly', () => {
    const text = renderMarkdown(withDiff);
    expect(text.indexOf('## Since the baseline')).toBeLessThan(text.indexOf('**Target**'));
    expect(text.indexOf('## Since the baseline')).toBeGreaterThan(text.indexOf('Exit code 1'));
    expect(text).toContain('Since the baseline (run run-0 at 2026-11-02 09:00 UTC, the previous run in the history): **1 newly failing**, 0 fixed, 0 KPIs moved by more than their noise.');
    expect(text).toContain('- ❌ newly failing: [P2] x > a `phase1.x.a` (PASS → FAIL)');
    expect(renderMarkdown(without)).toContain('## Since the baseline\n\nno baseline: no earlier run of this target in the history.\n');
  });

  it('the HTML page puts it first in the main part, each change with its test key', () => {
    const page = parseHtml(renderHtml(withDiff, FALLBACK_CATALOG.kpis));
    const main = findAll(page, (n) => n.tag === 'main')[0]!;
    expect(main.children[0]?.attrs.id).toBe('since-baseline');
    const changes = findAll(main.children[0]!, (n) => n.attrs['data-change'] !== undefined);
    expect(changes.map((c) => [c.attrs['data-change'], c.attrs['data-test-key']])).toEqual([['newly-failing', 'phase1:tests/phase1/x.test.ts:x > a']]);
    const none = parseHtml(renderHtml(without, FALLBACK_CATALOG.kpis));
    const section = findAll(none, (n) => n.attrs.id === 'since-baseline')[0]!;
    expect(section.attrs['data-baseline']).toBe('none');
    expect(textOf(section)).toContain('no baseline: no earlier run of this target in the history');
  });
});

describe('npm run e2e --baseline', () => {
  it('is handed to the run as STAGECHECK_BASELINE', () => {
    expect(parseArgs(['--baseline', 'prev/business-impact.json']).env.STAGECHECK_BASELINE).toBe('prev/business-impact.json');
    expect(parseArgs(['--baseline=none']).env.STAGECHECK_BASELINE).toBe('none');
    expect(() => parseArgs(['--baseline'])).toThrow(/--baseline needs a value: the business-impact.json of the run to compare with, or none/);
  });

  it('refuses a missing, unreadable or foreign file with one message naming the flag and the file; resolves a relative one', () => {
    const missing = join(dir, 'missing.json');
    expect(reportOptionProblems({ STAGECHECK_BASELINE: missing })).toEqual([`--baseline (STAGECHECK_BASELINE): ${missing} does not exist; give a business-impact.json of an earlier run, or none`]);
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{ half');
    expect(baselineOptionProblem(broken)).toMatch(new RegExp(`^--baseline \\(STAGECHECK_BASELINE\\): ${broken.replace(/[.]/g, '\\.')} is not JSON: `));
    expect(baselineOptionProblem(dir)).toMatch(/cannot be read: EISDIR/);
    const env: Record<string, string | undefined> = { STAGECHECK_BASELINE: 'none' };
    expect(reportOptionProblems(env)).toEqual([]);
    const good = join(dir, 'good.json');
    writeFileSync(good, JSON.stringify(report(0, [test('a', true)])));
    const relativeEnv: Record<string, string | undefined> = { STAGECHECK_BASELINE: join('..', ...good.split('/').filter(Boolean).map(() => '..'), good) };
    expect(reportOptionProblems(relativeEnv)).toEqual([]);
    expect(relativeEnv.STAGECHECK_BASELINE).toBe(good);
  });
});
