/**
 * The incident write-up (reporter/incident.ts, reporter/incident-history.ts) from a synthetic
 * report, the shipped catalog and a synthetic history: the title, the measured business impact
 * with the catalog's MRR labels, causes with their errors, timings and correlation ids, "first
 * seen" from the unbroken streak of failing runs, what still works, the catalog's next steps,
 * no secret; and when reporter/outputs.ts writes, keeps or removes incident.md.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { loadCatalog } from '../../reporter/catalog.ts';
import { HISTORY_SCHEMA, HISTORY_VERSION, type HistoryEntry } from '../../reporter/history.ts';
import { firstSeen, testsPick } from '../../reporter/incident-history.ts';
import { INCIDENT_FILE, incidentAction, incidentTitle, renderIncident, updateIncidentFile, workingComponents, type IncidentInput } from '../../reporter/incident.ts';
import { writeOutputs } from '../../reporter/outputs.ts';
import type { BusinessImpactReport, EvidenceOut, TestOut, Verdict } from '../../reporter/schema.ts';

const { catalog } = await loadCatalog();
const SECRET = 'sentinel-secret-4f1c9a';
const dir = mkdtempSync(join(tmpdir(), 'stagecheck-incident-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const zero = { PASS: 0, FAIL: 0, DEGRADED: 0, BLOCKED: 0, INCONCLUSIVE: 0, 'NOT RUN': 0, total: 0, executed: 0 };
const countsOf = (verdicts: Verdict[]) => {
  const c = { ...zero, total: verdicts.length };
  for (const v of verdicts) c[v] += 1;
  c.executed = c.PASS + c.FAIL + c.DEGRADED;
  return c;
};
const rate = (successes: number, total: number) => ({ successes, total, ratio: total ? successes / total : null, text: `${successes}/${total}` });

function evidence(fields: Partial<EvidenceOut> & Pick<EvidenceOut, 'component' | 'layer' | 'message'>): EvidenceOut {
  return { ledgers: [], nextSteps: [], ...fields };
}

function test(checkId: string, fields: Partial<TestOut> = {}): TestOut {
  return {
    id: checkId, key: `phase1|tests/phase1/phase1.test.ts|${checkId} title`, project: 'phase1', file: 'tests/phase1/phase1.test.ts', fullName: `${checkId} title`, checkId,
    tags: ['p1', 'backend'], tier: 'p1', functions: ['api-responsiveness'], verdict: 'PASS', reason: 'passed', durationMs: 40, startedAt: '2026-12-01T04:10:05.000Z',
    retryCount: 0, flaky: false, measurements: [], kpis: [], timelines: [], retries: [], ...fields,
  };
}

const refused = evidence({
  component: 'backend', layer: 'tcp', code: 'ECONNREFUSED', endpoint: 'GET /api/health', elapsedMs: 3, correlationId: 'corr-aaa-111',
  message: `connect ECONNREFUSED 127.0.0.1:9443 (GET /api/health) token=${SECRET}`, nextSteps: ['Nothing accepts TCP connections there: is the deployment up?'],
});

/** Two tests refused by a dead backend (one cause), a slow Redis probe, a passing PostgreSQL probe and P2 network tests; phase 2 blocked. */
function failingReport(fields: Partial<BusinessImpactReport> = {}): BusinessImpactReport {
  const tests = [
    test('phase1.backend.health', { verdict: 'FAIL', reason: 'backend/tcp ECONNREFUSED', failure: refused, startedAt: '2026-12-01T04:10:05.120Z', durationMs: 9 }),
    test('phase1.threads.create', { verdict: 'FAIL', reason: 'backend/tcp ECONNREFUSED', functions: ['chat'], failure: { ...refused, correlationId: 'corr-bbb-222', elapsedMs: 5 }, startedAt: '2026-12-01T04:10:06.450Z' }),
    // No nextSteps in its evidence: the incident asks the catalog (nextStepsFor).
    test('phase1.redis.direct-probe', { verdict: 'FAIL', reason: 'redis/budget', tags: ['p1', 'redis'], functions: ['real-time', 'user-auth'], failure: evidence({ component: 'redis', layer: 'budget', code: 'COMMAND_TIMEOUT', elapsedMs: 2001, message: 'Redis PING failed at budget (COMMAND_TIMEOUT)' }) }),
    test('phase1.postgres.direct-probe', { tags: ['p1', 'postgres'], functions: ['chat'] }),
    test('phase1.network.path.backend', { tier: 'p2', tags: ['p2', 'network'] }),
    test('phase1.network.path.auth', { tier: 'p2', tags: ['p2', 'network'] }),
    test('phase2.golden-path', { project: 'phase2', tier: 'p3', tags: ['p3', 'agent'], functions: ['chat'], verdict: 'BLOCKED', reason: 'BLOCKED by phase 1' }),
  ];
  const tier = (id: string, name: string, protects: string, verdict: Verdict, of: TestOut[]) => ({
    id, name, protects, allowedFailureRate: 0, verdict, reason: `${verdict} reason`, counts: countsOf(of.map((t) => t.verdict)),
    failureRate: rate(of.filter((t) => t.verdict === 'FAIL').length, of.filter((t) => ['PASS', 'FAIL', 'DEGRADED'].includes(t.verdict)).length),
  });
  const fn = (id: string, name: string, verdict: Verdict) => ({ id, name, verdict, reason: `${name} ${verdict}`, counts: zero, kpis: [] });
  return {
    schema: 'stagecheck.business-impact', schemaVersion: 1, generatedAt: '2026-12-01T04:10:30.000Z',
    run: { runId: 'run-now', mode: 'run', shard: null, vitestVersion: '4.1.12', projects: ['phase1', 'phase2'], startedAt: '2026-12-01T04:10:02.500Z', durationMs: 27_000, catalog: 'catalog/stagecheck.catalog.json' },
    head: null,
    verdict: 'FAIL', reason: 'P1 critical ($120K+ MRR) failed; phase 1 failed (gate)', exitCode: 1, counts: countsOf(tests.map((t) => t.verdict)),
    target: { baseUrl: 'https://api.staging.example.com', versions: [{ version: 'v2.3.1', firstSeenAt: 'a', lastSeenAt: 'b', snapshots: 3 }], before: 'v2.3.1', after: 'v2.3.1', drift: false, unavailable: 0 },
    gate: { status: 'failed', source: 'this-run', blocking: [] },
    tiers: [
      tier('p1', 'P1 critical', '$120K+ MRR', 'FAIL', tests.filter((t) => t.tier === 'p1')),
      tier('p2', 'P2 high', '$80K MRR', 'PASS', tests.filter((t) => t.tier === 'p2')),
      tier('p3', 'P3 medium-high', '$50K MRR', 'BLOCKED', tests.filter((t) => t.tier === 'p3')),
    ],
    functions: [fn('chat', 'Chat / golden path', 'FAIL'), fn('real-time', 'Real-time communication', 'FAIL'), fn('api-responsiveness', 'API responsiveness', 'FAIL'), fn('user-auth', 'User authentication', 'FAIL')],
    kpis: [
      { id: 'redis-connectivity', name: 'Redis connectivity', kind: 'rate', verdict: 'FAIL', reason: '0/10 = 0.0%, below the 100% target', target: '>= 100%', degraded: null, minSamples: 10, samples: 10, value: 0, sampleValues: [], sources: [], functions: ['real-time'] },
      { id: 'database-response-p95', name: 'Database response time (p95)', kind: 'latency', verdict: 'PASS', reason: 'p95 2.0 ms over 10 samples, under 3.00 s', target: '< 3000 ms', degraded: null, minSamples: 10, samples: 10, value: 2, sampleValues: [], sources: [], functions: ['chat'] },
    ],
    outages: [{ component: 'backend', since: '2026-12-01T04:10:05.100Z', confirmedAt: '2026-12-01T04:10:05.300Z', cause: 'tcp ECONNREFUSED', lastGoodAt: null, backAt: null, testsCutShort: 1 }],
    tests, warnings: [], history: { file: '/reports/history.jsonl', runsConsidered: 4, since: '2026-11-30T10:00:00.000Z' },
    ...fields,
  };
}

function entry(runId: string, at: string, verdicts: Record<string, Verdict>, fields: Partial<HistoryEntry> = {}): HistoryEntry {
  const byKey = Object.fromEntries(Object.entries(verdicts).map(([id, v]) => [`phase1|tests/phase1/phase1.test.ts|${id} title`, v]));
  return { schema: HISTORY_SCHEMA, v: HISTORY_VERSION, runId, at, target: 'api.staging.example.com', version: 'v2.3.1', verdict: 'FAIL', tests: byKey, checks: { ...verdicts }, kpis: {}, ...fields };
}

function input(fields: Partial<IncidentInput> = {}): IncidentInput {
  return { report: failingReport(), catalog, past: [], reportDir: '/reports/runs/run-now', files: ['/reports/runs/run-now/business-impact.md', '/reports/runs/run-now/index.html'], secrets: [SECRET], ...fields };
}

describe('the incident title', () => {
  it('names the verdict, what is down, the target and the date on one line', () => {
    expect(incidentTitle(failingReport())).toBe('stagecheck FAIL: backend down (tcp ECONNREFUSED) and 1 more cause on api.staging.example.com, 2026-12-01 04:10 UTC');
  });

  it('names the most fundamental failure cause when no component was confirmed down, and the bundled platform as such', () => {
    const r = failingReport({ outages: [], head: { target: 'local', description: 'bundled reference platform, not your staging (http://127.0.0.1:4000)' } as BusinessImpactReport['head'], target: { ...failingReport().target, baseUrl: 'http://127.0.0.1:4000' } });
    expect(incidentTitle(r)).toBe('stagecheck FAIL: redis failing (budget COMMAND_TIMEOUT) and 1 more cause on the bundled reference platform (127.0.0.1:4000), 2026-12-01 04:10 UTC');
  });

  it('says "down" for a cause that leaves its component unreachable or not serving, as the uptime counts it', () => {
    const r = failingReport({ outages: [], tests: failingReport().tests.filter((t) => t.failure?.component !== 'redis') });
    expect(incidentTitle(r)).toBe('stagecheck FAIL: backend down (tcp ECONNREFUSED) on api.staging.example.com, 2026-12-01 04:10 UTC');
  });

  it('is the first line of incident.md, as a heading', () => {
    const { title, markdown } = renderIncident(input());
    expect(markdown.split('\n')[0]).toBe(`# ${title}`);
    expect(title).not.toMatch(/\n/);
  });
});

describe('incident.md', () => {
  const { markdown } = renderIncident(input());
  const section = (heading: string) => {
    expect(markdown, `incident.md has a section "${heading}"`).toContain(`## ${heading}`);
    const start = markdown.indexOf(`## ${heading}`);
    const end = markdown.indexOf('\n## ', start + 3);
    return markdown.slice(start, end === -1 ? undefined : end);
  };

  it('states the business impact measured in this run: failing tiers with their MRR label and failed checks, failing functions, failed KPIs; blocked tiers as unknown', () => {
    const impact = section('Business impact (measured in this run)');
    expect(impact).toContain('3 of 6 executed tests failed.');
    expect(impact).toMatch(/\| P1 critical \| \$120K\+ MRR \| FAIL \| 3\/4 \| `phase1.backend.health`, `phase1.threads.create`, `phase1.redis.direct-probe` \|/);
    expect(impact).not.toMatch(/\| P2 high/);
    expect(impact).toMatch(/\| Chat \/ golden path \| FAIL \| .* \| `phase1.threads.create` \|/);
    expect(impact).toMatch(/\| Redis connectivity \| 0\/10 = 0.0%, below the 100% target \| >= 100% \|/);
    expect(impact).toContain('Not measured: phase 1 failed, so these tests did not run; their state is unknown, not known to be broken: P3 medium-high ($50K MRR): 1 test.');
    expect(impact).toContain('not predicted losses');
  });

  it('lists the components confirmed down and each failing cause once, with its exact error, start times, time to failure and correlation ids', () => {
    expect(section('Components confirmed down')).toContain('backend down since 04:10:05 UTC (tcp ECONNREFUSED');
    const causes = section('Failing components, by cause (2, most fundamental first)');
    expect(causes.match(/^### /gm)).toHaveLength(2);
    expect(causes).toContain('### 1. redis budget COMMAND_TIMEOUT: 1 test failed [P1]');
    expect(causes).toContain('### 2. backend tcp ECONNREFUSED: 2 tests failed [P1]');
    expect(causes).toContain('```text\nconnect ECONNREFUSED 127.0.0.1:9443 (GET /api/health) token=[redacted]\n```');
    expect(causes).toContain('| `phase1.backend.health` | P1 | 04:10:05.120 | 3.0 ms | `corr-aaa-111` |');
    expect(causes).toContain('| `phase1.threads.create` | P1 | 04:10:06.450 | 5.0 ms | `corr-bbb-222` |');
    expect(causes).toContain('| `phase1.redis.direct-probe` | P1 | 04:10:05.000 | 2.00 s | – |');
  });

  it('says what still works: passing tiers with their label, KPIs, and components with passing tests that nothing blames', () => {
    const works = section('What still works (measured in this run)');
    expect(works).toContain('P2 high ($80K MRR): 2 of 2 executed passed');
    expect(works).toContain('Database response time (p95)');
    expect(works).toContain('postgres (1 test passed)');
    expect(works).toContain('network (2 tests passed)');
    expect(works).not.toMatch(/backend \(|redis \(/);
    expect(workingComponents(failingReport()).map((c) => c.component)).toEqual(['postgres', 'network']);
  });

  it('counts a tier whose executed tests all passed as working, and its blocked tests as not measured', () => {
    const r = failingReport();
    const p2 = r.tiers.find((t) => t.id === 'p2')!;
    Object.assign(p2, { verdict: 'BLOCKED', counts: { ...p2.counts, BLOCKED: 19, total: p2.counts.total + 19 } });
    const { markdown } = renderIncident(input({ report: r }));
    expect(markdown).toContain('- **tiers** P2 high ($80K MRR): 2 of 2 executed passed, 19 blocked');
    expect(markdown).toContain('their state is unknown, not known to be broken: P2 high ($80K MRR): 19 tests; P3 medium-high ($50K MRR): 1 test.');
  });

  it('gives the next steps from the catalog: the evidence\'s, and the catalog\'s table for a cause whose evidence has none', () => {
    const steps = section('Next steps (from the catalog)');
    expect(steps).toContain('- [ ] Nothing accepts TCP connections there: is the deployment up? _(backend tcp ECONNREFUSED)_');
    expect(steps).toMatch(/- \[ \] Redis accepts no traffic in time: .* _\(redis budget COMMAND_TIMEOUT\)_/);
  });

  it('ends with the run id, the report paths and the target version', () => {
    const run = section('Run and reports');
    expect(run).toContain('**run id** `run-now`');
    expect(run).toContain('`/reports/runs/run-now`: `business-impact.md`, `index.html`');
    expect(run).toContain('`v2.3.1` (3 snapshots)');
    expect(markdown).toContain('| target version | `v2.3.1` |');
  });

  it('never carries a secret the run knows of', () => {
    expect(markdown).not.toContain(SECRET);
    const inTitle = renderIncident(input({ report: failingReport({ outages: [], tests: [test('x', { verdict: 'FAIL', failure: evidence({ component: SECRET, layer: 'tcp', message: 'm' }) })] }) }));
    expect(inTitle.title).not.toContain(SECRET);
    expect(inTitle.markdown).not.toContain(SECRET);
  });
});

describe('first seen, from the history', () => {
  const failing = ['phase1.backend.health', 'phase1.threads.create'].map((id) => test(id));

  it('is the earliest run of the unbroken streak of failing runs, stepping over runs that did not measure the checks, with the last pass before it', () => {
    const past = [
      entry('r1', '2026-11-30T10:00:00.000Z', { 'phase1.backend.health': 'FAIL' }),
      entry('r2', '2026-11-30T11:00:00.000Z', { 'phase1.backend.health': 'PASS', 'phase1.threads.create': 'PASS' }),
      entry('r3', '2026-11-30T12:00:00.000Z', { 'phase1.backend.health': 'PASS', 'phase1.threads.create': 'FAIL' }),
      entry('r4', '2026-11-30T13:00:00.000Z', { 'phase1.backend.health': 'BLOCKED', 'phase1.threads.create': 'NOT RUN' }),
      entry('r5', '2026-11-30T14:00:00.000Z', { 'phase1.backend.health': 'FAIL' }),
    ];
    const seen = firstSeen(past, testsPick(failing));
    expect(seen).toMatchObject({ earlierRuns: 2, since: { runId: 'r3' }, lastPassed: { runId: 'r2' } });
    expect(seen.text).toBe('first seen in run `r3` at 2026-11-30 12:00 UTC (version `v2.3.1`): failed in 3 consecutive runs that measured it, this one included; last passed in run `r2` at 2026-11-30 11:00 UTC (version `v2.3.1`)');
  });

  it('matches by check id where the entry has one, else by title key (entries written before check ids)', () => {
    const old = entry('r1', '2026-11-30T10:00:00.000Z', { 'phase1.backend.health': 'FAIL' });
    delete old.checks;
    expect(firstSeen([old], testsPick(failing))).toMatchObject({ earlierRuns: 1, since: { runId: 'r1' }, lastPassed: null });
    expect(firstSeen([old], testsPick(failing)).text).toMatch(/^first seen in run `r1`.*; no stored run passed it before \(the history begins 2026-11-30 10:00 UTC, it may have failed earlier\)$/);
  });

  it('is this run when the previous run that measured it passed, or when there is no history', () => {
    const past = [entry('r1', '2026-11-30T10:00:00.000Z', { 'phase1.backend.health': 'PASS' }), entry('r2', '2026-11-30T11:00:00.000Z', {})];
    expect(firstSeen(past, testsPick(failing))).toMatchObject({ earlierRuns: 0, since: null, lastPassed: { runId: 'r1' } });
    expect(firstSeen(past, testsPick(failing)).text).toMatch(/^first seen in this run \(it passed in the previous run that measured it, run `r1`/);
    expect(firstSeen([], testsPick(failing)).text).toBe('first seen in this run (the history holds no earlier run of this target)');
  });

  it('appears per cause and per failed KPI in incident.md, and in its summary as the earliest', () => {
    const past = [
      entry('r1', '2026-11-30T10:00:00.000Z', { 'phase1.backend.health': 'PASS', 'phase1.redis.direct-probe': 'PASS' }, { kpis: { 'redis-connectivity': { verdict: 'PASS', value: 1 } } }),
      entry('r2', '2026-11-30T11:00:00.000Z', { 'phase1.backend.health': 'FAIL', 'phase1.redis.direct-probe': 'PASS' }, { kpis: { 'redis-connectivity': { verdict: 'FAIL', value: 0 } } }),
    ];
    const { markdown } = renderIncident(input({ past }));
    expect(markdown).toContain('- **first seen** first seen in this run (it passed in the previous run that measured it, run `r2`');
    expect(markdown).toContain('- **first seen** first seen in run `r2` at 2026-11-30 11:00 UTC');
    expect(markdown).toMatch(/\| Redis connectivity \| .* \| first seen in run `r2` at 2026-11-30 11:00 UTC/);
    expect(markdown).toMatch(/\| first seen \| first seen in run `r2`/);
  });

  it('says the history is off rather than that it is empty', () => {
    const { markdown } = renderIncident(input({ report: failingReport({ history: { file: null, runsConsidered: 0, since: null } }) }));
    expect(markdown).toContain('first seen in this run as far as stagecheck knows (the history is off)');
  });
});

describe('when incident.md is written', () => {
  it('is written on FAIL, removed after PASS or DEGRADED, and left as it is after INCONCLUSIVE', () => {
    expect(['FAIL', 'PASS', 'DEGRADED', 'INCONCLUSIVE'].map((v) => incidentAction(v as Verdict))).toEqual(['write', 'remove', 'remove', 'keep']);
    const file = join(dir, INCIDENT_FILE);
    const errors: string[] = [];
    expect(updateIncidentFile(input({ reportDir: dir }), (m) => errors.push(m))).toBe(file);
    expect(readFileSync(file, 'utf8')).toMatch(/^# stagecheck FAIL: /);
    expect(updateIncidentFile(input({ reportDir: dir, report: failingReport({ verdict: 'INCONCLUSIVE' }) }), (m) => errors.push(m))).toBeUndefined();
    expect(existsSync(file)).toBe(true);
    expect(updateIncidentFile(input({ reportDir: dir, report: failingReport({ verdict: 'PASS' }) }), (m) => errors.push(m))).toBeUndefined();
    expect(existsSync(file)).toBe(false);
    expect(errors).toEqual([]);
  });

  it('is one of the files writeOutputs writes and lists on FAIL (none of them with a secret), and a stale one goes with a PASS', () => {
    // writeOutputs appends to a workflow's step summary: not this test's.
    vi.stubEnv('GITHUB_STEP_SUMMARY', '');
    const out = mkdtempSync(join(dir, 'outputs-'));
    const context = { dir: out, kpis: catalog.kpis, secrets: [SECRET], target: 'api.staging.example.com', logError: (m: string) => { throw new Error(m); }, catalog, past: [] };
    const files = writeOutputs(failingReport(), context);
    expect(files.at(-1)).toBe(join(out, INCIDENT_FILE));
    expect(readFileSync(join(out, INCIDENT_FILE), 'utf8')).not.toContain(SECRET);
    const passed = writeOutputs(failingReport({ verdict: 'PASS' }), context);
    expect(passed).not.toContain(join(out, INCIDENT_FILE));
    expect(existsSync(join(out, INCIDENT_FILE))).toBe(false);
    vi.unstubAllEnvs();
  });
});
