/**
 * The names a run gives what it creates, so that a run's data can be told apart, found again
 * and cleaned up (`npm run cleanup -- --run-id <id>`): one place builds them all.
 */

/** `e2e-<runId>-<label>`: thread titles and test user ids. */
export function runScopedName(runId: string, label: string): string {
  return `e2e-${runId}-${label}`;
}

/** `e2e-<runId>-`: what every run-scoped name of run `runId` starts with. */
export function runScopedPrefix(runId: string): string {
  return runScopedName(runId, '');
}

/** `<runId>-<label>@stagecheck.test`, lower-cased: a test user's email. */
export function runScopedEmail(runId: string, label: string): string {
  return `${runId}-${label}@stagecheck.test`.toLowerCase();
}

/** `e2e:<runId>:`: the only Redis key prefix a run writes under. */
export function runScopedKeyPrefix(runId: string): string {
  return `e2e:${runId}:`;
}
