import type { Redis } from 'ioredis';

/** Seconds until a unix `exp`, at least 1 so Redis always gets a valid TTL. */
function ttlUntil(exp: number): number {
  return Math.max(1, Math.ceil(exp - Date.now() / 1000));
}

/** Access-token revocation list: `revoked:<jti>` lives exactly as long as the token would. */
export async function revokeAccessToken(redis: Redis, jti: string, exp: number): Promise<void> {
  await redis.set(`revoked:${jti}`, '1', 'EX', ttlUntil(exp));
}

export async function isAccessTokenRevoked(redis: Redis, jti: string): Promise<boolean> {
  return (await redis.exists(`revoked:${jti}`)) === 1;
}

/**
 * Refresh rotation: a refresh jti may be spent once. `refresh_spent:<jti>` records it as used
 * (rotated) or revoked (logout); SET NX makes two concurrent refreshes with one token race safely.
 */
export async function spendRefreshToken(redis: Redis, jti: string, exp: number): Promise<'ok' | 'used' | 'revoked'> {
  const set = await redis.set(`refresh_spent:${jti}`, 'used', 'EX', ttlUntil(exp), 'NX');
  if (set === 'OK') return 'ok';
  return (await redis.get(`refresh_spent:${jti}`)) === 'revoked' ? 'revoked' : 'used';
}

/** Remembers which refresh token was issued with an access token, so logout can revoke both. */
export async function linkTokenPair(redis: Redis, accessJti: string, accessExp: number, refreshJti: string, refreshExp: number): Promise<void> {
  await redis.set(`token_pair:${accessJti}`, JSON.stringify({ refreshJti, refreshExp }), 'EX', ttlUntil(accessExp));
}

export async function revokeRefreshOfAccess(redis: Redis, accessJti: string): Promise<boolean> {
  const raw = await redis.get(`token_pair:${accessJti}`);
  if (!raw) return false;
  const { refreshJti, refreshExp } = JSON.parse(raw) as { refreshJti: string; refreshExp: number };
  await redis.set(`refresh_spent:${refreshJti}`, 'revoked', 'EX', ttlUntil(refreshExp));
  return true;
}
