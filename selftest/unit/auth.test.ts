/**
 * helpers/auth/tokens.ts against a tiny auth stub on 127.0.0.1: refresh ahead of `exp` on an injected
 * clock, one request for concurrent callers, attribution of a 401, and locally minted tokens
 * carrying every contract claim.
 */
import http from 'node:http';
import { decodeJwt, decodeProtectedHeader, errors, jwtVerify, SignJWT } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { JWT_AUDIENCE, JWT_ISSUER, mintToken, mintTokenPair, TokenSession } from '../../helpers/auth/tokens.ts';
import { loadConfig, type SuiteConfig } from '../../helpers/core/config.ts';
import { workerIdentity } from '../../fixtures/identity.ts';
import { checkErrorOf, closeServer, listen } from '../support/net.ts';

const SECRET = 'unit-auth-secret-0123456789abcdef';
const BYPASS_KEY = 'unit-bypass-key';
const T0 = Date.UTC(2030, 0, 1, 12, 0, 0);

/** The stub's view of time and behaviour; reset before each test. */
const stub = {
  nowMs: T0,
  accessTtlS: 600,
  refreshTtlS: 3600,
  delayMs: 0,
  refuseRefresh: false,
  calls: { testAuth: 0, refresh: 0, login: 0 },
  refreshTokensSeen: [] as string[],
};

function resetStub(): void {
  Object.assign(stub, { nowMs: T0, accessTtlS: 600, refreshTtlS: 3600, delayMs: 0, refuseRefresh: false, calls: { testAuth: 0, refresh: 0, login: 0 }, refreshTokensSeen: [] });
}

let counter = 0;
async function sign(sub: string, email: string, type: 'access' | 'refresh', ttlS: number): Promise<string> {
  const iat = Math.floor(stub.nowMs / 1000);
  counter += 1;
  return new SignJWT({ email, permissions: ['read'], token_type: type })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setIssuer(JWT_ISSUER)
    .setAudience(JWT_AUDIENCE)
    .setIssuedAt(iat)
    .setExpirationTime(iat + ttlS)
    .setJti(`jti-${type}-${String(counter).padStart(8, '0')}`)
    .sign(new TextEncoder().encode(SECRET));
}

async function pairFor(sub: string, email: string): Promise<Record<string, unknown>> {
  return {
    access_token: await sign(sub, email, 'access', stub.accessTtlS),
    refresh_token: await sign(sub, email, 'refresh', stub.refreshTtlS),
    token_type: 'Bearer',
    expires_in: 999_999, // the contract says not to trust it; the session must read exp
    user: { id: sub, email },
  };
}

function readJson(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    let text = '';
    req.setEncoding('utf8').on('data', (chunk: string) => (text += chunk)).on('end', () => resolve(text ? (JSON.parse(text) as Record<string, unknown>) : {}));
  });
}

async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const body = await readJson(req);
  if (stub.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, stub.delayMs));
  const send = (status: number, json: unknown): void => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(json));
  };
  if (req.url === '/auth/e2e/test-auth') {
    stub.calls.testAuth += 1;
    if (req.headers['x-e2e-bypass-key'] !== BYPASS_KEY) return send(401, { error: 'bad key' });
    const email = String(body.email);
    return send(200, await pairFor(`e2e-${email.split('@')[0]}`, email));
  }
  if (req.url === '/auth/refresh') {
    stub.calls.refresh += 1;
    const token = String(body.refresh_token);
    stub.refreshTokensSeen.push(token);
    if (stub.refuseRefresh) return send(401, { error: 'invalid_refresh_token' });
    const claims = decodeJwt(token);
    return send(200, await pairFor(String(claims.sub), String(claims.email)));
  }
  if (req.url === '/auth/login') {
    stub.calls.login += 1;
    return send(200, await pairFor('user-qa', String(body.email)));
  }
  send(404, { error: 'not found' });
}

let server: http.Server;
let config: SuiteConfig;

function configFor(env: Record<string, string>): SuiteConfig {
  const port = (server.address() as { port: number }).port;
  return loadConfig({
    STAGING_BASE_URL: `http://127.0.0.1:${port}`,
    STAGING_AUTH_URL: `http://127.0.0.1:${port}`,
    STAGING_WS_URL: `ws://127.0.0.1:${port}/ws`,
    STAGECHECK_RUN_ID: 'unit-auth-run',
    ...env,
  });
}

function session(options: { refreshMarginMs?: number; label?: string } = {}): TokenSession {
  return new TokenSession({ config, label: options.label ?? 'tester', now: () => stub.nowMs, ...(options.refreshMarginMs !== undefined ? { refreshMarginMs: options.refreshMarginMs } : {}) });
}

beforeAll(async () => {
  server = http.createServer((req, res) => void handle(req, res));
  await listen(server);
  config = configFor({ E2E_BYPASS_KEY: BYPASS_KEY });
});
afterAll(() => closeServer(server));
beforeEach(resetStub);

describe('TokenSession', () => {
  it('acquires a pair through test-auth once and reuses it while it is far from exp', async () => {
    const identity = session();
    const first = await identity.pair();
    stub.nowMs += 60_000;
    const second = await identity.pair();
    expect(second.accessToken).toBe(first.accessToken);
    expect(stub.calls).toEqual({ testAuth: 1, refresh: 0, login: 0 });
    // A stable identity from the prefix (default stagecheck), never from the run id: reused by every run.
    expect(first.userId).toBe('e2e-stagecheck-tester');
    expect(first.email).toBe('stagecheck-tester@stagecheck.test');
    expect(identity.history).toHaveLength(1);
    expect(identity.history[0]).toMatchObject({ origin: 'test-auth', issuedAt: T0, expiresAt: T0 + 600_000 });
  });

  it('refreshes ahead of exp: not while more than the margin is left, then before the token expires', async () => {
    // 600 s tokens: margin = max(30 s, 600 s / 5) = 120 s.
    const identity = session();
    const first = await identity.pair();
    stub.nowMs = T0 + 600_000 - 121_000;
    expect((await identity.pair()).accessToken, '121 s left: still the first token').toBe(first.accessToken);
    expect(stub.calls.refresh).toBe(0);

    stub.nowMs = T0 + 600_000 - 119_000;
    const refreshed = await identity.pair();
    expect(refreshed.accessToken, '119 s left: refreshed, although the old token is still valid').not.toBe(first.accessToken);
    expect(stub.calls).toEqual({ testAuth: 1, refresh: 1, login: 0 });
    expect(stub.refreshTokensSeen, 'the refresh used the refresh token of the first pair').toEqual([first.refreshToken]);
    expect(decodeJwt(refreshed.accessToken).exp! * 1000, 'the new token expires later').toBe(stub.nowMs - (stub.nowMs % 1000) + 600_000);
    expect(identity.history.map((r) => r.origin)).toEqual(['test-auth', 'refresh']);
    expect(identity.history[0]!.retiredAt, 'the first token was retired at the refresh').toBe(stub.nowMs);

    // The refreshed token is used from then on, and the next refresh uses the rotated refresh token.
    stub.nowMs += 600_000 - 119_000;
    await identity.pair();
    expect(stub.refreshTokensSeen[1]).toBe(refreshed.refreshToken);
  });

  it('keeps a short-lived token for more than one call: the margin is at most half the lifetime', async () => {
    stub.accessTtlS = 4;
    const identity = session();
    const first = await identity.pair();
    stub.nowMs += 1_500;
    expect((await identity.pair()).accessToken, '2.5 s of 4 s left: kept').toBe(first.accessToken);
    stub.nowMs += 1_000;
    expect((await identity.pair()).accessToken, '1.5 s of 4 s left: refreshed').not.toBe(first.accessToken);
    expect(stub.calls).toEqual({ testAuth: 1, refresh: 1, login: 0 });
  });

  it('honours an explicit refreshMarginMs', async () => {
    const identity = session({ refreshMarginMs: 10_000 });
    const first = await identity.pair();
    stub.nowMs = T0 + 600_000 - 11_000;
    expect((await identity.pair()).accessToken).toBe(first.accessToken);
    stub.nowMs = T0 + 600_000 - 9_000;
    expect((await identity.pair()).accessToken).not.toBe(first.accessToken);
  });

  it('shares one request among concurrent callers, for the first pair and for a refresh (single flight)', async () => {
    stub.delayMs = 50;
    const identity = session();
    const tokens = await Promise.all(Array.from({ length: 8 }, () => identity.accessToken()));
    expect(new Set(tokens).size).toBe(1);
    expect(stub.calls.testAuth).toBe(1);

    stub.nowMs = T0 + 590_000;
    const refreshed = await Promise.all(Array.from({ length: 8 }, () => identity.accessToken()));
    expect(new Set(refreshed).size).toBe(1);
    expect(refreshed[0]).not.toBe(tokens[0]);
    expect(stub.calls).toEqual({ testAuth: 1, refresh: 1, login: 0 });
    expect(identity.history).toHaveLength(2);
  });

  it('acquires a new pair instead of refreshing once the refresh token itself has expired', async () => {
    stub.refreshTtlS = 300;
    const identity = session();
    const first = await identity.pair();
    stub.nowMs = T0 + 500_000; // inside the access token's margin, past the refresh token's exp
    const next = await identity.pair();
    expect(next.accessToken).not.toBe(first.accessToken);
    expect(stub.calls).toEqual({ testAuth: 2, refresh: 0, login: 0 });
    expect(identity.history.map((r) => r.origin)).toEqual(['test-auth', 'test-auth']);
  });

  it('fails with a CheckError naming auth, the endpoint and the status when the refresh is refused', async () => {
    const identity = session();
    await identity.pair();
    stub.refuseRefresh = true;
    stub.nowMs = T0 + 590_000;
    const error = await checkErrorOf(identity.pair());
    expect(error.details).toMatchObject({ component: 'auth', layer: 'http-status', code: 401 });
    expect(error.message).toContain('POST /auth/refresh');
    // The failed attempt left no half-state: the next call tries again.
    stub.refuseRefresh = false;
    await identity.pair();
    expect(stub.calls.refresh).toBe(2);
  });

  it('logs in with email and password when the config says login', async () => {
    const previous = config;
    config = configFor({ STAGING_TEST_EMAIL: 'qa@stagecheck.local', STAGING_TEST_PASSWORD: 'pw' });
    try {
      const identity = session();
      const pair = await identity.pair();
      expect(pair.userId).toBe('user-qa');
      expect(identity.email).toBe('qa@stagecheck.local');
      expect(stub.calls).toEqual({ testAuth: 0, refresh: 0, login: 1 });
    } finally {
      config = previous;
    }
  });

  it('logs in as the account it is given (the second login account), each session with a pair of its own', async () => {
    const login = configFor({ STAGING_TEST_EMAIL: 'qa@stagecheck.local', STAGING_TEST_PASSWORD: 'pw', STAGING_TEST_EMAIL_2: 'qa2@stagecheck.local', STAGING_TEST_PASSWORD_2: 'pw2' });
    const worker = new TokenSession({ config: login, label: 'w1' });
    const fresh = new TokenSession({ config: login, label: 'p2-logout' });
    const other = new TokenSession({ config: login, label: 'other', account: login.auth.second! });
    const [a, b, c] = await Promise.all([worker.pair(), fresh.pair(), other.pair()]);
    expect([worker.email, fresh.email, other.email]).toEqual(['qa@stagecheck.local', 'qa@stagecheck.local', 'qa2@stagecheck.local']);
    expect(c.email).toBe('qa2@stagecheck.local');
    expect(new Set([a.accessToken, b.accessToken, c.accessToken]).size, 'three logins, three pairs: revoking one leaves the others').toBe(3);
    expect(stub.calls.login).toBe(3);
  });

  it('mints again instead of calling /auth/refresh when the session mints its own tokens', async () => {
    const minting = configFor({ STAGING_JWT_SECRET: SECRET });
    expect(minting.auth.method).toBe('mint');
    let now = Date.now();
    const identity = new TokenSession({ config: minting, label: 'minter', now: () => now });
    const first = await identity.pair();
    now += 29 * 60_000; // 1 min left of 30: inside the margin
    const next = await identity.pair();
    expect(next.accessToken).not.toBe(first.accessToken);
    expect(stub.calls).toEqual({ testAuth: 0, refresh: 0, login: 0 });
    expect(identity.history.map((r) => r.origin)).toEqual(['mint', 'mint']);
  });

  describe('attribute(401)', () => {
    it('blames expiry for a token used after its exp, and the target for a fresh token', async () => {
      const identity = session();
      const token = await identity.accessToken();
      const fresh = identity.attribute(token, T0 + 10_000);
      expect(fresh).toMatchObject({ kind: 'fresh-token-refused', remainingMs: 590_000 });

      const expired = identity.attribute(token, T0 + 605_000);
      expect(expired).toMatchObject({ kind: 'expired-during-run', expiredAgoMs: 5_000 });
      if (expired.kind !== 'expired-during-run') throw new Error('unreachable');
      expect(expired.token.origin).toBe('test-auth');
    });

    it('uses the injected clock by default and knows every token it held, including refreshed-away ones', async () => {
      const identity = session();
      const first = await identity.accessToken();
      stub.nowMs = T0 + 590_000;
      const second = await identity.accessToken();
      stub.nowMs = T0 + 600_500;
      expect(identity.attribute(first).kind).toBe('expired-during-run');
      expect(identity.attribute(second).kind).toBe('fresh-token-refused');
    });

    it('attributes the token it holds now without acquiring one, and nothing before it holds one', async () => {
      const identity = session();
      expect(identity.attributeCurrent(T0)).toBeUndefined();
      expect(stub.calls.testAuth).toBe(0);
      await identity.accessToken();
      expect(identity.attributeCurrent(T0 + 10_000)).toMatchObject({ kind: 'fresh-token-refused', remainingMs: 590_000 });
      expect(identity.attributeCurrent(T0 + 601_000)).toMatchObject({ kind: 'expired-during-run', expiredAgoMs: 1_000 });
      expect(stub.calls.testAuth).toBe(1);
    });

    it('says so when the token is not one of its own', async () => {
      const identity = session();
      await identity.accessToken();
      const stranger = await sign('someone', 'x@y', 'access', 60);
      expect(identity.attribute(stranger)).toEqual({ kind: 'unknown-token' });
      expect(identity.attribute('not-a-jwt')).toEqual({ kind: 'unknown-token' });
    });
  });
});

describe('mintToken / mintTokenPair', () => {
  const minting = (): SuiteConfig => configFor({ STAGING_JWT_SECRET: SECRET });

  it('mints a pair whose tokens carry every contract claim, token_type included, and verify with the secret', async () => {
    const before = Math.floor(Date.now() / 1000);
    const pair = await mintTokenPair(minting(), 'Minted');
    const key = new TextEncoder().encode(SECRET);
    const access = await jwtVerify(pair.accessToken, key, { issuer: JWT_ISSUER, audience: JWT_AUDIENCE, algorithms: ['HS256'] });
    const refresh = await jwtVerify(pair.refreshToken!, key, { issuer: JWT_ISSUER, audience: JWT_AUDIENCE, algorithms: ['HS256'] });
    expect(decodeProtectedHeader(pair.accessToken)).toEqual({ alg: 'HS256', typ: 'JWT' });
    for (const [token, type] of [[access.payload, 'access'], [refresh.payload, 'refresh']] as const) {
      expect(Object.keys(token).sort()).toEqual(['aud', 'email', 'exp', 'iat', 'iss', 'jti', 'permissions', 'sub', 'token_type']);
      expect(token).toMatchObject({
        sub: 'e2e-stagecheck-minted',
        email: 'stagecheck-minted@stagecheck.test',
        iss: JWT_ISSUER,
        aud: JWT_AUDIENCE,
        token_type: type,
        permissions: ['read', 'write'],
      });
      expect(token.jti).toMatch(/^[0-9a-f-]{36}$/);
      expect(token.iat).toBeGreaterThanOrEqual(before);
    }
    expect(access.payload.exp! - access.payload.iat!).toBe(30 * 60);
    expect(refresh.payload.exp! - refresh.payload.iat!).toBe(7 * 24 * 3600);
    expect(access.payload.jti).not.toBe(refresh.payload.jti);
    expect(pair.userId).toBe(access.payload.sub);
  });

  it('mints expired and wrong-audience tokens on request, which a verifier refuses for that reason only', async () => {
    const key = new TextEncoder().encode(SECRET);
    const now = Math.floor(Date.now() / 1000);
    const expired = await mintToken(minting(), { label: 'old', issuedAtS: now - 3600, lifetimeS: 60 });
    expect(decodeJwt(expired)).toMatchObject({ iat: now - 3600, exp: now - 3540, token_type: 'access' });
    await expect(jwtVerify(expired, key, { issuer: JWT_ISSUER, audience: JWT_AUDIENCE })).rejects.toBeInstanceOf(errors.JWTExpired);

    const foreign = await mintToken(minting(), { label: 'aud', audience: 'some-other-platform' });
    await expect(jwtVerify(foreign, key, { issuer: JWT_ISSUER, audience: JWT_AUDIENCE })).rejects.toMatchObject({ claim: 'aud' });
    await expect(jwtVerify(foreign, key, { issuer: JWT_ISSUER, audience: 'some-other-platform' })).resolves.toBeDefined();
  });

  it('refuses to mint without STAGING_JWT_SECRET', async () => {
    await expect(mintTokenPair(config, 'x')).rejects.toThrow(/STAGING_JWT_SECRET/);
    await expect(mintToken(config, { label: 'x' })).rejects.toThrow(/STAGING_JWT_SECRET/);
  });
});

describe('workerIdentity (fixtures/identity.ts), which phase 1\'s warm-up and the identity fixture share', () => {
  it('is one session per run: the token asked for while the checks load is the one the tests get; a rerun gets its own', async () => {
    const warmUp = workerIdentity(configFor({ E2E_BYPASS_KEY: BYPASS_KEY }));
    const fixture = workerIdentity(configFor({ E2E_BYPASS_KEY: BYPASS_KEY }));
    expect(fixture).toBe(warmUp);
    const [early, later] = await Promise.all([warmUp.pair(), fixture.pair()]);
    expect(later.accessToken).toBe(early.accessToken);
    expect(stub.calls.testAuth).toBe(1);
    expect(workerIdentity(configFor({ E2E_BYPASS_KEY: BYPASS_KEY, STAGECHECK_RUN_ID: 'unit-auth-rerun' }))).not.toBe(warmUp);
  });
});
