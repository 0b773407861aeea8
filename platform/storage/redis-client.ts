import { Redis } from 'ioredis';

/** Short, so a black-holed Redis shows up as an error within a second instead of hanging requests. */
export const REDIS_COMMAND_TIMEOUT_MS = 1000;

/** The platform's Redis connection; `url` points at the Redis fault proxy. */
export function createRedis(url: string, keyPrefix: string): Redis {
  const client = new Redis(url, {
    keyPrefix,
    lazyConnect: true,
    commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
    connectTimeout: 2000,
    maxRetriesPerRequest: 1,
    // Reconnect quickly after a fault is cleared; the platform must recover on its own.
    retryStrategy: (attempt) => Math.min(50 * attempt, 500),
  });
  // Connection errors surface on the commands that need Redis; the event itself is noise.
  client.on('error', () => {});
  return client;
}
