/**
 * incident.md from whole `npm run e2e -- --project phase1` runs against one reference platform
 * (slow tier: three runs, about 40 s), sharing one report directory and history as a user's
 * `reports/` does:
 * 1. Redis silent (switched on over the admin endpoint): FAIL writes incident.md, first seen in
 *    this run, with the run's correlation ids and no secret, listed among the report files;
 * 2. still silent, with `--open-issue` and a fake signed-in `gh` first on PATH: the incident dates
 *    the failure back to run 1 (the history), is filed with its first line as the title, and the
 *    exit code stays the run's (1);
 * 3. Redis back: the passing run removes the stale incident.md.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SECRET_VARIABLES } from '../../helpers/core/redact.ts';
import { runE2e, tailOf } from '../support/run-e2e.ts';
import { speedBlindEnv } from '../support/speed-blind.ts';
import { startTargetPlatform, type TargetPlatform } from '../support/target-platform.ts';

const dir = mkdtempSync(join(tmpdir(), 'stagecheck-incident-runs-'));
const reportDir = join(dir, 'reports');
let platform: TargetPlatform;

beforeAll(async () => {
  platform = await startTargetPlatform();
});
afterAll(async () => {
  await platform?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** A signed-in fake `gh` that records its argv (one argument a line, then `--`) and answers with an issue URL. */
function fakeGh(): { bin: string; log: string } {
  const bin = join(dir, 'gh-bin');
  mkdirSync(bin, { recursive: true });
  const log = join(bin, 'argv.log');
  writeFileSync(join(bin, 'gh'), [
    '#!/bin/sh',
    `for arg in "$@"; do printf '%s\\n' "$arg" >> '${log}'; done`,
    `printf -- '--\\n' >> '${log}'`,
    'if [ "$1" = issue ]; then echo "https://github.com/acme/staging/issues/7"; fi',
    'exit 0',
    '',
  ].join('\n'));
  chmodSync(join(bin, 'gh'), 0o755);
  return { bin, log };
}

const incidentFile = join(reportDir, 'incident.md');

describe('incident.md from real runs', () => {
  it('is written by a failing run, dated back to the first failing run and filed with --open-issue by the next, and removed by a passing run', async () => {
    await platform.setFault({ name: 'redis_silent' });
    const env = { ...speedBlindEnv(), ...platform.suiteEnv() };
    const first = await runE2e(['--project', 'phase1'], { env, reportDir });
    expect(first.exitCode, tailOf(first)).toBe(1);
    expect(first.report?.verdict).toBe('FAIL');
    const firstRunId = first.report!.run.runId!;
    const incident = readFileSync(incidentFile, 'utf8');
    expect(incident).toMatch(/^# stagecheck FAIL: redis (failing|down) \(.+\) .*on the bundled reference platform \(127\.0\.0\.1:\d+\), \d{4}-\d\d-\d\d \d\d:\d\d UTC\n/);
    expect(incident).toContain('| P1 critical | $120K+ MRR | FAIL |');
    expect(incident).toContain('first seen in this run (the history holds no earlier run of this target)');
    expect(incident).toContain(`**run id** \`${firstRunId}\``);
    const correlationIds = first.report!.tests.map((t) => t.failure?.correlationId).filter((id): id is string => Boolean(id));
    expect(correlationIds.length).toBeGreaterThan(0);
    for (const id of correlationIds.slice(0, 25)) expect(incident, id).toContain(id);
    const secrets = SECRET_VARIABLES.map((name) => env[name]).filter((v): v is string => Boolean(v));
    expect(secrets.length).toBeGreaterThan(0);
    for (const secret of secrets) expect(incident).not.toContain(secret);
    expect(first.stdout).toMatch(/reports .*incident\.md/);

    const gh = fakeGh();
    const second = await runE2e(['--project', 'phase1', '--open-issue'], { env: { ...env, ...platform.suiteEnv(), PATH: `${gh.bin}:${process.env.PATH}` }, reportDir });
    expect(second.exitCode, tailOf(second)).toBe(1);
    const dated = readFileSync(incidentFile, 'utf8');
    expect(dated).toContain(`**run id** \`${second.report!.run.runId}\``);
    expect(dated).toContain(`first seen in run \`${firstRunId}\``);
    const title = dated.split('\n', 1)[0]!.replace(/^# /, '');
    const calls = readFileSync(gh.log, 'utf8').split('--\n').filter(Boolean).map((c) => c.trimEnd().split('\n'));
    expect(calls).toEqual([['auth', 'status'], ['issue', 'create', '--title', title, '--body-file', incidentFile]]);
    expect(second.stdout).toContain('stagecheck: incident filed: https://github.com/acme/staging/issues/7');

    await platform.clearFault({ name: 'redis_silent' });
    const third = await runE2e(['--project', 'phase1'], { env: { ...env, ...platform.suiteEnv() }, reportDir });
    expect(third.exitCode, tailOf(third)).toBe(0);
    expect(['PASS', 'DEGRADED']).toContain(third.report?.verdict);
    expect(existsSync(incidentFile)).toBe(false);
    expect(third.stdout).not.toMatch(/incident\.md/);
  });
});
