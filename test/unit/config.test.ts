import { describe, expect, it } from 'vitest';
import { ConfigError, checkBudgetRelations, describeConfig, loadConfig, secretValues, type Budgets } from '../../helpers/config.ts';
import { DEFAULT_BUDGETS } from '../../helpers/budgets.ts';

const STAGING = {
  STAGING_BASE_URL: 'https://api-staging.example.com',
  STAGING_AUTH_URL: 'https://auth-staging.example.com',
  STAGING_WS_URL: 'wss://api-staging.example.com/ws',
  E2E_BYPASS_KEY: 'sentinel-bypass-key',
};

function problemsOf(env: Record<string, string | undefined>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  return [];
}

const defaults: Budgets = { ...DEFAULT_BUDGETS };

describe('loadConfig', () => {
  it('accepts a complete staging configuration and strips trailing slashes', () => {
    const config = loadConfig({ ...STAGING, STAGING_BASE_URL: 'https://api-staging.example.com/' });
    expect(config.mode).toBe('staging');
    expect(config.baseUrl).toBe('https://api-staging.example.com');
    expect(config.auth.method).toBe('test-auth');
    expect(config.budgets.wsReceive).toBe(35_000);
    expect(config.budgets.agentRun).toBe(30_000);
  });

  it('treats the reference platform env (with an admin URL) as local mode', () => {
    const config = loadConfig({ ...STAGING, STAGING_BASE_URL: 'http://127.0.0.1:4000', STAGING_AUTH_URL: 'http://127.0.0.1:4001', STAGING_WS_URL: 'ws://127.0.0.1:4000/ws', PLATFORM_ADMIN_URL: 'http://127.0.0.1:4000/__platform', PLATFORM_ADMIN_TOKEN: 't' });
    expect(config.mode).toBe('local');
    expect(config.platformAdmin?.url).toBe('http://127.0.0.1:4000/__platform');
  });

  it('names the variable of a malformed URL', () => {
    expect(problemsOf({ ...STAGING, STAGING_AUTH_URL: 'not a url' })).toEqual([expect.stringMatching(/^STAGING_AUTH_URL is not a valid URL/)]);
  });

  it('rejects a WebSocket URL on an http scheme with the ws:// it should be', () => {
    const [problem] = problemsOf({ ...STAGING, STAGING_WS_URL: 'https://api-staging.example.com/ws' });
    expect(problem).toMatch(/^STAGING_WS_URL must use ws: or wss:, got https:/);
    expect(problem).toContain('wss://api-staging.example.com/ws');
  });

  it('rejects an http base URL given a ws scheme', () => {
    expect(problemsOf({ ...STAGING, STAGING_BASE_URL: 'ws://api-staging.example.com' })[0]).toMatch(/^STAGING_BASE_URL must use http: or https:/);
  });

  it('rejects a partial target instead of silently testing the local platform', () => {
    expect(problemsOf({ STAGING_WS_URL: 'wss://api-staging.example.com/ws' })[0]).toMatch(/^STAGING_BASE_URL is not set but STAGING_WS_URL is/);
  });

  it.each([
    ['BUDGET_AGENT_RUN_MS', '-5', /^BUDGET_AGENT_RUN_MS must be a whole number of milliseconds, got "-5"/],
    ['BUDGET_WS_RECEIVE_MS', 'fast', /^BUDGET_WS_RECEIVE_MS must be a whole number of milliseconds, got "fast"/],
    ['BUDGET_HTTP_MS', '0', /^BUDGET_HTTP_MS must be at least 1, got 0/],
    ['KPI_DB_SAMPLES', '3', /^KPI_DB_SAMPLES must be at least 10, got 3/],
    ['STAGECHECK_ALLOW_PRODUCTION', 'maybe', /^STAGECHECK_ALLOW_PRODUCTION must be true or false/],
    ['STAGING_HOST_PATTERN', '(', /^STAGING_HOST_PATTERN is not a valid regular expression/],
    ['STAGECHECK_RUN_ID', 'has spaces!', /^STAGECHECK_RUN_ID "has spaces!" must be 4-64 letters/],
    ['STAGING_DATABASE_URL', 'mysql://db', /^STAGING_DATABASE_URL must use postgres: or postgresql:/],
    ['STAGING_REDIS_URL', 'http://cache', /^STAGING_REDIS_URL must use redis: or rediss:/],
  ])('names %s when it holds %j', (variable, value, expected) => {
    expect(problemsOf({ ...STAGING, [variable]: value })).toEqual([expect.stringMatching(expected)]);
  });

  it('rejects a WS receive budget not above the agent budget (the contract requires it)', () => {
    expect(problemsOf({ ...STAGING, BUDGET_WS_RECEIVE_MS: '30000' })).toEqual([
      expect.stringMatching(/^BUDGET_WS_RECEIVE_MS=30000 must be greater than BUDGET_AGENT_RUN_MS=30000: the contract requires/),
    ]);
  });

  it('rejects an HTTP budget at or below the database KPI failure threshold', () => {
    expect(problemsOf({ ...STAGING, BUDGET_HTTP_MS: '5000' })).toEqual([expect.stringMatching(/^BUDGET_HTTP_MS=5000 must be greater than its KPI threshold 'httpRequest' \(5000 ms\)/)]);
  });

  it('refuses a host outside the staging pattern unless production is allowed', () => {
    const prod = { ...STAGING, STAGING_BASE_URL: 'https://api.example.com' };
    expect(problemsOf(prod)).toEqual([expect.stringMatching(/^STAGING_BASE_URL host "api.example.com" does not match STAGING_HOST_PATTERN/)]);
    expect(loadConfig({ ...prod, STAGECHECK_ALLOW_PRODUCTION: 'true' }).baseUrl).toBe('https://api.example.com');
  });

  it('requires a way to authenticate against staging', () => {
    const { E2E_BYPASS_KEY: _unused, ...withoutKey } = STAGING;
    expect(problemsOf(withoutKey)).toEqual([expect.stringMatching(/^no way to authenticate: set E2E_BYPASS_KEY/)]);
    expect(problemsOf({ ...withoutKey, STAGING_TEST_EMAIL: 'qa@example.com' })).toContain('STAGING_TEST_PASSWORD is missing: STAGING_TEST_EMAIL needs it');
    expect(loadConfig({ ...withoutKey, STAGING_JWT_SECRET: 's3cret' }).auth.method).toBe('mint');
  });

  it('reports every problem at once', () => {
    expect(problemsOf({ ...STAGING, STAGING_AUTH_URL: 'nope', BUDGET_STALL_MS: 'x', KPI_REDIS_SAMPLES: '2' })).toHaveLength(3);
  });

  it('never prints a secret in its description or its error message', () => {
    const config = loadConfig({ ...STAGING, STAGING_TEST_EMAIL: 'qa@x', STAGING_TEST_PASSWORD: 'sentinel-password', STAGING_DATABASE_URL: 'postgres://ro:sentinel-dbpass@db-staging:5432/app' });
    const text = JSON.stringify(describeConfig(config));
    for (const secret of ['sentinel-bypass-key', 'sentinel-password', 'sentinel-dbpass']) expect(text).not.toContain(secret);
    expect(secretValues(config)).toEqual(expect.arrayContaining(['sentinel-bypass-key', 'sentinel-password', 'sentinel-dbpass']));
    const problems = problemsOf({ ...STAGING, STAGING_BASE_URL: 'postgres://user:sentinel-in-url@x' });
    expect(problems.join('\n')).not.toContain('sentinel-in-url');
  });

  it('has no stack trace to dump: the message is the whole story', () => {
    try {
      loadConfig({ ...STAGING, STAGING_BASE_URL: 'nope' });
      expect.unreachable();
    } catch (error) {
      expect((error as Error).stack).toBe((error as Error).message);
    }
  });
});

describe('checkBudgetRelations', () => {
  it('accepts the defaults', () => {
    expect(checkBudgetRelations(defaults)).toEqual([]);
  });

  it('flags a stall threshold that could never fire before the run budget', () => {
    expect(checkBudgetRelations({ ...defaults, stall: 30_000 })).toEqual([expect.stringMatching(/^BUDGET_STALL_MS=30000 must be less than BUDGET_AGENT_RUN_MS=30000, or a stall/)]);
  });
});
