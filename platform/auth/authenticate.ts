import { decodeJwt } from 'jose';
import type { PlatformContext } from '../context.ts';
import { HttpError, type RequestContext } from '../http/router.ts';
import { isAccessTokenRevoked } from '../storage/token-state.ts';
import { errorMessage } from '../util/time.ts';
import { verifyToken, type TokenClaims } from './tokens.ts';

export type AuthResult = { ok: true; claims: TokenClaims } | { ok: false; error: string };

/** Who checks the token: the auth service itself, a backend HTTP route, or the WebSocket gateway. */
export type TokenConsumer = 'auth' | 'backend' | 'websocket';

/**
 * Fault ws_accept_invalid_tokens: the claims as the token states them, nothing verified
 * (signature, iss, aud, exp, token_type). A token that does not even decode is "anonymous".
 */
function unverifiedClaims(token: string): TokenClaims {
  let payload: Record<string, unknown> = {};
  try {
    payload = decodeJwt(token);
  } catch {
    // not a JWT at all: accepted anyway
  }
  const now = Math.floor(Date.now() / 1000);
  return {
    sub: typeof payload.sub === 'string' && payload.sub ? payload.sub : 'anonymous',
    email: typeof payload.email === 'string' ? payload.email : '',
    permissions: Array.isArray(payload.permissions) ? payload.permissions.map(String) : [],
    token_type: 'access',
    jti: typeof payload.jti === 'string' ? payload.jti : '',
    iat: typeof payload.iat === 'number' ? payload.iat : now,
    exp: typeof payload.exp === 'number' ? payload.exp : now,
  };
}

/**
 * What every consumer of an access token checks: signature, iss, aud, exp, token_type, and the
 * Redis revocation list. The revocation check fails open when Redis is unreachable: Redis
 * trouble degrades the platform (as /health/ready reports) rather than locking every user out.
 * Faults: `ws_accept_invalid_tokens` drops verification for the WebSocket, `revocation_ignored`
 * drops the revocation check for the backend and the WebSocket (not for the auth service).
 */
export async function authenticateAccessToken(context: PlatformContext, token: string, consumer: TokenConsumer): Promise<AuthResult> {
  const skipVerification = consumer === 'websocket' && context.behaviour.has('ws_accept_invalid_tokens');
  const verified: AuthResult = skipVerification ? { ok: true, claims: unverifiedClaims(token) } : await verifyToken(context.tokens, token, 'access');
  if (!verified.ok) return verified;
  if (consumer !== 'auth' && context.behaviour.has('revocation_ignored')) return verified;
  if (!verified.claims.jti) return verified;
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
  const result = await authenticateAccessToken(context, token, 'backend');
  if (!result.ok) throw new HttpError(401, 'invalid_token', result.error);
  return result.claims;
}
