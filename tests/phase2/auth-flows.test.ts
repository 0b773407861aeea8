/**
 * Authentication flows and token security.
 *
 * Tier P1 for refresh and logout: a session that cannot be renewed logs every user out
 * mid-conversation, and a logout that does not revoke leaves a stolen token usable.
 * Tier P2 for refusals and input validation: a forged, expired or foreign token that is
 * accepted is a breach waiting for an attacker, but no honest user notices it day to day.
 *
 * Tests that rotate, spend or revoke tokens use identities of their own (`freshUser`), never
 * the worker's shared `identity`. "Accepted" is shown by a 404 for an unknown thread (the token
 * passed, the thread does not exist); "refused" by a 401 for the same request.
 */
import type { TestContext } from 'vitest';
import { decodeJwt } from 'jose/jwt/decode';
import type { JWTPayload } from 'jose';
import { mintToken, tamperSignature } from '../../helpers/auth/tokens.ts';
import { expectHandshakeAccepted, expectHandshakeRefused } from '../../helpers/contract/handshake-checks.ts';
import { check, expectFields } from '../../helpers/contract/body.ts';
import type { SuiteConfig } from '../../helpers/core/config.ts';
import { CheckError } from '../../helpers/core/errors.ts';
import { type HttpClient } from '../../helpers/transport/http.ts';
import { expectStatus } from '../../helpers/contract/http-checks.ts';
import type { StagecheckMeta } from '../../helpers/core/meta.ts';
import { probeHandshake } from '../../helpers/transport/ws-handshake.ts';
import { describe, expect, test, unknownThreadPath } from '../../fixtures/index.ts';
import { CHECK_IDS } from '../check-ids.ts';

/** The token passes the backend's authentication: an unknown thread answers 404, not 401. */
async function expectAccepted(api: HttpClient, token: string, what: string): Promise<void> {
  const result = await api.request('GET', unknownThreadPath(), { auth: token });
  expectStatus(result, 404, `${what}: GET /api/threads/<unknown id> (404 = token accepted, 401 = refused)`, 'auth');
}

/** The backend refuses the token: 401 for the same request. */
async function expectRefused(api: HttpClient, token: string, what: string): Promise<void> {
  const result = await api.request('GET', unknownThreadPath(), { auth: token });
  expectStatus(result, 401, `${what}: GET /api/threads/<unknown id> must be refused`, 'auth');
}

/** POST /auth/verify: 200 whatever the token; the body decides. */
async function verify(authApi: HttpClient, token: string, what: string): Promise<{ valid: boolean } & Record<string, unknown>> {
  const result = await authApi.request('POST', '/auth/verify', { auth: token });
  expectStatus(result, 200, `POST /auth/verify with ${what}`, 'auth');
  return expectFields(result, 'POST /auth/verify', 'auth', { valid: 'boolean' });
}

async function expectVerifyInvalid(authApi: HttpClient, token: string, what: string): Promise<void> {
  const body = await verify(authApi, token, what);
  check(body.valid === false, `POST /auth/verify said valid:true for ${what}`, {
    component: 'auth',
    layer: 'content',
    endpoint: 'POST /auth/verify',
    code: 'accepted-bad-token',
    evidence: { body },
  });
}

function claimsOf(token: string, what: string): JWTPayload {
  try {
    return decodeJwt(token);
  } catch (error) {
    throw new CheckError(`${what} is not a decodable JWT: ${(error as Error).message}`, { component: 'auth', layer: 'content', code: 'not-a-jwt' });
  }
}

type Skip = TestContext['skip'];

/** Rotation needs a refresh token the auth service issued (test-auth or login), not a minted one. */
function requireIssuedTokens(config: SuiteConfig, skip: Skip, report: StagecheckMeta): void {
  if (config.auth.method !== 'mint') return;
  report.notConfigured = 'tokens are minted locally (only STAGING_JWT_SECRET is set): the auth service issued no refresh token to rotate';
  skip('NOT CONFIGURED: E2E_BYPASS_KEY or STAGING_TEST_EMAIL/STAGING_TEST_PASSWORD is not set');
}

function requireJwtSecret(config: SuiteConfig, skip: Skip, report: StagecheckMeta): string {
  if (config.auth.jwtSecret) return config.auth.jwtSecret;
  report.notConfigured = 'STAGING_JWT_SECRET is not set: expired and wrong-audience tokens must be signed locally';
  return skip('NOT CONFIGURED: STAGING_JWT_SECRET is not set');
}

describe('POST /auth/refresh', { tags: ['p1', 'auth'], concurrent: true }, () => {
  test('rotates the pair: a new access and refresh token, and the new access token is accepted', { meta: { checkId: CHECK_IDS.refreshRotates } }, async ({ freshUser, authApi, api, config, skip, report }) => {
    requireIssuedTokens(config, skip, report);
    const user = freshUser('refresh-rotate');
    const before = await user.identity.pair();
    const result = await authApi.request('POST', '/auth/refresh', { body: { refresh_token: before.refreshToken } });
    expectStatus(result, 200, 'POST /auth/refresh with a fresh refresh token', 'auth');
    const body = expectFields(result, 'POST /auth/refresh', 'auth', { access_token: 'string', refresh_token: 'string' });

    expect(body.access_token, 'the new access token differs from the old one').not.toBe(before.accessToken);
    expect(body.refresh_token, 'the refresh token is rotated too').not.toBe(before.refreshToken);
    const oldClaims = claimsOf(before.accessToken, 'the old access token');
    const claims = claimsOf(body.access_token, 'the refreshed access token');
    expect(claims.sub, 'the refreshed token belongs to the same user').toBe(oldClaims.sub);
    expect(claims.token_type, 'token_type of the refreshed access token').toBe('access');
    expect(claims.jti, 'the refreshed token has a jti of its own').not.toBe(oldClaims.jti);
    expect(claimsOf(body.refresh_token, 'the rotated refresh token').token_type, 'token_type of the rotated refresh token').toBe('refresh');

    await expectAccepted(api, body.access_token, 'the refreshed access token');
    const verified = await verify(authApi, body.access_token, 'the refreshed access token');
    expect(verified.valid, `verify refused the refreshed token: ${String(verified.error)}`).toBe(true);
    expect(verified.user_id, 'verified user_id').toBe(before.userId);
  });

  test('rejects a refresh token that was already used with 401', { meta: { checkId: CHECK_IDS.refreshReused } }, async ({ freshUser, authApi, config, skip, report }) => {
    requireIssuedTokens(config, skip, report);
    const user = freshUser('refresh-reuse');
    const { refreshToken } = await user.identity.pair();
    const first = await authApi.request('POST', '/auth/refresh', { body: { refresh_token: refreshToken } });
    expectStatus(first, 200, 'POST /auth/refresh, first use of the refresh token', 'auth');
    const second = await authApi.request('POST', '/auth/refresh', { body: { refresh_token: refreshToken } });
    expectStatus(second, 401, 'POST /auth/refresh, second use of the same refresh token', 'auth');
  });
});

describe('POST /auth/logout', { tags: ['p1', 'auth', 'backend', 'websocket'], concurrent: true }, () => {
  test('revokes the access token: the backend answers 401 and verify says valid:false afterwards', { meta: { checkId: CHECK_IDS.logoutRevokesHttp } }, async ({ freshUser, authApi, api }) => {
    const user = freshUser('logout-http');
    const token = await user.identity.accessToken();
    await expectAccepted(api, token, 'the access token before logout');

    const logout = await authApi.request('POST', '/auth/logout', { auth: token });
    expectStatus(logout, 200, 'POST /auth/logout', 'auth');

    await expectRefused(api, token, 'the access token after logout');
    await expectVerifyInvalid(authApi, token, 'a logged-out access token');
  });

  test('revokes the access token for WebSocket: a handshake with it is refused afterwards', { meta: { checkId: CHECK_IDS.logoutRevokesWs } }, async ({ freshUser, authApi, config, budget }) => {
    const user = freshUser('logout-ws');
    const token = await user.identity.accessToken();
    const before = await probeHandshake({ url: config.wsUrl, auth: { method: 'subprotocol', token }, budget: budget('handshake before logout', config.budgets.wsHandshake) });
    expectHandshakeAccepted(before, 'a WebSocket handshake with the token before logout');

    const logout = await authApi.request('POST', '/auth/logout', { auth: token });
    expectStatus(logout, 200, 'POST /auth/logout', 'auth');

    const [subprotocol, header] = await Promise.all([
      probeHandshake({ url: config.wsUrl, auth: { method: 'subprotocol', token }, budget: budget('subprotocol handshake after logout', config.budgets.wsHandshake) }),
      probeHandshake({ url: config.wsUrl, auth: { method: 'header', token }, budget: budget('header handshake after logout', config.budgets.wsHandshake) }),
    ]);
    expectHandshakeRefused(subprotocol, 'a WebSocket handshake with a logged-out token as jwt.<token> subprotocol');
    expectHandshakeRefused(header, 'a WebSocket handshake with a logged-out token in the Authorization header');
  });
});

describe('rejected access tokens', { tags: ['p2', 'auth', 'backend'], concurrent: true }, () => {
  test('refuses an expired access token with 401 while the same token unexpired is accepted', { meta: { checkId: CHECK_IDS.expiredToken } }, async ({ api, authApi, config, skip, report }) => {
    requireJwtSecret(config, skip, report);
    const now = Math.floor(Date.now() / 1000);
    const control = await mintToken(config, { label: 'p2-minted-exp' });
    await expectAccepted(api, control, 'a locally minted token with every claim right (control)');
    const expired = await mintToken(config, { label: 'p2-minted-exp', issuedAtS: now - 3600, lifetimeS: 1800 });
    await expectRefused(api, expired, 'an access token that expired 30 min ago');
    await expectVerifyInvalid(authApi, expired, 'an access token that expired 30 min ago');
  });

  test('refuses an access token with a tampered signature with 401', { meta: { checkId: CHECK_IDS.tamperedToken } }, async ({ api, authApi, identity }) => {
    const token = await identity.accessToken();
    await expectAccepted(api, token, 'the untampered token (control)');
    const tampered = tamperSignature(token);
    await expectRefused(api, tampered, 'an access token with one signature character changed');
    await expectVerifyInvalid(authApi, tampered, 'an access token with a tampered signature');
  });

  test('refuses an access token issued for another audience with 401', { meta: { checkId: CHECK_IDS.wrongAudience } }, async ({ api, authApi, config, skip, report }) => {
    requireJwtSecret(config, skip, report);
    const control = await mintToken(config, { label: 'p2-minted-aud' });
    await expectAccepted(api, control, `a locally minted token for aud "netra-platform" (control)`);
    const foreign = await mintToken(config, { label: 'p2-minted-aud', audience: 'stagecheck-some-other-service' });
    await expectRefused(api, foreign, 'an access token for aud "stagecheck-some-other-service"');
    await expectVerifyInvalid(authApi, foreign, 'an access token for another audience');
  });

  test('refuses every protected endpoint without a token with 401, and verify says valid:false', { meta: { checkId: CHECK_IDS.noTokenEverywhere } }, async ({ api, authApi }) => {
    const path = unknownThreadPath();
    const requests = [
      ['GET', path],
      ['GET', `${path}/messages`],
      ['DELETE', path],
      ['POST', '/api/websocket/ticket'],
    ] as const;
    const results = await Promise.all(requests.map(([method, p]) => api.request(method, p, method === 'POST' ? { body: {} } : {})));
    results.forEach((result, i) => {
      const [method, p] = requests[i]!;
      expectStatus(result, 401, `${method} ${p.replace(/[0-9a-f-]{36}/, ':id')} without a token`, 'backend');
    });
    const verified = await authApi.request('POST', '/auth/verify');
    expectStatus(verified, 200, 'POST /auth/verify without a token', 'auth');
    const body = expectFields(verified, 'POST /auth/verify', 'auth', { valid: 'boolean' });
    expect(body.valid, 'verify without a token must say valid:false').toBe(false);
  });
});

describe('POST /auth/refresh with a wrong body or token', { tags: ['p2', 'auth'], concurrent: true }, () => {
  test('rejects an access token presented as a refresh token with 401', { meta: { checkId: CHECK_IDS.refreshWithAccessToken } }, async ({ freshUser, authApi }) => {
    const user = freshUser('refresh-with-access');
    const { accessToken } = await user.identity.pair();
    const result = await authApi.request('POST', '/auth/refresh', { body: { refresh_token: accessToken } });
    expectStatus(result, 401, 'POST /auth/refresh with an access token (token_type access) as refresh_token', 'auth');
  });

  test('answers 422 when refresh_token is missing', { meta: { checkId: CHECK_IDS.refreshMissingField } }, async ({ authApi }) => {
    const result = await authApi.request('POST', '/auth/refresh', { body: {} });
    expectStatus(result, 422, 'POST /auth/refresh without refresh_token', 'auth');
  });
});

describe('POST /auth/e2e/test-auth input', { tags: ['p2', 'auth'], concurrent: true }, () => {
  test('refuses a request without the bypass key header with 401', { meta: { checkId: CHECK_IDS.testAuthNoKey } }, async ({ authApi, config, skip, report }) => {
    if (config.auth.method !== 'test-auth') {
      report.notConfigured = 'E2E_BYPASS_KEY is not set: without it the suite cannot tell 401 (key configured) from 503 (not configured)';
      skip('NOT CONFIGURED: E2E_BYPASS_KEY is not set');
    }
    const result = await authApi.request('POST', '/auth/e2e/test-auth', { body: { email: `${config.runId}-p2-nokey@stagecheck.test` } });
    expectStatus(result, 401, 'POST /auth/e2e/test-auth without X-E2E-Bypass-Key', 'auth');
  });

  test('refuses a malformed JSON body with 422, with the right key', { meta: { checkId: CHECK_IDS.testAuthMalformed } }, async ({ authApi, config, skip, report }) => {
    const key = config.auth.method === 'test-auth' ? config.auth.bypassKey : undefined;
    if (!key) {
      report.notConfigured = 'E2E_BYPASS_KEY is not set: the body is only read after the key is accepted';
      return skip('NOT CONFIGURED: E2E_BYPASS_KEY is not set');
    }
    const result = await authApi.request('POST', '/auth/e2e/test-auth', {
      headers: { 'X-E2E-Bypass-Key': key, 'content-type': 'application/json' },
      body: `{"email": "${config.runId}-p2-malformed@stagecheck.test",`,
    });
    expectStatus(result, 422, 'POST /auth/e2e/test-auth with a truncated JSON body', 'auth');
  });
});

describe('POST /auth/login', { tags: ['p2', 'auth'], concurrent: true }, () => {
  test('refuses a wrong password with 401 and accepts the right one', { meta: { checkId: CHECK_IDS.loginWrongPassword } }, async ({ authApi, config, skip, report }) => {
    const { email, password } = config.auth;
    if (!email || !password) {
      report.notConfigured = 'STAGING_TEST_EMAIL/STAGING_TEST_PASSWORD are not set: a wrong password needs a real account to be wrong for';
      skip('NOT CONFIGURED: STAGING_TEST_EMAIL/STAGING_TEST_PASSWORD is not set');
    }
    const wrong = await authApi.request('POST', '/auth/login', { body: { email, password: `${password}-wrong` } });
    expectStatus(wrong, 401, 'POST /auth/login with a wrong password', 'auth');
    check(!/access_token/.test(wrong.body), 'POST /auth/login answered 401 but its body carries an access_token', {
      component: 'auth', layer: 'content', endpoint: 'POST /auth/login', code: 'token-on-401',
    });
    const right = await authApi.request('POST', '/auth/login', { body: { email, password } });
    expectStatus(right, 200, 'POST /auth/login with the right password (control)', 'auth');
    expectFields(right, 'POST /auth/login', 'auth', { access_token: 'string', refresh_token: 'string' });
  });

  test('refuses a malformed body with 422: a missing password and truncated JSON', { meta: { checkId: CHECK_IDS.loginMalformed } }, async ({ authApi, config }) => {
    const email = config.auth.email ?? `${config.runId}-p2-login@stagecheck.test`;
    const missing = await authApi.request('POST', '/auth/login', { body: { email } });
    expectStatus(missing, 422, 'POST /auth/login without password', 'auth');
    const truncated = await authApi.request('POST', '/auth/login', { headers: { 'content-type': 'application/json' }, body: `{"email": "${email}", "password": ` });
    expectStatus(truncated, 422, 'POST /auth/login with a truncated JSON body', 'auth');
  });
});
