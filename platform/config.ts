import { z } from 'zod';
import { parseFaultSpecs, type FaultRequest } from './faults/spec.ts';
import { randomSecret, randomSlug } from './util/ids.ts';
import type { LogLevel } from './util/log.ts';

export interface PlatformOptions {
  /** Faults active from the start: `"pg_slow:ms=500,redis_silent"` or a list of specs/objects. */
  faults?: string | Array<string | { name: string; params?: Record<string, unknown> }>;
  /** Pause between agent events (ms). Default 20. */
  agentThinkMs?: number;
  /** Seconds of client silence before the server sends `{type:"heartbeat"}`. Default 35. */
  wsHeartbeatS?: number;
  /** Access-token lifetime (s). Default 1800. */
  accessTokenTtlS?: number;
  /** Reported as `environment`; `production` makes test-auth answer 403. Default `staging-local`. */
  environment?: string;
  /** Build id reported as `version`. Default: generated per start. */
  version?: string;
  /** Use this PostgreSQL instead of starting one (tables go into a run-unique schema). */
  databaseUrl?: string;
  /** Use this Redis instead of starting one (keys get a run-unique prefix). */
  redisUrl?: string;
  /** Test-auth key. Default: random. `null`: not configured, test-auth answers 503. */
  e2eBypassKey?: string | null;
  /** HS256 signing secret. Default: random. */
  jwtSecret?: string;
  /** Password of the seeded user `qa@stagecheck.local`. Default: random. */
  testUserPassword?: string;
  /** Default `warn`; the CLI uses `info`. Logs go to stderr and never contain secrets. */
  logLevel?: LogLevel;
  /** Stop on SIGINT/SIGTERM (then re-raise). Default true; the CLI handles signals itself. */
  handleSignals?: boolean;
}

export interface PlatformConfig {
  faults: Array<{ name: string; params: Record<string, unknown> }>;
  agentThinkMs: number;
  wsHeartbeatS: number;
  accessTokenTtlS: number;
  environment: string;
  version: string;
  databaseUrl: string | undefined;
  redisUrl: string | undefined;
  e2eBypassKey: string | null;
  jwtSecret: string;
  testUserEmail: string;
  testUserPassword: string;
  adminToken: string;
  logLevel: LogLevel;
  handleSignals: boolean;
}

const numbers = z.object({
  agentThinkMs: z.number().int().min(0).max(60_000),
  wsHeartbeatS: z.number().positive().max(3600),
  accessTokenTtlS: z.number().int().min(1).max(30 * 24 * 3600),
});

function normaliseFaults(faults: PlatformOptions['faults']): PlatformConfig['faults'] {
  if (!faults) return [];
  const list = typeof faults === 'string' ? [faults] : faults;
  return list.flatMap((item) =>
    typeof item === 'string'
      ? parseFaultSpecs(item).map((request: FaultRequest) => ({ name: request.name, params: request.params as Record<string, unknown> }))
      : [{ name: item.name, params: item.params ?? {} }],
  );
}

/** Fills defaults and generates the per-start secrets. Throws a readable error on bad values. */
export function resolveConfig(options: PlatformOptions = {}): PlatformConfig {
  const parsed = numbers.safeParse({
    agentThinkMs: options.agentThinkMs ?? 20,
    wsHeartbeatS: options.wsHeartbeatS ?? 35,
    accessTokenTtlS: options.accessTokenTtlS ?? 1800,
  });
  if (!parsed.success) throw new Error(`invalid platform option: ${z.prettifyError(parsed.error).replace(/\n/g, '; ')}`);
  return {
    ...parsed.data,
    faults: normaliseFaults(options.faults),
    environment: options.environment ?? 'staging-local',
    version: options.version ?? `refplat-${new Date().toISOString().slice(0, 10).replace(/-/g, '')}-${randomSlug(4)}`,
    databaseUrl: options.databaseUrl || undefined,
    redisUrl: options.redisUrl || undefined,
    e2eBypassKey: options.e2eBypassKey === undefined ? randomSecret(24) : options.e2eBypassKey,
    jwtSecret: options.jwtSecret ?? randomSecret(32),
    testUserEmail: 'qa@stagecheck.local',
    testUserPassword: options.testUserPassword ?? randomSecret(12),
    adminToken: randomSecret(24),
    logLevel: options.logLevel ?? 'warn',
    handleSignals: options.handleSignals ?? true,
  };
}

function numberFromEnv(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value)) throw new Error(`${name} must be a number, got "${raw}"`);
  return value;
}

/**
 * The CLI's environment variables. PLATFORM_E2E_BYPASS_KEY: unset → random key; set but empty →
 * not configured (test-auth answers 503). PLATFORM_JWT_SECRET and PLATFORM_TEST_USER_PASSWORD:
 * unset or empty → random (fixed values let a test plant sentinel secrets and look for leaks).
 */
export function optionsFromEnv(env: NodeJS.ProcessEnv = process.env): PlatformOptions {
  const options: PlatformOptions = {};
  const set = <K extends keyof PlatformOptions>(key: K, value: PlatformOptions[K] | undefined): void => {
    if (value !== undefined) options[key] = value;
  };
  set('faults', env.PLATFORM_FAULTS || undefined);
  set('agentThinkMs', numberFromEnv(env, 'PLATFORM_AGENT_THINK_MS'));
  set('wsHeartbeatS', numberFromEnv(env, 'PLATFORM_WS_HEARTBEAT_S'));
  set('accessTokenTtlS', numberFromEnv(env, 'PLATFORM_ACCESS_TOKEN_TTL_S'));
  set('environment', env.PLATFORM_ENVIRONMENT || undefined);
  set('version', env.PLATFORM_VERSION || undefined);
  set('databaseUrl', env.PLATFORM_DATABASE_URL || undefined);
  set('redisUrl', env.PLATFORM_REDIS_URL || undefined);
  if (env.PLATFORM_E2E_BYPASS_KEY !== undefined) options.e2eBypassKey = env.PLATFORM_E2E_BYPASS_KEY || null;
  set('jwtSecret', env.PLATFORM_JWT_SECRET || undefined);
  set('testUserPassword', env.PLATFORM_TEST_USER_PASSWORD || undefined);
  const level = env.PLATFORM_LOG_LEVEL;
  if (level) {
    if (!['debug', 'info', 'warn', 'error', 'silent'].includes(level)) throw new Error(`PLATFORM_LOG_LEVEL must be debug|info|warn|error|silent, got "${level}"`);
    options.logLevel = level as LogLevel;
  }
  return options;
}
