import { decodeJwt, SignJWT } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunningPlatform } from '../index.ts';
import { connectWs, login, request, startTestPlatform, testAuth } from './support.ts';

let platform: RunningPlatform;
let auth: string;

beforeAll(async () => {
  platform = await startTestPlatform();
  auth = platform.urls.auth;
});
afterAll(async () => {
  await platform?.stop();
});
afterEach(async () => {
  await platform.clearFaults();
});

function mint(claims: Record<string, unknown>, secret = platform.env.STAGING_JWT_SECRET): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ email: 'qa@stagecheck.local', permissions: ['read'], token_type: 'access', ...claims })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('user-qa')
    .setIssuer('netra-auth-service')
    .setAudience('netra-platform')
    .setJti(crypto.randomUUID())
    .setIssuedAt(now - 120)
    .setExpirationTime((claims.exp as number | undefined) ?? now + 600)
    .sign(new TextEncoder().encode(secret));
}

describe('POST /auth/login', () => {
  it('returns a token pair with the contract claims', async () => {
    const { status, body } = await request(`${auth}/auth/login`, { body: { email: platform.env.STAGING_TEST_EMAIL, password: platform.env.STAGING_TEST_PASSWORD } });
    expect(status).toBe(200);
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 1800, user: { id: 'user-qa', email: 'qa@stagecheck.local' } });
    const access = decodeJwt(body.access_token);
    expect(access).toMatchObject({ sub: 'user-qa', token_type: 'access', iss: 'netra-auth-service', aud: 'netra-platform', email: 'qa@stagecheck.local' });
    expect(access.jti).toEqual(expect.any(String));
    expect(access.permissions).toEqual(expect.any(Array));
    expect(access.exp! - access.iat!).toBe(1800);
    expect(decodeJwt(body.refresh_token)).toMatchObject({ token_type: 'refresh', sub: 'user-qa' });
  });

  it('logs in the second seeded user as a user of its own, and not with the first user\'s password', async () => {
    const { status, body } = await request(`${auth}/auth/login`, { body: { email: platform.env.STAGING_TEST_EMAIL_2, password: platform.env.STAGING_TEST_PASSWORD_2 } });
    expect(status).toBe(200);
    expect(body).toMatchObject({ user: { id: 'user-qa2', email: 'qa2@stagecheck.local' } });
    expect((await request(`${auth}/auth/login`, { body: { email: platform.env.STAGING_TEST_EMAIL_2, password: platform.env.STAGING_TEST_PASSWORD } })).status).toBe(401);
  });

  it('rejects a wrong password and an unknown email with 401', async () => {
    expect((await request(`${auth}/auth/login`, { body: { email: platform.env.STAGING_TEST_EMAIL, password: 'wrong' } })).status).toBe(401);
    expect((await request(`${auth}/auth/login`, { body: { email: 'nobody@stagecheck.local', password: 'x' } })).status).toBe(401);
  });

  it('answers 422 for malformed bodies without crashing', async () => {
    for (const rawBody of ['{not json', '[]', '"text"', 'null', '', '{"email":"qa@stagecheck.local"}', '{"email":1,"password":2}']) {
      const response = await request(`${auth}/auth/login`, { method: 'POST', rawBody });
      expect(response.status, `body ${rawBody}`).toBe(422);
      expect(response.body.message).toEqual(expect.any(String));
    }
    expect((await request(`${auth}/health`)).status).toBe(200);
  });
});

describe('POST /auth/refresh', () => {
  it('rotates: a new pair works and the used refresh token is then refused with 401', async () => {
    const first = await login(platform);
    const rotated = await request(`${auth}/auth/refresh`, { body: { refresh_token: first.refresh_token } });
    expect(rotated.status).toBe(200);
    expect(rotated.body.access_token).not.toBe(first.access_token);
    expect(rotated.body.refresh_token).not.toBe(first.refresh_token);
    const verify = await request(`${auth}/auth/verify`, { method: 'POST', token: rotated.body.access_token });
    expect(verify.body.valid).toBe(true);
    const reuse = await request(`${auth}/auth/refresh`, { body: { refresh_token: first.refresh_token } });
    expect(reuse.status).toBe(401);
    expect((await request(`${auth}/auth/refresh`, { body: { refresh_token: rotated.body.refresh_token } })).status).toBe(200);
  });

  it('refuses an access token, a forged token and an expired refresh token with 401', async () => {
    const pair = await login(platform);
    expect((await request(`${auth}/auth/refresh`, { body: { refresh_token: pair.access_token } })).status).toBe(401);
    expect((await request(`${auth}/auth/refresh`, { body: { refresh_token: 'not.a.jwt' } })).status).toBe(401);
    const expired = await mint({ token_type: 'refresh', exp: Math.floor(Date.now() / 1000) - 10 });
    expect((await request(`${auth}/auth/refresh`, { body: { refresh_token: expired } })).status).toBe(401);
  });

  it('answers 422 when refresh_token is missing', async () => {
    expect((await request(`${auth}/auth/refresh`, { body: {} })).status).toBe(422);
    expect((await request(`${auth}/auth/refresh`, { method: 'POST', rawBody: '{oops' })).status).toBe(422);
  });
});

describe('POST /auth/verify', () => {
  it('answers valid:true with user_id, email, exp and permissions', async () => {
    const pair = await login(platform);
    const { status, body } = await request(`${auth}/auth/verify`, { method: 'POST', token: pair.access_token });
    expect(status).toBe(200);
    expect(body).toMatchObject({ valid: true, user_id: 'user-qa', email: 'qa@stagecheck.local', permissions: expect.any(Array) });
    expect(body.exp).toBe(decodeJwt(pair.access_token).exp);
  });

  it('answers 200 valid:false with an error for bad tokens: the body decides', async () => {
    const pair = await login(platform);
    const cases = {
      garbage: 'garbage',
      'wrong secret': await mint({}, 'another-secret-another-secret-another'),
      expired: await mint({ exp: Math.floor(Date.now() / 1000) - 5 }),
      'refresh token': pair.refresh_token,
    };
    for (const [name, token] of Object.entries(cases)) {
      const { status, body } = await request(`${auth}/auth/verify`, { method: 'POST', token });
      expect(status, name).toBe(200);
      expect(body.valid, name).toBe(false);
      expect(body.error, name).toEqual(expect.any(String));
    }
    const missing = await request(`${auth}/auth/verify`, { method: 'POST' });
    expect(missing.status).toBe(200);
    expect(missing.body.valid).toBe(false);
  });

  it('accepts a locally minted token that carries the contract claims', async () => {
    const { body } = await request(`${auth}/auth/verify`, { method: 'POST', token: await mint({}) });
    expect(body).toMatchObject({ valid: true, user_id: 'user-qa' });
  });
});

describe('POST /auth/logout', () => {
  it('revokes the access token everywhere: verify, backend (401) and WebSocket (1008)', async () => {
    const pair = await login(platform);
    expect((await request(`${platform.urls.backend}/api/threads`, { token: pair.access_token, body: {} })).status).toBe(201);
    const logout = await request(`${auth}/auth/logout`, { method: 'POST', token: pair.access_token });
    expect(logout.status).toBe(200);
    expect((await request(`${auth}/auth/verify`, { method: 'POST', token: pair.access_token })).body).toMatchObject({ valid: false, error: 'token revoked' });
    expect((await request(`${platform.urls.backend}/api/threads`, { token: pair.access_token, body: {} })).status).toBe(401);
    const handshake = await connectWs(platform.urls.ws, { protocols: [`jwt.${pair.access_token}`] });
    expect(handshake.kind).toBe('open');
    if (handshake.kind !== 'open') return;
    const closed = await handshake.client.closed;
    expect(closed.code).toBe(1008);
    expect(closed.reason).toContain('revoked');
  });

  it('also revokes the refresh token issued with it', async () => {
    const pair = await login(platform);
    await request(`${auth}/auth/logout`, { method: 'POST', token: pair.access_token });
    expect((await request(`${auth}/auth/refresh`, { body: { refresh_token: pair.refresh_token } })).status).toBe(401);
  });

  it('answers 401 without a valid token', async () => {
    expect((await request(`${auth}/auth/logout`, { method: 'POST' })).status).toBe(401);
    expect((await request(`${auth}/auth/logout`, { method: 'POST', token: 'garbage' })).status).toBe(401);
  });

  it('answers 503 when the revocation store is unreachable, leaving the token valid', async () => {
    const pair = await login(platform);
    await platform.setFault('redis_refused');
    expect((await request(`${auth}/auth/logout`, { method: 'POST', token: pair.access_token })).status).toBe(503);
    await platform.clearFaults();
    expect((await request(`${auth}/auth/verify`, { method: 'POST', token: pair.access_token })).body.valid).toBe(true);
  });
});

describe('POST /auth/e2e/test-auth', () => {
  const url = (): string => `${auth}/auth/e2e/test-auth`;
  const key = (): string => platform.env.E2E_BYPASS_KEY ?? '';

  it('issues a token pair for user e2e-<local part>', async () => {
    const { status, body } = await request(url(), { body: { email: 'alice-run1@stagecheck.local', name: 'Alice' }, headers: { 'x-e2e-bypass-key': key() } });
    expect(status).toBe(200);
    expect(body.user).toMatchObject({ id: 'e2e-alice-run1', email: 'alice-run1@stagecheck.local' });
    expect(decodeJwt(body.access_token)).toMatchObject({ sub: 'e2e-alice-run1', token_type: 'access' });
    const again = await testAuth(platform, 'alice-run1@stagecheck.local');
    expect(again.user.id).toBe('e2e-alice-run1');
  });

  it('uses a default e2e user when the body is empty', async () => {
    const { status, body } = await request(url(), { method: 'POST', headers: { 'x-e2e-bypass-key': key() } });
    expect(status).toBe(200);
    expect(body.user.email).toBe('e2e-default@stagecheck.local');
    expect(body.user.id).toBe('e2e-e2e-default');
  });

  it('answers 401 for a missing or wrong key', async () => {
    expect((await request(url(), { body: {} })).status).toBe(401);
    expect((await request(url(), { body: {}, headers: { 'x-e2e-bypass-key': `${key()}x` } })).status).toBe(401);
    expect((await request(url(), { body: {}, headers: { 'x-e2e-bypass-key': 'short' } })).status).toBe(401);
  });

  it('answers 422 for bad JSON or a bad email', async () => {
    expect((await request(url(), { method: 'POST', rawBody: '{bad', headers: { 'x-e2e-bypass-key': key() } })).status).toBe(422);
    expect((await request(url(), { body: { email: 'not-an-email' }, headers: { 'x-e2e-bypass-key': key() } })).status).toBe(422);
  });
});
