import http from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CheckError } from '../../helpers/core/errors.ts';
import { drainRetries } from '../../helpers/core/retry-log.ts';
import { createHttpClient, type HttpClient } from '../../helpers/transport/http.ts';
import { parseRetryAfter } from '../../helpers/transport/rate-limit.ts';
import { closeServer, listen } from '../support/net.ts';

/** Per path: how many requests it has answered. */
const hits = new Map<string, number>();
let server: http.Server;
let client: HttpClient;

function handler(req: http.IncomingMessage, res: http.ServerResponse): void {
  const path = new URL(req.url ?? '/', 'http://x').pathname;
  const n = (hits.get(path) ?? 0) + 1;
  hits.set(path, n);
  const tooMany = (retryAfter?: string): void => {
    res.writeHead(429, { 'content-type': 'application/json', 'x-correlation-id': `rl-${n}`, ...(retryAfter ? { 'retry-after': retryAfter } : {}) });
    res.end(JSON.stringify({ error: 'rate_limited' }));
  };
  const ok = (): void => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ ok: true, n }));
  };
  switch (path) {
    case '/once-then-ok':
      return n === 1 ? tooMany('1') : ok();
    case '/date-then-ok':
      return n === 1 ? tooMany(new Date(Date.now() + 1_000).toUTCString()) : ok();
    case '/sixty':
      return tooMany('60');
    case '/always-1':
      return tooMany('1');
    case '/no-header':
      return tooMany();
    default:
      return ok();
  }
}

beforeAll(async () => {
  server = http.createServer(handler);
  const port = await listen(server);
  client = createHttpClient({ baseUrl: `http://127.0.0.1:${port}`, component: 'backend', defaultTimeoutMs: 10_000 });
});

afterAll(async () => {
  await client?.close();
  if (server) await closeServer(server);
});

beforeEach(() => {
  hits.clear();
  drainRetries();
});

async function failureOf(promise: Promise<unknown>): Promise<CheckError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(CheckError);
  return error as CheckError;
}

describe('a 429 with Retry-After', () => {
  it('is honoured once: waits Retry-After: 1, retries, answers 200 and reports the retry', async () => {
    const started = performance.now();
    const result = await client.request('GET', '/once-then-ok');
    const ms = performance.now() - started;
    expect(result.status).toBe(200);
    expect(hits.get('/once-then-ok'), 'two requests: the 429 and the retry').toBe(2);
    expect(ms, 'waited about the one second asked').toBeGreaterThanOrEqual(950);
    expect(ms).toBeLessThan(5_000);
    expect(result.rateLimited).toMatchObject({ retryAfterMs: 1_000, correlationId: 'rl-1' });
    const retries = drainRetries();
    expect(retries).toHaveLength(1);
    expect(retries[0]!.what).toMatch(/^GET http:\/\/127\.0\.0\.1:\d+\/once-then-ok \(429, Retry-After 1 s honoured once\)$/);
    expect(retries[0]!.attempts.map(({ n, ok, error }) => ({ n, ok, error }))).toEqual([
      { n: 1, ok: false, error: 'http-status/429: Too Many Requests, Retry-After 1 (correlation id rl-1)' },
      { n: 2, ok: true, error: undefined },
    ]);
    console.log(`429 evidence: ${retries[0]!.what}; attempts ${JSON.stringify(retries[0]!.attempts)}`);
  });

  it('takes Retry-After as an HTTP date too', async () => {
    const result = await client.request('GET', '/date-then-ok');
    expect(result.status).toBe(200);
    expect(result.rateLimited?.retryAfterMs).toBeGreaterThan(0);
    expect(result.rateLimited?.retryAfterMs).toBeLessThanOrEqual(1_000);
  });

  it('fails fast, naming the 429, when Retry-After: 60 exceeds a 2 s budget', async () => {
    const started = performance.now();
    const error = await failureOf(client.request('GET', '/sixty', { timeoutMs: 2_000 }));
    expect(performance.now() - started, 'no waiting for a minute, nor for the 2 s').toBeLessThan(1_000);
    expect(error.details).toMatchObject({ component: 'backend', layer: 'http-status', code: 429, correlationId: 'rl-1' });
    expect(error.details.endpoint).toMatch(/^GET http:\/\/127\.0\.0\.1:\d+\/sixty$/);
    expect(error.message).toMatch(/: 429 Too Many Requests: Retry-After 60 s is longer than the request's budget has left, so the request was not retried$/);
    expect(error.details.evidence).toMatchObject({ retryAfterMs: 60_000, retryAfterHeader: '60' });
    expect(error.details.evidence?.remainingMs).toBeLessThanOrEqual(2_000);
    expect(hits.get('/sixty'), 'not retried').toBe(1);
    expect(drainRetries()).toEqual([]);
  });

  it('measures the budget the caller gives (a test step), not only the request timeout', async () => {
    const error = await failureOf(client.request('GET', '/once-then-ok', { budget: { remainingMs: () => 500 } }));
    expect(error.details.code).toBe(429);
    expect(error.message).toMatch(/Retry-After 1 s is longer than the request's budget has left/);
    expect(error.details.evidence?.remainingMs).toBe(500);
  });

  it('is honoured only once: a second 429 fails naming it, with both attempts', async () => {
    const error = await failureOf(client.request('POST', '/always-1', { body: {} }));
    expect(hits.get('/always-1')).toBe(2);
    expect(error.details).toMatchObject({ component: 'backend', layer: 'http-status', code: 429, correlationId: 'rl-2' });
    expect(error.message).toMatch(/429 Too Many Requests: answered 429 again after the Retry-After wait of 1 s was honoured once$/);
    expect((error.details.evidence?.attempts as unknown[]).length).toBe(2);
    expect(drainRetries()).toHaveLength(1);
  });

  it('without Retry-After, is returned as it is for the caller to judge', async () => {
    const result = await client.request('GET', '/no-header');
    expect(result.status).toBe(429);
    expect(result.rateLimited).toBeUndefined();
    expect(hits.get('/no-header')).toBe(1);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-11-30T12:00:00Z');
  it.each([
    ['0', 0],
    ['1', 1_000],
    [' 120 ', 120_000],
    ['Mon, 30 Nov 2026 12:00:05 GMT', 5_000],
    ['Mon, 30 Nov 2026 11:59:00 GMT', 0],
  ])('reads %j as %d ms', (value, ms) => {
    expect(parseRetryAfter(value, now)).toBe(ms);
  });

  it.each([undefined, '', '-1', '1.5', 'soon'])('gives up on %j', (value) => {
    expect(parseRetryAfter(value, now)).toBeUndefined();
  });
});
