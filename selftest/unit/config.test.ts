import { describe, expect, it } from 'vitest';
import { ConfigError, checkBudgetRelations, describeConfig, loadConfig, secretValues, type Budgets } from '../../helpers/core/config.ts';
import { tagsFilterProblems } from '../../helpers/core/tags-filter.ts';
import { SUITE_TAGS } from '../../tests/tags.ts';
import { DEFAULT_BUDGETS } from '../../helpers/core/budgets.ts';

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
    expect(problemsOf({ STAGING_WS_URL: 'wss://api-staging.example.com/ws' })).toEqual([expect.stringMatching(/^STAGING_BASE_URL and STAGING_AUTH_URL are not set but STAGING_WS_URL is/)]);
  });

  it('rejects a base URL without its auth URL instead of failing every test on it', () => {
    expect(problemsOf({ ...STAGING, STAGING_AUTH_URL: undefined })).toEqual([
      expect.stringMatching(/^STAGING_AUTH_URL is not set but STAGING_BASE_URL and STAGING_WS_URL are: set all of STAGING_BASE_URL, STAGING_AUTH_URL, STAGING_WS_URL/),
    ]);
  });

  it('rejects store URLs without a target: they would be ignored while the bundled platform is tested', () => {
    expect(problemsOf({ STAGING_REDIS_URL: 'redis://cache-staging:6379' })).toEqual([
      expect.stringMatching(/^STAGING_BASE_URL, STAGING_AUTH_URL and STAGING_WS_URL are not set but STAGING_REDIS_URL is/),
    ]);
  });

  it('rejects a query on a base URL the suite appends paths to, and a fragment anywhere', () => {
    expect(problemsOf({ ...STAGING, STAGING_AUTH_URL: 'https://auth-staging.example.com/v1?tenant=a' })).toEqual([
      expect.stringMatching(/^STAGING_AUTH_URL must not have a query \(\?\.\.\.\): the suite appends paths to it/),
    ]);
    expect(problemsOf({ ...STAGING, STAGING_WS_URL: 'wss://api-staging.example.com/ws#x' })).toEqual([expect.stringMatching(/^STAGING_WS_URL must not have a fragment/)]);
    expect(loadConfig({ ...STAGING, STAGING_AUTH_URL: 'https://auth-staging.example.com/v1/' }).authUrl).toBe('https://auth-staging.example.com/v1');
  });

  it('rejects credentials in a target URL without echoing them', () => {
    const problems = problemsOf({ ...STAGING, STAGING_BASE_URL: 'https://admin:sentinel-basic@api-staging.example.com' });
    expect(problems).toEqual([expect.stringMatching(/^STAGING_BASE_URL must not carry credentials \(user:password@host\): authenticate with E2E_BYPASS_KEY/)]);
    expect(problems.join('\n')).not.toContain('sentinel-basic');
  });

  it.each([
    ['STAGING_BASEURL', 'STAGING_BASE_URL'],
    ['STAGING_AUTH_ULR', 'STAGING_AUTH_URL'],
    ['staging_ws_url', 'STAGING_WS_URL'],
    ['E2E_BYPAS_KEY', 'E2E_BYPASS_KEY'],
    ['BUDGET_AGENT_RUNS_MS', 'BUDGET_AGENT_RUN_MS'],
  ])('names the variable %s was probably meant to be (%s)', (typo, meant) => {
    expect(problemsOf({ [typo]: 'x' })).toEqual([`${typo} is set but stagecheck reads no such variable: did you mean ${meant}?`]);
  });

  it('leaves unrelated variables alone, however close in prefix', () => {
    const unrelated = { PATH: '/usr/bin', HOME: '/root', STAGING_DB_URL: 'x', STAGING_TEAM: 'qa', PLATFORM_DATABASE_URL: 'postgres://x@y/z', KPI_CUSTOM: '1' };
    expect(problemsOf({ ...STAGING, ...unrelated })).toEqual([]);
  });

  it.each([
    ['BUDGET_AGENT_RUN_MS', '-5', /^BUDGET_AGENT_RUN_MS must be a positive whole number of milliseconds, got "-5"/],
    ['BUDGET_WS_RECEIVE_MS', 'fast', /^BUDGET_WS_RECEIVE_MS must be a positive whole number of milliseconds, got "fast"/],
    ['STAGING_WS_HEARTBEAT_S', 'soon', /^STAGING_WS_HEARTBEAT_S must be a positive whole number of seconds, got "soon"/],
    ['KPI_WS_HANDSHAKES', 'many', /^KPI_WS_HANDSHAKES must be a positive whole number, got "many"/],
    ['BUDGET_HTTP_MS', '0', /^BUDGET_HTTP_MS must be at least 1, got 0/],
    ['KPI_DB_SAMPLES', '3', /^KPI_DB_SAMPLES must be at least 10 \(the KPI catalog's minimum for database-response-p95\), got 3/],
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

  it('names every host outside the staging pattern in one problem: one fix covers them', () => {
    const prod = { ...STAGING, STAGING_BASE_URL: 'https://api.example.com', STAGING_WS_URL: 'wss://api.example.com/ws' };
    expect(problemsOf(prod)).toEqual([
      expect.stringMatching(/^STAGING_BASE_URL host "api.example.com" and STAGING_WS_URL host "api.example.com" do not match STAGING_HOST_PATTERN .*--allow-production/),
    ]);
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
    // Malformed, so not parsed: a slash in the password, a single slash after the scheme, a long value.
    for (const raw of ['postgres://ro:sentinel/pw x@db-staging/app', 'postgres:/ro:sentinel-pw@db', `postgres://ro:sentinel-pw@${'d'.repeat(80)} x`]) {
      const [problem] = problemsOf({ ...STAGING, STAGING_DATABASE_URL: raw });
      expect(problem).toMatch(/^STAGING_DATABASE_URL (is not a valid URL|has no host): "postgres:\/\/?\[redacted\]@/);
      expect(problem).not.toContain('sentinel');
    }
  });

  it('has no stack trace to dump and no fields that repeat it: the message is the whole story', () => {
    try {
      loadConfig({ ...STAGING, STAGING_BASE_URL: 'nope' });
      expect.unreachable();
    } catch (error) {
      expect((error as Error).stack).toBe((error as Error).message);
      // Vitest prints enumerable fields as "Serialized Error": the problems must not appear twice.
      expect(Object.getOwnPropertyNames(error)).not.toContain('problems');
      expect((error as ConfigError).problems).toEqual([expect.stringMatching(/^STAGING_BASE_URL is not a valid URL: "nope"/)]);
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

describe('login accounts, identities and the concurrency cap', () => {
  const LOGIN = { ...STAGING, E2E_BYPASS_KEY: undefined, STAGING_TEST_EMAIL: 'qa@example.com', STAGING_TEST_PASSWORD: 'sentinel-pw-1' };

  it('takes a second login account, and its password is a secret', () => {
    const config = loadConfig({ ...LOGIN, STAGING_TEST_EMAIL_2: 'qa2@example.com', STAGING_TEST_PASSWORD_2: 'sentinel-pw-2' });
    expect(config.auth.method).toBe('login');
    expect(config.auth.second).toEqual({ email: 'qa2@example.com', password: 'sentinel-pw-2' });
    expect(secretValues(config)).toContain('sentinel-pw-2');
    expect(JSON.stringify(describeConfig(config))).not.toContain('sentinel-pw-2');
    expect(loadConfig(LOGIN).auth.second).toBeUndefined();
  });

  it('names a half-set second account, one without a first, and one equal to the first', () => {
    expect(problemsOf({ ...LOGIN, STAGING_TEST_EMAIL_2: 'qa2@example.com' })).toEqual(['STAGING_TEST_PASSWORD_2 is missing: STAGING_TEST_EMAIL_2 needs it']);
    expect(problemsOf({ ...LOGIN, STAGING_TEST_PASSWORD_2: 'x' })).toEqual(['STAGING_TEST_EMAIL_2 is missing: STAGING_TEST_PASSWORD_2 needs it']);
    expect(problemsOf({ ...STAGING, STAGING_TEST_EMAIL_2: 'qa2@example.com', STAGING_TEST_PASSWORD_2: 'x' })).toEqual([expect.stringMatching(/^STAGING_TEST_EMAIL_2 is set but STAGING_TEST_EMAIL is not/)]);
    expect(problemsOf({ ...LOGIN, STAGING_TEST_EMAIL_2: 'QA@example.com', STAGING_TEST_PASSWORD_2: 'x' })).toEqual([expect.stringMatching(/same account as STAGING_TEST_EMAIL/)]);
  });

  it('derives the identity prefix (default stagecheck) and validates it', () => {
    expect(loadConfig(STAGING).identityPrefix).toBe('stagecheck');
    expect(loadConfig({ ...STAGING, STAGECHECK_IDENTITY_PREFIX: 'Team-A' }).identityPrefix).toBe('team-a');
    expect(problemsOf({ ...STAGING, STAGECHECK_IDENTITY_PREFIX: 'no spaces' })).toEqual([expect.stringMatching(/^STAGECHECK_IDENTITY_PREFIX "no spaces" must be/)]);
  });

  it('has no concurrency cap by default and takes a positive one', () => {
    expect(loadConfig(STAGING).maxConcurrency).toBeUndefined();
    expect(loadConfig({ ...STAGING, STAGECHECK_MAX_CONCURRENCY: '2' }).maxConcurrency).toBe(2);
    expect(problemsOf({ ...STAGING, STAGECHECK_MAX_CONCURRENCY: '0' })).toEqual(['STAGECHECK_MAX_CONCURRENCY must be at least 1, got 0']);
  });

  it('knows the new variables, so a typo of them is caught', () => {
    expect(problemsOf({ ...STAGING, STAGING_TEST_EMAIL2: 'qa2@example.com' })).toEqual(['STAGING_TEST_EMAIL2 is set but stagecheck reads no such variable: did you mean STAGING_TEST_EMAIL_2?']);
  });
});

describe('tagsFilterProblems', () => {
  const tags = SUITE_TAGS.map((tag) => tag.name);

  it.each(['p1', 'p1 || p2', '(p1 && redis) || !agent', 'not p1 and redis', 'p*', '!!websocket'])('accepts %j', (expression) => {
    expect(tagsFilterProblems([expression], tags)).toEqual([]);
  });

  it('names an undeclared tag and lists the declared ones', () => {
    expect(tagsFilterProblems(['p9'], tags)).toEqual([
      '--tags-filter "p9": "p9" matches no declared tag, so no test could be selected; known tags: p1, p2, p3, p4, p5, p6, backend, auth, websocket, agent, postgres, redis, network',
    ]);
    expect(tagsFilterProblems(['p1 || reddis || x*'], tags)).toEqual([expect.stringMatching(/^--tags-filter "p1 \|\| reddis \|\| x\*": "reddis", "x\*" match no declared tag/)]);
  });

  it.each([
    ['p1 ||', 'expected a tag but found the end'],
    ['(p1', 'expected ")" but found the end'],
    ['p1)', 'unexpected ")"'],
    ['p1 p2', 'unexpected "p2"'],
    ['p1 & p2', '"&" on its own is not an operator (use && or ||)'],
    ['  ', 'it is empty'],
  ])('explains why %j is not an expression', (expression, why) => {
    expect(tagsFilterProblems([expression], tags)).toEqual([`--tags-filter "${expression}" is not a tag expression: ${why} (combine tags with && || ! and parentheses, e.g. "p1 && redis")`]);
  });
});
