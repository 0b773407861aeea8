/**
 * The suite's only retry mechanism: p-retry limited to *classified transient* errors, with every
 * attempt recorded so a report can show first-attempt vs after-retry results.
 *
 * - A non-transient error is rethrown at once (attempt 1 is the only attempt).
 * - A transient error is retried up to `retries` times with exponential backoff starting at
 *   `minTimeoutMs`.
 * - When every attempt fails, the last error is rethrown; a CheckError gets its attempts appended to
 *   `details.evidence.attempts` so the failure shows it was retried.
 *
 * Default transient classification ({@link isTransientError}):
 * - CheckError, layer 'tcp', code ECONNRESET or EPIPE (a connection dropped mid-flight);
 * - only with `idempotent: true` (the caller vouches the operation is a safe-to-repeat GET):
 *   CheckError, layer 'http-status', code 502 / 503 / 504 (a gateway hiccup).
 * Nothing else: refused connections, DNS failures, timeouts, 4xx, 500, content errors fail at once.
 */
import pRetry from 'p-retry';
import { isCheckError } from './errors.ts';

export interface RetryAttempt {
  /** 1-based attempt number. */
  n: number;
  ok: boolean;
  /** The error of a failed attempt (as thrown). */
  error?: unknown;
  /** `layer/code: message` summary of the error, safe to print. */
  errorSummary?: string;
  /** Duration of this attempt in ms (backoff waits excluded). */
  ms: number;
}

export interface RetryOptions {
  /** What is being attempted, for messages and the report: e.g. `GET /health`. */
  what: string;
  /** Retries after the first attempt (default 2, so at most 3 attempts). */
  retries?: number;
  /** Custom transient classification; defaults to {@link isTransientError} with `idempotent`. */
  isTransient?: (error: unknown) => boolean;
  /** The operation is an idempotent read (GET): also retry 502/503/504 http-status CheckErrors. */
  idempotent?: boolean;
  /** First backoff delay in ms (default 200), doubled for each further retry. */
  minTimeoutMs?: number;
  /** Upper bound for a single backoff delay in ms (default 2000). */
  maxTimeoutMs?: number;
  /** Called after every attempt, successful or not (e.g. to push into task.meta). */
  onAttempt?: (attempt: RetryAttempt) => void;
}

export interface RetryResult<T> {
  value: T;
  attempts: RetryAttempt[];
  /** True when more than one attempt was made (the value is an after-retry result). */
  retried: boolean;
}

const TRANSIENT_TCP_CODES = new Set<string | number>(['ECONNRESET', 'EPIPE']);
const TRANSIENT_HTTP_STATUSES = new Set<string | number>([502, 503, 504, '502', '503', '504']);

/** The default classification described in the module comment. */
export function isTransientError(error: unknown, options: { idempotent?: boolean } = {}): boolean {
  if (!isCheckError(error)) return false;
  const { layer, code } = error.details;
  if (layer === 'tcp' && code !== undefined && TRANSIENT_TCP_CODES.has(code)) return true;
  if (options.idempotent === true && layer === 'http-status' && code !== undefined && TRANSIENT_HTTP_STATUSES.has(code)) {
    return true;
  }
  return false;
}

function summarizeError(error: unknown): string {
  if (isCheckError(error)) {
    const { component, layer, code } = error.details;
    return `${component}/${layer}${code !== undefined ? `/${code}` : ''}: ${error.message}`;
  }
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

/** Attempt list without the raw error objects, for JSON evidence. */
export function attemptsForEvidence(attempts: readonly RetryAttempt[]): Array<Omit<RetryAttempt, 'error'>> {
  return attempts.map(({ error: _error, ...rest }) => rest);
}

/**
 * Run `fn`, retrying only transient errors. Resolves with the value and every attempt; rejects with
 * the last error (non-transient errors on their first occurrence).
 */
export async function withRetry<T>(fn: (attempt: number) => Promise<T> | T, options: RetryOptions): Promise<RetryResult<T>> {
  const retries = options.retries ?? 2;
  if (!Number.isInteger(retries) || retries < 0) throw new RangeError(`withRetry(${options.what}): retries must be a non-negative integer`);
  const classify = options.isTransient ?? ((error: unknown) => isTransientError(error, { idempotent: options.idempotent }));
  const attempts: RetryAttempt[] = [];

  const record = (attempt: RetryAttempt): void => {
    attempts.push(attempt);
    options.onAttempt?.(attempt);
  };

  // p-retry only sees a wrapper error, so its special handling of TypeError (never retried, never
  // classified) cannot bypass our classifier, and non-Error throws are preserved as thrown.
  class AttemptFailure extends Error {
    readonly original: unknown;
    constructor(original: unknown) {
      super('attempt failed');
      this.original = original;
    }
  }

  try {
    const value = await pRetry(
      async (attemptNumber) => {
        const started = performance.now();
        try {
          const result = await fn(attemptNumber);
          record({ n: attemptNumber, ok: true, ms: performance.now() - started });
          return result;
        } catch (error) {
          record({ n: attemptNumber, ok: false, error, errorSummary: summarizeError(error), ms: performance.now() - started });
          throw new AttemptFailure(error);
        }
      },
      {
        retries,
        minTimeout: options.minTimeoutMs ?? 200,
        maxTimeout: options.maxTimeoutMs ?? 2000,
        factor: 2,
        randomize: false,
        shouldRetry: ({ error }) => classify(error instanceof AttemptFailure ? error.original : error),
      },
    );
    return { value, attempts, retried: attempts.length > 1 };
  } catch (error) {
    const original = error instanceof AttemptFailure ? error.original : error;
    if (attempts.length > 1 && isCheckError(original)) {
      original.details.evidence = {
        ...original.details.evidence,
        attempts: attemptsForEvidence(attempts),
        retriedAs: options.what,
      };
    }
    throw original;
  }
}
