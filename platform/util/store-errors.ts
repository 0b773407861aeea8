import { TimeoutError } from './time.ts';

const unavailableCodes = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT',
  // postgres.js connection-level codes
  'CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED', 'CONNECT_TIMEOUT',
  // PostgreSQL query_canceled (statement_timeout) and admin shutdown
  '57014', '57P01',
]);

/** True for "the store is down or too slow", as opposed to a bug: those become 503, not 500. */
export function isStoreUnavailable(error: unknown): boolean {
  if (error instanceof TimeoutError) return true;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && unavailableCodes.has(code)) return true;
  return typeof message === 'string' && /Command timed out|Connection is closed|Stream isn't writeable|max retries per request/i.test(message);
}
