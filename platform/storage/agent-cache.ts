import type { Redis } from 'ioredis';

const CACHE_TTL_S = 600;

export async function readAgentCache(redis: Redis, key: string): Promise<string | null> {
  return redis.get(`agent_cache:${key}`);
}

export async function writeAgentCache(redis: Redis, key: string, value: string): Promise<void> {
  await redis.set(`agent_cache:${key}`, value, 'EX', CACHE_TTL_S);
}
