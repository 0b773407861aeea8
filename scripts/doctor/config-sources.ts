/**
 * Where each setting came from. `.env` is read as `npm run e2e` reads it (dotenv, the project's
 * `.env`, never overriding a variable the environment already has, even a blank one); the
 * command line (`--local`, `--target`) comes last, as in e2e. What none of them set is the
 * suite's default, and what the bundled reference platform printed is its own source.
 */
import { existsSync, readFileSync } from 'node:fs';
import { parse as parseDotenv } from 'dotenv';
import { BUDGET_VARIABLES, DEFAULT_HOST_PATTERN, KNOWN_VARIABLES, type Env, type SuiteConfig } from '../../helpers/core/config.ts';
import { REDACTED, redactUrl, SECRET_VARIABLES } from '../../helpers/core/redact.ts';
import { PROXY_VARIABLES } from '../../helpers/core/network-env.ts';

export type ValueSource = 'environment' | '.env' | 'command line' | 'bundled platform' | 'default';

export interface SourcedEnv {
  /** The environment the run sees: .env under the process environment, the command line on top. */
  env: Env;
  /** The source of every variable set (non-blank) in `env`. */
  sources: Map<string, ValueSource>;
}

const isSet = (value: string | undefined): value is string => value !== undefined && value.trim() !== '';

/** Merges the sources as e2e does and remembers where each set variable came from. */
export function readSourcedEnv(processEnv: Env, dotenvPath: string, commandLine: Record<string, string> = {}): SourcedEnv {
  const fromFile = existsSync(dotenvPath) ? parseDotenv(readFileSync(dotenvPath)) : {};
  const env: Env = { ...processEnv };
  const sources = new Map<string, ValueSource>();
  for (const [name, value] of Object.entries(processEnv)) if (isSet(value)) sources.set(name, 'environment');
  for (const [name, value] of Object.entries(fromFile)) {
    // dotenv never overrides: a variable present in the environment (blank included) wins.
    if (Object.hasOwn(processEnv, name)) continue;
    env[name] = value;
    if (isSet(value)) sources.set(name, '.env');
  }
  for (const [name, value] of Object.entries(commandLine)) {
    env[name] = value;
    sources.set(name, 'command line');
  }
  return { env, sources };
}

/** Adds the bundled platform's printed environment under the rest (it only fills what is unset). */
export function withPlatformEnv(sourced: SourcedEnv, platformEnv: Record<string, string>): SourcedEnv {
  const env: Env = { ...sourced.env };
  const sources = new Map(sourced.sources);
  for (const [name, value] of Object.entries(platformEnv)) {
    if (isSet(env[name])) continue;
    env[name] = value;
    sources.set(name, 'bundled platform');
  }
  return { env, sources };
}

export interface ConfigRow {
  name: string;
  /** Shown value: secrets as `[redacted]`, URLs without credentials, `not set` when unset. */
  value: string;
  source: ValueSource | 'not set';
}

/** Variables listed even when unset: the target, its stores and the ways to authenticate. */
const ALWAYS_LISTED = [
  'STAGECHECK_TARGET', 'STAGING_BASE_URL', 'STAGING_AUTH_URL', 'STAGING_WS_URL', 'STAGING_DATABASE_URL', 'STAGING_REDIS_URL',
  'E2E_BYPASS_KEY', 'STAGING_TEST_EMAIL', 'STAGING_TEST_PASSWORD', 'STAGING_JWT_SECRET', 'STAGING_CA_FILE', 'HTTPS_PROXY', 'HTTP_PROXY', 'NO_PROXY',
];

/** The value the validated configuration holds for a variable left unset: its default. */
function defaults(config: SuiteConfig): Record<string, string> {
  const out: Record<string, string> = {
    STAGING_HOST_PATTERN: DEFAULT_HOST_PATTERN,
    STAGECHECK_ALLOW_PRODUCTION: String(config.allowProduction),
    STAGECHECK_IDENTITY_PREFIX: config.identityPrefix,
    STAGECHECK_MAX_CONCURRENCY: 'no cap',
    STAGING_WS_HEARTBEAT_S: String(config.heartbeatS),
    STAGECHECK_RUN_ID: `${config.runId} (generated)`,
    KPI_DB_SAMPLES: String(config.samples.database),
    KPI_REDIS_SAMPLES: String(config.samples.redis),
    KPI_WS_HANDSHAKES: String(config.samples.wsHandshakes),
  };
  for (const [key, variable] of Object.entries(BUDGET_VARIABLES)) out[variable] = String(config.budgets[key as keyof typeof BUDGET_VARIABLES]);
  return out;
}

const SECRETS = new Set<string>(SECRET_VARIABLES);

function shown(name: string, raw: string): string {
  if (SECRETS.has(name)) return REDACTED;
  if (/_URL$|_PROXY$|_proxy$/.test(name)) return redactUrl(raw.trim());
  return raw.trim();
}

/** The resolved configuration as rows, in a stable order, never with a secret. */
export function configRows(sourced: SourcedEnv, config: SuiteConfig): ConfigRow[] {
  const fallback = defaults(config);
  const names = [...new Set([...ALWAYS_LISTED, ...KNOWN_VARIABLES, ...PROXY_VARIABLES])];
  const rows: ConfigRow[] = [];
  for (const name of names) {
    const raw = sourced.env[name];
    const source = sourced.sources.get(name);
    if (isSet(raw) && source) rows.push({ name, value: shown(name, raw), source });
    else if (fallback[name] !== undefined) rows.push({ name, value: fallback[name], source: 'default' });
    else if (ALWAYS_LISTED.includes(name)) rows.push({ name, value: 'not set', source: 'not set' });
  }
  return rows;
}
