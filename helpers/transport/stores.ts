/**
 * Direct probes of PostgreSQL (postgres.js) and Redis (ioredis), for when the suite is given
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
import postgres from 'postgres';
import { Redis } from 'ioredis';
import { CheckError, messageOf, type Layer } from '../core/errors.ts';
import { errorCode, layerOfNetworkCode } from '../core/network-errors.ts';
import { redactSecrets } from '../core/redact.ts';
import { runScopedKeyPrefix } from '../core/run-names.ts';
import { rate, type Rate } from '../core/stats.ts';

// ---------------------------------------------------------------------------------------------
// Shared

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

function urlSecrets(url: string): string[] {
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
async function within<T>(promise: Promise<T>, ms: number): Promise<{ timedOut: false; value: T } | { timedOut: true }> {
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

// ---------------------------------------------------------------------------------------------
// PostgreSQL

export interface PostgresProbeOptions {
  /** `select 1` round trips to time (default 10). */
  samples?: number;
  /** Connect + startup + auth budget (default 3000 ms). */
  connectTimeoutMs?: number;
  /** Budget per query (default 3000 ms). */
  queryTimeoutMs?: number;
  /** Shown to the server as application_name `stagecheck-<runId>`. */
  runId: string;
}

export interface StoreSampleFailure {
  index: number;
  error: CheckError;
  /** false when the sample was skipped by the fail-fast rule. */
  attempted: boolean;
}

export interface PostgresProbeResult {
  /** `host:port/db`. */
  endpoint: string;
  /** ms per successful `select 1`, in sample order. */
  samples: number[];
  failures: StoreSampleFailure[];
  /** Samples asked for (successes + failures). */
  total: number;
  successCount: number;
  rate: Rate;
  serverVersion?: string;
  /** Time to the first answer on a new connection: TCP + startup + auth + one query round trip, ms. */
  connectMs: number;
}

function classifyPostgres(error: unknown, endpoint: string, phase: 'connect' | 'query', elapsedMs: number, secrets: string[]): CheckError {
  const code = errorCode(error);
  const message = redactSecrets(messageOf(error), secrets);
  let layer: Layer | undefined;
  let shownCode: string | undefined = code;
  const isPostgresError = (error as { name?: unknown } | null)?.name === 'PostgresError';
  if (code === 'CONNECT_TIMEOUT') {
    layer = 'tcp';
  } else if (isPostgresError && code === '57014') {
    layer = 'budget'; // query_canceled: statement_timeout on the server side
  } else if (isPostgresError) {
    layer = 'protocol';
  } else if (code === 'CONNECTION_CLOSED' || code === 'CONNECTION_ENDED' || code === 'CONNECTION_DESTROYED') {
    layer = 'tcp';
    shownCode = 'CONNECTION_CLOSED';
  } else if (code !== undefined && layerOfNetworkCode(code) !== undefined) {
    layer = layerOfNetworkCode(code);
  } else if (code === 'SASL_SIGNATURE_MISMATCH' || code === 'AUTH_TYPE_NOT_IMPLEMENTED' || code === 'MESSAGE_NOT_SUPPORTED' || code === 'UNSAFE_TRANSACTION') {
    layer = 'protocol';
  } else if (error !== null && typeof error === 'object' && 'syscall' in error) {
    layer = 'tcp';
  }
  if (layer === undefined) {
    // Not something the target did that we recognise: surface it as a harness error.
    throw error instanceof Error ? error : new Error(message);
  }
  const sqlState = isPostgresError ? { sqlState: code, severity: (error as { severity?: unknown }).severity } : {};
  return new CheckError(
    `PostgreSQL ${endpoint}: ${phase === 'connect' ? 'connect' : 'query'} failed at ${layer}${shownCode ? ` (${shownCode})` : ''}: ${message}`,
    { component: 'postgres', layer, endpoint, code: shownCode, elapsedMs, evidence: { phase, error: message, ...sqlState } },
    { cause: error },
  );
}

/**
 * Time `samples` × `select 1` on one connection (max: 1, no prepared statements, no type fetch),
 * after a first `current_setting('server_version')` that opens the connection. Never writes. The
 * client is always ended.
 */
export async function probePostgres(url: string, options: PostgresProbeOptions): Promise<PostgresProbeResult> {
  const endpoint = describeStoreUrl(url);
  const secrets = urlSecrets(url);
  const total = options.samples ?? 10;
  const connectTimeoutMs = options.connectTimeoutMs ?? 3000;
  const queryTimeoutMs = options.queryTimeoutMs ?? 3000;
  runKeyPrefix(options.runId); // validates the runId
  const sql = postgres(url, {
    max: 1,
    connect_timeout: connectTimeoutMs / 1000,
    idle_timeout: 5,
    max_lifetime: null,
    prepare: false,
    fetch_types: false,
    onnotice: () => {},
    connection: { application_name: `stagecheck-${options.runId}` },
  });
  let silent = false;
  try {
    // The first query opens the connection (max: 1, so every later query uses the same one) and reads
    // the server version. postgres.js bounds startup + auth with connect_timeout (CONNECT_TIMEOUT);
    // past that the connection is up and only the query can be unanswered.
    // (Not sql.reserve(): with fetch_types off it never resolves on a fresh connection in 3.4.)
    const connectStarted = performance.now();
    const first = await within(
      sql`select current_setting('server_version') as server_version`,
      connectTimeoutMs + queryTimeoutMs,
    ).catch((error: unknown) => {
      throw classifyPostgres(error, endpoint, 'connect', performance.now() - connectStarted, secrets);
    });
    if (first.timedOut) {
      silent = true;
      throw new CheckError(`PostgreSQL ${endpoint}: connected, but the first query got no answer within ${queryTimeoutMs} ms`, {
        component: 'postgres',
        layer: 'budget',
        endpoint,
        code: 'QUERY_TIMEOUT',
        elapsedMs: performance.now() - connectStarted,
        evidence: { connectTimeoutMs, queryTimeoutMs },
      });
    }
    const connectMs = performance.now() - connectStarted;
    const result: PostgresProbeResult = { endpoint, samples: [], failures: [], total, successCount: 0, rate: rate(0, total), connectMs };
    const version = first.value[0]?.server_version;
    if (typeof version === 'string') result.serverVersion = version;

    const timedQuery = async <T>(run: () => Promise<T>): Promise<{ ok: true; value: T; ms: number } | { ok: false; error: CheckError; ms: number; timedOut: boolean }> => {
      const started = performance.now();
      try {
        const outcome = await within(run(), queryTimeoutMs);
        const ms = performance.now() - started;
        if (outcome.timedOut) {
          return {
            ok: false,
            ms,
            timedOut: true,
            error: new CheckError(`PostgreSQL ${endpoint}: query got no answer within ${queryTimeoutMs} ms`, {
              component: 'postgres',
              layer: 'budget',
              endpoint,
              code: 'QUERY_TIMEOUT',
              elapsedMs: ms,
              evidence: { queryTimeoutMs },
            }),
          };
        }
        return { ok: true, value: outcome.value, ms };
      } catch (error) {
        const ms = performance.now() - started;
        return { ok: false, ms, timedOut: false, error: classifyPostgres(error, endpoint, 'query', ms, secrets) };
      }
    };

    for (let index = 0; index < total; index++) {
      if (silent) {
        const cause = result.failures[result.failures.length - 1]?.error;
        result.failures.push({
          index,
          attempted: false,
          error:
            cause ??
            new CheckError(`PostgreSQL ${endpoint}: not attempted, the connection stopped answering`, {
              component: 'postgres',
              layer: 'budget',
              endpoint,
              code: 'QUERY_TIMEOUT',
              evidence: { queryTimeoutMs },
            }),
        });
        continue;
      }
      const sample = await timedQuery(() => sql`select 1 as one`);
      if (sample.ok) {
        result.samples.push(sample.ms);
      } else {
        result.failures.push({ index, attempted: true, error: sample.error });
        if (sample.timedOut || sample.error.details.code === 'CONNECTION_CLOSED') silent = true;
      }
    }
    result.successCount = result.samples.length;
    result.rate = rate(result.successCount, total);
    return result;
  } finally {
    // Graceful for a healthy server; immediate for a silent one (a pending query never finishes).
    await sql.end({ timeout: silent ? 0 : 1 }).catch(() => {});
  }
}

// ---------------------------------------------------------------------------------------------
// Redis

export interface RedisProbeOptions {
  /** PING + SET + GET rounds (default 10). */
  samples?: number;
  /** Connect budget and budget per command (default 2000 ms). */
  timeoutMs?: number;
  runId: string;
}

export interface RedisSample {
  ok: boolean;
  /** PING + SET + GET of this sample, ms (time until failure for a failed one). */
  ms: number;
  /** PING alone, ms. */
  pingMs?: number;
  error?: CheckError;
  /** false when skipped by the fail-fast rule. */
  attempted: boolean;
}

export interface RedisProbeResult {
  /** `host:port/db`. */
  endpoint: string;
  samples: RedisSample[];
  /** TCP (+TLS) connect and the connection handshake (AUTH/SELECT when configured), ms. */
  connectMs: number;
  successCount: number;
  total: number;
  rate: Rate;
}

const REDIS_CONNECTION_LOST = [/Connection is closed/i, /Stream isn't writeable/i, /MaxRetriesPerRequest/i, /Reached the max retries/i];

function classifyRedis(error: unknown, endpoint: string, what: string, elapsedMs: number, timeoutMs: number, secrets: string[]): CheckError {
  const message = redactSecrets(messageOf(error), secrets);
  const code = errorCode(error);
  const name = (error as { name?: unknown } | null)?.name;
  let layer: Layer | undefined;
  let shownCode: string | undefined = code;
  if (/Command timed out/i.test(message)) {
    layer = 'budget';
    shownCode = 'COMMAND_TIMEOUT';
  } else if (name === 'ReplyError') {
    layer = 'protocol';
    shownCode = /^[A-Z][A-Z_-]+/.exec(messageOf(error))?.[0] ?? 'ERR';
  } else if (code === 'ETIMEDOUT' && /connect ETIMEDOUT/.test(message)) {
    layer = 'tcp';
    shownCode = 'CONNECT_TIMEOUT';
  } else if (code !== undefined && layerOfNetworkCode(code) !== undefined) {
    layer = layerOfNetworkCode(code);
  } else if (REDIS_CONNECTION_LOST.some((pattern) => pattern.test(message))) {
    layer = 'tcp';
    shownCode = 'CONNECTION_CLOSED';
  } else if (error !== null && typeof error === 'object' && 'syscall' in error) {
    layer = 'tcp';
  }
  if (layer === undefined) throw error instanceof Error ? error : new Error(message);
  return new CheckError(
    `Redis ${endpoint}: ${what} failed at ${layer}${shownCode ? ` (${shownCode})` : ''}: ${message}`,
    { component: 'redis', layer, endpoint, code: shownCode, elapsedMs, evidence: { what, error: message, timeoutMs } },
    { cause: error },
  );
}

function newRedis(url: string, timeoutMs: number): { redis: Redis; lastError: () => unknown } {
  let last: unknown;
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    enableReadyCheck: false, // "ready" = connected (+AUTH/SELECT); the first PING is the first measured answer
    disableClientInfo: true,
    protocol: 2, // RESP2: no HELLO round trip in the handshake (ioredis 6 defaults to RESP3)
    autoResubscribe: false,
    autoResendUnfulfilledCommands: false,
    retryStrategy: () => null, // no reconnect storms: one connection per probe
    reconnectOnError: () => false,
  });
  redis.on('error', (error: unknown) => {
    last = error; // surfaced through the promise that failed; the event must not be unhandled
  });
  return { redis, lastError: () => last };
}

async function connectRedis(redis: Redis, endpoint: string, timeoutMs: number, secrets: string[], lastError: () => unknown): Promise<number> {
  const started = performance.now();
  // ioredis bounds TCP connect (connectTimeout) and each handshake command (commandTimeout); the
  // race is a backstop covering both.
  const outcome = await within(redis.connect(), 2 * timeoutMs + 500).catch((error: unknown) => {
    const cause = lastError() ?? error;
    throw classifyRedis(
      /Connection is closed/i.test(messageOf(error)) && cause !== error ? cause : error,
      endpoint,
      'connect',
      performance.now() - started,
      timeoutMs,
      secrets,
    );
  });
  if (outcome.timedOut) {
    const tcpConnected = redis.status === 'connect';
    throw new CheckError(`Redis ${endpoint}: ${tcpConnected ? 'connected but the handshake got no answer' : 'no connection'} within ${2 * timeoutMs + 500} ms`, {
      component: 'redis',
      layer: tcpConnected ? 'budget' : 'tcp',
      endpoint,
      code: tcpConnected ? 'COMMAND_TIMEOUT' : 'CONNECT_TIMEOUT',
      elapsedMs: performance.now() - started,
      evidence: { status: redis.status, timeoutMs },
    });
  }
  return performance.now() - started;
}

/**
 * `samples` × (PING, SET `e2e:<runId>:probe:<i>` EX 60, GET back) on one connection. Throws when no
 * connection can be made; otherwise returns every sample's outcome. Always disconnects.
 */
export async function probeRedis(url: string, options: RedisProbeOptions): Promise<RedisProbeResult> {
  const endpoint = describeStoreUrl(url);
  const secrets = urlSecrets(url);
  const total = options.samples ?? 10;
  const timeoutMs = options.timeoutMs ?? 2000;
  const prefix = runKeyPrefix(options.runId);
  const { redis, lastError } = newRedis(url, timeoutMs);
  try {
    const connectMs = await connectRedis(redis, endpoint, timeoutMs, secrets, lastError);
    const samples: RedisSample[] = [];
    let fatal: CheckError | undefined;
    for (let index = 0; index < total; index++) {
      if (fatal !== undefined) {
        samples.push({ ok: false, ms: 0, error: fatal, attempted: false });
        continue;
      }
      const key = `${prefix}probe:${index}`;
      const value = `${options.runId}:${index}:${Date.now()}`;
      const started = performance.now();
      let step = 'PING';
      let pingMs: number | undefined;
      try {
        const pong = await redis.ping();
        pingMs = performance.now() - started;
        if (pong !== 'PONG') {
          throw new CheckError(`Redis ${endpoint}: PING answered ${JSON.stringify(pong)}`, {
            component: 'redis',
            layer: 'protocol',
            endpoint,
            code: 'UNEXPECTED_REPLY',
            evidence: { reply: String(pong) },
          });
        }
        step = `SET ${key}`;
        await guardedSet(redis, key, value, options.runId, 60);
        step = `GET ${key}`;
        const read = await redis.get(key);
        if (read !== value) {
          throw new CheckError(`Redis ${endpoint}: GET ${key} did not return the value just SET`, {
            component: 'redis',
            layer: 'content',
            endpoint,
            code: 'VALUE_MISMATCH',
            evidence: { key, expected: value, got: read },
          });
        }
        samples.push({ ok: true, ms: performance.now() - started, pingMs, attempted: true });
      } catch (error) {
        const ms = performance.now() - started;
        const checkError = error instanceof CheckError ? error : classifyRedis(error, endpoint, step, ms, timeoutMs, secrets);
        samples.push({ ok: false, ms, pingMs, error: checkError, attempted: true });
        const { layer, code } = checkError.details;
        if ((layer === 'budget' && code === 'COMMAND_TIMEOUT') || (layer === 'tcp' && code === 'CONNECTION_CLOSED')) fatal = checkError;
      }
    }
    const successCount = samples.filter((s) => s.ok).length;
    return { endpoint, samples, connectMs, successCount, total, rate: rate(successCount, total) };
  } finally {
    redis.disconnect();
  }
}

/**
 * Delete this run's keys: SCAN MATCH `e2e:<runId>:*` + DEL, each key re-checked by the guard.
 * Returns how many keys were deleted.
 */
export async function cleanupRedisRunKeys(url: string, runId: string, options: { timeoutMs?: number } = {}): Promise<{ deleted: number }> {
  const endpoint = describeStoreUrl(url);
  const secrets = urlSecrets(url);
  const timeoutMs = options.timeoutMs ?? 2000;
  const prefix = runKeyPrefix(runId);
  const { redis, lastError } = newRedis(url, timeoutMs);
  let deleted = 0;
  try {
    await connectRedis(redis, endpoint, timeoutMs, secrets, lastError);
    let cursor = '0';
    const started = performance.now();
    do {
      let reply: [string, string[]];
      try {
        reply = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 200);
      } catch (error) {
        throw classifyRedis(error, endpoint, `SCAN ${prefix}*`, performance.now() - started, timeoutMs, secrets);
      }
      cursor = reply[0];
      const keys = reply[1];
      for (const key of keys) assertRunKey(key, runId);
      if (keys.length > 0) {
        try {
          deleted += await redis.del(...keys);
        } catch (error) {
          throw classifyRedis(error, endpoint, `DEL ${keys.length} keys`, performance.now() - started, timeoutMs, secrets);
        }
      }
    } while (cursor !== '0');
    return { deleted };
  } finally {
    redis.disconnect();
  }
}

/** Throws the first failed sample's CheckError, with the success rate added, if any sample failed. */
export function assertStoreProbe(result: PostgresProbeResult | RedisProbeResult): void {
  const first =
    'failures' in result ? result.failures[0]?.error : result.samples.find((sample) => !sample.ok)?.error;
  if (first === undefined) return;
  first.details.evidence = { ...first.details.evidence, rate: result.rate.text };
  throw first;
}
