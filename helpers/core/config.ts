/**
 * The one typed configuration of the suite, validated before any test starts.
 *
 * Every problem names the variable that caused it, and all problems are reported at once
 * so a user fixes their .env in one pass. Secrets are held here but never printed:
 * `describeConfig` is the only view meant for output.
 */
import { randomBytes } from 'node:crypto';
import { DEFAULT_BUDGETS, type BudgetName } from './budgets.ts';
import { validateBudgets } from './budget-rules.ts';
import { classFailLines } from './endpoint-classes.ts';
import { DEFAULT_CATALOG_PATH, readKpiThresholds, type KpiThresholds } from './kpi-thresholds.ts';
import { joinNames, parseBoolean, parsePattern, parsePositiveInt, parseUrl, stripTrailingSlash, TARGET_HTTP_URL, TARGET_WS_URL, withinOneEdit } from './config-parsers.ts';
import { describeNetwork, NETWORK_VARIABLES, readNetworkEnv } from './network-env.ts';
import { HISTORY_MAX_RUNS_VARIABLE, HISTORY_URL_VARIABLE, readHistorySettings } from './history-settings.ts';
import { redactUrl, SECRET_VARIABLES } from './redact.ts';
import { BASELINE_VARIABLE, readTrendRuns, TREND_RUNS_VARIABLE } from './trend-settings.ts';
import { TARGET_VARIABLE, targetChoiceProblems } from './target-choice.ts';

export type AuthMethod = 'test-auth' | 'login' | 'mint';

/** Budgets in ms, keyed like DEFAULT_BUDGETS (see helpers/core/budgets.ts for what each one bounds). */
export type Budgets = Record<BudgetName, number>;

export interface SuiteConfig {
  /** `local`: the bundled reference platform started by globalSetup; `staging`: a configured target. */
  mode: 'local' | 'staging';
  runId: string;
  baseUrl: string;
  authUrl: string;
  wsUrl: string;
  databaseUrl?: string;
  redisUrl?: string;
  auth: {
    method: AuthMethod;
    bypassKey?: string;
    email?: string;
    password?: string;
    jwtSecret?: string;
    /** A second login account (STAGING_TEST_EMAIL_2/_PASSWORD_2): the other user of isolation and multi-user tests in login mode. */
    second?: { email: string; password: string };
  };
  /**
   * Names the suite's stable test identities (`e2e-<prefix>-w1`, `-other`, ...): the same small set
   * in every run, so runs do not pile up users on a shared deployment (STAGECHECK_IDENTITY_PREFIX).
   */
  identityPrefix: string;
  /** At most this many agent runs at once per worker (STAGECHECK_MAX_CONCURRENCY); unset: no cap. */
  maxConcurrency?: number;
  hostPattern: RegExp;
  allowProduction: boolean;
  budgets: Budgets;
  samples: { database: number; redis: number; wsHandshakes: number };
  /** How the run reaches the target (trusted CAs, proxy), described without credentials. */
  network: { ca: string; proxy: string };
  /** Seconds of client silence after which the deployment sends a heartbeat (contract: ~35). */
  heartbeatS: number;
  /** Only present in local mode: lets the suite's own tests switch platform faults. */
  platformAdmin?: { url: string; token: string };
}

export type Env = Record<string, string | undefined>;

/** The env variable that overrides each budget. */
export const BUDGET_VARIABLES: Record<BudgetName, string> = {
  wsReceive: 'BUDGET_WS_RECEIVE_MS',
  agentRun: 'BUDGET_AGENT_RUN_MS',
  agentRunLargest: 'BUDGET_AGENT_RUN_LARGEST_MS',
  coldStart: 'BUDGET_COLD_START_MS',
  stall: 'BUDGET_STALL_MS',
  httpRequest: 'BUDGET_HTTP_MS',
  httpHealth: 'BUDGET_HTTP_HEALTH_MS',
  httpAuth: 'BUDGET_HTTP_AUTH_MS',
  wsHandshake: 'BUDGET_WS_HANDSHAKE_MS',
  pong: 'BUDGET_PONG_MS',
  storeConnect: 'BUDGET_STORE_CONNECT_MS',
  dbProbe: 'BUDGET_DB_QUERY_MS',
};

/**
 * The KPI thresholds a budget must exceed, by budget name: a request or query cut off at or
 * below the database response-time KPI's failure threshold (the catalog's `failMs`) could
 * never be measured as DEGRADED, only as dead.
 */
export function budgetKpiThresholds(thresholds: KpiThresholds = readKpiThresholds()): Record<string, number> {
  const { failMs } = thresholds.latency(DATABASE_KPI);
  // Each HTTP class also sits above the slowest endpoint failure line of its class (endpoint-classes.ts).
  const lines = classFailLines(thresholds.endpointFailMs());
  return {
    dbProbe: failMs,
    httpRequest: Math.max(failMs, lines.httpRequest ?? 0),
    httpHealth: Math.max(failMs, lines.httpHealth ?? 0),
    httpAuth: lines.httpAuth ?? failMs,
  };
}

/** The catalog KPIs whose minimum samples bound the sample counts a user may set. */
const DATABASE_KPI = 'database-response-p95';
const SAMPLED_KPIS = { database: DATABASE_KPI, redis: 'redis-connectivity', wsHandshakes: 'ws-connection-success' } as const;

/** Hosts a run may target without --allow-production: staging names and loopback. */
export const DEFAULT_HOST_PATTERN = String.raw`(^|[.-])(staging|stage|stg)([.-]|$)|^localhost$|^127\.\d+\.\d+\.\d+$|^\[?::1\]?$`;

const TARGET_URL_VARIABLES = ['STAGING_BASE_URL', 'STAGING_AUTH_URL', 'STAGING_WS_URL'] as const;
/** Store URLs only mean something with a target: set alone, they would be silently ignored. */
const STORE_URL_VARIABLES = ['STAGING_DATABASE_URL', 'STAGING_REDIS_URL'] as const;

/**
 * Every variable the suite and `npm run e2e` read: a set variable one typo away from one of
 * these is a misspelling, which would otherwise be ignored (a misspelt STAGING_BASE_URL
 * silently tests the bundled platform instead of staging).
 */
export const KNOWN_VARIABLES = [
  ...TARGET_URL_VARIABLES, ...STORE_URL_VARIABLES, ...SECRET_VARIABLES, ...Object.values(BUDGET_VARIABLES),
  'STAGING_TEST_EMAIL', 'STAGING_TEST_EMAIL_2', 'STAGECHECK_IDENTITY_PREFIX', 'STAGECHECK_MAX_CONCURRENCY', 'STAGING_HOST_PATTERN', 'STAGING_WS_HEARTBEAT_S', 'KPI_DB_SAMPLES', 'KPI_REDIS_SAMPLES', 'KPI_WS_HANDSHAKES',
  'STAGECHECK_ALLOW_PRODUCTION', 'STAGECHECK_RUN_ID', 'STAGECHECK_REPORT_DIR', 'STAGECHECK_HISTORY_FILE', 'STAGECHECK_HISTORY', HISTORY_URL_VARIABLE, HISTORY_MAX_RUNS_VARIABLE, TREND_RUNS_VARIABLE, BASELINE_VARIABLE,
  'STAGECHECK_CATALOG', 'STAGECHECK_PHASE1_GATE', 'STAGECHECK_RESULT_FILE', 'GOLDEN_PROMPTS_FILE', 'PLATFORM_ADMIN_URL', 'PLATFORM_FAULTS',
  'STAGECHECK_OPEN_ISSUE', // read by npm run e2e only (scripts/open-issue.ts)
  TARGET_VARIABLE, ...NETWORK_VARIABLES,
];

export class ConfigError extends Error {
  // Private, read through a getter: Vitest prints every own property of an error as
  // "Serialized Error", which would repeat each problem under the message that lists them.
  readonly #problems: string[];

  constructor(problems: string[]) {
    super(`stagecheck configuration is invalid:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.#problems = problems;
    // A config mistake is the user's to fix, not ours to debug: no stack trace.
    this.stack = this.message;
  }

  get problems(): string[] {
    return this.#problems;
  }
}

export function generateRunId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return `${stamp}-${randomBytes(3).toString('hex')}`;
}

/**
 * Reads and validates the whole configuration from `env`. Throws one ConfigError listing
 * every problem, each naming its variable.
 */
export function loadConfig(env: Env): SuiteConfig {
  const { problems, config } = parseConfig(env);
  if (problems.length > 0) throw new ConfigError(problems);
  if (!config) {
    throw new ConfigError([
      'STAGING_BASE_URL, STAGING_AUTH_URL and STAGING_WS_URL are unset: the reference platform was not started ' +
        '(run through the phase1/phase2 projects so globalSetup starts it, or point these at a deployment)',
    ]);
  }
  return config;
}

/**
 * Validation without requiring a target: what globalSetup checks before it spends seconds
 * starting the reference platform. Throws the same ConfigError as loadConfig.
 */
export function assertConfigValid(env: Env): void {
  const { problems } = parseConfig(env);
  if (problems.length > 0) throw new ConfigError(problems);
}

function parseConfig(env: Env): { problems: string[]; config?: SuiteConfig } {
  const problems: string[] = [];
  const value = (name: string): string | undefined => {
    const raw = env[name];
    return raw === undefined || raw.trim() === '' ? undefined : raw.trim();
  };

  // The reference platform's env carries its admin URL: that is how a run knows it is local.
  const mode: SuiteConfig['mode'] = value('STAGING_BASE_URL') && !value('PLATFORM_ADMIN_URL') ? 'staging' : 'local';
  problems.push(...partialTargetProblems(value));
  problems.push(...targetChoiceProblems(value, env));
  problems.push(...misspeltVariableProblems(env));
  // STAGING_CA_FILE readable PEM, proxy URLs usable (core/network-env.ts; the transports read the same).
  const network = readNetworkEnv(env);
  problems.push(...network.problems);

  const baseUrl = parseUrl(value('STAGING_BASE_URL'), 'STAGING_BASE_URL', TARGET_HTTP_URL, problems);
  const authUrl = parseUrl(value('STAGING_AUTH_URL'), 'STAGING_AUTH_URL', TARGET_HTTP_URL, problems);
  const wsUrl = parseUrl(value('STAGING_WS_URL'), 'STAGING_WS_URL', TARGET_WS_URL, problems);
  const databaseUrl = parseUrl(value('STAGING_DATABASE_URL'), 'STAGING_DATABASE_URL', { protocols: ['postgres:', 'postgresql:'], example: 'postgres://user:password@host:5432/db' }, problems);
  const redisUrl = parseUrl(value('STAGING_REDIS_URL'), 'STAGING_REDIS_URL', { protocols: ['redis:', 'rediss:'], example: 'redis://host:6379' }, problems);
  // The history store's URL and bound; a history in the deployment's own database is refused.
  problems.push(...readHistorySettings(env).problems);
  // How many runs the report's trends show (the reporter reads it again at the end of the run).
  problems.push(...readTrendRuns(env).problems);

  const allowProduction = parseBoolean(value('STAGECHECK_ALLOW_PRODUCTION'), 'STAGECHECK_ALLOW_PRODUCTION', problems);
  const hostPattern = parsePattern(value('STAGING_HOST_PATTERN') ?? DEFAULT_HOST_PATTERN, 'STAGING_HOST_PATTERN', problems);
  if (hostPattern && !allowProduction) {
    // One problem for all offending URLs: the fix (the flag, or the pattern) is one fix.
    const outside = ([['STAGING_BASE_URL', baseUrl], ['STAGING_AUTH_URL', authUrl], ['STAGING_WS_URL', wsUrl]] as const)
      .filter(([, url]) => url && !hostPattern.test(url.hostname))
      .map(([name, url]) => `${name} host "${url?.hostname}"`);
    if (outside.length > 0) {
      problems.push(
        `${joinNames(outside)} ${outside.length === 1 ? 'does' : 'do'} not match STAGING_HOST_PATTERN (${hostPattern.source}); ` +
          'refusing to test what may be production. Set STAGECHECK_ALLOW_PRODUCTION=true (or pass --allow-production to npm run e2e) if you mean it',
      );
    }
  }

  const bypassKey = value('E2E_BYPASS_KEY');
  const email = value('STAGING_TEST_EMAIL');
  const password = value('STAGING_TEST_PASSWORD');
  const jwtSecret = value('STAGING_JWT_SECRET');
  if ((email === undefined) !== (password === undefined)) {
    problems.push(
      email ? 'STAGING_TEST_PASSWORD is missing: STAGING_TEST_EMAIL needs it' : 'STAGING_TEST_EMAIL is missing: STAGING_TEST_PASSWORD needs it',
    );
  }
  const email2 = value('STAGING_TEST_EMAIL_2');
  const password2 = value('STAGING_TEST_PASSWORD_2');
  if ((email2 === undefined) !== (password2 === undefined)) {
    problems.push(
      email2 ? 'STAGING_TEST_PASSWORD_2 is missing: STAGING_TEST_EMAIL_2 needs it' : 'STAGING_TEST_EMAIL_2 is missing: STAGING_TEST_PASSWORD_2 needs it',
    );
  } else if (email2 && !email) {
    problems.push('STAGING_TEST_EMAIL_2 is set but STAGING_TEST_EMAIL is not: the second login account is the other user beside the first');
  } else if (email2 && email && email2.toLowerCase() === email.toLowerCase()) {
    problems.push('STAGING_TEST_EMAIL_2 is the same account as STAGING_TEST_EMAIL: isolation tests need a second, distinct account');
  }
  const second = email2 && password2 && email && email2.toLowerCase() !== email.toLowerCase() ? { email: email2, password: password2 } : undefined;
  const method: AuthMethod | undefined = bypassKey ? 'test-auth' : email && password ? 'login' : jwtSecret ? 'mint' : undefined;
  if (mode === 'staging' && !method) {
    problems.push(
      'no way to authenticate: set E2E_BYPASS_KEY (test-auth), or STAGING_TEST_EMAIL and STAGING_TEST_PASSWORD (login), or STAGING_JWT_SECRET (local minting)',
    );
  }

  const budgets = { ...DEFAULT_BUDGETS } as Budgets;
  for (const [key, variable] of Object.entries(BUDGET_VARIABLES) as [BudgetName, string][]) {
    budgets[key] = parsePositiveInt(value(variable), variable, DEFAULT_BUDGETS[key], problems);
  }

  // Fewer samples than the KPI catalog's minimum could only ever give INCONCLUSIVE: the
  // minimum is both the default and the floor.
  // (0 only while the catalog is unreadable, which is itself a problem: no config is returned.)
  const samples = { database: 0, redis: 0, wsHandshakes: 0 };
  const sampleVariables = { database: 'KPI_DB_SAMPLES', redis: 'KPI_REDIS_SAMPLES', wsHandshakes: 'KPI_WS_HANDSHAKES' } as const;
  try {
    const kpis = readKpiThresholds(value('STAGECHECK_CATALOG') ?? DEFAULT_CATALOG_PATH);
    for (const key of Object.keys(samples) as (keyof typeof samples)[]) {
      const minimum = kpis.minSamples(SAMPLED_KPIS[key]);
      samples[key] = parsePositiveInt(value(sampleVariables[key]), sampleVariables[key], minimum, problems, minimum, `the KPI catalog's minimum for ${SAMPLED_KPIS[key]}`);
    }
    problems.push(...checkBudgetRelations(budgets, kpis));
  } catch (error) {
    problems.push(`STAGECHECK_CATALOG: ${(error as Error).message}`);
  }

  const identityPrefix = (value('STAGECHECK_IDENTITY_PREFIX') ?? 'stagecheck').toLowerCase();
  if (!/^[a-z0-9][a-z0-9-]{0,31}$/.test(identityPrefix)) {
    problems.push(`STAGECHECK_IDENTITY_PREFIX "${identityPrefix}" must be 1-32 letters, digits or dashes (it names the test users e2e-<prefix>-w1, ...)`);
  }
  const rawConcurrency = value('STAGECHECK_MAX_CONCURRENCY');
  const maxConcurrency = rawConcurrency === undefined ? undefined : parsePositiveInt(rawConcurrency, 'STAGECHECK_MAX_CONCURRENCY', 1, problems);

  const heartbeatS = parsePositiveInt(value('STAGING_WS_HEARTBEAT_S'), 'STAGING_WS_HEARTBEAT_S', 35, problems);

  const runId = value('STAGECHECK_RUN_ID') ?? generateRunId();
  if (!/^[A-Za-z0-9-]{4,64}$/.test(runId)) {
    problems.push(`STAGECHECK_RUN_ID "${runId}" must be 4-64 letters, digits or dashes (it names created data e2e-<runId>-...)`);
  }

  const adminUrl = value('PLATFORM_ADMIN_URL');
  const adminToken = value('PLATFORM_ADMIN_TOKEN');

  if (problems.length > 0 || !baseUrl || !authUrl || !wsUrl) return { problems };

  const config: SuiteConfig = {
    mode,
    runId,
    baseUrl: stripTrailingSlash(baseUrl.href),
    authUrl: stripTrailingSlash(authUrl.href),
    wsUrl: wsUrl.href,
    databaseUrl: databaseUrl?.href,
    redisUrl: redisUrl?.href,
    auth: { method: method ?? 'mint', bypassKey, email, password, jwtSecret, ...(second ? { second } : {}) },
    identityPrefix,
    ...(maxConcurrency !== undefined ? { maxConcurrency } : {}),
    hostPattern: hostPattern ?? new RegExp(DEFAULT_HOST_PATTERN),
    allowProduction,
    budgets,
    samples,
    heartbeatS,
    network: describeNetwork(network.settings),
    platformAdmin: adminUrl && adminToken ? { url: adminUrl, token: adminToken } : undefined,
  };
  return { problems, config };
}

/**
 * A target is all three URLs or none: a partial one would either test the bundled platform
 * instead (URLs set but not the base) or fail every test on a missing URL.
 */
function partialTargetProblems(value: (name: string) => string | undefined): string[] {
  const set = [...TARGET_URL_VARIABLES, ...STORE_URL_VARIABLES].filter((name) => value(name));
  if (set.length === 0) return [];
  const missing = TARGET_URL_VARIABLES.filter((name) => !value(name));
  if (missing.length === 0) return [];
  return [
    `${joinNames(missing)} ${missing.length === 1 ? 'is' : 'are'} not set but ${joinNames(set)} ${set.length === 1 ? 'is' : 'are'}: ` +
      `set all of ${TARGET_URL_VARIABLES.join(', ')} to test a deployment, or none of them (and no store URL) to test the bundled reference platform`,
  ];
}

/** Set variables that are one typo away from a variable the suite reads. */
function misspeltVariableProblems(env: Env): string[] {
  const known = new Set<string>(KNOWN_VARIABLES);
  const problems: string[] = [];
  for (const [name, raw] of Object.entries(env)) {
    if (known.has(name) || raw === undefined || raw.trim() === '') continue;
    const squashed = squash(name);
    // Only names one character longer or shorter can be one edit away (PATH, HOME... mostly are not).
    const near = squashedKnownVariables().filter(([, candidate]) => Math.abs(candidate.length - squashed.length) <= 1);
    // The same name but for case and separators first: STAGING_TEST_EMAIL2 means STAGING_TEST_EMAIL_2.
    const meant = (near.find(([, candidate]) => squashed === candidate) ?? near.find(([, candidate]) => withinOneEdit(squashed, candidate)))?.[0];
    if (meant) problems.push(`${name} is set but stagecheck reads no such variable: did you mean ${meant}?`);
  }
  return problems;
}

let squashedKnown: (readonly [name: string, squashed: string])[] | undefined;

/** The known variables with their squashed names, made once per process (config is read a few times per process). */
function squashedKnownVariables(): (readonly [name: string, squashed: string])[] {
  squashedKnown ??= KNOWN_VARIABLES.map((name) => [name, squash(name)] as const);
  return squashedKnown;
}

/** Case and separators do not tell variables apart to a human: STAGING_BASEURL is STAGING_BASE_URL. */
function squash(name: string): string {
  return name.toUpperCase().replace(/[_-]/g, '');
}

/** Budget relations the contract and the KPI catalog impose, named by env variable. */
export function checkBudgetRelations(budgets: Budgets, thresholds?: KpiThresholds): string[] {
  return validateBudgets(budgets, budgetKpiThresholds(thresholds), {}, (key) => `${BUDGET_VARIABLES[key as BudgetName]}=${budgets[key as BudgetName]}`)
    .map((problem) => problem.replace(/=(\d+) \(\1 ms\)/g, '=$1'));
}

/** Human-safe description for logs and reports: no secrets, only what was configured. */
export function describeConfig(config: SuiteConfig): Record<string, unknown> {
  return {
    mode: config.mode,
    runId: config.runId,
    baseUrl: config.baseUrl,
    authUrl: config.authUrl,
    wsUrl: config.wsUrl,
    database: config.databaseUrl ? redactUrl(config.databaseUrl) : 'NOT CONFIGURED',
    redis: config.redisUrl ? redactUrl(config.redisUrl) : 'NOT CONFIGURED',
    authMethod: config.auth.method,
    secondLoginAccount: config.auth.second ? 'configured' : 'NOT CONFIGURED',
    identityPrefix: config.identityPrefix,
    maxConcurrency: config.maxConcurrency ?? 'no cap',
    ...config.network,
    budgets: config.budgets,
  };
}

/** Every secret value in the config, for redaction of evidence and output. */
export function secretValues(config: SuiteConfig): string[] {
  const secrets = [config.auth.bypassKey, config.auth.password, config.auth.second?.password, config.auth.jwtSecret, config.platformAdmin?.token];
  for (const url of [config.databaseUrl, config.redisUrl]) {
    if (url) {
      const password = new URL(url).password;
      if (password) secrets.push(decodeURIComponent(password));
    }
  }
  return secrets.filter((s): s is string => typeof s === 'string' && s.length > 0);
}
