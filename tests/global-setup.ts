/**
 * Runs once per suite project before any test: validates the configuration, fixes the run
 * id every worker shares, and in local mode starts the reference platform and hands its
 * environment to the workers through `provide`.
 */
import type { TestProject } from 'vitest/node';
import { assertConfigValid, ConfigError, generateRunId } from '../helpers/core/config.ts';
import { goldenPromptFileProblems } from '../fixtures/golden-prompts.ts';
import { startLocalPlatform, type LocalPlatform } from '../helpers/transport/local-platform.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    stagecheckEnv: Record<string, string>;
  }
}

const LOCAL_HEARTBEAT_S = '2';

// phase1 and phase2 each list this setup; one run starts one platform for both.
interface Shared {
  users: number;
  starting?: Promise<{ env: Record<string, string>; platform?: LocalPlatform }>;
}
const shared: Shared = ((globalThis as { __stagecheckSetup?: Shared }).__stagecheckSetup ??= { users: 0 });

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  assertConfigValid(process.env);
  // The prompt file is configuration too: a mistake names the entry and the field, before any test.
  const promptProblems = goldenPromptFileProblems(process.env);
  if (promptProblems.length > 0) throw new ConfigError(promptProblems);
  shared.users += 1;
  shared.starting ??= (async () => {
    const runId = process.env.STAGECHECK_RUN_ID || generateRunId();
    if (process.env.STAGING_BASE_URL) return { env: { STAGECHECK_RUN_ID: runId } };
    // A short heartbeat keeps the local run fast; staging keeps the contract's ~35 s.
    const platform = await startLocalPlatform({ args: ['--heartbeat-s', LOCAL_HEARTBEAT_S] });
    // The profile is named in the banner and every report's head (PLATFORM_PROFILE reaches the platform through its environment).
    const profile = process.env.PLATFORM_PROFILE || 'default';
    return { env: { ...platform.env, STAGING_WS_HEARTBEAT_S: LOCAL_HEARTBEAT_S, STAGECHECK_RUN_ID: runId, STAGECHECK_PLATFORM_PROFILE: profile }, platform };
  })();
  const { env } = await shared.starting;
  project.provide('stagecheckEnv', env);

  return async () => {
    shared.users -= 1;
    if (shared.users > 0) return;
    const started = await shared.starting;
    shared.starting = undefined;
    await started?.platform?.stop();
  };
}
