/**
 * The verdict engine (reporter/verdicts.ts) on hand-made records: each verdict per test, product
 * failures vs harness errors, KPI minimum samples and degraded band, tier allowed failure rates,
 * runs that tested nothing, target drift, phase-1 blocking and malformed metadata.
 */
import { describe, expect, it } from 'vitest';
import { FALLBACK_CATALOG, loadCatalog, type Catalog } from '../../reporter/catalog.ts';
import { indexHistory, type HistoryEntry } from '../../reporter/history.ts';
import { BudgetExceededError } from '../../helpers/core/budgets.ts';
import { CheckError } from '../../helpers/core/errors.ts';
import { errorDetailsOf, type ModuleRecord, type TestRecord } from '../../reporter/records.ts';
import { reportSchema } from '../../reporter/schema.ts';
import { computeReport, type EngineInput } from '../../reporter/verdicts.ts';

/** The shipped catalog, read once (loadCatalog is async: it loads zod only for a catalog it has not validated before). */
const SHIPPED_CATALOG = await loadCatalog();

let seq = 0;
function rec(overrides: Partial<TestRecord> & { meta?: unknown } = {}): TestRecord {
  seq += 1;
  return {
    id: `t${seq}`,
    project: 'phase1',
    file: 'tests/phase1/example.test.ts',
    name: `test ${seq}`,
    fullName: `example > test ${seq}`,
    tags: ['p1', 'backend'],
    state: 'passed',
    mode: 'run',
    errors: [],
    durationMs: 12,
    meta: { schema: 1, components: ['backend'], measurements: [], kpis: [], timelines: [], retries: [], ledgers: [] },
    ...overrides,
  };
}

function failed(component: string, layer: string, extra: Record<string, unknown> = {}, tags = ['p1', component]): TestRecord {
  return rec({
    state: 'failed',
    tags,
    errors: [{ name: 'CheckError', message: `${component} broke` }],
    meta: { schema: 1, components: [component], measurements: [], kpis: [], timelines: [], retries: [], ledgers: [], failure: { component, layer, message: `${component} broke`, name: 'CheckError', ...extra } },
  });
}

function withKpi(kpi: string, samples: number[], overrides: Partial<TestRecord> = {}): TestRecord {
  return rec({ meta: { schema: 1, components: [], measurements: [], kpis: [{ kpi, samples }], timelines: [], retries: [], ledgers: [] }, ...overrides });
}

function judge(tests: TestRecord[], extra: Partial<EngineInput> = {}) {
  const report = computeReport({ catalog: FALLBACK_CATALOG, catalogPath: 'test', tests, ...extra });
  reportSchema.parse(report); // every report the engine makes fits its documented schema
  return report;
}

const verdictOf = (tests: TestRecord[], index = 0, extra: Partial<EngineInput> = {}) => judge(tests, extra).tests[index]!;

describe('test verdicts', () => {
  it('calls a passed test PASS and a CheckError failure FAIL with its component, layer and code', () => {
    const report = judge([rec(), failed('redis', 'tcp', { code: 'ECONNREFUSED', correlationId: 'c-1', elapsedMs: 12.4 })]);
    expect(report.tests.map((t) => t.verdict)).toEqual(['PASS', 'FAIL']);
    const failure = report.tests[1]!.failure!;
    expect(failure).toMatchObject({ component: 'redis', layer: 'tcp', code: 'ECONNREFUSED', correlationId: 'c-1', elapsedMs: 12 });
    expect(report.tests[1]!.reason).toBe('redis/tcp ECONNREFUSED: redis broke');
  });

  it('tells the target\'s failures from harness errors by the failure\'s details, never by the error\'s class name', () => {
    // As Vitest hands a thrown error to the reporter: its own properties, `details` included.
    const thrown = { ...new CheckError('redis did not answer PING', { component: 'redis', layer: 'budget' }), name: 'AnyName', message: 'redis did not answer PING' };
    const bare = (name: string) => rec({ state: 'failed', errors: [{ name, message: `${name} thrown` }], meta: undefined });
    const report = judge([
      failed('redis', 'tcp'), // recorded by the report fixture: the target's
      failed('backend', 'protocol', { harnessError: true }), // flagged by the report fixture
      rec({ state: 'failed', tags: ['p1', 'redis'], errors: [{ name: thrown.name, message: thrown.message, details: errorDetailsOf(thrown)! }], meta: undefined }),
      bare('CheckError'), // the name without details says nothing
      bare('TypeError'),
      bare('AssertionError'), // not recorded by the fixture: no component to blame
    ]);
    expect(report.tests.map((t) => t.verdict)).toEqual(['FAIL', 'INCONCLUSIVE', 'FAIL', 'INCONCLUSIVE', 'INCONCLUSIVE', 'INCONCLUSIVE']);
    expect(report.tests[1]!.reason).toMatch(/^harness error/);
    expect(report.tests[2]!.failure).toMatchObject({ component: 'redis', errorName: 'AnyName' });
    expect(report.tests[2]!.failure!.harnessError).toBeUndefined();
    expect(report.tests.slice(3).map((t) => t.failure!.harnessError)).toEqual([true, true, true]);
    expect(report.verdict).toBe('FAIL');
  });

  it('reads a CheckError\'s component and layer from any error carrying them, subclasses included', () => {
    const budget = new BudgetExceededError('over budget', { component: 'agent', layer: 'budget' }, { budgetPath: 'agent run', budgetMs: 5, elapsedMs: 6, stepLabel: undefined, greediestStep: undefined });
    expect(errorDetailsOf({ ...budget })).toEqual({ component: 'agent', layer: 'budget' });
    expect(errorDetailsOf(new CheckError('m', { component: 'auth', layer: 'http-status', code: 401 }))).toEqual({ component: 'auth', layer: 'http-status' });
    expect(errorDetailsOf({ name: 'CheckError', message: 'm' })).toBeUndefined();
    expect(errorDetailsOf({ name: 'CheckError', message: 'm', details: { component: 'auth' } })).toBeUndefined();
    expect(errorDetailsOf(new TypeError('x is undefined'))).toBeUndefined();
    expect(errorDetailsOf(undefined)).toBeUndefined();
  });

  it('calls a test skipped with a NOT CONFIGURED note NOT RUN (not configured), never passed', () => {
    const t = verdictOf([rec({ state: 'skipped', note: 'NOT CONFIGURED: STAGING_DATABASE_URL is not set', tags: ['p1', 'postgres'] }), rec()]);
    expect(t.verdict).toBe('NOT RUN');
    expect(t.reason).toBe('not configured: STAGING_DATABASE_URL is not set');
  });

  it('calls a filtered-out test NOT RUN (filtered) and a todo NOT RUN (todo)', () => {
    const report = judge([rec({ state: 'skipped', mode: 'skip' }), rec({ state: 'skipped', mode: 'todo' }), rec()]);
    expect(report.tests[0]).toMatchObject({ verdict: 'NOT RUN', reason: expect.stringMatching(/^filtered out/) });
    expect(report.tests[1]).toMatchObject({ verdict: 'NOT RUN', reason: 'todo' });
  });

  it('calls a test skipped with a BLOCKED note BLOCKED, keeping its tier and the blocking failure', () => {
    const note = 'BLOCKED by phase 1: Redis direct probe > answers PING (redis/tcp)';
    const t = verdictOf([rec({ project: 'phase2', state: 'skipped', note, tags: ['p3', 'agent'] })]);
    expect(t).toMatchObject({ verdict: 'BLOCKED', tier: 'p3', blockedBy: 'Redis direct probe > answers PING (redis/tcp)' });
  });

  it('calls an unfinished test INCONCLUSIVE', () => {
    expect(verdictOf([rec({ state: 'pending' })]).verdict).toBe('INCONCLUSIVE');
  });

  it('calls a passed test DEGRADED when its own latency KPI samples land in the degraded band, FAIL past it', () => {
    const band = (ms: number) => verdictOf([withKpi('database-response-p95', Array(10).fill(ms))]).verdict;
    expect([band(2999), band(3000), band(4999), band(5000)]).toEqual(['PASS', 'DEGRADED', 'DEGRADED', 'FAIL']);
  });

  it('calls a passed test DEGRADED with the reason it recorded (a certificate about to expire), and the run exits 0', () => {
    const reason = 'TLS certificate of api-staging.example.com:443 expires on 2026-12-07 (in 7.0 days, under 14): renew it before then';
    const report = judge([rec({ meta: { schema: 1, components: [], measurements: [], kpis: [], timelines: [], retries: [], ledgers: [], degraded: [reason] } })]);
    expect(report.tests[0]).toMatchObject({ verdict: 'DEGRADED', reason });
    expect(report).toMatchObject({ verdict: 'DEGRADED', exitCode: 0 });
  });
});

describe('KPI verdicts', () => {
  const kpi = (tests: TestRecord[], id: string) => judge(tests).kpis.find((k) => k.id === id)!;

  it('is INCONCLUSIVE with fewer samples than its minimum, judged from the minimum on', () => {
    expect(kpi([withKpi('redis-connectivity', Array(9).fill(1))], 'redis-connectivity')).toMatchObject({ verdict: 'INCONCLUSIVE', samples: 9, minSamples: 10 });
    expect(kpi([withKpi('redis-connectivity', Array(10).fill(1))], 'redis-connectivity')).toMatchObject({ verdict: 'PASS', samples: 10 });
    const slow = kpi([withKpi('database-response-p95', Array(9).fill(4000))], 'database-response-p95');
    expect(slow.verdict).toBe('INCONCLUSIVE');
    expect(slow.reason).toBe('9 samples, fewer than the 10 the KPI needs');
  });

  it('makes the run INCONCLUSIVE (exit 2) when a KPI has too few samples, even with every test passed', () => {
    const report = judge([withKpi('ws-connection-success', Array(19).fill(1))]);
    expect(report.tests[0]!.verdict).toBe('PASS');
    expect(report).toMatchObject({ verdict: 'INCONCLUSIVE', exitCode: 2 });
  });

  it('is NOT RUN when nothing measured it, and that does not fail the run', () => {
    const report = judge([rec()]);
    expect(report.kpis.find((k) => k.id === 'golden-path-completion')).toMatchObject({ verdict: 'NOT RUN', samples: 0, value: null });
    expect(report.verdict).toBe('PASS');
  });

  it('compares rates with their denominator: 19/20 meets 95%, 18/20 does not', () => {
    const ws = (ok: number) => kpi([withKpi('ws-connection-success', [...Array(ok).fill(1), ...Array(20 - ok).fill(0)])], 'ws-connection-success');
    expect(ws(19)).toMatchObject({ verdict: 'PASS', rate: { text: '19/20 = 95.0%' } });
    expect(ws(18)).toMatchObject({ verdict: 'FAIL', rate: { text: '18/20 = 90.0%' } });
  });

  it('places a latency p95 in the degraded band (3–5 s) as DEGRADED, and the run DEGRADED with exit 0', () => {
    const samples = [100, 200, 300, 400, 500, 600, 700, 800, 900, 3500];
    const report = judge([withKpi('database-response-p95', samples)]);
    expect(report.kpis.find((k) => k.id === 'database-response-p95')).toMatchObject({ verdict: 'DEGRADED', value: 3500, latency: { p50: 500, max: 3500 } });
    expect(report).toMatchObject({ verdict: 'DEGRADED', exitCode: 0 });
  });

  it('sums samples across tests and reports first attempt vs after retry', () => {
    const a = rec({ meta: { schema: 1, components: [], measurements: [], kpis: [{ kpi: 'golden-path-completion', samples: [1, 1, 1], firstAttemptSuccesses: 2 }], timelines: [], retries: [], ledgers: [] } });
    const b = withKpi('golden-path-completion', [1, 1]);
    expect(kpi([a, b], 'golden-path-completion')).toMatchObject({ verdict: 'PASS', rate: { text: '5/5 = 100.0%' }, firstAttempt: { text: '4/5 = 80.0%' }, sources: [a.project + ':' + a.file + ':' + a.fullName, b.project + ':' + b.file + ':' + b.fullName] });
  });

  it('counts P1 test success over every P1 test meant to run: a blocked P1 test makes it INCONCLUSIVE', () => {
    const blocked = rec({ project: 'phase2', state: 'skipped', note: 'BLOCKED by phase 1: x (redis/tcp)', tags: ['p1', 'agent'] });
    const p1 = kpi([rec(), rec(), blocked, failed('redis', 'tcp')], 'p1-test-success');
    expect(p1).toMatchObject({ verdict: 'INCONCLUSIVE', samples: 3, minSamples: 4 });
    const filtered = rec({ state: 'skipped', mode: 'skip' });
    expect(kpi([rec(), filtered], 'p1-test-success')).toMatchObject({ verdict: 'PASS', samples: 1, minSamples: 1 });
  });
});

describe('tier verdicts and allowed failure rates', () => {
  const p2 = (fails: number, total: number) => [
    ...Array.from({ length: total - fails }, () => rec({ tags: ['p2', 'backend'] })),
    ...Array.from({ length: fails }, () => failed('backend', 'http-status', {}, ['p2', 'backend'])),
  ];

  it('tolerates a P2 failure rate below 5% as DEGRADED, marks the failure within allowance, and exits 0', () => {
    const report = judge(p2(1, 25)); // 4%
    const tier = report.tiers.find((t) => t.id === 'p2')!;
    expect(tier).toMatchObject({ verdict: 'DEGRADED', failureRate: { text: '1/25 = 4.0%' } });
    expect(report.tests.find((t) => t.verdict === 'FAIL')!.withinTierAllowance).toBe(true);
    expect(report).toMatchObject({ verdict: 'DEGRADED', exitCode: 0 });
  });

  it('fails P2 at or above 5% (1 of 20 is not "< 5%")', () => {
    expect(judge(p2(1, 20)).tiers.find((t) => t.id === 'p2')!.verdict).toBe('FAIL');
    expect(judge(p2(2, 25))).toMatchObject({ verdict: 'FAIL', exitCode: 1 });
  });

  it('allows P1 no failure at all', () => {
    const tests = [...Array.from({ length: 99 }, () => rec()), failed('backend', 'content')];
    const report = judge(tests);
    expect(report.tiers.find((t) => t.id === 'p1')).toMatchObject({ verdict: 'FAIL', reason: '1/100 = 1.0% failed (no failure allowed)' });
    expect(report.verdict).toBe('FAIL');
  });

  it('reports a tier with only blocked tests BLOCKED, and one with nothing run NOT RUN', () => {
    const report = judge([failed('redis', 'tcp'), rec({ project: 'phase2', state: 'skipped', note: 'BLOCKED by phase 1: x (redis/tcp)', tags: ['p4', 'websocket'] })]);
    expect(report.tiers.find((t) => t.id === 'p4')!.verdict).toBe('BLOCKED');
    expect(report.tiers.find((t) => t.id === 'p6')!.verdict).toBe('NOT RUN');
  });
});

describe('run verdicts', () => {
  it('never calls a run that collected nothing healthy', () => {
    expect(judge([])).toMatchObject({ verdict: 'INCONCLUSIVE', exitCode: 2, reason: expect.stringMatching(/no test was collected/) });
  });

  it('never calls a run where everything was skipped healthy', () => {
    const skipped = [rec({ state: 'skipped', mode: 'skip' }), rec({ state: 'skipped', note: 'NOT CONFIGURED: no database' })];
    expect(judge(skipped)).toMatchObject({ verdict: 'INCONCLUSIVE', exitCode: 2, reason: expect.stringMatching(/none of the 2 collected tests ran/) });
  });

  it('fails the run (exit 1) when phase 1 failed, counting every blocked phase-2 test', () => {
    const blocked = Array.from({ length: 3 }, () => rec({ project: 'phase2', state: 'skipped', note: 'BLOCKED by phase 1: probe (redis/tcp)', tags: ['p2', 'agent'] }));
    const report = judge([failed('redis', 'tcp'), rec(), ...blocked], { gate: { status: 'failed', source: 'this-run', blocking: [{ test: 'probe', component: 'redis', layer: 'tcp' }] } });
    expect(report).toMatchObject({ verdict: 'FAIL', exitCode: 1, counts: { BLOCKED: 3, FAIL: 1, PASS: 1, total: 5 } });
    expect(report.reason).toMatch(/3 phase-2 test\(s\) blocked by phase 1/);
  });

  it('fails a phase-2-only run whose tests were all blocked by an earlier phase 1 (gate file)', () => {
    const blocked = [rec({ project: 'phase2', state: 'skipped', note: 'BLOCKED by phase 1: probe (redis/tcp)', tags: ['p2', 'agent'] })];
    expect(judge(blocked, { gate: { status: 'failed', source: 'file', blocking: [] } })).toMatchObject({ verdict: 'FAIL', exitCode: 1 });
  });

  it('is INCONCLUSIVE when a harness error is the only problem', () => {
    expect(judge([rec(), failed('backend', 'protocol', { harnessError: true })])).toMatchObject({ verdict: 'INCONCLUSIVE', exitCode: 2 });
  });

  it('is INCONCLUSIVE when the target changed version during the run, even with every test passed', () => {
    const modules: ModuleRecord[] = [
      { project: 'phase1', file: 'a', errors: [], target: { baseUrl: 'http://s', snapshots: [{ phase: 'before', at: '2026-11-01T00:00:00.000Z', version: 'v1' }, { phase: 'after', at: '2026-11-01T00:00:05.000Z', version: 'v1' }] } },
      { project: 'phase2', file: 'b', errors: [], target: { baseUrl: 'http://s', snapshots: [{ phase: 'before', at: '2026-11-01T00:00:06.000Z', version: 'v1' }, { phase: 'after', at: '2026-11-01T00:00:09.000Z', version: 'v2' }] } },
    ];
    const report = judge([rec()], { modules });
    expect(report.target).toMatchObject({ drift: true, before: 'v1', after: 'v2' });
    expect(report).toMatchObject({ verdict: 'INCONCLUSIVE', exitCode: 2, reason: expect.stringMatching(/changed version during the run \(v1 → v2\)/) });
  });

  it('does not call a run drifted when some snapshots got no version', () => {
    const modules: ModuleRecord[] = [{ project: 'phase1', file: 'a', errors: [], target: { baseUrl: null, snapshots: [{ phase: 'before', at: '2026-11-01T00:00:00.000Z', version: 'v1' }, { phase: 'after', at: '2026-11-01T00:00:01.000Z', version: null, error: 'timeout' }] } }];
    expect(judge([rec()], { modules })).toMatchObject({ verdict: 'PASS', target: { drift: false, unavailable: 1 } });
  });

  it('is INCONCLUSIVE when a test file failed outside any test', () => {
    expect(judge([rec()], { modules: [{ project: 'phase1', file: 'x', errors: ['SyntaxError: boom'] }] }).verdict).toBe('INCONCLUSIVE');
  });
});

describe('malformed metadata', () => {
  it('becomes a warning, never an exception, and the rest of the meta is still used', () => {
    const garbage = rec({ meta: 'not an object' });
    const partial = rec({
      meta: { schema: 1, components: ['redis'], measurements: [{ name: 'bad', unit: 'ms', samples: ['x'] }, { name: 'good', unit: 'ms', samples: [1, 2] }], kpis: [{ kpi: 'redis-connectivity', samples: [Number.NaN] }], timelines: 'nope', retries: [], ledgers: [] },
    });
    const report = judge([garbage, partial]);
    expect(report.tests.map((t) => t.verdict)).toEqual(['PASS', 'PASS']);
    expect(report.tests[1]!.measurements.map((m) => m.name)).toEqual(['good']);
    expect(report.warnings.join('\n')).toMatch(/is not an object/);
    expect(report.warnings.join('\n')).toMatch(/malformed measurements\[0\]/);
    expect(report.warnings.join('\n')).toMatch(/malformed kpis\[0\]/);
    expect(report.warnings.join('\n')).toMatch(/malformed timelines/);
  });

  it('keeps a failure whose evidence lacks component and layer, with a warning', () => {
    const t = rec({ state: 'failed', errors: [{ name: 'CheckError', message: 'm' }], meta: { schema: 1, failure: { message: 'm' } } });
    const report = judge([t]);
    expect(report.tests[0]).toMatchObject({ verdict: 'FAIL', failure: { component: 'backend', layer: 'protocol' } });
    expect(report.warnings.join('\n')).toMatch(/failure.component\/layer/);
  });

  it('warns about KPI ids the catalog does not know', () => {
    expect(judge([withKpi('made-up-kpi', [1])]).warnings.join('\n')).toMatch(/"made-up-kpi" is recorded by tests but not in the catalog/);
  });
});

describe('evidence', () => {
  // Next steps are the shipped catalog's table.
  const shipped = SHIPPED_CATALOG;
  const evidenceOf = (t: TestRecord) => computeReport({ catalog: shipped.catalog, catalogPath: shipped.path, tests: [t] }).tests[0]!.failure!;

  it('carries the last WebSocket event, the 401 attribution, the ledger and next steps', () => {
    const t = failed('auth', 'http-status', {
      code: 401,
      evidence: { lastFrames: [{ type: 'agent_started', run_id: 'r1' }, { type: 'tool_executing', run_id: 'r1', tool_name: 'calc' }], attribution: { kind: 'fresh-token-refused', remainingMs: 1_500_000 } },
    }, ['p1', 'auth']);
    (t.meta as { ledgers: unknown[] }).ledgers = [{ budget: 'agent run', entries: [{ label: 'connect', startMs: 0, durationMs: 12, outcome: 'ok' }] }];
    const failure = evidenceOf(t);
    expect(shipped.warnings).toEqual([]);
    expect(failure.lastWsEvent).toBe('tool_executing run_id=r1 tool_name=calc');
    expect(failure.tokenAttribution).toMatch(/^a fresh token was refused \(1500 s left/);
    expect(failure.ledgers).toHaveLength(1);
    expect(failure.nextSteps[0]).toMatch(/signing secret/);
  });

  it('says when a 401 was not attributed, and recommends the VPC route for a Redis connect timeout', () => {
    expect(evidenceOf(failed('backend', 'http-status', { code: 401 })).tokenAttribution).toMatch(/not recorded/);
    expect(evidenceOf(failed('redis', 'tcp', { code: 'CONNECT_TIMEOUT' })).nextSteps[0]).toMatch(/network route .*VPC connector/);
    expect(evidenceOf(failed('websocket', 'ws-close', { code: 1011 })).nextSteps[0]).toMatch(/1011/);
  });
});

describe('history in the report', () => {
  it('shows each test\'s and KPI\'s observed failure count over earlier runs, never a forecast', () => {
    const t = rec();
    const key = `${t.project}:${t.file}:${t.fullName}`;
    const entry = (at: string, verdict: 'PASS' | 'FAIL' | 'BLOCKED'): HistoryEntry => ({
      schema: 'stagecheck.history', v: 1, runId: at, at, target: 'local', version: null, verdict, tests: { [key]: verdict }, kpis: { 'redis-connectivity': { verdict, value: null } },
    });
    const history = indexHistory('h.jsonl', [entry('2026-11-01T10:00:00Z', 'PASS'), entry('2026-11-02T10:00:00Z', 'FAIL'), entry('2026-11-03T10:00:00Z', 'BLOCKED'), entry('2026-11-04T10:00:00Z', 'PASS')]);
    const report = judge([t], { history });
    expect(report.tests[0]!.history).toEqual({ runs: 3, failures: 1, since: '2026-11-01T10:00:00Z', text: 'failed 1 of 3 earlier runs since 2026-11-01' });
    expect(report.kpis.find((k) => k.id === 'redis-connectivity')!.history!.text).toBe('failed 1 of 3 earlier runs since 2026-11-01');
    expect(report.history).toEqual({ file: 'h.jsonl', runsConsidered: 4, since: '2026-11-01T10:00:00Z' });
  });
});

describe('catalog-driven mapping', () => {
  it('maps tests to business functions by the first matching rule, and warns about unmapped suite tests', () => {
    const catalog: Catalog = {
      ...FALLBACK_CATALOG,
      functionRules: [
        { match: { file: 'tests/*/golden-path.test.ts' }, functions: ['chat'] },
        { match: { tags: ['agent', 'websocket'] }, functions: ['agent-orchestration', 'real-time'] },
      ],
    };
    const report = computeReport({
      catalog,
      catalogPath: 'x',
      tests: [
        rec({ project: 'phase2', file: 'tests/phase2/golden-path.test.ts', tags: ['p1', 'agent', 'websocket'] }),
        rec({ project: 'phase2', tags: ['p2', 'agent', 'websocket'] }),
        rec({ project: 'phase2', tags: ['p2', 'auth'] }),
      ],
    });
    expect(report.tests.map((t) => t.functions)).toEqual([['chat'], ['agent-orchestration', 'real-time'], []]);
    expect(report.warnings.join('\n')).toMatch(/no functionRules entry of the catalog matches it/);
    expect(report.functions.find((f) => f.id === 'user-auth')!.verdict).toBe('NOT RUN');
  });

  it('counts a failure its tier tolerates as DEGRADED in the business function', () => {
    const tests = [...Array.from({ length: 24 }, () => rec({ tags: ['p2', 'websocket'] })), failed('websocket', 'ws-close', { code: 1011 }, ['p2', 'websocket'])];
    expect(judge(tests).functions.find((f) => f.id === 'real-time')!.verdict).toBe('DEGRADED');
  });
});
