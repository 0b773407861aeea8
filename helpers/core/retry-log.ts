/**
 * Retries the transport layer made on its own (a 429 whose `Retry-After` was honoured, see
 * transport/rate-limit.ts), for the report.
 *
 * The HTTP clients are shared by a worker's concurrent tests, so a retry is appended to this
 * process's log, and the `report` fixture moves what the log holds into the
 * `task.meta.stagecheck.retries` of the test that ends next (as core/request-log.ts does for
 * request timings). Each record names its endpoint and carries its correlation id, so it can be
 * told apart; a retry that ends in a failure is also in that failure's own evidence.
 */
import type { RetryRecord } from './meta.ts';

/** Cap per process between two drains. */
const MAX_PENDING = 500;

const pending: RetryRecord[] = [];

/** Appends one retried operation (every attempt, the first one failed). */
export function recordRetry(record: RetryRecord): void {
  if (pending.length < MAX_PENDING) pending.push(record);
}

/** Takes every retry logged since the last drain. */
export function drainRetries(): RetryRecord[] {
  return pending.splice(0, pending.length);
}
