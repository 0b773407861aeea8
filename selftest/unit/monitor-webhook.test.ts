/**
 * The alert webhook (scripts/monitor/webhook.ts) against a loopback receiver: validated URL
 * named by its variable, shown only as scheme://host/…, a failed delivery retried and then
 * reported without the URL's token, never thrown; and the bodies the monitor sends
 * (scripts/monitor/alert-body.ts) with causes, tiers and functions at risk from a report
 * (scripts/monitor/causes.ts).
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BusinessImpactReport } from '../../reporter/schema.ts';
import { alertBody, recoveryBody } from '../../scripts/monitor/alert-body.ts';
import { outcomeOf } from '../../scripts/monitor/causes.ts';
import { initialState, nextState } from '../../scripts/monitor/incidents.ts';
import { cleanOfWebhook, deliver, displayUrl, webhookFromEnv, WebhookConfigError, type Webhook } from '../../scripts/monitor/webhook.ts';
import { closeServer, listen, refusedPort } from '../support/net.ts';

const TOKEN = 'T0KEN-in-the-path-4f9a';
const QUERY = 'q-secret-77c1';

describe('STAGECHECK_ALERT_WEBHOOK', () => {
  it('is shown as scheme://host/… only', () => {
    const hook = webhookFromEnv({ STAGECHECK_ALERT_WEBHOOK: `https://hooks.example.com/services/${TOKEN}?token=${QUERY}` });
    expect(hook?.display).toBe('https://hooks.example.com/…');
    expect(displayUrl(new URL('http://127.0.0.1:9000/'))).toBe('http://127.0.0.1:9000');
    expect(webhookFromEnv({ STAGECHECK_ALERT_WEBHOOK: '  ' })).toBeUndefined();
    expect(webhookFromEnv({})).toBeUndefined();
  });

  it('names the variable, never the value, when unusable', () => {
    for (const value of [`not a url ${TOKEN}`, `ftp://hooks.example.com/${TOKEN}`, `https://user:${TOKEN}@hooks.example.com/x`]) {
      let message = '';
      try {
        webhookFromEnv({ STAGECHECK_ALERT_WEBHOOK: value });
      } catch (error) {
        expect(error).toBeInstanceOf(WebhookConfigError);
        message = (error as Error).message;
      }
      expect(message).toMatch(/^STAGECHECK_ALERT_WEBHOOK /);
      expect(message).not.toContain(TOKEN);
    }
  });

  it('names a misspelt variable: it would send no alert at all', () => {
    expect(() => webhookFromEnv({ STAGECHECK_ALERT_WEBHOK: `https://hooks.example.com/${TOKEN}` })).toThrow(/^STAGECHECK_ALERT_WEBHOK is set but the monitor reads no such variable: did you mean STAGECHECK_ALERT_WEBHOOK\?$/);
    expect(() => webhookFromEnv({ stagecheck_alert_webhook: 'x' })).toThrow(/did you mean STAGECHECK_ALERT_WEBHOOK/);
  });

  it('cleans any text of the URL, its path and its query values', () => {
    const hook = webhookFromEnv({ STAGECHECK_ALERT_WEBHOOK: `http://127.0.0.1:1/hook/${TOKEN}?k=${QUERY}` }) as Webhook;
    const text = cleanOfWebhook(`POST http://127.0.0.1:1/hook/${TOKEN}?k=${QUERY} failed; path /hook/${TOKEN}; ${QUERY}`, hook);
    expect(text).not.toContain(TOKEN);
    expect(text).not.toContain(QUERY);
  });
});

describe('webhook delivery', () => {
  const received: Array<{ path: string; body: unknown }> = [];
  let answers: number[] = [];
  const server = http.createServer((request, response) => {
    let data = '';
    request.setEncoding('utf8').on('data', (chunk: string) => (data += chunk));
    request.on('end', () => {
      received.push({ path: request.url ?? '', body: JSON.parse(data) });
      const status = answers.shift() ?? 200;
      if (status === 0) return; // never answers
      response.writeHead(status).end('ok');
    });
  });
  let base = '';
  beforeAll(async () => {
    base = `http://127.0.0.1:${await listen(server)}`;
  });
  afterAll(() => closeServer(server));

  const hookAt = (path: string): Webhook => webhookFromEnv({ STAGECHECK_ALERT_WEBHOOK: `${base}${path}` }) as Webhook;
  const fast = { backoffMs: [10, 20], timeoutMs: 1000 };

  it('POSTs the JSON body once when the receiver takes it', async () => {
    received.length = 0;
    answers = [204];
    expect(await deliver(hookAt(`/hook/${TOKEN}`), { kind: 'alert' }, fast)).toEqual({ ok: true, attempts: 1, status: 204 });
    expect(received).toEqual([{ path: `/hook/${TOKEN}`, body: { kind: 'alert' } }]);
  });

  it('retries a 500 and a timeout, then delivers', async () => {
    received.length = 0;
    answers = [500, 0, 200];
    const delivery = await deliver(hookAt('/hook'), { n: 1 }, { ...fast, timeoutMs: 300 });
    expect(delivery).toEqual({ ok: true, attempts: 3, status: 200 });
    expect(received).toHaveLength(3);
  });

  it('gives up after the attempts, saying why without the URL; a 404 is not retried', async () => {
    answers = [503, 503, 503];
    expect(await deliver(hookAt(`/h/${TOKEN}`), {}, fast)).toEqual({ ok: false, attempts: 3, status: 503, error: 'HTTP 503' });
    answers = [404];
    expect(await deliver(hookAt(`/h/${TOKEN}`), {}, fast)).toEqual({ ok: false, attempts: 1, status: 404, error: 'HTTP 404' });
    const refused = webhookFromEnv({ STAGECHECK_ALERT_WEBHOOK: `http://127.0.0.1:${await refusedPort()}/h/${TOKEN}?token=${QUERY}` }) as Webhook;
    const failed = await deliver(refused, {}, fast);
    expect(failed.ok).toBe(false);
    expect(failed.attempts).toBe(3);
    expect(failed.error).toMatch(/ECONNREFUSED/);
    expect(failed.error).not.toContain(TOKEN);
    expect(failed.error).not.toContain(QUERY);
  });
});

/** A phase-1 report in the shape of a Redis outage: two causes, one tolerated failure, a failed KPI. */
function report(failing: boolean): BusinessImpactReport {
  const test = (key: string, tier: string, functions: string[], verdict: string, failure?: object, withinTierAllowance?: boolean) =>
    ({ key, fullName: key, tier, functions, verdict, reason: `${key} ${verdict}`, project: 'phase1', ...(failure ? { failure } : {}), ...(withinTierAllowance ? { withinTierAllowance } : {}) });
  const redis = { component: 'redis', layer: 'budget', code: 'COMMAND_TIMEOUT', message: 'redis PING: no answer within 3000 ms\nstack', nextSteps: [], ledgers: [] };
  const auth = { component: 'auth', layer: 'http-status', code: 503, message: 'POST /auth/e2e/test-auth: HTTP 503', nextSteps: [], ledgers: [] };
  const tests = failing
    ? [test('ready', 'p1', ['real-time'], 'FAIL', redis), test('probe', 'p1', ['real-time', 'user-auth'], 'FAIL', redis), test('login', 'p1', ['user-auth'], 'FAIL', auth), test('p5-thing', 'p5', ['chat'], 'FAIL', auth, true), test('health', 'p2', ['api-responsiveness'], 'PASS')]
    : [test('ready', 'p1', ['real-time'], 'PASS'), test('probe', 'p1', ['real-time', 'user-auth'], 'PASS'), test('login', 'p1', ['user-auth'], 'PASS'), test('p5-thing', 'p5', ['chat'], 'PASS'), test('health', 'p2', ['api-responsiveness'], 'PASS')];
  return {
    verdict: failing ? 'FAIL' : 'PASS',
    exitCode: failing ? 1 : 0,
    reason: failing ? 'P1 critical ($120K+ MRR) failed' : 'all passed',
    counts: { PASS: failing ? 1 : 5, FAIL: failing ? 4 : 0, DEGRADED: 0, BLOCKED: 0, INCONCLUSIVE: 0, 'NOT RUN': 0, total: 5, executed: 5 },
    tests,
    kpis: [{ id: 'redis-connectivity', name: 'Redis connectivity', verdict: failing ? 'FAIL' : 'PASS', reason: failing ? '0/10 = 0.0%' : '10/10', target: '>= 100%' }, { id: 'golden-path-completion', name: 'Golden path', verdict: 'NOT RUN', reason: '', target: '' }],
    latency: { endpoints: [] },
    tiers: [
      { id: 'p1', name: 'P1 critical', protects: '$120K+ MRR', verdict: failing ? 'FAIL' : 'PASS', reason: failing ? '3/3 failed' : 'ok' },
      { id: 'p2', name: 'P2 high', protects: '$80K MRR', verdict: 'PASS', reason: 'ok' },
      { id: 'p5', name: 'P5 medium-low', protects: '$10K MRR', verdict: failing ? 'DEGRADED' : 'PASS', reason: 'within allowance' },
    ],
    functions: [
      { id: 'real-time', name: 'Real-time communication', verdict: failing ? 'FAIL' : 'PASS', reason: 'x' },
      { id: 'user-auth', name: 'User authentication', verdict: failing ? 'FAIL' : 'PASS', reason: 'y' },
      { id: 'api-responsiveness', name: 'API responsiveness', verdict: 'PASS', reason: 'z' },
    ],
  } as unknown as BusinessImpactReport;
}

describe('what the monitor takes from a report and sends', () => {
  it('one cause per component, layer and code (a tolerated failure is none), plus the failed KPI; tiers and functions at risk with their MRR labels', () => {
    const outcome = outcomeOf(report(true));
    expect(outcome.causes.map((c) => [c.key, c.title, c.tests, c.checks])).toEqual([
      ['tests|redis|budget|COMMAND_TIMEOUT', 'redis/budget COMMAND_TIMEOUT', 2, ['ready', 'probe']],
      ['tests|auth|http-status|503', 'auth/http-status 503', 1, ['login']],
      ['kpi|redis-connectivity', 'KPI Redis connectivity', 0, ['kpi|redis-connectivity']],
    ]);
    expect(outcome.causes[0]?.message).not.toContain('\n');
    expect(outcome.observed.has('kpi|golden-path-completion')).toBe(false);
    expect(outcome.observed.has('health')).toBe(true);
    expect(outcome.tiersAtRisk.map((t) => [t.id, t.protects, t.verdict])).toEqual([['p1', '$120K+ MRR', 'FAIL'], ['p5', '$10K MRR', 'DEGRADED']]);
    expect(outcome.functionsAtRisk.map((f) => [f.id, f.tiers, f.protects])).toEqual([['real-time', ['p1'], ['$120K+ MRR']], ['user-auth', ['p1'], ['$120K+ MRR']]]);
    expect(outcome.counts).toEqual({ PASS: 1, FAIL: 4 });
  });

  it('an alert body names the causes, when they first failed, what is at risk and the report; a recovery the causes gone', () => {
    const failing = outcomeOf(report(true));
    const first = nextState(initialState(), { iteration: 4, at: '2026-12-01T04:00:00.000Z', exitCode: 1, causes: failing.causes, observed: failing.observed }, { alertAfter: 2 });
    const second = nextState(first.state, { iteration: 5, at: '2026-12-01T04:05:00.000Z', exitCode: 1, causes: failing.causes, observed: failing.observed }, { alertAfter: 2 });
    const context = { iteration: 5, runId: 'r5', at: '2026-12-01T04:05:00.000Z', target: 'local', report: '/x/reports/runs/r5/index.html', outcome: failing, openIncidents: second.state.open.size };
    const alert = alertBody(context, second.alerted);
    expect(alert).toMatchObject({
      schema: 'stagecheck.monitor-alert',
      kind: 'alert',
      verdict: 'FAIL',
      iteration: 5,
      runId: 'r5',
      firstFailedAt: '2026-12-01T04:00:00.000Z',
      report: '/x/reports/runs/r5/index.html',
      openIncidents: 3,
      tiersAtRisk: [{ id: 'p1', protects: '$120K+ MRR' }, { id: 'p5' }],
    });
    expect(alert.causes).toHaveLength(3);
    expect(alert.causes[0]).toMatchObject({ firstFailedIteration: 4, failingIterations: 2, alertedIteration: 5 });
    expect(alert.causes[0]).not.toHaveProperty('checks');
    expect(alert.text).toMatch(/^stagecheck FAIL on local: redis\/budget COMMAND_TIMEOUT, auth\/http-status 503, KPI Redis connectivity, failing since 2026-12-01T04:00:00.000Z; at risk: P1 critical \(\$120K\+ MRR\)/);

    const healthy = outcomeOf(report(false));
    const third = nextState(second.state, { iteration: 7, at: '2026-12-01T04:15:00.000Z', exitCode: 0, causes: healthy.causes, observed: healthy.observed }, { alertAfter: 2 });
    const recovery = recoveryBody({ ...context, iteration: 7, runId: 'r7', outcome: healthy, openIncidents: third.state.open.size }, third.recovered);
    expect(recovery).toMatchObject({ kind: 'recovery', verdict: 'PASS', iteration: 7, firstFailedAt: '2026-12-01T04:00:00.000Z', openIncidents: 0, tiersAtRisk: [], functionsAtRisk: [] });
    expect(recovery.causes.map((c) => [c.recoveredIteration, c.alertedIteration])).toEqual([[7, 5], [7, 5], [7, 5]]);
  });
});
