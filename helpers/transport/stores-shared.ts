/**
 * What the PostgreSQL and Redis probes (stores-postgres.ts, stores-redis.ts) share: the store
 * endpoint as shown, the URL's secrets, a deadline race, and the guard that keeps every Redis
 * write under `e2e:<runId>:`.
 */
import type { Redis } from 'ioredis';
import type { CheckError } from '../core/errors.ts';
import { runScopedKeyPrefix } from '../core/run-names.ts';

export interface StoreSampleFailure {
  index: number;
  error: CheckError;
  /** false when the sample was skipped by the fail-fast rule. */
  attempted: boolean;
}

/** `host:port/db` of a postgres/redis URL, never with credentials. */
export function describeStoreUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return '[unparseable store URL]';
  }
  const isRedis = parsed.protocol === 'redis:' || parsed.protocol === 'rediss:';
  const defaultPort = isRedis ? '6379' : '5432';
  const host = parsed.hostname || 'localhost';
  const db = parsed.pathname.replace(/^\//, '') || (isRedis ? '0' : '');
  return `${host}:${parsed.port || defaultPort}/${db}`;
}

export function urlSecrets(url: string): string[] {
  try {
    const parsed = new URL(url);
    const secrets = [parsed.password, decodeURIComponent(parsed.password)];
    const queryPassword = parsed.searchParams.get('password');
    if (queryPassword) secrets.push(queryPassword);
    return secrets.filter((s) => s !== '');
  } catch {
    return [];
  }
}

/** Race a promise against a deadline; resolves `{ timedOut: true }` at the deadline. */
export async function within<T>(promise: Promise<T>, ms: number): Promise<{ timedOut: false; value: T } | { timedOut: true }> {
  let timer: NodeJS.Timeout | undefined;
  promise.catch(() => {}); // a late rejection after the deadline is not unhandled
  try {
    return await Promise.race([
      promise.then((value) => ({ timedOut: false as const, value })),
      new Promise<{ timedOut: true }>((resolve) => {
        timer = setTimeout(() => resolve({ timedOut: true }), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** The only Redis key prefix the suite may write: `e2e:<runId>:`. Throws (harness error) on a bad runId. */
export function runKeyPrefix(runId: string): string {
  if (!RUN_ID.test(runId)) {
    // Letters, digits, '.', '_', '-' only: no ':' (prefix ambiguity) and no glob characters (SCAN MATCH).
    throw new Error(`stores: invalid runId ${JSON.stringify(runId)} for Redis keys`);
  }
  return runScopedKeyPrefix(runId);
}

/** Throws a plain Error (a harness bug, never a target failure) for any key outside `e2e:<runId>:`. */
export function assertRunKey(key: string, runId: string): void {
  const prefix = runKeyPrefix(runId);
  if (!key.startsWith(prefix) || key.length === prefix.length) {
    throw new Error(`stores: refusing to touch Redis key ${JSON.stringify(key)}: only keys under ${prefix} are allowed`);
  }
}

/** SET with a mandatory TTL, only under `e2e:<runId>:`. */
export async function guardedSet(redis: Redis, key: string, value: string, runId: string, ttlSeconds = 60): Promise<void> {
  assertRunKey(key, runId);
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > 3600) {
    throw new Error(`stores: refusing to SET ${key} with TTL ${ttlSeconds}: a TTL of 1..3600 s is required`);
  }
  await redis.set(key, value, 'EX', ttlSeconds);
}
