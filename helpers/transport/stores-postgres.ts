/**
 * The direct PostgreSQL probe (postgres.js): timed `select 1` samples on one connection, failures
 * classified as in the table of helpers/transport/stores.ts. Never writes.
 */
import { CheckError, messageOf, type Layer } from '../core/errors.ts';
import { errorCode, layerOfNetworkCode } from '../core/network-errors.ts';
import { redactSecrets } from '../core/redact.ts';
import { rate, type Rate } from '../core/stats.ts';
import { describeStoreUrl, runKeyPrefix, urlSecrets, within, type StoreSampleFailure } from './stores-shared.ts';

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
  // The driver loads when a probe first runs, not with the suite (as ioredis, stores-redis.ts).
  const { default: connect } = await import('postgres');
  const sql = connect(url, {
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
