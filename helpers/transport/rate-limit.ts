/**
 * A 429 with `Retry-After` on a shared deployment: honoured once, within the request's budget,
 * and reported (issue 13, "No pile-up on a shared staging").
 *
 * - 429 with a `Retry-After` (seconds, or an HTTP date) that fits in what is left of the budget:
 *   wait that long, send the request once more, and record the retry (core/retry-log.ts → the
 *   test's `meta.retries`, and the returned result's `rateLimited`).
 * - 429 with a `Retry-After` longer than what is left: fail at once with the 429 as the cause
 *   (the endpoint's component, layer `http-status`, code 429), naming the wait and the budget.
 * - A second 429 after the one wait: fail the same way; a deployment is not waited on twice.
 * - 429 without `Retry-After`: returned as it is; the caller's status check reports it.
 *
 * The budget is the caller's (`RequestOptions.budget`, e.g. the test step's Budget), else the
 * request's own timeout, counted from the first attempt.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { CheckError, type Component } from '../core/errors.ts';
import { formatMs } from '../core/format.ts';
import { recordRetry } from '../core/retry-log.ts';
import type { RetryRecord } from '../core/meta.ts';

/** What the rate limiter needs of an answer (an HttpResult has it all). */
export interface RateLimitedAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
  correlationId?: string;
  timings: { totalMs: number };
}

export interface RateLimitInfo {
  /** The wait the deployment asked for, in ms. */
  retryAfterMs: number;
  /** The wait actually taken (timer precision). */
  waitedMs: number;
  /** Correlation id of the 429 answer, when it carried one. */
  correlationId?: string;
  record: RetryRecord;
}

export interface HonourOptions<T extends RateLimitedAnswer = RateLimitedAnswer> {
  /** `METHOD url`, for messages and the report. */
  endpoint: string;
  component: Component;
  /** Milliseconds left in the budget the retry must fit in, asked when the 429 arrives. */
  remainingMs: () => number;
  /** The answer's body fit for evidence (secrets removed, truncated). Default: its first 500 characters. */
  evidenceBody?: (answer: T) => string;
  now?: () => number;
}

/**
 * `Retry-After` in ms: delta-seconds (`120`) or an HTTP date, as RFC 9110 §10.2.3 allows.
 * Undefined when absent or unreadable; a date in the past is 0.
 */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  if (!/[a-z]/i.test(text)) return undefined;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function tooManyRequests<T extends RateLimitedAnswer>(answer: T, options: HonourOptions<T>, message: string, evidence: Record<string, unknown>): CheckError {
  const body = options.evidenceBody ? options.evidenceBody(answer) : answer.body.slice(0, 500);
  return new CheckError(`${options.endpoint}: 429 Too Many Requests: ${message}`, {
    component: options.component,
    layer: 'http-status',
    endpoint: options.endpoint,
    code: 429,
    correlationId: answer.correlationId,
    evidence: { ...evidence, retryAfterHeader: answer.headers['retry-after'], body },
  });
}

/**
 * Sends with `send(timeoutMs)` (the first time without a timeout override) and honours one
 * 429 `Retry-After` as the module comment says. Resolves with the answer to use (the retry's,
 * when there was one) and the retry's details.
 */
export async function honourRetryAfter<T extends RateLimitedAnswer>(
  send: (timeoutMs?: number) => Promise<T>,
  options: HonourOptions<T>,
): Promise<{ answer: T; rateLimited?: RateLimitInfo }> {
  const now = options.now ?? Date.now;
  const first = await send();
  if (first.status !== 429) return { answer: first };
  const retryAfterMs = parseRetryAfter(first.headers['retry-after'], now());
  if (retryAfterMs === undefined) return { answer: first };
  const remainingMs = Math.floor(options.remainingMs());
  if (retryAfterMs >= remainingMs) {
    // What was left goes to the evidence, not the message: the same 429 met by ten tests is one cause.
    throw tooManyRequests(first, options, `Retry-After ${formatMs(retryAfterMs)} is longer than the request's budget has left, so the request was not retried`, {
      retryAfterMs,
      remainingMs,
    });
  }
  const waitStarted = performance.now();
  await sleep(retryAfterMs);
  const waitedMs = Math.round(performance.now() - waitStarted);
  const left = Math.floor(options.remainingMs());
  const second = await send(Math.max(1, left));
  const record: RetryRecord = {
    what: `${options.endpoint} (429, Retry-After ${formatMs(retryAfterMs)} honoured once)`,
    attempts: [
      { n: 1, ok: false, ms: Math.round(first.timings.totalMs), error: `http-status/429: Too Many Requests, Retry-After ${first.headers['retry-after']}${first.correlationId ? ` (correlation id ${first.correlationId})` : ''}` },
      { n: 2, ok: second.status !== 429 && second.status < 500, ms: Math.round(second.timings.totalMs), ...(second.status === 429 ? { error: 'http-status/429: Too Many Requests again' } : {}) },
    ],
  };
  recordRetry(record);
  if (second.status === 429) {
    throw tooManyRequests(second, options, `answered 429 again after the Retry-After wait of ${formatMs(retryAfterMs)} was honoured once`, {
      retryAfterMs,
      waitedMs,
      attempts: record.attempts,
    });
  }
  return { answer: second, rateLimited: { retryAfterMs, waitedMs, ...(first.correlationId ? { correlationId: first.correlationId } : {}), record } };
}
