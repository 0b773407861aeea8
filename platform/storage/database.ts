import postgres from 'postgres';
import { withTimeout } from '../util/time.ts';

/** Server-side cap on any statement the platform runs. */
export const STATEMENT_TIMEOUT_MS = 5000;
/** Client-side cap: also covers a slow or silent network path, which statement_timeout cannot. */
export const QUERY_TIMEOUT_MS = 6000;

export type Sql = postgres.Sql;

/** The platform's runtime pool; `url` points at the PostgreSQL fault proxy. */
export function createDatabase(url: string, schema: string): Sql {
  return postgres(url, {
    max: 10,
    connect_timeout: 3,
    idle_timeout: 30,
    // The default backoff grows to seconds while a store is down; recover promptly once it is back.
    backoff: (attempt: number) => Math.min(0.05 * attempt, 0.25),
    onnotice: () => {},
    connection: { application_name: 'refplat', search_path: schema, statement_timeout: STATEMENT_TIMEOUT_MS },
  });
}

/**
 * Runs one query under the client-side deadline. A query that lands on a pooled connection the
 * server side already dropped (right after an outage ends) fails with CONNECTION_CLOSED before
 * any result: it is retried once on a fresh connection, as a real pool's health check would.
 */
export async function timed<T>(label: string, query: () => PromiseLike<T>, ms = QUERY_TIMEOUT_MS): Promise<T> {
  const started = Date.now();
  try {
    return await withTimeout(Promise.resolve(query()), ms, `postgres ${label}`);
  } catch (error) {
    const left = ms - (Date.now() - started);
    if ((error as { code?: string }).code !== 'CONNECTION_CLOSED' || left <= 0) throw error;
    return withTimeout(Promise.resolve(query()), left, `postgres ${label}`);
  }
}
