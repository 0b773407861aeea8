import type { PlatformContext } from '../context.ts';
import { timed } from '../storage/database.ts';
import { errorMessage, withTimeout } from '../util/time.ts';

/** Generous enough that `pg_slow` shows up as a measured latency, not as an outage. */
const POSTGRES_CHECK_TIMEOUT_MS = 5000;
const REDIS_CHECK_TIMEOUT_MS = 1000;

export interface StoreCheck {
  status: 'healthy' | 'unhealthy';
  connected: boolean;
  response_time_ms: number;
  error: string | null;
}

async function measure(probe: () => Promise<unknown>): Promise<StoreCheck> {
  const started = performance.now();
  try {
    await probe();
    return { status: 'healthy', connected: true, response_time_ms: Math.round((performance.now() - started) * 10) / 10, error: null };
  } catch (error) {
    return { status: 'unhealthy', connected: false, response_time_ms: Math.round((performance.now() - started) * 10) / 10, error: errorMessage(error) };
  }
}

/** What a health endpoint says about PostgreSQL under `health_lies`, without asking it. */
export function liedPostgresCheck(): StoreCheck {
  return { status: 'healthy', connected: true, response_time_ms: 1.2, error: null };
}

/** A real round trip through the proxy, as the suite's own probe would do (except under `health_lies`). */
export function checkPostgres(context: PlatformContext): Promise<StoreCheck> {
  if (context.behaviour.has('health_lies')) return Promise.resolve(liedPostgresCheck());
  return measure(() => timed('health check', () => context.sql`SELECT 1 AS ok`, POSTGRES_CHECK_TIMEOUT_MS));
}

export function checkRedis(context: PlatformContext): Promise<StoreCheck> {
  return measure(async () => {
    const reply = await withTimeout(context.redis.ping(), REDIS_CHECK_TIMEOUT_MS, 'redis PING');
    if (reply !== 'PONG') throw new Error(`unexpected PING reply ${String(reply)}`);
  });
}

export async function checkStores(context: PlatformContext): Promise<{ postgres: StoreCheck; redis: StoreCheck }> {
  const [postgres, redis] = await Promise.all([checkPostgres(context), checkRedis(context)]);
  return { postgres, redis };
}
