/**
 * The direct Redis probe (ioredis): PING + SET + GET samples on one connection under
 * `e2e:<runId>:`, and the cleanup of this run's keys; failures classified as in the table of
 * helpers/transport/stores.ts.
 */
import type { Redis } from 'ioredis';
import { CheckError, messageOf, type Layer } from '../core/errors.ts';
import { errorCode, layerOfNetworkCode } from '../core/network-errors.ts';
import { redactSecrets } from '../core/redact.ts';
import { rate, type Rate } from '../core/stats.ts';
import { assertRunKey, describeStoreUrl, guardedSet, runKeyPrefix, urlSecrets, within } from './stores-shared.ts';

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

/**
 * A client for one probe. ioredis is imported here, when a probe first runs, not with the suite:
 * the other checks start without waiting for it (docs/performance.md).
 */
async function newRedis(url: string, timeoutMs: number): Promise<{ redis: Redis; lastError: () => unknown }> {
  const { Redis: RedisClient } = await import('ioredis');
  let last: unknown;
  const redis = new RedisClient(url, {
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
  const { redis, lastError } = await newRedis(url, timeoutMs);
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
  const { redis, lastError } = await newRedis(url, timeoutMs);
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
