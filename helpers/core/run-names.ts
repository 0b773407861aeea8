/**
 * The names a run gives what it creates, so that a run's data can be told apart, found again
 * and cleaned up (`npm run cleanup -- --run-id <id>`): one place builds them all.
 *
 * Two kinds of name:
 * - run-scoped (`e2e-<runId>-…`): threads, messages, Redis keys. Made and deleted by one run.
 * - stable identities (`e2e-<prefix>-<label>`): the test users. No API deletes a user, so the
 *   suite reuses the same small set in every run (prefix STAGECHECK_IDENTITY_PREFIX, default
 *   `stagecheck`) instead of creating new ones per run. Runs going on at once share them, which
 *   is why cleanup finds a run's data by its run-scoped names, never by its users.
 */

/** `e2e-<runId>-<label>`: thread titles. */
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

/** `e2e-<prefix>-<label>`, lower-cased: a stable test user's id (test-auth derives it from the email). */
export function identityName(prefix: string, label: string): string {
  return `e2e-${prefix}-${label}`.toLowerCase();
}

/** `<prefix>-<label>@stagecheck.test`, lower-cased: a stable test user's email. */
export function identityEmail(prefix: string, label: string): string {
  return `${prefix}-${label}@stagecheck.test`.toLowerCase();
}
