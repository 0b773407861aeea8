/**
 * Issue 13 section 3, "the target is always explicit": the start banner and report head
 * (helpers/core/target-head.ts) name the target, profile, run id, way of authenticating, store
 * probes, budgets and heartbeat, and never a secret; CI=true or --target staging without
 * STAGING_BASE_URL is a configuration error unless --local says so (helpers/core/target-choice.ts).
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, assertConfigValid } from '../../helpers/core/config.ts';
import { renderHead, targetHead } from '../../helpers/core/target-head.ts';
import { isCi } from '../../helpers/core/target-choice.ts';

const SECRETS = { bypass: 'sentinel-bypass-k3y', password: 'sentinel-passw0rd', jwt: 'sentinel-jwt-s3cret', db: 'sentinel-db-passw0rd', admin: 'sentinel-admin-t0ken' };

const staging = {
  STAGING_BASE_URL: 'https://api-staging.example.com',
  STAGING_AUTH_URL: 'https://auth-staging.example.com',
  STAGING_WS_URL: 'wss://api-staging.example.com/ws',
  STAGING_DATABASE_URL: `postgres://ro:${SECRETS.db}@db-staging.example.com:5432/app`,
  E2E_BYPASS_KEY: SECRETS.bypass,
  STAGING_TEST_EMAIL: 'qa@example.com',
  STAGING_TEST_PASSWORD: SECRETS.password,
  STAGING_JWT_SECRET: SECRETS.jwt,
  STAGECHECK_RUN_ID: 'nightly-42',
  BUDGET_COLD_START_MS: '4500',
};

const local = {
  STAGING_BASE_URL: 'http://127.0.0.1:4100',
  STAGING_AUTH_URL: 'http://127.0.0.1:4101',
  STAGING_WS_URL: 'ws://127.0.0.1:4100/ws',
  STAGING_DATABASE_URL: `postgres://platform:${SECRETS.db}@127.0.0.1:4102/platform`,
  STAGING_REDIS_URL: 'redis://127.0.0.1:4103',
  STAGING_TEST_EMAIL: 'qa@stagecheck.test',
  STAGING_TEST_PASSWORD: SECRETS.password,
  STAGING_JWT_SECRET: SECRETS.jwt,
  PLATFORM_ADMIN_URL: 'http://127.0.0.1:4104',
  PLATFORM_ADMIN_TOKEN: SECRETS.admin,
  STAGING_WS_HEARTBEAT_S: '2',
  STAGECHECK_RUN_ID: 'local-7',
};

describe('the start banner and report head', () => {
  it('names a configured staging: its URLs, run id, way of authenticating, store probes, budgets and heartbeat, and no secret', () => {
    const head = targetHead(loadConfig(staging));
    const text = renderHead(head).join('\n');
    expect(head).toMatchObject({ target: 'staging', profile: null, runId: 'nightly-42', auth: { method: 'test-auth' }, stores: { postgres: 'configured', redis: 'NOT CONFIGURED' }, heartbeatS: 35 });
    expect(text).toContain('stagecheck run nightly-42');
    expect(text).toContain('target    backend https://api-staging.example.com · auth https://auth-staging.example.com · websocket wss://api-staging.example.com/ws');
    expect(text).toContain('auth      test-auth bypass key (E2E_BYPASS_KEY)');
    expect(text).toContain('stores    PostgreSQL probe configured · Redis probe NOT CONFIGURED');
    expect(text).toMatch(/budgets .*cold start 4\.5 s.* http 10 s.*· heartbeat 35 s$/m);
    expect(text).not.toContain('bundled');
    for (const secret of Object.values(SECRETS)) expect(JSON.stringify(head) + text, secret).not.toContain(secret);
  });

  it('says the bundled reference platform is not your staging, with its profile, and the login or minted way of authenticating', () => {
    const head = targetHead(loadConfig(local), { profile: 'staging' });
    const text = renderHead(head).join('\n');
    expect(head).toMatchObject({ target: 'local', profile: 'staging', auth: { method: 'login' }, stores: { postgres: 'configured', redis: 'configured' }, heartbeatS: 2 });
    expect(text).toContain('target    bundled reference platform, not your staging, profile staging: backend http://127.0.0.1:4100');
    expect(text).toContain('auth      login (STAGING_TEST_EMAIL / STAGING_TEST_PASSWORD)');
    expect(targetHead(loadConfig(local)).profile).toBe('default');
    const { STAGING_TEST_EMAIL: _e, STAGING_TEST_PASSWORD: _p, ...minting } = local;
    expect(renderHead(targetHead(loadConfig(minting))).join('\n')).toContain('auth      locally minted JWT (STAGING_JWT_SECRET)');
    for (const secret of Object.values(SECRETS)) expect(JSON.stringify(head) + text, secret).not.toContain(secret);
  });
});

describe('no silent switch of targets', () => {
  const problems = (env: Record<string, string>): string[] => {
    try {
      assertConfigValid(env);
      return [];
    } catch (error) {
      return (error as ConfigError).problems;
    }
  };

  it('keeps the zero-configuration default on a developer machine', () => {
    expect(problems({})).toEqual([]);
    expect(problems({ CI: 'false' })).toEqual([]);
  });

  it('refuses CI=true without STAGING_BASE_URL, naming it and --local; --local (STAGECHECK_TARGET=local) makes the bundled platform explicit', () => {
    expect(problems({ CI: 'true' })).toEqual([expect.stringMatching(/^CI=true and STAGING_BASE_URL is not set: .*Set STAGING_BASE_URL .*--local \(STAGECHECK_TARGET=local\)/)]);
    expect(problems({ CI: '1' })).toHaveLength(1);
    expect(problems({ CI: 'true', STAGECHECK_TARGET: 'local' })).toEqual([]);
    expect(problems({ CI: 'true', ...staging })).toEqual([]);
    // A worker of a local run: the bundled platform's env names it.
    expect(problems({ CI: 'true', ...local })).toEqual([]);
  });

  it('refuses --target staging without STAGING_BASE_URL, --local beside a configured deployment, and an unknown target', () => {
    expect(problems({ STAGECHECK_TARGET: 'staging' })).toEqual([expect.stringMatching(/^STAGECHECK_TARGET=staging \(--target staging\) but STAGING_BASE_URL is not set/)]);
    expect(problems({ STAGECHECK_TARGET: 'local', ...staging })).toEqual([expect.stringMatching(/^STAGECHECK_TARGET=local \(--local\) .* STAGING_BASE_URL is set/)]);
    expect(problems({ STAGECHECK_TARGET: 'prod' })).toEqual([expect.stringMatching(/^STAGECHECK_TARGET "prod" must be "local" .* or "staging"/)]);
    expect(problems({ STAGECHECK_TARGT: 'local' })).toEqual([expect.stringMatching(/did you mean STAGECHECK_TARGET\?/)]);
  });

  it('reads CI the way CI systems set it', () => {
    expect([isCi({ CI: 'true' }), isCi({ CI: 'TRUE' }), isCi({ CI: '1' }), isCi({ CI: 'false' }), isCi({ CI: '' }), isCi({})]).toEqual([true, true, true, false, false, false]);
  });
});
