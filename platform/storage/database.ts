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
    onnotice: () => {},
    connection: { application_name: 'refplat', search_path: schema, statement_timeout: STATEMENT_TIMEOUT_MS },
  });
}

/** Runs one store call under the client-side deadline. */
export function timed<T>(query: PromiseLike<T>, label: string, ms = QUERY_TIMEOUT_MS): Promise<T> {
  return withTimeout(Promise.resolve(query), ms, `postgres ${label}`);
}
