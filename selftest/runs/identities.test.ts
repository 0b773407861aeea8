/**
 * Issue 13 §5 and §6, as a user runs `npm run e2e` against one long-lived deployment:
 * - no pile-up: the test users are stable, so a second run creates no user at all (counted in
 *   the deployment's `users` table, read-only);
 * - login only (no bypass key, no JWT secret): every test that can run passes; the isolation and
 *   multi-user tests are NOT CONFIGURED, with the reason, in the terminal, Markdown, HTML and JSON
 *   reports, until a second login account is given, and then they run and pass.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHECK_IDS } from '../../tests/check-ids.ts';
import { runE2e, tailOf, type E2eRun } from '../support/run-e2e.ts';
import { speedBlindEnv } from '../support/speed-blind.ts';
import { startTargetPlatform, type TargetPlatform } from '../support/target-platform.ts';

let platform: TargetPlatform;
const dirs: string[] = [];

beforeAll(async () => {
  platform = await startTargetPlatform();
}, 60_000);

afterAll(async () => {
  await platform?.stop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function reportDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'stagecheck-identities-'));
  dirs.push(dir);
  return dir;
}

async function users(): Promise<string[]> {
  const sql = postgres(platform.env.STAGING_DATABASE_URL!, { max: 1, onnotice: () => undefined });
  try {
    return (await sql<{ id: string }[]>`SELECT id FROM users ORDER BY id`).map((row) => row.id);
  } finally {
    await sql.end({ timeout: 1 });
  }
}

function e2e(env: Record<string, string>): Promise<E2eRun> {
  return runE2e([], { env: { ...speedBlindEnv(), ...env }, reportDir: reportDir(), timeoutMs: 170_000 });
}

/** The platform as a login-only deployment: no bypass key, no signing secret, no admin endpoint. */
function loginOnlyEnv(second: boolean): Record<string, string> {
  const { E2E_BYPASS_KEY: _k, STAGING_JWT_SECRET: _s, PLATFORM_ADMIN_URL: _a, PLATFORM_ADMIN_TOKEN: _t, STAGING_TEST_EMAIL_2: email2, STAGING_TEST_PASSWORD_2: password2, ...rest } =
    platform.suiteEnv();
  return { ...rest, ...(second ? { STAGING_TEST_EMAIL_2: email2!, STAGING_TEST_PASSWORD_2: password2! } : {}) } as Record<string, string>;
}

/** The isolation and multi-user checks: they need a second account. */
const MULTI_USER_IDS: ReadonlySet<string> = new Set([
  CHECK_IDS.isolationRead, CHECK_IDS.isolationMessages, CHECK_IDS.isolationDelete, CHECK_IDS.isolationEvents, CHECK_IDS.isolationRun, CHECK_IDS.severalUsers,
]);
const isMultiUser = (t: { checkId?: string }): boolean => t.checkId !== undefined && MULTI_USER_IDS.has(t.checkId);

describe('test identities on a shared deployment', () => {
  it('creates a small fixed set of test users on the first run and none on the second', async () => {
    const before = await users();
    const first = await e2e(platform.suiteEnv());
    expect(first.exitCode, tailOf(first)).toBe(0);
    const afterFirst = await users();
    const second = await e2e(platform.suiteEnv());
    expect(second.exitCode, tailOf(second)).toBe(0);
    const afterSecond = await users();

    const created = afterFirst.filter((id) => !before.includes(id));
    // Control: the run did act as test-auth users here, so a count of 0 on the second run means something.
    expect(created.length, 'users the first run created (control)').toBeGreaterThan(0);
    expect(created.length, `a small fixed set: ${created.join(', ')}`).toBeLessThanOrEqual(24);
    for (const id of created) expect(id, 'named from the identity prefix, not the run id').toMatch(/^e2e-stagecheck-[a-z0-9-]+$/);
    expect(afterSecond.filter((id) => !afterFirst.includes(id)), 'users the second run created').toEqual([]);
    console.log(`users created: first run ${created.length}, second run ${afterSecond.length - afterFirst.length} (${afterSecond.length} in all)`);
  });
});

describe('a login-only deployment', () => {
  it('runs every test it can; without a second account the multi-user tests are NOT CONFIGURED in every report, never passed', async () => {
    const run = await e2e(loginOnlyEnv(false));
    expect(run.exitCode, tailOf(run)).toBe(0);
    const report = run.report!;
    const multi = report.tests.filter(isMultiUser);
    expect(multi.length, 'isolation and multi-user tests').toBeGreaterThanOrEqual(6);
    for (const t of multi) {
      expect(t.verdict, t.fullName).toBe('NOT RUN');
      expect(t.reason, t.fullName).toMatch(/^not configured: .*STAGING_TEST_EMAIL_2 and STAGING_TEST_PASSWORD_2/);
    }
    // Everything else ran, except what needs a bypass key or a signing secret, and passed.
    const rest = report.tests.filter((t) => !isMultiUser(t));
    const notRun = rest.filter((t) => t.verdict !== 'PASS');
    for (const t of notRun) expect(`${t.fullName}: ${t.verdict} ${t.reason}`).toMatch(/: NOT RUN not configured: (E2E_BYPASS_KEY|STAGING_JWT_SECRET) is not set/);
    expect(rest.filter((t) => t.verdict === 'PASS').length).toBeGreaterThanOrEqual(55);
    expect(report.counts.PASS + report.counts['NOT RUN']).toBe(report.counts.total);

    expect(run.stdout).toMatch(/NOT CONFIGURED \d+ test\(s\): another user besides the test identity needs a second login account: set STAGING_TEST_EMAIL_2/);
    const markdown = readFileSync(join(run.reportDir, 'business-impact.md'), 'utf8');
    const html = readFileSync(join(run.reportDir, 'index.html'), 'utf8');
    for (const [name, text] of [['Markdown', markdown], ['HTML', html]] as const) {
      expect(text, `${name} names the missing second account`).toContain('not configured: another user besides the test identity needs a second login account');
    }
  });

  it('with a second login account, runs the isolation and multi-user tests too, and they pass', async () => {
    const run = await e2e(loginOnlyEnv(true));
    expect(run.exitCode, tailOf(run)).toBe(0);
    const multi = run.report!.tests.filter(isMultiUser);
    expect(multi.map((t) => `${t.verdict} ${t.fullName}`)).toEqual(multi.map((t) => `PASS ${t.fullName}`));
    expect(multi.length).toBeGreaterThanOrEqual(6);
  });
});
