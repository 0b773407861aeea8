/**
 * What a run is aimed at, said before it starts and at the head of every report: the target
 * (its URLs, or the bundled reference platform), the platform profile, the run id, the way of
 * authenticating, which direct store probes are configured, and the budgets and heartbeat in
 * force. Built from the validated configuration only; no secret goes in (URLs lose their
 * credentials, the authentication is named by its method and variables, never its value).
 */
import { BUDGET_VARIABLES, type AuthMethod, type SuiteConfig } from './config.ts';
import { formatMs } from './format.ts';
import { redactUrl } from './redact.ts';

export const LOCAL_TARGET_TEXT = 'bundled reference platform, not your staging';

export interface TargetHead {
  /** `staging`: a configured deployment; `local`: the bundled reference platform. */
  target: 'staging' | 'local';
  /** One line: the backend URL, or the bundled platform. */
  description: string;
  /** Null before the bundled platform has started (its URLs are not known yet). */
  urls: { backend: string; auth: string; websocket: string } | null;
  /** The bundled platform's profile (default, staging); null for a configured target. */
  profile: string | null;
  runId: string | null;
  auth: { method: AuthMethod; text: string };
  stores: { postgres: 'configured' | 'NOT CONFIGURED'; redis: 'configured' | 'NOT CONFIGURED' };
  /** Budgets in ms, by env variable (BUDGET_HTTP_MS …). */
  budgets: Record<string, number>;
  heartbeatS: number;
}

const AUTH_TEXT: Record<AuthMethod, string> = {
  'test-auth': 'test-auth bypass key (E2E_BYPASS_KEY)',
  login: 'login (STAGING_TEST_EMAIL / STAGING_TEST_PASSWORD)',
  mint: 'locally minted JWT (STAGING_JWT_SECRET)',
};

/** The head of a run from its configuration. `profile` only means something for the bundled platform. */
export function targetHead(config: SuiteConfig, options: { profile?: string | null } = {}): TargetHead {
  const local = config.mode === 'local';
  const urls = { backend: redactUrl(config.baseUrl), auth: redactUrl(config.authUrl), websocket: redactUrl(config.wsUrl) };
  const budgets: Record<string, number> = {};
  for (const [key, variable] of Object.entries(BUDGET_VARIABLES)) budgets[variable] = config.budgets[key as keyof typeof BUDGET_VARIABLES];
  return {
    target: config.mode,
    description: local ? `${LOCAL_TARGET_TEXT} (${urls.backend})` : urls.backend,
    urls,
    profile: local ? (options.profile || 'default') : null,
    runId: config.runId,
    auth: { method: config.auth.method, text: AUTH_TEXT[config.auth.method] },
    stores: { postgres: config.databaseUrl ? 'configured' : 'NOT CONFIGURED', redis: config.redisUrl ? 'configured' : 'NOT CONFIGURED' },
    budgets,
    heartbeatS: config.heartbeatS,
  };
}

/** The banner's lines (no colour, no secret). */
export function renderHead(head: TargetHead): string[] {
  const target = head.target === 'local'
    ? `${LOCAL_TARGET_TEXT}, profile ${head.profile ?? 'default'}${head.urls ? `: backend ${head.urls.backend} · auth ${head.urls.auth} · websocket ${head.urls.websocket}` : ' (starting)'}`
    : `backend ${head.urls?.backend} · auth ${head.urls?.auth} · websocket ${head.urls?.websocket}`;
  const budgets = Object.entries(head.budgets).map(([name, ms]) => `${name.replace(/^BUDGET_|_MS$/g, '').toLowerCase().replace(/_/g, ' ')} ${formatMs(ms)}`);
  return [
    `stagecheck run ${head.runId ?? '(run id not fixed yet)'}`,
    `  target    ${target}`,
    `  auth      ${head.auth.text}`,
    `  stores    PostgreSQL probe ${head.stores.postgres} · Redis probe ${head.stores.redis}`,
    `  budgets   ${budgets.join(' · ')} · heartbeat ${head.heartbeatS} s`,
  ];
}
