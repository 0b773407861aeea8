/**
 * Direct probes of PostgreSQL (postgres.js, stores-postgres.ts) and Redis (ioredis, stores-redis.ts), for when the suite is given
 * STAGING_DATABASE_URL / STAGING_REDIS_URL. Read-only, except Redis keys under `e2e:<runId>:` with a
 * TTL (enforced by {@link assertRunKey} / {@link guardedSet}).
 *
 * Failures are CheckErrors with component 'postgres' / 'redis':
 *
 * | what happened                                   | layer      | code                                  |
 * |-------------------------------------------------|------------|---------------------------------------|
 * | host does not resolve                           | `dns`      | ENOTFOUND / EAI_AGAIN                 |
 * | connection refused / reset / unreachable        | `tcp`      | ECONNREFUSED / ECONNRESET / ...       |
 * | no connection (or, for PostgreSQL, no startup   | `tcp`      | CONNECT_TIMEOUT                       |
 * |   answer) within the connect timeout            |            |                                       |
 * | TLS problem                                     | `tls`      | the Node/OpenSSL code                 |
 * | server answered with an error (auth, SQL,       | `protocol` | PostgreSQL SQLSTATE (28P01, 3D000...) |
 * |   NOAUTH/WRONGPASS/LOADING/READONLY...)         |            |   or the Redis error word             |
 * | connection dropped mid-probe                    | `tcp`      | CONNECTION_CLOSED                     |
 * | a query/command got no answer in its budget     | `budget`   | QUERY_TIMEOUT / COMMAND_TIMEOUT       |
 * | GET did not read back the value just SET        | `content`  | VALUE_MISMATCH                        |
 *
 * A connection that cannot be established makes the probe throw (no sample could be taken). Once
 * connected, each sample's outcome is recorded and the probe returns.
 *
 * Fail-fast rule (both stores): after the first sample that times out, the connection is treated as
 * silent: the remaining samples are *not attempted* and are recorded as failed with the same cause
 * (`attempted: false`). So a silent Redis is reported after ~connect + one `timeoutMs` however many
 * samples were asked for. The KPIs these feed (Redis connectivity 100%, database p95) fail on the
 * first timed-out sample anyway, so skipping the rest changes no verdict, only the wait.
 */
import type { PostgresProbeResult } from './stores-postgres.ts';
import type { RedisProbeResult } from './stores-redis.ts';

export { probePostgres, type PostgresProbeOptions, type PostgresProbeResult } from './stores-postgres.ts';
export { cleanupRedisRunKeys, probeRedis, type RedisProbeOptions, type RedisProbeResult, type RedisSample } from './stores-redis.ts';
export { assertRunKey, describeStoreUrl, guardedSet, runKeyPrefix, type StoreSampleFailure } from './stores-shared.ts';

/** Throws the first failed sample's CheckError, with the success rate added, if any sample failed. */
export function assertStoreProbe(result: PostgresProbeResult | RedisProbeResult): void {
  const first =
    'failures' in result ? result.failures[0]?.error : result.samples.find((sample) => !sample.ok)?.error;
  if (first === undefined) return;
  first.details.evidence = { ...first.details.evidence, rate: result.rate.text };
  throw first;
}
