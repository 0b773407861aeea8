import type { PlatformContext } from '../context.ts';
import { HttpError, type RequestContext } from '../http/router.ts';
import { isAccessTokenRevoked } from '../storage/token-state.ts';
import { errorMessage } from '../util/time.ts';
import { verifyToken, type TokenClaims } from './tokens.ts';

export type AuthResult = { ok: true; claims: TokenClaims } | { ok: false; error: string };

/**
 * What every consumer of an access token checks: signature, iss, aud, exp, token_type, and the
 * Redis revocation list. The revocation check fails open when Redis is unreachable: Redis
 * trouble degrades the platform (as /health/ready reports) rather than locking every user out.
 */
export async function authenticateAccessToken(context: PlatformContext, token: string): Promise<AuthResult> {
  const verified = await verifyToken(context.tokens, token, 'access');
  if (!verified.ok) return verified;
  try {
    if (await isAccessTokenRevoked(context.redis, verified.claims.jti)) return { ok: false, error: 'token revoked' };
  } catch (error) {
    context.log.debug(`revocation check skipped, redis unavailable: ${errorMessage(error)}`);
  }
  return verified;
}

/** Backend routes: the caller's claims, or 401. */
export async function requireUser(context: PlatformContext, request: RequestContext): Promise<TokenClaims> {
  const token = request.bearerToken();
  if (!token) throw new HttpError(401, 'not_authenticated', 'missing bearer token');
  const result = await authenticateAccessToken(context, token);
  if (!result.ok) throw new HttpError(401, 'invalid_token', result.error);
  return result.claims;
}
