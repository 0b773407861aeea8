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
import { REDACTED, redactUrl, SECRET_VARIABLES } from './redact.ts';

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
/** Store URLs only mean something with a target: set alone, they would be silently ignored. */
const STORE_URL_VARIABLES = ['STAGING_DATABASE_URL', 'STAGING_REDIS_URL'] as const;

/**
 * Every variable the suite and `npm run e2e` read: a set variable one typo away from one of
 * these is a misspelling, which would otherwise be ignored (a misspelt STAGING_BASE_URL
 * silently tests the bundled platform instead of staging).
 */
export const KNOWN_VARIABLES = [
  ...TARGET_URL_VARIABLES, ...STORE_URL_VARIABLES, ...SECRET_VARIABLES, ...Object.values(BUDGET_VARIABLES),
  'STAGING_TEST_EMAIL', 'STAGING_HOST_PATTERN', 'STAGING_WS_HEARTBEAT_S', 'KPI_DB_SAMPLES', 'KPI_REDIS_SAMPLES', 'KPI_WS_HANDSHAKES',
  'STAGECHECK_ALLOW_PRODUCTION', 'STAGECHECK_RUN_ID', 'STAGECHECK_REPORT_DIR', 'STAGECHECK_HISTORY_FILE', 'STAGECHECK_HISTORY',
  'STAGECHECK_CATALOG', 'STAGECHECK_PHASE1_GATE', 'STAGECHECK_RESULT_FILE', 'GOLDEN_PROMPTS_FILE', 'PLATFORM_ADMIN_URL', 'PLATFORM_FAULTS',
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
  problems.push(...misspeltVariableProblems(env));

  const baseUrl = parseUrl(value('STAGING_BASE_URL'), 'STAGING_BASE_URL', TARGET_HTTP_URL, problems);
  const authUrl = parseUrl(value('STAGING_AUTH_URL'), 'STAGING_AUTH_URL', TARGET_HTTP_URL, problems);
  const wsUrl = parseUrl(value('STAGING_WS_URL'), 'STAGING_WS_URL', TARGET_WS_URL, problems);
  const databaseUrl = parseUrl(value('STAGING_DATABASE_URL'), 'STAGING_DATABASE_URL', { protocols: ['postgres:', 'postgresql:'], example: 'postgres://user:password@host:5432/db' }, problems);
  const redisUrl = parseUrl(value('STAGING_REDIS_URL'), 'STAGING_REDIS_URL', { protocols: ['redis:', 'rediss:'], example: 'redis://host:6379' }, problems);

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

  // Fewer samples than the KPI catalog's minimum could only ever give INCONCLUSIVE.
  const samples = {
    database: parsePositiveInt(value('KPI_DB_SAMPLES'), 'KPI_DB_SAMPLES', 10, problems, 10, "the KPI catalog's minimum"),
    redis: parsePositiveInt(value('KPI_REDIS_SAMPLES'), 'KPI_REDIS_SAMPLES', 10, problems, 10, "the KPI catalog's minimum"),
    wsHandshakes: parsePositiveInt(value('KPI_WS_HANDSHAKES'), 'KPI_WS_HANDSHAKES', 20, problems, 20, "the KPI catalog's minimum"),
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
    const meant = KNOWN_VARIABLES.find((candidate) => withinOneEdit(squash(name), squash(candidate)));
    if (meant) problems.push(`${name} is set but stagecheck reads no such variable: did you mean ${meant}?`);
  }
  return problems;
}

/** Case and separators do not tell variables apart to a human: STAGING_BASEURL is STAGING_BASE_URL. */
function squash(name: string): string {
  return name.toUpperCase().replace(/[_-]/g, '');
}

/** True when `a` becomes `b` by at most one insertion, deletion, substitution or swap of neighbours. */
export function withinOneEdit(a: string, b: string): boolean {
  if (a === b) return true;
  if (Math.abs(a.length - b.length) > 1) return false;
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i += 1;
  const swapped = a.length === b.length && a[i] === b[i + 1] && a[i + 1] === b[i] && a.slice(i + 2) === b.slice(i + 2);
  return swapped || a.slice(i + 1) === b.slice(i + 1) || a.slice(i + 1) === b.slice(i) || a.slice(i) === b.slice(i + 1);
}

/** "A", "A and B", "A, B and C". */
function joinNames(names: readonly string[]): string {
  return names.length <= 1 ? names.join('') : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
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
    database: config.databaseUrl ? redactUrl(config.databaseUrl) : 'NOT CONFIGURED',
    redis: config.redisUrl ? redactUrl(config.redisUrl) : 'NOT CONFIGURED',
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

function stripTrailingSlash(href: string): string {
  return href.endsWith('/') ? href.slice(0, -1) : href;
}

interface UrlRule {
  protocols: string[];
  example: string;
  /** The suite appends paths to it: a query or fragment would end up in the middle of every URL. */
  bareBase?: boolean;
  /** fetch and ws refuse URLs with user:password@, and reports print these URLs. */
  noCredentials?: boolean;
}

const TARGET_HTTP_URL: UrlRule = { protocols: ['http:', 'https:'], example: 'https://api-staging.example.com', bareBase: true, noCredentials: true };
const TARGET_WS_URL: UrlRule = { protocols: ['ws:', 'wss:'], example: 'wss://api-staging.example.com/ws', noCredentials: true };

function parseUrl(raw: string | undefined, name: string, rule: UrlRule, problems: string[]): URL | undefined {
  if (raw === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    problems.push(`${name} is not a valid URL: "${redactValue(raw)}" (expected e.g. ${rule.example})`);
    return undefined;
  }
  if (!rule.protocols.includes(url.protocol)) {
    const hint = rule.protocols.includes('ws:') && (url.protocol === 'http:' || url.protocol === 'https:')
      ? ` (a WebSocket URL uses ws:// or wss://, e.g. ${url.protocol === 'https:' ? 'wss' : 'ws'}://${url.host}${url.pathname})`
      : ` (expected e.g. ${rule.example})`;
    problems.push(`${name} must use ${rule.protocols.join(' or ')}, got ${url.protocol}${hint}`);
    return undefined;
  }
  if (!url.hostname) {
    problems.push(`${name} has no host: "${redactValue(raw)}" (expected e.g. ${rule.example})`);
    return undefined;
  }
  if (rule.noCredentials && (url.username || url.password)) {
    // The value is not echoed: the part before @ is a credential.
    problems.push(`${name} must not carry credentials (user:password@host): authenticate with E2E_BYPASS_KEY, STAGING_TEST_EMAIL and STAGING_TEST_PASSWORD, or STAGING_JWT_SECRET`);
    return undefined;
  }
  if (url.hash) {
    problems.push(`${name} must not have a fragment (#...): it is never sent to the server (expected e.g. ${rule.example})`);
    return undefined;
  }
  if (rule.bareBase && url.search) {
    problems.push(`${name} must not have a query (?...): the suite appends paths to it; give only the scheme, host and base path (e.g. ${rule.example})`);
    return undefined;
  }
  return url;
}

function parsePositiveInt(raw: string | undefined, name: string, fallback: number, problems: string[], minimum = 1, minimumReason?: string): number {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw)) {
    const unit = name.endsWith('_MS') ? ' of milliseconds' : name.endsWith('_S') ? ' of seconds' : '';
    problems.push(`${name} must be a positive whole number${unit}, got "${raw}"`);
    return fallback;
  }
  const parsed = Number(raw);
  if (parsed < minimum) {
    problems.push(`${name} must be at least ${minimum}${minimumReason ? ` (${minimumReason})` : ''}, got ${parsed}`);
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

/**
 * Malformed URLs may carry credentials: everything before the last @ (after the scheme) is
 * hidden, whatever the slashes, and only then is the value shortened.
 */
function redactValue(raw: string): string {
  const hidden = raw.replace(/^([a-z][a-z0-9+.-]*:\/*)?.*@/i, (_, scheme: string | undefined) => `${scheme ?? ''}${REDACTED}@`);
  return hidden.length > 60 ? `${hidden.slice(0, 57)}...` : hidden;
}

/**
 * Checks `--tags-filter` expressions against the declared tags before Vitest starts: Vitest
 * itself reports an unknown tag only while collecting, once per test file with a stack
 * trace, after global setup has started the reference platform. Returns one problem per
 * broken expression. Grammar (Vitest's): tags or `*` patterns, `!`/`not`, `&&`/`and`,
 * `||`/`or`, parentheses.
 */
export function tagsFilterProblems(expressions: readonly string[], knownTags: readonly string[]): string[] {
  const problems: string[] = [];
  const known = `known tags: ${knownTags.join(', ')}`;
  for (const expression of expressions) {
    const syntax = tagExpressionSyntaxError(expression);
    if (syntax) {
      problems.push(`--tags-filter "${expression}" is not a tag expression: ${syntax} (combine tags with && || ! and parentheses, e.g. "p1 && redis")`);
      continue;
    }
    const unknown = tagWords(expression).filter((tag) => !knownTags.some((name) => matchesTag(tag, name)));
    if (unknown.length > 0) {
      const names = unknown.map((t) => `"${t}"`).join(', ');
      problems.push(`--tags-filter "${expression}": ${names} ${unknown.length === 1 ? 'matches' : 'match'} no declared tag, so no test could be selected; ${known}`);
    }
  }
  return problems;
}

type TagToken = '(' | ')' | '!' | '&&' | '||' | { tag: string };

function tokenizeTags(expression: string): TagToken[] | string {
  const tokens: TagToken[] = [];
  const pattern = /\s*(?:(\(|\)|!|&&|\|\|)|([^\s()!&|]+)|(\S))/gy;
  for (const match of expression.matchAll(pattern)) {
    const [, operator, word, stray] = match;
    if (stray !== undefined) return `"${stray}" on its own is not an operator (use && or ||)`;
    if (operator !== undefined) tokens.push(operator as TagToken);
    else if (word !== undefined) {
      const keyword = ({ and: '&&', or: '||', not: '!' } as Record<string, TagToken>)[word.toLowerCase()];
      tokens.push(keyword ?? { tag: word });
    }
  }
  return tokens;
}

function tagWords(expression: string): string[] {
  const tokens = tokenizeTags(expression);
  return typeof tokens === 'string' ? [] : tokens.flatMap((t) => (typeof t === 'object' ? [t.tag] : []));
}

/** Recursive descent over or → and → not → (group | tag); returns what is wrong, or undefined. */
function tagExpressionSyntaxError(expression: string): string | undefined {
  const tokens = tokenizeTags(expression);
  if (typeof tokens === 'string') return tokens;
  if (tokens.length === 0) return 'it is empty';
  let at = 0;
  const show = (token: TagToken | undefined) => (token === undefined ? 'the end' : typeof token === 'object' ? `"${token.tag}"` : `"${token}"`);
  const primary = (): string | undefined => {
    const token = tokens[at];
    if (token === '!') {
      at += 1;
      return primary();
    }
    if (token === '(') {
      at += 1;
      const inner = or();
      if (inner) return inner;
      if (tokens[at] !== ')') return `expected ")" but found ${show(tokens[at])}`;
      at += 1;
      return undefined;
    }
    if (typeof token === 'object') {
      at += 1;
      return undefined;
    }
    return `expected a tag but found ${show(token)}`;
  };
  const chain = (operator: '&&' | '||', operand: () => string | undefined) => (): string | undefined => {
    let problem = operand();
    while (!problem && tokens[at] === operator) {
      at += 1;
      problem = operand();
    }
    return problem;
  };
  const or = chain('||', chain('&&', primary));
  const problem = or();
  if (problem) return problem;
  return at < tokens.length ? `unexpected ${show(tokens[at])}` : undefined;
}

/** A `*` in a filter matches any run of characters, as in Vitest. */
function matchesTag(filterTag: string, name: string): boolean {
  if (!filterTag.includes('*')) return filterTag === name;
  const source = filterTag.split('*').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*');
  return new RegExp(`^${source}$`).test(name);
}
