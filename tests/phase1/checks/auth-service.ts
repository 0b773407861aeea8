/**
 * Tier P1: no token, no product. The auth service must be up, issue tokens carrying the
 * contract's claims, and refuse what it should refuse.
 */
import { decodeJwt } from 'jose/jwt/decode';
import { describe, expect, test } from '../../../fixtures/index.ts';
import { CHECK_IDS, DESCRIBES } from '../../check-ids.ts';
import { JWT_AUDIENCE, JWT_ISSUER, tamperSignature } from '../../../helpers/auth/tokens.ts';
import { expectFields } from '../../../helpers/contract/body.ts';
import { runScopedEmail, runScopedName } from '../../../helpers/core/run-names.ts';
import { expectStatus } from '../../../helpers/contract/http-checks.ts';

describe(DESCRIBES.authHealth, { tags: ['p1', 'auth'], concurrent: true }, () => {
  test('answers 200 healthy with its database connected', { meta: { checkId: CHECK_IDS.authHealth } }, async ({ authApi }) => {
    const result = await authApi.request('GET', '/health');
    expectStatus(result, 200, 'auth GET /health', 'auth');
    const body = expectFields(result, 'auth GET /health', 'auth', { status: 'string', database_status: 'string' });
    expect(body.status, 'auth health status').toBe('healthy');
    expect(body.database_status, 'auth database_status').toBe('connected');
  });
});

describe(DESCRIBES.testAuth, { tags: ['p1', 'auth'], concurrent: true }, () => {
  test('issues an access token carrying every contract claim', { meta: { checkId: CHECK_IDS.testAuthIssues } }, async ({ identity, config, skip }) => {
    if (config.auth.method !== 'test-auth') skip('NOT CONFIGURED: E2E_BYPASS_KEY is not set, test-auth is not used');
    const pair = await identity.pair();
    const claims = decodeJwt(pair.accessToken);
    expect(claims.iss, 'iss').toBe(JWT_ISSUER);
    expect(claims.aud, 'aud').toBe(JWT_AUDIENCE);
    expect(claims.token_type, 'token_type').toBe('access');
    expect(typeof claims.jti, 'jti').toBe('string');
    expect(claims.sub, 'sub is the e2e user id').toBe(pair.userId);
    expect(pair.userId, 'test users are named e2e-<local part>').toMatch(/^e2e-/);
    expect(claims.email, 'email').toBe(pair.email);
    expect(Array.isArray(claims.permissions), 'permissions').toBe(true);
    expect((claims.exp ?? 0) * 1000, 'exp lies in the future').toBeGreaterThan(Date.now());
    expect(pair.refreshToken, 'a refresh token comes with it').toBeTypeOf('string');
  });

  test('refuses a wrong bypass key with 401', { meta: { checkId: CHECK_IDS.testAuthWrongKey } }, async ({ authApi, config }) => {
    const result = await authApi.request('POST', '/auth/e2e/test-auth', {
      headers: { 'X-E2E-Bypass-Key': `wrong-${config.runId}` },
      body: { email: runScopedEmail(config.runId, 'intruder') },
    });
    expectStatus(result, 401, 'POST /auth/e2e/test-auth with a wrong key', 'auth');
  });
});

describe(DESCRIBES.verify, { tags: ['p1', 'auth'], concurrent: true }, () => {
  test('confirms a freshly issued access token is valid for its user', { meta: { checkId: CHECK_IDS.verifyValid } }, async ({ authApi, identity }) => {
    const pair = await identity.pair();
    const result = await authApi.request('POST', '/auth/verify', { auth: pair.accessToken });
    expectStatus(result, 200, 'POST /auth/verify', 'auth');
    const body = expectFields(result, 'POST /auth/verify', 'auth', { valid: 'boolean' });
    expect(body.valid, `verify said valid:false (${String(body.error)})`).toBe(true);
    expect(body.user_id, 'verified user_id').toBe(pair.userId);
  });

  test('answers valid:false for a token with a tampered signature', { meta: { checkId: CHECK_IDS.verifyTampered } }, async ({ authApi, identity }) => {
    const token = await identity.accessToken();
    const tampered = tamperSignature(token);
    const result = await authApi.request('POST', '/auth/verify', { auth: tampered });
    // The body decides: a 200 saying valid:true for a forged token is the failure.
    expectStatus(result, 200, 'POST /auth/verify with a tampered token', 'auth');
    const body = expectFields(result, 'POST /auth/verify', 'auth', { valid: 'boolean' });
    expect(body.valid, 'a tampered token must not verify').toBe(false);
  });
});

describe(DESCRIBES.backendAuth, { tags: ['p1', 'backend', 'auth'], concurrent: true }, () => {
  test('refuses POST /api/threads without a token with 401', { meta: { checkId: CHECK_IDS.backendNoToken } }, async ({ api, config }) => {
    const result = await api.request('POST', '/api/threads', { body: { title: runScopedName(config.runId, 'anonymous') } });
    expectStatus(result, 401, 'POST /api/threads without a token', 'backend');
  });
});
