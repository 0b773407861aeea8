/**
 * Ctrl-C during `npm run e2e`, sent as a terminal sends it: SIGINT to the whole foreground
 * process group (npm, the e2e script, Vitest, its workers, a platform the suite started). npm
 * starts the script as `node --import tsx`, not through the tsx CLI: the CLI relays a signal and
 * SIGKILLs a child that has not acknowledged it within ~30 ms, so on a busy machine e2e died
 * before its own handler could print or clean up.
 * Vitest ends its workers at once, so the fixtures' teardowns never run; what the run created
 * must still not outlive it:
 * - against a deployment, e2e removes what its tests in flight left (scripts/cleanup.ts), and
 *   `npm run cleanup -- --run-id <id>` removes anything carrying the run id later, touching
 *   nothing of another run or account;
 * - against the bundled platform the suite started itself, no platform, PostgreSQL or Redis
 *   process and none of their data directories remain;
 * - when e2e cannot see what is left (no STAGING_DATABASE_URL), it prints the exact command.
 *
 * `agent_slow` holds the run's agent run (and its thread) open, so there is always data in
 * flight when the signal arrives.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import { afterAll, describe, it, type TestContext } from 'vitest';
import { TokenSession } from '../../helpers/auth/tokens.ts';
import { loadConfig, type SuiteConfig } from '../../helpers/core/config.ts';
import { createHttpClient } from '../../helpers/transport/http.ts';
import { startLocalPlatform } from '../../helpers/transport/local-platform.ts';
import { afterInterrupt } from '../../scripts/cleanup.ts';
import { titlePattern } from '../../tests/check-ids.ts';
import { childEnv, childEnvWithReports } from '../support/child-env.ts';
import { refusedPort } from '../support/net.ts';
import { descendantsOf, stillRunning, type ProcessInfo } from '../support/processes.ts';
import { ROOT } from '../support/run-e2e.ts';
import { LOCAL_HEARTBEAT_S } from '../support/target-platform.ts';

/** An agent run that outlasts the test: its thread is in flight whenever the signal comes. */
const SLOW_AGENT = 'agent_slow:ms=120000';
/** The one phase-1 file that starts an agent run: the smallest run that creates data. */
const RUN_ARGS = ['--project', 'phase1', '-t', titlePattern('agentRun')];
const PROMPT_EXIT_MS = 15_000;

const tempDirs: string[] = [];
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------
// npm run e2e as a terminal runs it

interface Interrupted {
  /** How npm ended, as a shell sees it. */
  ended: string;
  /** From the signal until every process of the run had ended. */
  ms: number;
  /** e2e processes seen before the signal, and those still running when npm exited. */
  e2eSeen: number;
  e2eRunningAfterNpm: string[];
}

interface Interruptible {
  output(): string;
  /** SIGINT to the process group, as Ctrl-C in a terminal; resolves when the run has ended. */
  interrupt(): Promise<Interrupted>;
  pid: number;
}

function startE2e(args: string[], env: Record<string, string>, onTestFinished: TestContext['onTestFinished']): Interruptible {
  const reportDir = mkdtempSync(join(tmpdir(), 'stagecheck-interrupt-'));
  tempDirs.push(reportDir);
  // Its own process group, like a terminal's foreground job.
  const child: ChildProcess = spawn('npm', ['run', 'e2e', '--', ...args], { cwd: ROOT, env: childEnvWithReports(reportDir, env), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  let e2e: ProcessInfo[] = [];
  let e2eRunningAfterNpm: string[] = [];
  // A terminal's prompt comes back when npm exits: the e2e script must not still be at work then.
  child.once('exit', () => (e2eRunningAfterNpm = stillRunning(e2e)));
  // 'close': npm has exited and every process holding its output (e2e, Vitest) has ended too.
  const ended = new Promise<string>((resolve) => child.once('close', (code, signal) => resolve(signal ? `signal ${signal}` : `code ${code}`)));
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGKILL');
  });
  return {
    pid: child.pid!,
    output: () => output,
    async interrupt() {
      e2e = descendantsOf(child.pid!).filter((p) => p.command.includes('scripts/e2e.ts'));
      const sent = performance.now();
      process.kill(-child.pid!, 'SIGINT');
      return { ended: await ended, ms: performance.now() - sent, e2eSeen: e2e.length, e2eRunningAfterNpm };
    },
  };
}

/** Polls `check` every 100 ms until it is true; fails naming `what` (and the run's output) after `ms`. */
async function until(what: string, check: () => Promise<boolean> | boolean, ms: number, run?: Interruptible): Promise<void> {
  const end = performance.now() + ms;
  while (!(await check())) {
    if (performance.now() > end) throw new Error(`waited ${ms} ms for ${what}${run ? `\n${run.output().slice(-3000)}` : ''}`);
    await sleep(100);
  }
}

/** npm run cleanup, to its end. */
function runCleanupCommand(runId: string, env: Record<string, string>): Promise<{ ended: string; output: string }> {
  const child = spawn('npm', ['run', '--silent', 'cleanup', '--', '--run-id', runId], { cwd: ROOT, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  return new Promise((resolve) => child.once('close', (code, signal) => resolve({ ended: signal ? `signal ${signal}` : `code ${code}`, output })));
}

/** How a terminal sees an interrupted `npm run e2e` end: killed by SIGINT (130) or e2e's "no verdict" (2). */
const INTERRUPTED_ENDS = ['signal SIGINT', 'code 130', 'code 2'];

/** Over within PROMPT_EXIT_MS, non-zero, and npm (the terminal's prompt) waited for the e2e script. */
function expectPromptEnd(expect: TestContext['expect'], interrupted: Interrupted, run: Interruptible): void {
  expect(interrupted.ms, run.output()).toBeLessThan(PROMPT_EXIT_MS);
  expect(INTERRUPTED_ENDS, run.output()).toContain(interrupted.ended);
  expect(interrupted.e2eSeen, 'control: the e2e process was seen').toBeGreaterThanOrEqual(1);
  expect(interrupted.e2eRunningAfterNpm, 'e2e processes still running when npm exited').toEqual([]);
}

// ---------------------------------------------------------------------------------------
// What a run left on a deployment

/**
 * Counts of what carries `runId` in the platform's PostgreSQL (read-only login) and Redis. The
 * test users are stable and shared across runs, so a run's data is known by its titles.
 */
async function leftovers(env: Record<string, string>, runId: string) {
  const sql = postgres(env.STAGING_DATABASE_URL!, { max: 1, onnotice: () => undefined });
  const redis = new Redis(env.STAGING_REDIS_URL!, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    const pattern = `%${runId}%`;
    const count = async (query: string): Promise<number> => Number((await sql.unsafe(query, [pattern]))[0]?.n);
    await redis.connect();
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await redis.scan(cursor, 'MATCH', `*${runId}*`, 'COUNT', 1000);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
    return {
      threads: await count('SELECT count(*) AS n FROM threads WHERE title ILIKE $1'),
      messages: await count('SELECT count(*) AS n FROM messages m JOIN threads t ON t.id = m.thread_id WHERE t.title ILIKE $1'),
      // Agent runs go with their thread (thread_id NOT NULL, ON DELETE CASCADE).
      agentRuns: await count('SELECT count(*) AS n FROM agent_runs a JOIN threads t ON t.id = a.thread_id WHERE t.title ILIKE $1'),
      redisKeys: keys,
    };
  } finally {
    redis.disconnect();
    await sql.end({ timeout: 1 });
  }
}

/** Threads that exist, by id, read with the platform's read-only login. */
async function existingThreads(env: Record<string, string>, ids: string[]): Promise<string[]> {
  const sql = postgres(env.STAGING_DATABASE_URL!, { max: 1, onnotice: () => undefined });
  try {
    return (await sql<{ id: string }[]>`SELECT id::text AS id FROM threads WHERE id::text IN ${sql(ids)} ORDER BY id`).map((row) => row.id);
  } finally {
    await sql.end({ timeout: 1 });
  }
}

/** Creates threads through the API as `config`'s identity `label` (test-auth or login, as configured). */
async function createThreads(config: SuiteConfig, label: string, titles: string[]): Promise<string[]> {
  const identity = new TokenSession({ config, label });
  const api = createHttpClient({ baseUrl: config.baseUrl, component: 'backend', defaultTimeoutMs: 10_000, getToken: () => identity.accessToken() });
  try {
    const ids: string[] = [];
    for (const title of titles) {
      const result = await api.request('POST', '/api/threads', { body: { title }, auth: true });
      if (result.status !== 201) throw new Error(`POST /api/threads as ${label}: HTTP ${result.status} ${result.body}`);
      ids.push((result.json as { id: string }).id);
    }
    return ids;
  } finally {
    await api.close();
  }
}

// ---------------------------------------------------------------------------------------
// Processes and directories of a platform the suite started

/** The value after `flag` in a command line. */
function argAfter(command: string, flag: string): string | undefined {
  const parts = command.split(' ');
  const at = parts.indexOf(flag);
  return at >= 0 ? parts[at + 1] : undefined;
}

// ---------------------------------------------------------------------------------------

describe.concurrent('Ctrl-C during npm run e2e', () => {
  it('against a deployment: exits promptly and non-zero, removes what its tests in flight left, and nothing of another run or account', async ({ expect, onTestFinished }) => {
    const platform = await startLocalPlatform({ args: ['--heartbeat-s', LOCAL_HEARTBEAT_S, '--fault', SLOW_AGENT] });
    onTestFinished(() => platform.stop());
    const runId = `selftest-${randomUUID().slice(0, 8)}`;
    const otherRunId = `keep-${randomUUID().slice(0, 8)}`;
    const env: Record<string, string> = { ...platform.env, STAGING_WS_HEARTBEAT_S: LOCAL_HEARTBEAT_S, STAGECHECK_RUN_ID: runId };

    // Made beforehand, and none of it the interrupted run's: another run's threads and key (by
    // the same stable test user w1 the interrupted run uses: runs share their identities), and
    // a thread of the login account.
    const otherConfig = loadConfig({ ...env, STAGECHECK_RUN_ID: otherRunId });
    const keep = await createThreads(otherConfig, 'w1', [`e2e-${otherRunId}-kept-1`, `e2e-${otherRunId}-kept-2`]);
    const loginConfig: SuiteConfig = { ...otherConfig, auth: { ...otherConfig.auth, method: 'login' } };
    keep.push(...(await createThreads(loginConfig, 'qa', ['a thread of the login account'])));
    const redis = new Redis(env.STAGING_REDIS_URL!, { maxRetriesPerRequest: 1 });
    onTestFinished(() => redis.disconnect());
    await redis.set(`e2e:${otherRunId}:kept`, '1', 'EX', 600);
    // What a run interrupted during its Redis probe would leave (the probe deletes its keys at its end).
    await redis.set(`e2e:${runId}:probe:0`, '1', 'EX', 600);

    const run = startE2e(RUN_ARGS, env, onTestFinished);
    await until('a thread of the run (its agent run started)', async () => (await leftovers(env, runId)).threads > 0, 90_000, run);
    const interrupted = await run.interrupt();

    expectPromptEnd(expect, interrupted, run);
    const output = run.output();
    expect(output, output).toContain(`stagecheck: interrupted (SIGINT): run ${runId} stopped before a verdict.`);
    const removed = /threads {2}(\d+) found, (\d+) deleted/.exec(output);
    expect(removed, output).not.toBeNull();
    expect(Number(removed![1]), 'threads of the run found after the interrupt').toBeGreaterThan(0);
    expect(removed![2], 'all of them deleted').toBe(removed![1]);
    expect(output).toContain(`redis    1 deleted under e2e:${runId}:`);
    expect(output).toContain('left     nothing carrying the run id');
    expect(await leftovers(env, runId)).toEqual({ threads: 0, messages: 0, agentRuns: 0, redisKeys: [] });

    // Later, the command alone: a thread titled with the run id, still made by one of its users, is found and removed.
    const late = await createThreads(loadConfig(env), 'w1', [`e2e-${runId}-made-after-the-interrupt`]);
    expect(await existingThreads(env, late), 'control: the late thread exists').toEqual(late);
    const command = await runCleanupCommand(runId, env);
    expect(command.ended, command.output).toBe('code 0');
    expect(command.output).toContain(`stagecheck cleanup of run ${runId} on ${env.STAGING_BASE_URL}`);
    expect(command.output).toContain('threads  1 found, 1 deleted');
    expect(await leftovers(env, runId)).toEqual({ threads: 0, messages: 0, agentRuns: 0, redisKeys: [] });

    expect(await existingThreads(env, keep), 'threads of another run and of the login account').toEqual([...keep].sort());
    expect(await redis.get(`e2e:${otherRunId}:kept`), 'the other run\'s Redis key').toBe('1');
  });

  it('against the platform it started itself: exits promptly and non-zero, and no platform, PostgreSQL or Redis process nor data directory remains', async ({ expect, onTestFinished }) => {
    const runId = `selftest-${randomUUID().slice(0, 8)}`;
    // No STAGING_* variables: the suite's global setup starts the bundled platform; the fault
    // reaches it through the environment it inherits.
    const run = startE2e(RUN_ARGS, { STAGECHECK_RUN_ID: runId, PLATFORM_FAULTS: SLOW_AGENT }, onTestFinished);

    // By pid and start time, updated on every look: a process caught between fork and exec
    // still shows its parent's command line.
    const seen = new Map<string, ProcessInfo>();
    const look = (): void => {
      for (const p of descendantsOf(run.pid)) seen.set(`${p.pid}/${p.started}`, p);
    };
    const postmaster = (): ProcessInfo | undefined => [...seen.values()].find((p) => argAfter(p.command, '-D') !== undefined && / -p \d+/.test(p.command));
    // The run has data once its agent run's thread is in the platform's PostgreSQL (its own
    // superuser over loopback: the suite never learns this platform's URLs).
    const runThreads = async (): Promise<number> => {
      look();
      const pg = postmaster();
      if (!pg || ![...seen.values()].some((p) => p.command.includes('workers/forks'))) return 0;
      const sql = postgres({ host: '127.0.0.1', port: Number(argAfter(pg.command, '-p')), user: 'postgres', database: 'stagecheck', max: 1, connect_timeout: 2, onnotice: () => undefined });
      try {
        return Number((await sql`SELECT count(*) AS n FROM threads WHERE title LIKE ${`e2e-${runId}-%`}`)[0]?.n);
      } catch {
        return 0; // not ready yet
      } finally {
        await sql.end({ timeout: 1 });
      }
    };
    await until('a thread of the run in the platform the suite started', async () => (await runThreads()) > 0, 90_000, run);
    look();

    const processes = [...seen.values()];
    const platformCli = processes.filter((p) => p.command.includes('platform/cli.ts'));
    const redisServer = processes.filter((p) => p.command.includes('redis-server'));
    expect(platformCli.map((p) => p.command), 'control: the platform process was seen').toHaveLength(1);
    expect(redisServer.map((p) => p.command), 'control: its redis-server was seen').toHaveLength(1);
    const dataDirs = [argAfter(postmaster()!.command, '-D'), argAfter(postmaster()!.command, '-k'), redisServer[0]!.cwd]
      .filter((dir): dir is string => typeof dir === 'string');
    expect(dataDirs, 'control: PostgreSQL data and socket directories and the Redis directory').toHaveLength(3);
    for (const dir of dataDirs) expect(existsSync(dir), `control: ${dir} exists while the run goes on`).toBe(true);

    expectPromptEnd(expect, await run.interrupt(), run);
    expect(run.output(), run.output()).toContain(`stagecheck: interrupted (SIGINT): run ${runId} stopped before a verdict.`);
    expect(run.output(), run.output()).toContain('It ran against the bundled reference platform, which stops with its data');

    // The platform stops its stores on the signal; its watchdog finishes within a second or two.
    await until('every process of the run to end', () => stillRunning(processes).length === 0, 5_000).catch(() => undefined);
    expect(stillRunning(processes)).toEqual([]);
    expect(dataDirs.filter((dir) => existsSync(dir)), 'data directories left').toEqual([]);
  });
});

describe('after an interrupt, with no database to look in', () => {
  it('prints the run id and the exact cleanup command: the API lists no threads, so they may be left', async ({ expect }) => {
    const lines: string[] = [];
    // A loopback port known to refuse, rather than one hoped to be closed.
    const port = await refusedPort();
    const target = `http://127.0.0.1:${port}`;
    await afterInterrupt(
      { STAGING_BASE_URL: target, STAGING_AUTH_URL: target, STAGING_WS_URL: `ws://127.0.0.1:${port}/ws`, E2E_BYPASS_KEY: 'selftest-key', STAGECHECK_RUN_ID: 'selftest-nodb' },
      'SIGTERM',
      { write: (text) => lines.push(text) },
    );
    const text = lines.join('\n');
    expect(text).toContain('stagecheck: interrupted (SIGTERM): run selftest-nodb stopped before a verdict.');
    expect(text).toContain('UNCHECKED threads (STAGING_DATABASE_URL is not set');
    expect(text).toContain(`Run selftest-nodb may have left data on ${target}. Remove it with:\n    npm run cleanup -- --run-id selftest-nodb`);
    expect(text, 'no cleanup verdict it could not reach').not.toContain('nothing carrying the run id');
  });
});
