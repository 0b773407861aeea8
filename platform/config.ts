import { z } from 'zod';
import { parseFaultSpecs, type FaultRequest } from './faults/spec.ts';
import { randomSecret, randomSlug } from './util/ids.ts';
import type { LogLevel } from './util/log.ts';

/** Named bundles of defaults. `default` is the fast platform the suite's self-tests use. */
export const PROFILES = ['default', 'staging'] as const;
export type ProfileName = (typeof PROFILES)[number];

export const AGENT_STYLES = ['deterministic', 'llm'] as const;
export type AgentStyle = (typeof AGENT_STYLES)[number];
export const FRAME_STYLES = ['flat', 'wrapped'] as const;
export type FrameStyle = (typeof FRAME_STYLES)[number];
export const HISTORY_STYLES = ['array', 'envelope'] as const;
export type HistoryStyle = (typeof HISTORY_STYLES)[number];

/** The options a profile sets; each can also be given on its own, and an explicit value always wins. */
export interface ProfileSettings {
  tls: boolean;
  coldStartMs: number;
  wsHeartbeatS: number;
  agentThinkMs: number;
  agentStyle: AgentStyle;
  frameStyle: FrameStyle;
  historyStyle: HistoryStyle;
  wsPingMs: number;
}

export const PROFILE_SETTINGS: Record<ProfileName, ProfileSettings> = {
  default: { tls: false, coldStartMs: 0, wsHeartbeatS: 35, agentThinkMs: 20, agentStyle: 'deterministic', frameStyle: 'flat', historyStyle: 'array', wsPingMs: 0 },
  // What a real staging deployment of the contract looks like from outside (platform-contract.md, "What varies").
  staging: { tls: true, coldStartMs: 3000, wsHeartbeatS: 35, agentThinkMs: 1000, agentStyle: 'llm', frameStyle: 'wrapped', historyStyle: 'envelope', wsPingMs: 2500 },
};

export interface PlatformOptions {
  /** Defaults for the options below it: `default` (fast) or `staging` (staging-like). Default `default`. */
  profile?: ProfileName;
  /** HTTPS and WSS with a CA generated at start (its file is printed as STAGING_CA_FILE). */
  tls?: boolean;
  /** Delay (ms) of the first request to each component (backend HTTP, auth, WebSocket upgrade); 0 = none. */
  coldStartMs?: number;
  /** `llm`: varied wording, tools per prompt, progress and sub-agent events, refusals after agent_started. */
  agentStyle?: AgentStyle;
  /** `wrapped`: non-agent frames' fields in `data`, agent events' fields nested in `data` the contract's way. */
  frameStyle?: FrameStyle;
  /** `envelope`: message history as `{messages, total, limit, offset}` with content as text parts. */
  historyStyle?: HistoryStyle;
  /** Server WebSocket pings (ws ping()) every this many ms while a run is active; 0 = none. */
  wsPingMs?: number;
  /** Faults active from the start: `"pg_slow:ms=500,redis_silent"` or a list of specs/objects. */
  faults?: string | Array<string | { name: string; params?: Record<string, unknown> }>;
  /** Pause between agent events (ms), the "event gap". Default 20 (staging profile: 1000). */
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
  /** Password of the second seeded user `qa2@stagecheck.local` (a second login account). Default: random. */
  testUser2Password?: string;
  /** Default `warn`; the CLI uses `info`. Logs go to stderr and never contain secrets. */
  logLevel?: LogLevel;
  /** Stop on SIGINT/SIGTERM (then re-raise). Default true; the CLI handles signals itself. */
  handleSignals?: boolean;
}

export interface PlatformConfig extends ProfileSettings {
  profile: ProfileName;
  faults: Array<{ name: string; params: Record<string, unknown> }>;
  accessTokenTtlS: number;
  environment: string;
  version: string;
  databaseUrl: string | undefined;
  redisUrl: string | undefined;
  e2eBypassKey: string | null;
  jwtSecret: string;
  testUserEmail: string;
  testUserPassword: string;
  testUser2Email: string;
  testUser2Password: string;
  adminToken: string;
  logLevel: LogLevel;
  handleSignals: boolean;
}

const numbers = z.object({
  agentThinkMs: z.number().int().min(0).max(60_000),
  wsHeartbeatS: z.number().positive().max(3600),
  accessTokenTtlS: z.number().int().min(1).max(30 * 24 * 3600),
  coldStartMs: z.number().int().min(0).max(60_000),
  wsPingMs: z.number().int().min(0).max(600_000),
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
function oneOf<T extends string>(name: string, allowed: readonly T[], value: T | undefined, fallback: T): T {
  if (value === undefined) return fallback;
  if (!allowed.includes(value)) throw new Error(`invalid platform option: ${name} must be ${allowed.join(' or ')}, got "${String(value)}"`);
  return value;
}

export function resolveConfig(options: PlatformOptions = {}): PlatformConfig {
  const profile = oneOf('profile', PROFILES, options.profile, 'default');
  const base = PROFILE_SETTINGS[profile];
  const parsed = numbers.safeParse({
    agentThinkMs: options.agentThinkMs ?? base.agentThinkMs,
    wsHeartbeatS: options.wsHeartbeatS ?? base.wsHeartbeatS,
    accessTokenTtlS: options.accessTokenTtlS ?? 1800,
    coldStartMs: options.coldStartMs ?? base.coldStartMs,
    wsPingMs: options.wsPingMs ?? base.wsPingMs,
  });
  if (!parsed.success) throw new Error(`invalid platform option: ${z.prettifyError(parsed.error).replace(/\n/g, '; ')}`);
  return {
    ...parsed.data,
    profile,
    tls: options.tls ?? base.tls,
    agentStyle: oneOf('agentStyle', AGENT_STYLES, options.agentStyle, base.agentStyle),
    frameStyle: oneOf('frameStyle', FRAME_STYLES, options.frameStyle, base.frameStyle),
    historyStyle: oneOf('historyStyle', HISTORY_STYLES, options.historyStyle, base.historyStyle),
    faults: normaliseFaults(options.faults),
    environment: options.environment ?? 'staging-local',
    version: options.version ?? `refplat-${new Date().toISOString().slice(0, 10).replace(/-/g, '')}-${randomSlug(4)}`,
    databaseUrl: options.databaseUrl || undefined,
    redisUrl: options.redisUrl || undefined,
    e2eBypassKey: options.e2eBypassKey === undefined ? randomSecret(24) : options.e2eBypassKey,
    jwtSecret: options.jwtSecret ?? randomSecret(32),
    testUserEmail: 'qa@stagecheck.local',
    testUserPassword: options.testUserPassword ?? randomSecret(12),
    testUser2Email: 'qa2@stagecheck.local',
    testUser2Password: options.testUser2Password ?? randomSecret(12),
    adminToken: randomSecret(24),
    logLevel: options.logLevel ?? 'warn',
    handleSignals: options.handleSignals ?? true,
  };
}

function booleanFromEnv(env: NodeJS.ProcessEnv, name: string): boolean | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off)$/i.test(raw)) return false;
  throw new Error(`${name} must be 1/true/on or 0/false/off, got "${raw}"`);
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
 * not configured (test-auth answers 503). PLATFORM_JWT_SECRET, PLATFORM_TEST_USER_PASSWORD and PLATFORM_TEST_USER_2_PASSWORD:
 * unset or empty → random (fixed values let a test plant sentinel secrets and look for leaks).
 */
export function optionsFromEnv(env: NodeJS.ProcessEnv = process.env): PlatformOptions {
  const options: PlatformOptions = {};
  const set = <K extends keyof PlatformOptions>(key: K, value: PlatformOptions[K] | undefined): void => {
    if (value !== undefined) options[key] = value;
  };
  set('profile', (env.PLATFORM_PROFILE || undefined) as ProfileName | undefined);
  set('faults', env.PLATFORM_FAULTS || undefined);
  set('agentThinkMs', numberFromEnv(env, 'PLATFORM_AGENT_THINK_MS') ?? numberFromEnv(env, 'PLATFORM_EVENT_GAP_MS'));
  set('tls', booleanFromEnv(env, 'PLATFORM_TLS'));
  set('coldStartMs', numberFromEnv(env, 'PLATFORM_COLD_START_MS'));
  set('agentStyle', (env.PLATFORM_AGENT || undefined) as AgentStyle | undefined);
  set('frameStyle', (env.PLATFORM_FRAMES || undefined) as FrameStyle | undefined);
  set('historyStyle', (env.PLATFORM_HISTORY || undefined) as HistoryStyle | undefined);
  set('wsPingMs', numberFromEnv(env, 'PLATFORM_WS_PING_MS'));
  set('wsHeartbeatS', numberFromEnv(env, 'PLATFORM_WS_HEARTBEAT_S'));
  set('accessTokenTtlS', numberFromEnv(env, 'PLATFORM_ACCESS_TOKEN_TTL_S'));
  set('environment', env.PLATFORM_ENVIRONMENT || undefined);
  set('version', env.PLATFORM_VERSION || undefined);
  set('databaseUrl', env.PLATFORM_DATABASE_URL || undefined);
  set('redisUrl', env.PLATFORM_REDIS_URL || undefined);
  if (env.PLATFORM_E2E_BYPASS_KEY !== undefined) options.e2eBypassKey = env.PLATFORM_E2E_BYPASS_KEY || null;
  set('jwtSecret', env.PLATFORM_JWT_SECRET || undefined);
  set('testUserPassword', env.PLATFORM_TEST_USER_PASSWORD || undefined);
  set('testUser2Password', env.PLATFORM_TEST_USER_2_PASSWORD || undefined);
  const level = env.PLATFORM_LOG_LEVEL;
  if (level) {
    if (!['debug', 'info', 'warn', 'error', 'silent'].includes(level)) throw new Error(`PLATFORM_LOG_LEVEL must be debug|info|warn|error|silent, got "${level}"`);
    options.logLevel = level as LogLevel;
  }
  return options;
}
