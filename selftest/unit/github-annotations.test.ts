/**
 * The GitHub annotations of a report (reporter/github-annotations.ts): one per failure cause,
 * none for passes, escaped as GitHub's workflow commands require, capped at what GitHub shows,
 * and never carrying a secret.
 */
import { describe, expect, it } from 'vitest';
import {
  ANNOTATIONS_PER_KIND,
  annotationsWanted,
  escapeData,
  escapeProperty,
  githubAnnotationLines,
  type AnnotatedReport,
} from '../../reporter/github-annotations.ts';
import type { EvidenceOut, KpiOut, TestOut } from '../../reporter/schema.ts';

const counts = { PASS: 0, FAIL: 0, DEGRADED: 0, BLOCKED: 0, INCONCLUSIVE: 0, 'NOT RUN': 0, total: 0, executed: 0 };

function evidence(fields: Partial<EvidenceOut> & Pick<EvidenceOut, 'component' | 'layer' | 'message'>): EvidenceOut {
  return { ledgers: [], nextSteps: [], ...fields };
}

function test(name: string, fields: Partial<TestOut> = {}): TestOut {
  return {
    id: name, key: `phase2|f|${name}`, project: 'phase2', file: 'tests/phase2/f.test.ts', fullName: name, tags: [], tier: 'p1', functions: [],
    verdict: 'PASS', reason: 'passed', durationMs: 1, startedAt: null, retryCount: 0, flaky: false, measurements: [], kpis: [], timelines: [], retries: [],
    ...fields,
  };
}

function failed(name: string, failure: EvidenceOut, fields: Partial<TestOut> = {}): TestOut {
  return test(name, { verdict: 'FAIL', reason: `${failure.component}/${failure.layer}: ${failure.message}`, failure, ...fields });
}

function report(fields: Partial<AnnotatedReport>): AnnotatedReport {
  return { verdict: 'FAIL', reason: 'r', exitCode: 1, tests: [], kpis: [], counts, ...fields };
}

/** What GitHub reads back from a workflow command line: its kind, title and message, unescaped. */
function parse(line: string): { kind: string; title: string; message: string } {
  const m = /^::(error|warning) title=([^:]*)::(.*)$/.exec(line);
  if (!m) throw new Error(`not a workflow command with a title: ${line}`);
  const unescape = (s: string) => s.replace(/%0A/g, '\n').replace(/%0D/g, '\r').replace(/%3A/g, ':').replace(/%2C/g, ',').replace(/%25/g, '%');
  return { kind: m[1] as string, title: unescape(m[2] as string), message: unescape(m[3] as string) };
}

const refused = evidence({ component: 'backend', layer: 'http-status', code: 503, endpoint: 'GET /api/threads/:id', message: 'answered 503 token_store_unavailable', nextSteps: ['Check the token store (Redis) behind the auth service.'] });

describe('escaping workflow command data and properties', () => {
  it('encodes %, CR and LF in data, and also : and , in properties', () => {
    expect(escapeData('50% done\r\nnext: a, b')).toBe('50%25 done%0D%0Anext: a, b');
    expect(escapeProperty('50% done\r\nnext: a, b')).toBe('50%25 done%0D%0Anext%3A a%2C b');
    // % first: an escaped sequence in the text stays literal instead of decoding to a newline.
    expect(escapeData('%0A')).toBe('%250A');
  });
});

describe('annotations of a report', () => {
  it('are one error per cause: failures with the same component, layer and code share one, naming count, tiers, endpoint and next step', () => {
    const lines = githubAnnotationLines(report({
      tests: [
        failed('GET /api/threads/:id > returns the thread', refused),
        failed('POST /api/threads > creates a thread', { ...refused, endpoint: 'POST /api/threads' }, { tier: 'p2' }),
        failed('GET /ws/health > reports healthy', evidence({ component: 'websocket', layer: 'content', message: 'status unhealthy' })),
        test('GET /health > answers 200'),
      ],
    }), []);
    expect(lines).toHaveLength(2);
    const [first, second] = lines.map(parse);
    expect(first).toEqual({
      kind: 'error',
      title: 'stagecheck FAIL backend/http-status 503',
      message: '2 test(s) failed [P1, P2]: GET /api/threads/:id > returns the thread and 1 more\n' +
        'GET /api/threads/:id: answered 503 token_store_unavailable\n' +
        'next step: Check the token store (Redis) behind the auth service.',
    });
    expect(second?.title).toBe('stagecheck FAIL websocket/content');
    for (const line of lines) expect(line).not.toMatch(/[\r\n]/);
  });

  it('name the endpoint once, also when the error already starts with it', () => {
    const [line] = githubAnnotationLines(report({
      tests: [failed('GET /health > answers 200', evidence({ component: 'backend', layer: 'tcp', code: 'ECONNREFUSED', endpoint: 'GET https://api.staging.test/health', message: 'GET https://api.staging.test/health: tcp failure ECONNREFUSED' }))],
    }), []).map(parse);
    expect(line?.message.split('\n')[1]).toBe('GET https://api.staging.test/health: tcp failure ECONNREFUSED');
  });

  it('put the most fundamental cause first (a store before the services that need it)', () => {
    const lines = githubAnnotationLines(report({
      tests: [
        failed('auth', evidence({ component: 'auth', layer: 'http-status', code: 503, message: 'x' })),
        failed('redis probe', evidence({ component: 'redis', layer: 'tcp', code: 'ECONNREFUSED', message: 'y' })),
      ],
    }), []).map(parse);
    expect(lines.map((l) => l.title)).toEqual(['stagecheck FAIL redis/tcp ECONNREFUSED', 'stagecheck FAIL auth/http-status 503']);
  });

  it('say when a phase-1 cause blocked phase 2', () => {
    const [line] = githubAnnotationLines(report({
      counts: { ...counts, BLOCKED: 51 },
      tests: [failed('GET /health > answers 200', evidence({ component: 'backend', layer: 'tcp', code: 'ECONNREFUSED', message: 'refused' }), { project: 'phase1' })],
    }), []).map(parse);
    expect(line?.message).toContain('phase 1 failed: 51 phase-2 test(s) BLOCKED');
  });

  it('are never made for passes or DEGRADED results', () => {
    expect(githubAnnotationLines(report({ verdict: 'PASS', exitCode: 0, tests: [test('a'), test('b', { verdict: 'DEGRADED' })] }), [])).toEqual([]);
  });

  it('warn for a failure within its tier\'s allowance and for an inconclusive test with evidence', () => {
    const lines = githubAnnotationLines(report({
      verdict: 'DEGRADED', exitCode: 0,
      tests: [
        failed('p5 check', refused, { tier: 'p5', withinTierAllowance: true }),
        test('harness', { verdict: 'INCONCLUSIVE', failure: evidence({ component: 'agent', layer: 'harness', message: 'TypeError: x is undefined', harnessError: true }) }),
      ],
    }), []).map(parse);
    expect(lines.map((l) => [l.kind, l.title])).toEqual([
      ['warning', 'stagecheck FAIL backend/http-status 503'],
      ['warning', 'stagecheck INCONCLUSIVE agent/harness'],
    ]);
  });

  it('name a failed KPI, a failed endpoint budget and why a run is INCONCLUSIVE', () => {
    const kpi = { id: 'ws-connection-success', name: 'WebSocket connection success', verdict: 'FAIL', reason: '18/20 = 90.0%, below the 95% target', target: '>= 95%' } as KpiOut;
    const lines = githubAnnotationLines(report({
      kpis: [kpi, { ...kpi, id: 'ok', verdict: 'PASS' }],
      latency: {
        coldStartAllowanceMs: 4000, percentile: 95, functions: [], coldStarts: [], requests: 1, dropped: 0,
        endpoints: [{ component: 'backend', endpoint: 'POST /api/threads', name: 'POST /api/threads', verdict: 'FAIL', reason: 'POST /api/threads p95 6.1 s over 5 s', percentile: 95, degradedMs: 2000, failMs: 5000, budget: 'catalog', samples: 20, excludedColdStart: 0, value: 6100, latency: { count: 20, min: 1, p50: 1, p95: 6100, max: 6100, mean: 1 } }],
      },
    }), []).map(parse);
    expect(lines.map((l) => l.title)).toEqual(['stagecheck FAIL KPI WebSocket connection success', 'stagecheck FAIL backend/budget latency POST /api/threads']);
    const inconclusive = githubAnnotationLines(report({ verdict: 'INCONCLUSIVE', exitCode: 2, reason: 'the target changed version during the run (a → b)' }), []).map(parse);
    expect(inconclusive).toEqual([{ kind: 'error', title: 'stagecheck INCONCLUSIVE (exit 2)', message: 'the target changed version during the run (a → b)' }]);
  });

  it(`stop at ${ANNOTATIONS_PER_KIND} of a kind, the last one counting the causes left out`, () => {
    const tests = Array.from({ length: 14 }, (_, i) => failed(`t${i}`, evidence({ component: 'backend', layer: 'http-status', code: 500 + i, message: 'x' })));
    const lines = githubAnnotationLines(report({ tests }), []).map(parse);
    expect(lines).toHaveLength(ANNOTATIONS_PER_KIND);
    expect(lines.at(-1)?.title).toBe('stagecheck 5 more cause(s)');
    expect(lines.at(-1)?.message.split('\n').slice(0, 5)).toEqual([509, 510, 511, 512, 513].map((code) => `FAIL backend/http-status ${code}`));
  });

  it('never carry a secret, in the message or the title, escaped or not', () => {
    const secret = 'p%ss:w,rd\nline';
    const lines = githubAnnotationLines(report({
      tests: [failed('login', evidence({ component: 'auth', layer: 'http-status', code: 401, endpoint: `POST /auth/login?password=${secret}`, message: `refused password ${secret} and Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln` }))],
      kpis: [{ id: 'k', name: `KPI ${secret}`, verdict: 'FAIL', reason: secret, target: 'x' } as KpiOut],
    }), [secret]);
    expect(lines).toHaveLength(2);
    const text = lines.join('\n');
    for (const form of [secret, escapeData(secret), escapeProperty(secret), 'eyJhbGciOiJIUzI1NiJ9']) expect(text).not.toContain(form);
    expect(lines.map(parse).map((l) => l.message).join('\n')).toContain('[redacted]');
  });
});

describe('when annotations are printed', () => {
  it('only as a GitHub Actions step', () => {
    expect(annotationsWanted({ GITHUB_ACTIONS: 'true' })).toBe(true);
    expect(annotationsWanted({})).toBe(false);
    expect(annotationsWanted({ GITHUB_ACTIONS: 'false', CI: 'true' })).toBe(false);
  });
});
