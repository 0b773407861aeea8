/**
 * The history in a real PostgreSQL (issue 16 §5): the private server a reference platform
 * starts, with a database of its own for the history beside the platform's.
 *
 * - Two `npm run e2e -- --project phase1` runs with STAGECHECK_HISTORY_URL: the suite creates its
 *   schema, each run lands as one row of stagecheck.history_runs, the second run's report counts
 *   the first (history.runsConsidered 1), and what was written reads back equal, through SQL and
 *   through the store.
 * - Without the URL the history stays the file it was (`<report dir>/history.jsonl` here).
 * - Rotation keeps the newest STAGECHECK_HISTORY_MAX_RUNS rows per target.
 * - A history URL naming the deployment's database (STAGING_DATABASE_URL's, spelt `localhost`) is
 *   a configuration error: exit 2 naming both variables, nothing written anywhere.
 * - A history that cannot be reached leaves the run's verdict alone: a warning naming
 *   STAGECHECK_HISTORY_URL, without its password.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { historyEntry, type HistoryEntry } from '../../reporter/history.ts';
import { openPostgresHistory } from '../../reporter/history-postgres.ts';
import { openHistoryStore } from '../../reporter/history-store.ts';
import { createHistoryDatabase, HISTORY_PASSWORD, type HistoryDatabase } from '../support/history-database.ts';
import { refusedPort } from '../support/net.ts';
import { runE2e, tailOf, type E2eRun } from '../support/run-e2e.ts';
import { speedBlindEnv } from '../support/speed-blind.ts';
import { startTargetPlatform, type TargetPlatform } from '../support/target-platform.ts';

const PHASE1 = ['--project', 'phase1'];
const dirs: string[] = [];
let platform: TargetPlatform;
let db: HistoryDatabase;

beforeAll(async () => {
  platform = await startTargetPlatform();
  db = await createHistoryDatabase(platform.env.STAGING_DATABASE_URL ?? '');
}, 60_000);

afterAll(async () => {
  await db?.close();
  await platform?.stop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function reportDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'stagecheck-history-pg-'));
  dirs.push(dir);
  return dir;
}

function run(extra: Record<string, string>): Promise<E2eRun> {
  return runE2e(PHASE1, { reportDir: reportDir(), env: { ...platform.suiteEnv(extra), ...speedBlindEnv() }, timeoutMs: 120_000 });
}

/** What the run wrote, as the reporter built it from the report it wrote beside it. */
function writtenEntry(finished: E2eRun): HistoryEntry {
  if (!finished.report) throw new Error(`no report:\n${tailOf(finished)}`);
  return JSON.parse(JSON.stringify(historyEntry(finished.report, 'local'))) as HistoryEntry;
}

function everythingPrinted(finished: E2eRun): string {
  const files = ['business-impact.json', 'business-impact.md', 'index.html'].map((name) => join(finished.reportDir, name)).filter(existsSync);
  return [finished.stdout, finished.stderr, ...files.map((file) => readFileSync(file, 'utf8'))].join('\n');
}

describe('the history in PostgreSQL', () => {
  it('creates its schema, stores one row per run, counts the earlier run and reads back what it wrote', async () => {
    const first = await run({ STAGECHECK_HISTORY_URL: db.url });
    expect([0, 1], tailOf(first)).toContain(first.exitCode);
    const location = db.url.replace(`postgres:${HISTORY_PASSWORD}@`, '');
    expect(first.report?.history).toEqual({ file: location, runsConsidered: 0, since: null });

    const second = await run({ STAGECHECK_HISTORY_URL: db.url });
    expect([0, 1], tailOf(second)).toContain(second.exitCode);
    expect(second.report?.history.runsConsidered).toBe(1);
    expect(second.report?.history.file).toBe(location);
    expect(second.report?.warnings.filter((w) => w.includes('history'))).toEqual([]);

    const rows = await db.rows();
    expect(rows.map((r) => [r.target, r.run_id, r.verdict])).toEqual([
      ['local', first.report?.run.runId, first.report?.verdict],
      ['local', second.report?.run.runId, second.report?.verdict],
    ]);
    expect(rows[0]?.entry).toEqual(writtenEntry(first));
    expect(rows[1]?.entry).toEqual(writtenEntry(second));
    expect(rows[0]?.at.toISOString()).toBe(writtenEntry(first).at);

    // The store a script opens (monitor, incident) reads the same entries, oldest first.
    const store = openHistoryStore({ env: { STAGECHECK_HISTORY_URL: db.url }, root: '/', reportDir: '/' });
    expect(await store?.read('local')).toEqual([writtenEntry(first), writtenEntry(second)]);
    expect(store?.drainWarnings()).toEqual([]);
    await store?.close();

    // The URL's password (a sentinel) is nowhere; the history went to PostgreSQL only.
    for (const finished of [first, second]) {
      expect(everythingPrinted(finished)).not.toContain(HISTORY_PASSWORD);
      expect(existsSync(join(finished.reportDir, 'history.jsonl'))).toBe(false);
    }
  });

  it('without STAGECHECK_HISTORY_URL stays the JSON-lines file of the report directory', async () => {
    const rowsBefore = await db.rows();
    const finished = await run({});
    expect([0, 1], tailOf(finished)).toContain(finished.exitCode);
    const file = join(finished.reportDir, 'history.jsonl');
    expect(finished.report?.history.file).toBe(file);
    expect(readFileSync(file, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as unknown)).toEqual([writtenEntry(finished)]);
    expect(await db.rows()).toEqual(rowsBefore);
  });

  it('keeps the newest STAGECHECK_HISTORY_MAX_RUNS rows of each target, and those of other targets', async () => {
    const before = (await db.rows()).filter((r) => r.target === 'local').length;
    const store = openPostgresHistory(db.url, { maxRuns: 3 });
    const entry = (n: number): HistoryEntry => ({
      schema: 'stagecheck.history', v: 1, runId: `rotation-${n}`, at: new Date(Date.UTC(2026, 0, 1, 0, n)).toISOString(),
      target: 'staging.example.com', version: null, verdict: n % 2 ? 'PASS' : 'FAIL', tests: { t: 'PASS' }, kpis: { k: { verdict: 'PASS', value: n } },
    });
    for (let n = 1; n <= 5; n += 1) await store.append(entry(n));
    expect((await store.read('staging.example.com')).map((e) => e.runId)).toEqual(['rotation-3', 'rotation-4', 'rotation-5']);
    expect(await store.read('staging.example.com', 2)).toEqual([entry(4), entry(5)]);
    expect(store.drainWarnings()).toEqual([]);
    await store.close();
    const rows = await db.rows();
    expect(rows.filter((r) => r.target === 'staging.example.com').map((r) => r.run_id)).toEqual(['rotation-3', 'rotation-4', 'rotation-5']);
    expect(rows.filter((r) => r.target === 'local')).toHaveLength(before);
  });

  it('refuses the deployment\'s own database (exit 2 naming both variables, nothing written), and turns an unreachable history into a warning', async () => {
    const deployment = new URL(platform.env.STAGING_DATABASE_URL ?? '');
    const ownDatabase = `postgres://writer:${HISTORY_PASSWORD}@localhost:${deployment.port}${deployment.pathname}`;
    const rowsBefore = await db.rows();
    const [refused, unreachable] = await Promise.all([
      run({ STAGECHECK_HISTORY_URL: ownDatabase }),
      run({ STAGECHECK_HISTORY_URL: `postgres://postgres:${HISTORY_PASSWORD}@127.0.0.1:${await refusedPort()}/stagecheck_history` }),
    ]);

    expect(refused.exitCode, tailOf(refused)).toBe(2);
    expect(refused.stderr).toMatch(/STAGECHECK_HISTORY_URL \(postgres:\/\/localhost:\d+\/stagecheck\) names the database of STAGING_DATABASE_URL/);
    expect(refused.report).toBeUndefined();
    expect(everythingPrinted(refused)).not.toContain(HISTORY_PASSWORD);
    expect(await db.schemaExists(deployment.pathname.slice(1), 'stagecheck')).toBe(false);

    expect([0, 1], tailOf(unreachable)).toContain(unreachable.exitCode);
    expect(unreachable.report?.history.runsConsidered).toBe(0);
    expect(unreachable.report?.warnings).toEqual(expect.arrayContaining([
      expect.stringMatching(/^history STAGECHECK_HISTORY_URL \(postgres:\/\/127\.0\.0\.1:\d+\/stagecheck_history\): could not be read: .*ECONNREFUSED/),
      expect.stringMatching(/^history STAGECHECK_HISTORY_URL .*: this run could not be written: skipped after the earlier failure/),
    ]));
    expect(everythingPrinted(unreachable)).not.toContain(HISTORY_PASSWORD);

    expect(await db.rows()).toEqual(rowsBefore);
  });
});

