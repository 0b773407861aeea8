/**
 * The one environment every child run of the project's own tests, scripts and benchmark
 * starts from: this process's environment without anything that would point the child at a
 * target, change the platform or the suite's budgets, or redirect its reports.
 *
 * - Suite variables are set to '' rather than deleted: dotenv never overrides a variable that
 *   exists, so a developer's `.env` cannot point a child run at their staging.
 * - Platform, budget and KPI variables are deleted: '' means something else to some of them
 *   (PLATFORM_E2E_BYPASS_KEY='' turns test-auth off).
 * - Vitest's worker variables are deleted: the child is a fresh run, not a worker of this one.
 *
 * Callers add what their run needs (a target, a report directory) as `extra`, applied last.
 * A child run says what it targets: without a STAGING_BASE_URL from the caller it gets
 * STAGECHECK_TARGET=local (the bundled platform on purpose), so it runs the same under CI=true
 * (helpers/core/target-choice.ts); a caller that passes STAGECHECK_TARGET itself ('' included) decides.
 */
import { KNOWN_VARIABLES } from '../../helpers/core/config.ts';

/** Names removed outright: whatever a developer's shell or a parent Vitest run set. */
const REMOVED = /^(STAGING_|STAGECHECK_|BUDGET_|KPI_|E2E_|PLATFORM_|GOLDEN_|VITEST)/;
/**
 * The host's outputs a child run would otherwise append to (GITHUB_ACTIONS turns on the reporter's
 * annotations: a deliberately faulted child run must not annotate the host's workflow run), and
 * Node options meant for the parent.
 */
const HOST_VARIABLES = ['GITHUB_STEP_SUMMARY', 'GITHUB_OUTPUT', 'GITHUB_ACTIONS', 'NODE_OPTIONS'];

export type ChildEnv = Record<string, string | undefined>;

export function childEnv(extra: Record<string, string | undefined> = {}): ChildEnv {
  const env: ChildEnv = { ...process.env };
  for (const name of Object.keys(env)) {
    if (REMOVED.test(name) || HOST_VARIABLES.includes(name)) delete env[name];
  }
  for (const name of KNOWN_VARIABLES) env[name] = '';
  const out: ChildEnv = { ...env, NO_COLOR: '1', ...extra };
  if (!Object.hasOwn(extra, 'STAGECHECK_TARGET') && !out.STAGING_BASE_URL?.trim()) out.STAGECHECK_TARGET = 'local';
  return out;
}

/** `childEnv` with the reports and the history file of the run kept in `reportDir`. */
export function childEnvWithReports(reportDir: string, extra: Record<string, string | undefined> = {}): ChildEnv {
  return childEnv({ STAGECHECK_REPORT_DIR: reportDir, STAGECHECK_HISTORY_FILE: `${reportDir}/history.jsonl`, ...extra });
}
