/**
 * What doctor checks. With a target configured (STAGING_BASE_URL and the rest), that target.
 * With nothing configured and not in CI, the bundled reference platform, started as `npm run
 * e2e` starts it: doctor answers "would `npm run e2e` work here now?", so it checks what e2e
 * would test, and says loudly that it is not your staging. Under CI=true, or with
 * `--target staging`, a missing STAGING_BASE_URL is a configuration error, as for e2e
 * (helpers/core/target-choice.ts): never a silent switch of targets.
 */
import { assertConfigValid, loadConfig, type SuiteConfig } from '../../helpers/core/config.ts';
import { startLocalPlatform, type LocalPlatform } from '../../helpers/transport/local-platform.ts';
import { withPlatformEnv, type SourcedEnv } from './config-sources.ts';

export interface ResolvedTarget {
  config: SuiteConfig;
  sourced: SourcedEnv;
  /** Set when doctor started the bundled platform itself; the caller stops it. */
  platform?: LocalPlatform;
  /** Wall time of that start, ms. */
  platformStartMs?: number;
  /** Why this target, in one line. */
  reason: string;
}

/** Throws ConfigError for an invalid configuration, before anything is started. */
export async function resolveTarget(sourced: SourcedEnv, options: { platformTimeoutMs?: number } = {}): Promise<ResolvedTarget> {
  assertConfigValid(sourced.env);
  if (sourced.env.STAGING_BASE_URL?.trim()) {
    const config = loadConfig(sourced.env);
    const reason = config.mode === 'local'
      ? 'the bundled reference platform named by its environment (PLATFORM_ADMIN_URL is set)'
      : `STAGING_BASE_URL from ${sourced.sources.get('STAGING_BASE_URL') ?? 'the environment'}`;
    return { config, sourced, reason };
  }
  const started = performance.now();
  const platform = await startLocalPlatform({ timeoutMs: options.platformTimeoutMs ?? 30_000 });
  const platformStartMs = performance.now() - started;
  try {
    const withPlatform = withPlatformEnv(sourced, platform.env);
    return {
      config: loadConfig(withPlatform.env),
      sourced: withPlatform,
      platform,
      platformStartMs,
      reason: 'no target configured (STAGING_BASE_URL unset, not CI): doctor started the bundled reference platform, as npm run e2e would',
    };
  } catch (error) {
    await platform.stop();
    throw error;
  }
}
