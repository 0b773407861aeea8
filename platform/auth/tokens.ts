import { errors, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import { newId } from '../util/ids.ts';

export const ISSUER = 'netra-auth-service';
export const AUDIENCE = 'netra-platform';
export const REFRESH_TTL_S = 7 * 24 * 3600;

export type TokenType = 'access' | 'refresh';

export interface TokenSettings {
  secret: Uint8Array;
  accessTtlS: number;
}

export interface TokenClaims {
  sub: string;
  email: string;
  permissions: string[];
  token_type: TokenType;
  jti: string;
  iat: number;
  exp: number;
}

export interface Principal {
  id: string;
  email: string;
  permissions?: string[];
}

export interface IssuedPair {
  access_token: string;
  refresh_token: string;
  access: TokenClaims;
  refresh: TokenClaims;
}

export const DEFAULT_PERMISSIONS = ['read', 'write'];

async function sign(settings: TokenSettings, principal: Principal, type: TokenType, ttlS: number): Promise<{ token: string; claims: TokenClaims }> {
  const iat = Math.floor(Date.now() / 1000);
  const claims: TokenClaims = {
    sub: principal.id,
    email: principal.email,
    permissions: principal.permissions ?? DEFAULT_PERMISSIONS,
    token_type: type,
    jti: newId(),
    iat,
    exp: iat + ttlS,
  };
  const token = await new SignJWT({ email: claims.email, permissions: claims.permissions, token_type: type })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(claims.sub)
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setJti(claims.jti)
    .setIssuedAt(iat)
    .setExpirationTime(claims.exp)
    .sign(settings.secret);
  return { token, claims };
}

export async function issuePair(settings: TokenSettings, principal: Principal): Promise<IssuedPair> {
  const [access, refresh] = await Promise.all([
    sign(settings, principal, 'access', settings.accessTtlS),
    sign(settings, principal, 'refresh', REFRESH_TTL_S),
  ]);
  return { access_token: access.token, refresh_token: refresh.token, access: access.claims, refresh: refresh.claims };
}

export type VerifyResult = { ok: true; claims: TokenClaims } | { ok: false; error: string };

function describeJoseError(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'token expired';
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'invalid token signature';
  if (error instanceof errors.JWTClaimValidationFailed) return `invalid token claim: ${error.claim}`;
  if (error instanceof errors.JOSEAlgNotAllowed) return 'token algorithm not allowed';
  return 'malformed token';
}

/** Signature, algorithm, iss, aud, exp and the expected token_type. Revocation is checked by the caller. */
export async function verifyToken(settings: TokenSettings, token: string, expected: TokenType): Promise<VerifyResult> {
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, settings.secret, { algorithms: ['HS256'], issuer: ISSUER, audience: AUDIENCE, requiredClaims: ['sub', 'exp', 'iat', 'jti'] }));
  } catch (error) {
    return { ok: false, error: describeJoseError(error) };
  }
  if (payload.token_type !== expected) {
    return { ok: false, error: `wrong token type: expected ${expected}, got ${String(payload.token_type ?? 'none')}` };
  }
  return {
    ok: true,
    claims: {
      sub: String(payload.sub),
      email: typeof payload.email === 'string' ? payload.email : '',
      permissions: Array.isArray(payload.permissions) ? payload.permissions.map(String) : [],
      token_type: expected,
      jti: String(payload.jti),
      iat: Number(payload.iat),
      exp: Number(payload.exp),
    },
  };
}
