/**
 * No silent switch of targets. On a developer's machine a run with nothing configured tests the
 * bundled reference platform (zero configuration). In CI (`CI=true`), or when the staging target
 * is asked for (`--target staging`, STAGECHECK_TARGET=staging), a missing STAGING_BASE_URL is a
 * configuration error: a green run must never mean "tested something else". Testing the bundled
 * platform there takes an explicit `--local` (STAGECHECK_TARGET=local).
 */

export const TARGET_VARIABLE = 'STAGECHECK_TARGET';
export const TARGET_CHOICES = ['local', 'staging'] as const;
export type TargetChoice = (typeof TARGET_CHOICES)[number];

/** CI systems set CI=true (GitHub Actions, GitLab, CircleCI…); `1` counts too. */
export function isCi(env: Record<string, string | undefined>): boolean {
  const ci = env.CI?.trim().toLowerCase();
  return ci === 'true' || ci === '1';
}

/**
 * What STAGECHECK_TARGET and CI say about the target, as problems naming the variables (one at
 * most: each case has one fix). `value` reads a variable, blank as unset.
 */
export function targetChoiceProblems(value: (name: string) => string | undefined, env: Record<string, string | undefined>): string[] {
  const raw = value(TARGET_VARIABLE);
  if (raw !== undefined && !(TARGET_CHOICES as readonly string[]).includes(raw)) {
    return [`${TARGET_VARIABLE} "${raw}" must be "local" (the bundled reference platform, --local) or "staging" (the deployment STAGING_BASE_URL names, --target staging)`];
  }
  const choice = raw as TargetChoice | undefined;
  const baseUrl = value('STAGING_BASE_URL');
  // The bundled platform's own environment carries its admin URL: that target is local.
  const bundled = value('PLATFORM_ADMIN_URL') !== undefined;
  if (choice === 'local' && baseUrl && !bundled) {
    return [`${TARGET_VARIABLE}=local (--local) asks for the bundled reference platform, but STAGING_BASE_URL is set: unset one of them`];
  }
  if (baseUrl || choice === 'local') return [];
  if (choice === 'staging') {
    return [
      `${TARGET_VARIABLE}=staging (--target staging) but STAGING_BASE_URL is not set: set STAGING_BASE_URL (with STAGING_AUTH_URL and STAGING_WS_URL) ` +
        'to test your staging, or pass --local (STAGECHECK_TARGET=local) to test the bundled reference platform',
    ];
  }
  if (isCi(env)) {
    return [
      'CI=true and STAGING_BASE_URL is not set: a CI run never falls back to the bundled reference platform silently. ' +
        'Set STAGING_BASE_URL (with STAGING_AUTH_URL and STAGING_WS_URL) to test your staging, or pass --local (STAGECHECK_TARGET=local) to test the bundled reference platform on purpose',
    ];
  }
  return [];
}
