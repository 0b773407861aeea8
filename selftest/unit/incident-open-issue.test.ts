/**
 * `--open-issue` (scripts/open-issue.ts) against fake GitHub CLIs on PATH: one signed in (files
 * the issue; its argv is recorded), one not signed in, one whose issue creation fails, one that
 * never answers (killed at its bound), and no gh at all. Each outcome is one message naming the
 * file to paste; the variable's value is validated.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openIssue, openIssueAfterRun, openIssueSetting, titleOf } from '../../scripts/open-issue.ts';

const dir = mkdtempSync(join(tmpdir(), 'stagecheck-open-issue-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const TITLE = 'stagecheck FAIL: backend down (tcp ECONNREFUSED) on api.staging.example.com, 2026-12-01 04:10 UTC';
const incident = join(dir, 'incident.md');
writeFileSync(incident, `# ${TITLE}\n\n**FAIL**: body\n`);

/**
 * A fake `gh` in a directory of its own: appends its argv (one argument a line, then `--`) to
 * `log`, answers `auth status` with `authExit`, and `issue create` with `createScript`.
 */
function fakeGh(name: string, authExit: number, createScript = 'echo "https://github.com/acme/staging/issues/42"; exit 0'): { bin: string; log: string } {
  const bin = join(dir, name);
  mkdirSync(bin);
  const log = join(bin, 'argv.log');
  writeFileSync(join(bin, 'gh'), [
    '#!/bin/sh',
    `for arg in "$@"; do printf '%s\\n' "$arg" >> '${log}'; done`,
    `printf -- '--\\n' >> '${log}'`,
    `if [ "$1" = auth ]; then echo "You are not logged into any GitHub hosts. To log in, run: gh auth login" >&2; exit ${authExit}; fi`,
    `if [ "$1" = issue ]; then ${createScript}; fi`,
    'exit 3',
    '',
  ].join('\n'));
  chmodSync(join(bin, 'gh'), 0o755);
  return { bin, log };
}

const calls = (log: string): string[][] => (existsSync(log) ? readFileSync(log, 'utf8').split('--\n').filter(Boolean).map((c) => c.trimEnd().split('\n')) : []);
const envWith = (bin: string) => ({ PATH: bin, HOME: dir });

describe('--open-issue through the GitHub CLI', () => {
  it('files incident.md with its first line as the title when gh is signed in, and prints the issue URL', async () => {
    const gh = fakeGh('signed-in', 0);
    const outcome = await openIssue(incident, { env: envWith(gh.bin) });
    expect(outcome).toEqual({ status: 'filed', url: 'https://github.com/acme/staging/issues/42', message: 'stagecheck: incident filed: https://github.com/acme/staging/issues/42' });
    expect(calls(gh.log)).toEqual([['auth', 'status'], ['issue', 'create', '--title', TITLE, '--body-file', incident]]);
  });

  it('says gh is not signed in, and which file to paste, without trying to file', async () => {
    const gh = fakeGh('signed-out', 1);
    const outcome = await openIssue(incident, { env: envWith(gh.bin) });
    expect(outcome.status).toBe('not-signed-in');
    expect(outcome.message).toBe(`stagecheck: --open-issue: gh is not signed in (gh auth status: You are not logged into any GitHub hosts. To log in, run: gh auth login), so no issue was filed; run \`gh auth login\`, or paste ${incident} into your issue tracker (its first line is the title)`);
    expect(calls(gh.log)).toEqual([['auth', 'status']]);
  });

  it('says gh is not installed when there is none on PATH', async () => {
    const empty = join(dir, 'no-gh');
    mkdirSync(empty);
    const outcome = await openIssue(incident, { env: envWith(empty) });
    expect(outcome).toEqual({ status: 'not-installed', message: `stagecheck: --open-issue: the GitHub CLI (gh) is not installed, so no issue was filed; paste ${incident} into your issue tracker (its first line is the title)` });
  });

  it('says why gh issue create failed, with gh\'s own first line', async () => {
    const gh = fakeGh('create-fails', 0, 'echo "GraphQL: Could not resolve to a Repository" >&2; exit 1');
    const outcome = await openIssue(incident, { env: envWith(gh.bin) });
    expect(outcome).toEqual({ status: 'failed', message: `stagecheck: --open-issue: gh issue create failed (GraphQL: Could not resolve to a Repository); paste ${incident} into your issue tracker (its first line is the title)` });
  });

  it('kills a gh that never answers at its bound and says so', async () => {
    const gh = fakeGh('hangs', 0, 'exec /bin/sleep 30');
    const started = performance.now();
    const outcome = await openIssue(incident, { env: envWith(gh.bin), timeoutsMs: { auth: 5_000, create: 300 } });
    expect(outcome.status).toBe('failed');
    expect(outcome.message).toMatch(/^stagecheck: --open-issue: `gh issue create` did not finish within 0.3 s; it may or may not have filed the issue/);
    // The bound, not the fake's 30 s sleep, ended it (generous for a loaded machine).
    expect(performance.now() - started).toBeLessThan(15_000);
  });

  it('files only after a FAIL run whose files include incident.md, and says so when a failed run wrote none', async () => {
    const gh = fakeGh('after-run', 0);
    const options = { env: envWith(gh.bin) };
    expect(await openIssueAfterRun({ verdict: 'PASS', files: [], reportDir: dir }, options)).toBeUndefined();
    expect(await openIssueAfterRun({ verdict: 'INCONCLUSIVE', files: [incident], reportDir: dir }, options)).toBeUndefined();
    expect(await openIssueAfterRun(undefined, options)).toBeUndefined();
    expect(calls(gh.log)).toEqual([]);
    expect((await openIssueAfterRun({ verdict: 'FAIL', files: [incident], reportDir: dir }, options))?.status).toBe('filed');
    expect(await openIssueAfterRun({ verdict: 'FAIL', files: [join(dir, 'business-impact.md')], reportDir: dir }, options)).toMatchObject({ status: 'no-incident', message: expect.stringMatching(/wrote no incident\.md/) });
  });

  it('takes the title from the first line, and falls back to a generic one', () => {
    expect(titleOf(`# ${TITLE}\nbody`)).toBe(TITLE);
    expect(titleOf('')).toBe('stagecheck incident');
  });
});

describe('STAGECHECK_OPEN_ISSUE', () => {
  it('is true or false; anything else is a configuration error naming the variable', () => {
    expect(openIssueSetting({ STAGECHECK_OPEN_ISSUE: 'true' })).toEqual({ wanted: true });
    expect(openIssueSetting({ STAGECHECK_OPEN_ISSUE: '' })).toEqual({ wanted: false });
    expect(openIssueSetting({})).toEqual({ wanted: false });
    const bad = openIssueSetting({ STAGECHECK_OPEN_ISSUE: 'please' });
    expect(bad.wanted).toBe(false);
    expect(bad.problem).toBe('stagecheck configuration is invalid:\n  - STAGECHECK_OPEN_ISSUE (--open-issue) must be true or false, got "please"');
  });
});
