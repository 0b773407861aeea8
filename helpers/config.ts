/**
 * The one typed configuration of the suite, validated before any test starts.
 *
 * Every problem names the variable that caused it, and all problems are reported at once
 * so a user fixes their .env in one pass. Secrets are held here but never printed:
 * `describeConfig` is the only view meant for output.
 */
import { randomBytes } from 'node:crypto';
import { DEFAULT_BUDGETS, validateBudgets, type BudgetName } from './budgets.ts';

export type AuthMethod = 'test-auth' | 'login' | 'mint';

/** Budgets in ms, keyed like DEFAULT_BUDGETS (see helpers/budgets.ts for what each one bounds). */
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
  };
  hostPattern: RegExp;
  allowProduction: boolean;
  budgets: Budgets;
  samples: { database: number; redis: number; wsHandshakes: number };
  /** Seconds of client silence after which the deployment sends a heartbeat (contract: ~35). */
  heartbeatS: number;
  /** Only present in local mode: lets the suite's own tests switch platform faults. */
  platformAdmin?: { url: string; token: string };
}

export type Env = Record<string, string | undefined>;

/** Variables whose values must never reach output. */
export const SECRET_VARIABLES = [
  'E2E_BYPASS_KEY',
  'STAGING_TEST_PASSWORD',
  'STAGING_JWT_SECRET',
  'PLATFORM_ADMIN_TOKEN',
] as const;

/** The env variable that overrides each budget. */
export const BUDGET_VARIABLES: Record<BudgetName, string> = {
  wsReceive: 'BUDGET_WS_RECEIVE_MS',
  agentRun: 'BUDGET_AGENT_RUN_MS',
  agentRunLargest: 'BUDGET_AGENT_RUN_LARGEST_MS',
  coldStart: 'BUDGET_COLD_START_MS',
  stall: 'BUDGET_STALL_MS',
  httpRequest: 'BUDGET_HTTP_MS',
  wsHandshake: 'BUDGET_WS_HANDSHAKE_MS',
  storeConnect: 'BUDGET_STORE_CONNECT_MS',
  dbProbe: 'BUDGET_DB_QUERY_MS',
};

/**
 * KPI thresholds a budget must exceed, by budget name: a request or query cut off at or
 * below the database response-time KPI's failure threshold (5 s) could never be measured
 * as DEGRADED, only as dead.
 */
const BUDGET_KPI_THRESHOLDS: Record<string, number> = { dbProbe: 5_000, httpRequest: 5_000 };

/** Hosts a run may target without --allow-production: staging names and loopback. */
export const DEFAULT_HOST_PATTERN = String.raw`(^|[.-])(staging|stage|stg)([.-]|$)|^localhost$|^127\.\d+\.\d+\.\d+$|^\[?::1\]?$`;

const TARGET_URL_VARIABLES = ['STAGING_BASE_URL', 'STAGING_AUTH_URL', 'STAGING_WS_URL'] as const;

export class ConfigError extends Error {
  readonly problems: string[];

  constructor(problems: string[]) {
    super(`stagecheck configuration is invalid:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
    // A config mistake is the user's to fix, not ours to debug: no stack trace.
    this.stack = this.message;
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
  if (!value('STAGING_BASE_URL')) {
    const partial = TARGET_URL_VARIABLES.filter((name) => value(name));
    if (partial.length > 0) {
      problems.push(
        `STAGING_BASE_URL is not set but ${partial.join(', ')} is: set all of ${TARGET_URL_VARIABLES.join(', ')} ` +
          'to test a deployment, or none of them to test the bundled reference platform',
      );
    }
  }

  const baseUrl = parseUrl(value('STAGING_BASE_URL'), 'STAGING_BASE_URL', ['http:', 'https:'], problems);
  const authUrl = parseUrl(value('STAGING_AUTH_URL'), 'STAGING_AUTH_URL', ['http:', 'https:'], problems);
  const wsUrl = parseUrl(value('STAGING_WS_URL'), 'STAGING_WS_URL', ['ws:', 'wss:'], problems);
  const databaseUrl = parseUrl(value('STAGING_DATABASE_URL'), 'STAGING_DATABASE_URL', ['postgres:', 'postgresql:'], problems, true);
  const redisUrl = parseUrl(value('STAGING_REDIS_URL'), 'STAGING_REDIS_URL', ['redis:', 'rediss:'], problems, true);

  const allowProduction = parseBoolean(value('STAGECHECK_ALLOW_PRODUCTION'), 'STAGECHECK_ALLOW_PRODUCTION', problems);
  const hostPattern = parsePattern(value('STAGING_HOST_PATTERN') ?? DEFAULT_HOST_PATTERN, 'STAGING_HOST_PATTERN', problems);
  if (hostPattern && !allowProduction) {
    for (const [name, url] of [
      ['STAGING_BASE_URL', baseUrl],
      ['STAGING_AUTH_URL', authUrl],
      ['STAGING_WS_URL', wsUrl],
    ] as const) {
      if (url && !hostPattern.test(url.hostname)) {
        problems.push(
          `${name} host "${url.hostname}" does not match STAGING_HOST_PATTERN (${hostPattern.source}); ` +
            'refusing to test what may be production. Set STAGECHECK_ALLOW_PRODUCTION=true (or pass --allow-production to npm run e2e) if you mean it',
        );
      }
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
  problems.push(...checkBudgetRelations(budgets));

  const samples = {
    database: parsePositiveInt(value('KPI_DB_SAMPLES'), 'KPI_DB_SAMPLES', 10, problems, 10),
    redis: parsePositiveInt(value('KPI_REDIS_SAMPLES'), 'KPI_REDIS_SAMPLES', 10, problems, 10),
    wsHandshakes: parsePositiveInt(value('KPI_WS_HANDSHAKES'), 'KPI_WS_HANDSHAKES', 20, problems, 20),
  };

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
    auth: { method: method ?? 'mint', bypassKey, email, password, jwtSecret },
    hostPattern: hostPattern ?? new RegExp(DEFAULT_HOST_PATTERN),
    allowProduction,
    budgets,
    samples,
    heartbeatS,
    platformAdmin: adminUrl && adminToken ? { url: adminUrl, token: adminToken } : undefined,
  };
  return { problems, config };
}

/** Budget relations the contract and the KPI catalog impose, named by env variable. */
export function checkBudgetRelations(budgets: Budgets): string[] {
  return validateBudgets(budgets, BUDGET_KPI_THRESHOLDS, {}, (key) => `${BUDGET_VARIABLES[key as BudgetName]}=${budgets[key as BudgetName]}`)
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
    database: config.databaseUrl ? redactCredentials(config.databaseUrl) : 'NOT CONFIGURED',
    redis: config.redisUrl ? redactCredentials(config.redisUrl) : 'NOT CONFIGURED',
    authMethod: config.auth.method,
    budgets: config.budgets,
  };
}

/** Every secret value in the config, for redaction of evidence and output. */
export function secretValues(config: SuiteConfig): string[] {
  const secrets = [config.auth.bypassKey, config.auth.password, config.auth.jwtSecret, config.platformAdmin?.token];
  for (const url of [config.databaseUrl, config.redisUrl]) {
    if (url) {
      const password = new URL(url).password;
      if (password) secrets.push(decodeURIComponent(password));
    }
  }
  return secrets.filter((s): s is string => typeof s === 'string' && s.length > 0);
}

function redactCredentials(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = 'redacted';
  return parsed.href;
}

function stripTrailingSlash(href: string): string {
  return href.endsWith('/') ? href.slice(0, -1) : href;
}

function parseUrl(raw: string | undefined, name: string, protocols: string[], problems: string[], optional = false): URL | undefined {
  if (raw === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    problems.push(`${name} is not a valid URL: "${redactValue(raw)}" (expected e.g. ${protocols[0]}//host${optional ? '' : ':port'})`);
    return undefined;
  }
  if (!protocols.includes(url.protocol)) {
    const hint = protocols.includes('ws:') && (url.protocol === 'http:' || url.protocol === 'https:')
      ? ` (a WebSocket URL uses ws:// or wss://, e.g. ${url.protocol === 'https:' ? 'wss' : 'ws'}://${url.host}${url.pathname})`
      : '';
    problems.push(`${name} must use ${protocols.join(' or ')}, got ${url.protocol}${hint}`);
    return undefined;
  }
  if (!url.hostname) {
    problems.push(`${name} has no host: "${redactValue(raw)}"`);
    return undefined;
  }
  return url;
}

function parsePositiveInt(raw: string | undefined, name: string, fallback: number, problems: string[], minimum = 1): number {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw)) {
    problems.push(`${name} must be a whole number${name.endsWith('_MS') ? ' of milliseconds' : ''}, got "${raw}"`);
    return fallback;
  }
  const parsed = Number(raw);
  if (parsed < minimum) {
    problems.push(`${name} must be at least ${minimum}, got ${parsed}`);
    return fallback;
  }
  return parsed;
}

function parseBoolean(raw: string | undefined, name: string, problems: string[]): boolean {
  if (raw === undefined) return false;
  if (/^(1|true|yes)$/i.test(raw)) return true;
  if (/^(0|false|no)$/i.test(raw)) return false;
  problems.push(`${name} must be true or false, got "${raw}"`);
  return false;
}

function parsePattern(raw: string, name: string, problems: string[]): RegExp | undefined {
  try {
    return new RegExp(raw, 'i');
  } catch (error) {
    problems.push(`${name} is not a valid regular expression: ${(error as Error).message}`);
    return undefined;
  }
}

/** URLs given in the wrong variable may carry credentials: never echo them whole. */
function redactValue(raw: string): string {
  return raw.length > 60 ? `${raw.slice(0, 57)}...` : raw.replace(/\/\/[^@/]*@/, '//***@');
}
