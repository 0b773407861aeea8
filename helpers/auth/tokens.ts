// Its own layer, above transport and contract: it talks HTTP (transport), asserts the auth service's answers (contract) and mints JWTs.
/**
 * Test identities and their tokens.
 *
 * A TokenSession obtains a token pair the configured way (test-auth, login or local minting),
 * hands out an access token that is always at least `refreshMarginMs` away from expiry
 * (refreshing or re-acquiring ahead of `exp`, read from the token itself because the
 * contract says `expires_in` is not trustworthy), and keeps a history of every token it
 * held so a 401 can be attributed: expired during the run, or a fresh token refused.
 */
import { randomUUID } from 'node:crypto';
// jose's entry points, not its index (~30 ms to load; decoding alone ~8 ms); signing loads only in mint mode.
import { decodeJwt } from 'jose/jwt/decode';
import { CheckError } from '../core/errors.ts';
import { createHttpClient, type HttpClient } from '../transport/http.ts';
import type { FailFastOptions } from '../transport/component-watch.ts';
import { expectStatus } from '../contract/http-checks.ts';
import type { SuiteConfig } from '../core/config.ts';
import { httpDeadlines } from '../core/endpoint-classes.ts';
import { identityEmail, identityName } from '../core/run-names.ts';

export const JWT_ISSUER = 'netra-auth-service';
export const JWT_AUDIENCE = 'netra-platform';

export interface TokenPair {
  accessToken: string;
  refreshToken?: string;
  userId: string;
  email: string;
}

export interface TokenRecord {
  /** How this token came to be. */
  origin: 'test-auth' | 'login' | 'mint' | 'refresh';
  /** Last 8 characters of the token's jti: enough to tell tokens apart, useless to an attacker. */
  jtiTail: string;
  issuedAt: number;
  expiresAt: number;
  /** When the session stopped handing it out (refreshed away or closed). */
  retiredAt?: number;
}

export type Attribution =
  | { kind: 'expired-during-run'; expiredAgoMs: number; token: TokenRecord }
  | { kind: 'fresh-token-refused'; remainingMs: number; token: TokenRecord }
  | { kind: 'unknown-token' };

export interface TokenSessionOptions {
  config: SuiteConfig;
  /**
   * Names the identity: a stable test user `e2e-<prefix>-<label>` (email `<prefix>-<label>@stagecheck.test`),
   * the same in every run (test-auth and minting). With login, the label only names the session.
   */
  label: string;
  /**
   * Login mode: which account this session logs in as (default: STAGING_TEST_EMAIL). Every
   * TokenSession logs in on its own, so it holds a token pair of its own.
   */
  account?: { email: string; password: string };
  /** Refresh when less than this is left. Default: a fifth of the token's lifetime, at least 30 s. */
  refreshMarginMs?: number;
  /** Fail fast once the auth service is confirmed down (transport/component-watch.ts). */
  failFast?: FailFastOptions;
  now?: () => number;
}

export class TokenSession {
  readonly history: TokenRecord[] = [];
  private current?: TokenPair;
  private currentRecord?: TokenRecord;
  private pending?: Promise<TokenPair>;
  private readonly http: HttpClient;
  private readonly now: () => number;

  constructor(private readonly options: TokenSessionOptions) {
    this.http = createHttpClient({
      baseUrl: options.config.authUrl,
      component: 'auth',
      ...httpDeadlines(options.config.budgets),
      ...(options.failFast ? { failFast: options.failFast } : {}),
    });
    this.now = options.now ?? Date.now;
  }

  get email(): string {
    return this.options.config.auth.method === 'login'
      ? (this.options.account?.email ?? (this.options.config.auth.email as string))
      : identityEmail(this.options.config.identityPrefix, this.options.label);
  }

  /** The identity's current pair, acquiring or refreshing first when needed. */
  async pair(): Promise<TokenPair> {
    if (this.current && this.currentRecord && this.currentRecord.expiresAt - this.now() > this.marginFor(this.currentRecord)) {
      return this.current;
    }
    // One refresh at a time: concurrent tests of a worker share the result.
    this.pending ??= this.renew().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  async accessToken(): Promise<string> {
    return (await this.pair()).accessToken;
  }

  /** Explains a 401 received for `token` at `at` (epoch ms). */
  attribute(token: string, at = this.now()): Attribution {
    const jtiTail = tailOfJti(token);
    const record = this.history.find((r) => r.jtiTail === jtiTail);
    if (!record) return { kind: 'unknown-token' };
    return at >= record.expiresAt
      ? { kind: 'expired-during-run', expiredAgoMs: at - record.expiresAt, token: record }
      : { kind: 'fresh-token-refused', remainingMs: record.expiresAt - at, token: record };
  }

  /**
   * Explains a 401 met with the identity's current token, without acquiring one: the token a
   * failed request carried is the current one unless it was renewed since. None held: undefined.
   */
  attributeCurrent(at = this.now()): Attribution | undefined {
    return this.current ? this.attribute(this.current.accessToken, at) : undefined;
  }

  /** Retires the current tokens; the next call acquires a new pair. */
  forget(): void {
    if (this.currentRecord) this.currentRecord.retiredAt = this.now();
    this.current = undefined;
    this.currentRecord = undefined;
  }

  /**
   * A fifth of the lifetime, at least 30 s, but never more than half of it: a token living
   * less than 60 s (a short-TTL deployment) would otherwise be renewed on every single call.
   */
  private marginFor(record: TokenRecord): number {
    if (this.options.refreshMarginMs !== undefined) return this.options.refreshMarginMs;
    const lifetime = record.expiresAt - record.issuedAt;
    return Math.min(Math.max(30_000, lifetime / 5), lifetime / 2);
  }

  private async renew(): Promise<TokenPair> {
    let pair: TokenPair;
    let origin: TokenRecord['origin'];
    // A session that mints its own tokens mints again: a locally signed refresh token is not
    // one the auth service issued, so /auth/refresh owes it nothing.
    if (this.options.config.auth.method !== 'mint' && this.current?.refreshToken && tokenExpiry(this.current.refreshToken) > this.now()) {
      pair = await this.refresh(this.current.refreshToken);
      origin = 'refresh';
    } else {
      origin = this.options.config.auth.method;
      pair = await this.acquire();
    }
    this.forget();
    const record: TokenRecord = {
      origin,
      jtiTail: tailOfJti(pair.accessToken),
      issuedAt: tokenIssuedAt(pair.accessToken) ?? this.now(),
      expiresAt: tokenExpiry(pair.accessToken),
    };
    this.history.push(record);
    this.current = pair;
    this.currentRecord = record;
    return pair;
  }

  private async acquire(): Promise<TokenPair> {
    const { auth } = this.options.config;
    switch (auth.method) {
      case 'test-auth':
        return this.postForPair('/auth/e2e/test-auth', { email: this.email, name: `stagecheck ${this.options.label}` }, {
          'X-E2E-Bypass-Key': auth.bypassKey as string,
        });
      case 'login':
        return this.postForPair('/auth/login', this.options.account ?? { email: auth.email, password: auth.password }, {});
      case 'mint':
        return mintTokenPair(this.options.config, this.options.label);
    }
  }

  private refresh(refreshToken: string): Promise<TokenPair> {
    return this.postForPair('/auth/refresh', { refresh_token: refreshToken }, {});
  }

  private async postForPair(path: string, body: unknown, headers: Record<string, string>): Promise<TokenPair> {
    const result = await this.http.request('POST', path, { body, headers });
    expectStatus(result, 200, `POST ${path}`, 'auth');
    const json = result.json as Record<string, unknown> | undefined;
    const user = json?.user as { id?: unknown; email?: unknown } | undefined;
    const accessToken = json?.access_token;
    if (typeof accessToken !== 'string' || accessToken.split('.').length !== 3) {
      throw new CheckError(`POST ${path} answered 200 without a JWT access_token`, {
        component: 'auth',
        layer: 'content',
        endpoint: path,
        correlationId: result.correlationId,
        evidence: { fields: json ? Object.keys(json) : [] },
      });
    }
    const claims = decodeJwt(accessToken);
    return {
      accessToken,
      refreshToken: typeof json?.refresh_token === 'string' ? json.refresh_token : undefined,
      userId: typeof user?.id === 'string' ? user.id : String(claims.sub),
      email: typeof user?.email === 'string' ? user.email : String(claims.email ?? this.email),
    };
  }
}

export interface MintOptions {
  /** Names the identity: sub `e2e-<prefix>-<label>`, email `<prefix>-<label>@stagecheck.test` (stable across runs). */
  label: string;
  tokenType?: 'access' | 'refresh';
  /** Seconds from `iat` to `exp` (default 30 min). */
  lifetimeS?: number;
  /** `iat` in epoch seconds (default: now). A past `iat` with a short lifetime makes an expired token. */
  issuedAtS?: number;
  /** Default: the contract's `netra-platform`; anything else makes a wrong-audience token. */
  audience?: string;
}

/**
 * Signs one token locally with the contract's full claim set (`sub`, `iat`, `exp`, `jti`,
 * `token_type`, `iss`, `aud`, `email`, `permissions`), with STAGING_JWT_SECRET.
 */
export async function mintToken(config: SuiteConfig, options: MintOptions): Promise<string> {
  const secret = config.auth.jwtSecret;
  if (!secret) throw new Error('mintToken needs STAGING_JWT_SECRET');
  const iat = options.issuedAtS ?? Math.floor(Date.now() / 1000);
  const { SignJWT } = await import('jose/jwt/sign');
  return new SignJWT({ email: mintedEmail(config, options.label), permissions: ['read', 'write'], token_type: options.tokenType ?? 'access' })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(mintedUserId(config, options.label))
    .setIssuer(JWT_ISSUER)
    .setAudience(options.audience ?? JWT_AUDIENCE)
    .setIssuedAt(iat)
    .setExpirationTime(iat + (options.lifetimeS ?? 30 * 60))
    .setJti(randomUUID())
    .sign(new TextEncoder().encode(secret));
}

/**
 * Signs a token pair locally with the contract's full claim set, `token_type` included,
 * for deployments where the suite holds the signing secret instead of a bypass key.
 */
export async function mintTokenPair(config: SuiteConfig, label: string, lifetimeS = 30 * 60): Promise<TokenPair> {
  if (!config.auth.jwtSecret) throw new Error('mintTokenPair needs STAGING_JWT_SECRET');
  const [accessToken, refreshToken] = await Promise.all([
    mintToken(config, { label, tokenType: 'access', lifetimeS }),
    mintToken(config, { label, tokenType: 'refresh', lifetimeS: 7 * 24 * 3600 }),
  ]);
  return { accessToken, refreshToken, userId: mintedUserId(config, label), email: mintedEmail(config, label) };
}

function mintedUserId(config: SuiteConfig, label: string): string {
  return identityName(config.identityPrefix, label);
}

function mintedEmail(config: SuiteConfig, label: string): string {
  return identityEmail(config.identityPrefix, label);
}

export function tokenExpiry(token: string): number {
  const { exp } = decodeJwt(token);
  if (typeof exp !== 'number') {
    throw new CheckError('the token has no exp claim, so its expiry cannot be tracked', { component: 'auth', layer: 'content' });
  }
  return exp * 1000;
}

function tokenIssuedAt(token: string): number | undefined {
  const { iat } = decodeJwt(token);
  return typeof iat === 'number' ? iat * 1000 : undefined;
}

function tailOfJti(token: string): string {
  try {
    const { jti } = decodeJwt(token);
    return typeof jti === 'string' ? jti.slice(-8) : 'no-jti';
  } catch {
    return 'not-a-jwt';
  }
}

/**
 * The token with one character of its signature changed. The character is taken from the
 * middle of the signature, where every bit counts (the last base64url character of an HS256
 * signature carries two unused bits, so changing it can leave the decoded signature intact).
 */
export function tamperSignature(token: string): string {
  const parts = token.split('.');
  const signature = parts[2] ?? '';
  if (parts.length !== 3 || signature.length < 16) throw new Error('tamperSignature: not a signed JWT');
  const at = Math.floor(signature.length / 2);
  const replacement = signature[at] === 'A' ? 'B' : 'A';
  return `${parts[0]}.${parts[1]}.${signature.slice(0, at)}${replacement}${signature.slice(at + 1)}`;
}
