/**
 * The history store (reporter/history-store.ts): where it is, the file's rotation bound, what a
 * broken PostgreSQL history does to a run (a warning, quickly, without the password), and the
 * checks of STAGECHECK_HISTORY_URL / STAGECHECK_HISTORY_MAX_RUNS (helpers/core/history-settings.ts),
 * including the refusal of the deployment's own database. The round trip through a real
 * PostgreSQL is selftest/runs/history-postgres.test.ts.
 */
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../helpers/core/config.ts';
import { namesSameDatabase, readHistorySettings } from '../../helpers/core/history-settings.ts';
import { configuredSecrets, redactSecrets } from '../../helpers/core/redact.ts';
import type { HistoryEntry } from '../../reporter/history.ts';
import { openPostgresHistory } from '../../reporter/history-postgres.ts';
import { FileHistoryStore, openHistoryStore, rotateHistoryFile, rotationSlack } from '../../reporter/history-store.ts';
import { refusedPort } from '../support/net.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'stagecheck-history-'));
  dirs.push(dir);
  return dir;
}

function entry(n: number, target = 'local', verdict: 'PASS' | 'FAIL' = 'PASS'): HistoryEntry {
  const at = new Date(Date.UTC(2026, 0, 1, 0, n)).toISOString();
  return { schema: 'stagecheck.history', v: 1, runId: `run-${n}`, at, target, version: null, verdict, tests: { 'phase1 a.test.ts > t': verdict }, kpis: {} };
}

const lineCount = (file: string) => readFileSync(file, 'utf8').split('\n').filter((line) => line !== '').length;

describe('the file history store', () => {
  it('is <report dir>/history.jsonl by default, STAGECHECK_HISTORY_FILE (relative to the root) when set, none when off', () => {
    const root = tempDir();
    expect(openHistoryStore({ env: {}, root, reportDir: join(root, 'reports') })?.location).toBe(join(root, 'reports', 'history.jsonl'));
    expect(openHistoryStore({ env: { STAGECHECK_HISTORY_FILE: 'h/x.jsonl' }, root, reportDir: join(root, 'reports') })?.location).toBe(join(root, 'h', 'x.jsonl'));
    // Child runs of the project's own tests set every variable, unset ones to ''.
    expect(openHistoryStore({ env: { STAGECHECK_HISTORY_FILE: '', STAGECHECK_HISTORY_URL: '', STAGECHECK_HISTORY_MAX_RUNS: '' }, root, reportDir: root })?.location).toBe(join(root, 'history.jsonl'));
    expect(openHistoryStore({ env: { STAGECHECK_HISTORY: 'off' }, root, reportDir: root })).toBeNull();
    expect(openHistoryStore({ env: {}, root, reportDir: root, historyFile: false })).toBeNull();
  });

  it('reads this target\'s newest entries, oldest first, up to the limit', async () => {
    const store = new FileHistoryStore(join(tempDir(), 'history.jsonl'), 100);
    for (let n = 1; n <= 6; n += 1) await store.append(entry(n, n % 2 === 0 ? 'local' : 'staging.example.com'));
    expect((await store.read('local')).map((e) => e.runId)).toEqual(['run-2', 'run-4', 'run-6']);
    expect((await store.read('local', 2)).map((e) => e.runId)).toEqual(['run-4', 'run-6']);
    expect(await store.read('nowhere')).toEqual([]);
    expect(store.drainWarnings()).toEqual([]);
  });

  it('keeps the newest STAGECHECK_HISTORY_MAX_RUNS entries, rewriting only once a tenth more piled up', async () => {
    const dir = tempDir();
    const file = join(dir, 'history.jsonl');
    const store = openHistoryStore({ env: { STAGECHECK_HISTORY_MAX_RUNS: '20' }, root: dir, reportDir: dir });
    expect(rotationSlack(20)).toBe(2);
    for (let n = 1; n <= 22; n += 1) await store?.append(entry(n));
    expect(lineCount(file)).toBe(22); // within the slack: no rewrite yet
    await store?.append(entry(23));
    expect(lineCount(file)).toBe(20);
    const kept = await store?.read('local');
    expect(kept?.map((e) => e.runId)).toEqual(Array.from({ length: 20 }, (_, i) => `run-${i + 4}`));
    expect(kept?.[19]).toEqual(entry(23)); // what was written reads back whole
    expect(readdirSync(dir)).toEqual(['history.jsonl']); // no temp file left behind
  });

  it('rotates a file of any history (old entries, other targets, junk) by lines and never grows past the bound plus slack', () => {
    const file = join(tempDir(), 'history.jsonl');
    writeFileSync(file, Array.from({ length: 1200 }, (_, i) => JSON.stringify(entry(i, i % 3 ? 'a' : 'b'))).join('\n') + '\n');
    expect(rotateHistoryFile(file, 1000)).toBe(true);
    expect(lineCount(file)).toBe(1000);
    expect(JSON.parse(readFileSync(file, 'utf8').split('\n')[999] ?? '')).toEqual(entry(1199, 'a'));
    expect(rotateHistoryFile(file, 1000)).toBe(false);
  });

  it('skips malformed lines with one warning naming the file, and still reads the rest', async () => {
    const file = join(tempDir(), 'history.jsonl');
    writeFileSync(file, `${JSON.stringify(entry(1))}\nnot json\n{"schema":"other"}\n${JSON.stringify(entry(2))}\n`);
    const store = new FileHistoryStore(file, 10);
    expect((await store.read('local')).map((e) => e.runId)).toEqual(['run-1', 'run-2']);
    expect(store.drainWarnings()).toEqual([`history ${file}: 2 malformed line(s) skipped`]);
    expect(store.drainWarnings()).toEqual([]);
  });

  it('turns a history it cannot write into a warning, not a thrown error', async () => {
    const dir = tempDir();
    appendFileSync(join(dir, 'blocker'), 'a file where the directory should be');
    const store = new FileHistoryStore(join(dir, 'blocker', 'history.jsonl'), 10);
    await store.append(entry(1));
    expect(store.drainWarnings()).toEqual([expect.stringMatching(/^history .*blocker.*: this run could not be appended: /)]);
  });
});

describe('STAGECHECK_HISTORY_MAX_RUNS and STAGECHECK_HISTORY_URL', () => {
  it('takes a positive whole number of runs, 1000 by default, and names the variable otherwise', () => {
    expect(readHistorySettings({}).maxRuns).toBe(1000);
    expect(readHistorySettings({ STAGECHECK_HISTORY_MAX_RUNS: '50' }).maxRuns).toBe(50);
    for (const bad of ['0', '-3', '1.5', 'lots']) {
      expect(readHistorySettings({ STAGECHECK_HISTORY_MAX_RUNS: bad }).problems).toEqual([expect.stringMatching(/^STAGECHECK_HISTORY_MAX_RUNS must be (a positive whole number|at least 1)/)]);
    }
    expect(() => openHistoryStore({ env: { STAGECHECK_HISTORY_MAX_RUNS: '0' }, root: '/', reportDir: '/' })).toThrow(ConfigError);
  });

  it('takes only postgres:// or postgresql:// URLs', () => {
    expect(readHistorySettings({ STAGECHECK_HISTORY_URL: 'postgresql://h.example.com/hist' }).problems).toEqual([]);
    expect(readHistorySettings({ STAGECHECK_HISTORY_URL: 'mysql://h.example.com/hist' }).problems).toEqual([expect.stringMatching(/^STAGECHECK_HISTORY_URL must use postgres: or postgresql:, got mysql:/)]);
    const [invalid] = readHistorySettings({ STAGECHECK_HISTORY_URL: 'postgres://u:sentinel-pw@' }).problems;
    expect(invalid).toMatch(/^STAGECHECK_HISTORY_URL (is not a valid URL|has no host)/);
    expect(invalid).not.toContain('sentinel-pw');
  });

  it('opens a PostgreSQL history whose location has no credentials', () => {
    const store = openHistoryStore({ env: { STAGECHECK_HISTORY_URL: 'postgres://hist:sentinel-pw@db.example.com:6543/history?sslmode=require', STAGECHECK_HISTORY_FILE: 'ignored.jsonl' }, root: '/', reportDir: '/' });
    expect(store?.location).toBe('postgres://db.example.com:6543/history?sslmode=require');
  });

  it('treats its password as a secret', () => {
    const env = { STAGECHECK_HISTORY_URL: 'postgres://hist:sentinel%40pw@db.example.com/history' };
    expect(configuredSecrets(env)).toContain('sentinel@pw');
  });

  const DEPLOYMENT = 'postgres://ro:sentinel-db-pw@db.staging.example.com:5432/app';
  const same = (a: string, b: string, env: Record<string, string> = {}) => namesSameDatabase(new URL(a), new URL(b), env);

  it('knows one database by its host (loopback names alike), port (5432 by default) and name (libpq defaults)', () => {
    expect(same('postgres://x@db.staging.example.com/app', DEPLOYMENT)).toBe(true);
    expect(same('postgresql://DB.staging.example.com:5432/app', DEPLOYMENT)).toBe(true);
    expect(same('postgres://localhost/app', 'postgres://127.0.0.1:5432/app')).toBe(true);
    expect(same('postgres://[::1]:6000/app', 'postgres://localhost:6000/app')).toBe(true);
    // No database named: the user's name, as libpq and postgres.js take it.
    expect(same('postgres://app@localhost', 'postgres://localhost/app')).toBe(true);
    expect(same('postgres://localhost', 'postgres://localhost/app', { PGDATABASE: 'app' })).toBe(true);
    expect(same('postgres://db.staging.example.com/history', DEPLOYMENT)).toBe(false);
    expect(same('postgres://db.staging.example.com:5433/app', DEPLOYMENT)).toBe(false);
    expect(same('postgres://other.example.com/app', DEPLOYMENT)).toBe(false);
  });

  it('refuses a history in the deployment\'s own database, naming both variables and neither password', () => {
    const env = {
      STAGING_BASE_URL: 'https://api-staging.example.com',
      STAGING_AUTH_URL: 'https://auth-staging.example.com',
      STAGING_WS_URL: 'wss://api-staging.example.com/ws',
      E2E_BYPASS_KEY: 'k3y',
      STAGING_DATABASE_URL: DEPLOYMENT,
      STAGECHECK_HISTORY_URL: 'postgres://writer:sentinel-history-pw@db.staging.example.com/app',
    };
    let problems: string[] = [];
    try {
      loadConfig(env);
    } catch (error) {
      problems = (error as ConfigError).problems;
    }
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^STAGECHECK_HISTORY_URL \(postgres:\/\/db\.staging\.example\.com\/app\) names the database of STAGING_DATABASE_URL/);
    expect(problems[0]).not.toMatch(/sentinel/);
    expect(() => openHistoryStore({ env, root: '/', reportDir: '/' })).toThrow(/names the database of STAGING_DATABASE_URL/);
    // Another database on the same server is the suite's own.
    expect(() => loadConfig({ ...env, STAGECHECK_HISTORY_URL: 'postgres://writer:pw@db.staging.example.com/stagecheck_history' })).not.toThrow();
  });
});

describe('a PostgreSQL history that cannot be reached', () => {
  const URL_WITH_PASSWORD = (port: number) => `postgres://hist:sentinel-pg-pw@127.0.0.1:${port}/history`;

  it('refused: the read is empty, the append skipped, each a warning naming STAGECHECK_HISTORY_URL without the password', async () => {
    const port = await refusedPort();
    const store = openPostgresHistory(URL_WITH_PASSWORD(port), { maxRuns: 10 });
    const started = performance.now();
    expect(await store.read('local')).toEqual([]);
    await store.append(entry(1));
    await store.close();
    expect(performance.now() - started).toBeLessThan(5000);
    const warnings = store.drainWarnings();
    expect(warnings).toEqual([
      expect.stringMatching(new RegExp(`^history STAGECHECK_HISTORY_URL \\(postgres://127\\.0\\.0\\.1:${port}/history\\): could not be read: .*ECONNREFUSED`)),
      expect.stringMatching(/: this run could not be written: skipped after the earlier failure/),
    ]);
    expect(warnings.join('\n')).not.toContain('sentinel-pg-pw');
  });

  it('silent (accepts, never answers): given up within its bound, and the connection closed', async () => {
    const silent = await silentServer();
    try {
      const store = openPostgresHistory(URL_WITH_PASSWORD(silent.port), { maxRuns: 10, connectTimeoutS: 30, operationTimeoutMs: 400 });
      const started = performance.now();
      expect(await store.read('local')).toEqual([]);
      expect(performance.now() - started).toBeLessThan(3000);
      expect(store.drainWarnings()).toEqual([expect.stringMatching(/could not be read: no answer within 400 ms$/)]);
      await store.close();
      await expect.poll(() => silent.open(), { timeout: 3000 }).toBe(0);
    } finally {
      await silent.stop();
    }
  });

  it('silent at start-up: postgres.js gives up at its connect timeout, within the operation\'s bound', async () => {
    const silent = await silentServer();
    try {
      const store = openPostgresHistory(URL_WITH_PASSWORD(silent.port), { maxRuns: 10, connectTimeoutS: 0.3, operationTimeoutMs: 5000 });
      await store.append(entry(1));
      expect(store.drainWarnings()).toEqual([expect.stringMatching(/this run could not be written: .*CONNECT_TIMEOUT/)]);
      await store.close();
      await expect.poll(() => silent.open(), { timeout: 3000 }).toBe(0);
    } finally {
      await silent.stop();
    }
  });

  it('error messages pass the redactor with the URL\'s password', () => {
    const env = { STAGECHECK_HISTORY_URL: 'postgres://hist:sentinel-pg-pw@h/db' };
    expect(redactSecrets('password sentinel-pg-pw rejected', configuredSecrets(env))).not.toContain('sentinel-pg-pw');
  });
});


async function silentServer(): Promise<{ port: number; open(): number; stop(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    // Reads (and drops) what comes, so that it sees the client hang up.
    socket.on('error', () => undefined).on('close', () => sockets.delete(socket)).resume();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    open: () => sockets.size,
    stop: () => new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    }),
  };
}
