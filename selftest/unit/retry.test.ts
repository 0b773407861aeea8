import { describe, expect, it, vi } from 'vitest';
import { CheckError } from '../../helpers/core/errors.ts';
import { isTransientError, withRetry } from '../../helpers/core/retry.ts';

const reset = () => new CheckError('socket reset', { component: 'backend', layer: 'tcp', code: 'ECONNRESET' });
const refused = () => new CheckError('refused', { component: 'backend', layer: 'tcp', code: 'ECONNREFUSED' });
const status = (code: number) => new CheckError(`got ${code}`, { component: 'backend', layer: 'http-status', code });

describe('isTransientError', () => {
  it('treats tcp ECONNRESET and EPIPE as transient', () => {
    expect(isTransientError(reset())).toBe(true);
    expect(isTransientError(new CheckError('pipe', { component: 'auth', layer: 'tcp', code: 'EPIPE' }))).toBe(true);
  });

  it('treats refused, timeouts, dns, content and plain errors as not transient', () => {
    expect(isTransientError(refused())).toBe(false);
    expect(isTransientError(new CheckError('t', { component: 'backend', layer: 'tcp', code: 'CONNECT_TIMEOUT' }))).toBe(false);
    expect(isTransientError(new CheckError('d', { component: 'backend', layer: 'dns', code: 'ECONNRESET' }))).toBe(false);
    expect(isTransientError(Object.assign(new Error('raw'), { code: 'ECONNRESET' }))).toBe(false);
  });

  it('treats 502/503/504 as transient only for idempotent operations', () => {
    for (const code of [502, 503, 504]) {
      expect(isTransientError(status(code))).toBe(false);
      expect(isTransientError(status(code), { idempotent: true })).toBe(true);
    }
    expect(isTransientError(status(500), { idempotent: true })).toBe(false);
    expect(isTransientError(status(404), { idempotent: true })).toBe(false);
  });
});

describe('withRetry', () => {
  it('returns the first-attempt value without retrying', async () => {
    const result = await withRetry(async () => 42, { what: 'op', minTimeoutMs: 0 });
    expect(result.value).toBe(42);
    expect(result.retried).toBe(false);
    expect(result.attempts).toHaveLength(1);
    expect(result.attempts[0]).toMatchObject({ n: 1, ok: true });
  });

  it('retries a transient error and records every attempt', async () => {
    const onAttempt = vi.fn();
    let calls = 0;
    const result = await withRetry(
      async () => {
        calls += 1;
        if (calls < 3) throw reset();
        return 'ok';
      },
      { what: 'GET /health', retries: 2, minTimeoutMs: 1, onAttempt },
    );
    expect(result.value).toBe('ok');
    expect(result.retried).toBe(true);
    expect(result.attempts.map((a) => [a.n, a.ok])).toEqual([
      [1, false],
      [2, false],
      [3, true],
    ]);
    expect(result.attempts[0]?.errorSummary).toContain('backend/tcp/ECONNRESET');
    expect(onAttempt).toHaveBeenCalledTimes(3);
  });

  it('rethrows a non-transient error at once, after one attempt', async () => {
    const fn = vi.fn(async () => {
      throw refused();
    });
    const error = await withRetry(fn, { what: 'op', retries: 5, minTimeoutMs: 1 }).catch((e: unknown) => e);
    expect(fn).toHaveBeenCalledTimes(1);
    expect(error).toBeInstanceOf(CheckError);
    expect((error as CheckError).details.code).toBe('ECONNREFUSED');
    expect((error as CheckError).details.evidence?.attempts).toBeUndefined();
  });

  it('does not retry a plain TypeError (harness bug) even with a permissive classifier', async () => {
    const fn = vi.fn(async () => {
      throw new TypeError('x is not a function');
    });
    await expect(withRetry(fn, { what: 'op', retries: 3, minTimeoutMs: 1, isTransient: () => false })).rejects.toThrow(TypeError);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('uses a custom classifier, including for non-CheckErrors', async () => {
    let calls = 0;
    const result = await withRetry(
      async () => {
        calls += 1;
        if (calls === 1) throw new TypeError('fetch failed');
        return calls;
      },
      { what: 'op', minTimeoutMs: 1, isTransient: (e) => e instanceof TypeError },
    );
    expect(result.value).toBe(2);
    expect(result.retried).toBe(true);
  });

  it('gives up after the retries and attaches the attempts to the last CheckError', async () => {
    const fn = vi.fn(async () => {
      throw status(503);
    });
    const error = (await withRetry(fn, { what: 'GET /health', retries: 2, minTimeoutMs: 1, idempotent: true }).catch((e: unknown) => e)) as CheckError;
    expect(fn).toHaveBeenCalledTimes(3);
    expect(error.details.code).toBe(503);
    const attempts = error.details.evidence?.attempts as Array<{ n: number; ok: boolean }>;
    expect(attempts.map((a) => a.n)).toEqual([1, 2, 3]);
    expect(attempts.every((a) => !a.ok)).toBe(true);
    expect(error.details.evidence?.retriedAs).toBe('GET /health');
  });

  it('does not retry 503 for a non-idempotent operation', async () => {
    const fn = vi.fn(async () => {
      throw status(503);
    });
    await expect(withRetry(fn, { what: 'POST /api/threads', minTimeoutMs: 1 })).rejects.toBeInstanceOf(CheckError);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('waits with backoff between attempts', async () => {
    let calls = 0;
    const started = performance.now();
    await withRetry(
      async () => {
        calls += 1;
        if (calls < 3) throw reset();
        return 1;
      },
      { what: 'op', retries: 2, minTimeoutMs: 40 },
    );
    // 40 ms then 80 ms
    expect(performance.now() - started).toBeGreaterThanOrEqual(110);
  });

  it('honours retries: 0', async () => {
    const fn = vi.fn(async () => {
      throw reset();
    });
    await expect(withRetry(fn, { what: 'op', retries: 0 })).rejects.toBeInstanceOf(CheckError);
    expect(fn).toHaveBeenCalledTimes(1);
  });
});
