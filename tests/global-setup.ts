/**
 * Runs once per suite project before any test: validates the configuration, fixes the run
 * id every worker shares, and in local mode starts the reference platform and hands its
 * environment to the workers through `provide`. In watch mode every rerun is a run of its own:
 * it gets a new run id before it starts (the platform stays).
 */
import { rmSync } from 'node:fs';
import type { TestProject } from 'vitest/node';
import { assertConfigValid, ConfigError, generateRunId } from '../helpers/core/config.ts';
import { goldenPromptFileProblems } from '../fixtures/golden-prompts.ts';
import { failFastStateDir } from '../helpers/transport/component-watch.ts';
import type { LocalPlatform } from '../helpers/transport/local-platform.ts';

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
  /** Watch mode: reruns so far, and the run id of each (one per rerun, shared by both projects). */
  reruns: number;
  rerunIds: WeakMap<readonly unknown[], string>;
}
const shared: Shared = ((globalThis as { __stagecheckSetup?: Shared }).__stagecheckSetup ??= { users: 0, reruns: 0, rerunIds: new WeakMap() });

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
    // Imported only when a platform is started: this runs before the first worker starts.
    const { startLocalPlatform } = await import('../helpers/transport/local-platform.ts');
    const platform = await startLocalPlatform({ args: ['--heartbeat-s', LOCAL_HEARTBEAT_S] });
    // The profile is named in the banner and every report's head (PLATFORM_PROFILE reaches the platform through its environment).
    const profile = process.env.PLATFORM_PROFILE || 'default';
    return { env: { ...platform.env, STAGING_WS_HEARTBEAT_S: LOCAL_HEARTBEAT_S, STAGECHECK_RUN_ID: runId, STAGECHECK_PLATFORM_PROFILE: profile }, platform };
  })();
  const { env } = await shared.starting;
  project.provide('stagecheckEnv', env);
  // Vitest calls every rerun handler with the same list of the rerun's files: both projects
  // take the id made for that list, so phase 1 and phase 2 of one rerun share it.
  project.onTestsRerun((specifications) => {
    let runId = shared.rerunIds.get(specifications);
    if (!runId) {
      shared.reruns += 1;
      runId = rerunId(process.env.STAGECHECK_RUN_ID, shared.reruns);
      shared.rerunIds.set(specifications, runId);
      // The run before this rerun is over: its fail-fast marks go now, not only the last run's at teardown.
      if (env.STAGECHECK_RUN_ID) rmSync(failFastStateDir(env.STAGECHECK_RUN_ID), { recursive: true, force: true });
    }
    env.STAGECHECK_RUN_ID = runId;
    project.provide('stagecheckEnv', env);
  });

  return async () => {
    shared.users -= 1;
    if (shared.users > 0) return;
    const started = await shared.starting;
    shared.starting = undefined;
    // The run's fail-fast marks (helpers/transport/component-watch.ts) end with it.
    const runId = started?.env.STAGECHECK_RUN_ID;
    if (runId) rmSync(failFastStateDir(runId), { recursive: true, force: true });
    await started?.platform?.stop();
  };
}

/**
 * The run id of a watch-mode rerun: a fresh one, or, when STAGECHECK_RUN_ID names the runs,
 * that name with `-r<n>` (still 64 characters at most), so `npm run cleanup -- --run-id <name>`
 * finds what every rerun made.
 */
export function rerunId(configured: string | undefined, rerun: number): string {
  if (!configured) return generateRunId();
  const suffix = `-r${rerun + 1}`;
  return `${configured.slice(0, 64 - suffix.length)}${suffix}`;
}
