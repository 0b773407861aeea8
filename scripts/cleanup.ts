/**
 * `npm run cleanup -- --run-id <id> [--dry-run]`: removes what a stagecheck run left on the
 * target, exactly what carries that run id and nothing else.
 *
 * The fixtures delete everything a test creates, also when it fails; only an interrupted run
 * (Ctrl-C, a cancelled CI job, a killed worker) can leave data behind, because Vitest ends its
 * workers at once and their fixtures' teardowns never run. What such a run can leave:
 * - threads (their messages and agent runs go with them) titled `e2e-<runId>-...`. The suite's
 *   test users are stable (`e2e-<prefix>-<label>`, or the login accounts) and shared by every run,
 *   also runs going on at this moment: a run's data is found by its title, never by its owner;
 * - Redis keys under `e2e:<runId>:` (they carry a TTL of at most an hour anyway).
 *
 * Threads are found with a read-only query (STAGING_DATABASE_URL: the contract has no endpoint
 * listing a user's threads) and deleted through the public API as their owner: a stable test
 * user (test-auth or a minted token, the way the run got it) or a configured login account
 * (STAGING_TEST_EMAIL, STAGING_TEST_EMAIL_2). A thread of anyone else is never touched. Redis keys are deleted directly, as the run itself
 * may (contract: "Data the suite may create"). Test users themselves stay: no API deletes users.
 *
 * Exit codes: 0 nothing of the run is left, 1 something could not be deleted, 2 configuration
 * error or no way to find the run's threads.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { config as loadDotenv } from 'dotenv';
import { TokenSession } from '../helpers/auth/tokens.ts';
import { ConfigError, loadConfig, secretValues, type Env, type SuiteConfig } from '../helpers/core/config.ts';
import { messageOf } from '../helpers/core/errors.ts';
import { createHttpClient, type HttpClient } from '../helpers/transport/http.ts';
import { configuredSecrets, redactSecrets } from '../helpers/core/redact.ts';
import { identityName, runScopedKeyPrefix, runScopedPrefix } from '../helpers/core/run-names.ts';
import { httpDeadlines } from '../helpers/core/endpoint-classes.ts';
import { deleteThread } from '../helpers/contract/threads.ts';
import { cleanupRedisRunKeys } from '../helpers/transport/stores.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RUN_ID = /^[A-Za-z0-9-]{4,64}$/;
/** A run that was cut off mid agent run may still create a thread after the first look. */
const MAX_PASSES = 3;

export interface LeftThread {
  id: string;
  userId: string;
  title: string;
}

export interface CleanupResult {
  found: LeftThread[];
  deleted: string[];
  /** Threads that carry the run id but could not be deleted, with why. */
  failed: { thread: LeftThread; reason: string }[];
  redisKeysDeleted: number;
  /** What could not be looked at, so may still be there. */
  notChecked: string[];
  /** Worth knowing, but nothing is left because of it. */
  notes: string[];
}

/** The exact command that removes what run `runId` left, for messages. */
export function cleanupCommand(runId: string): string {
  return `npm run cleanup -- --run-id ${runId}`;
}

/** The prefix of the suite's stable test users (ids are lower-cased by the platform). */
function identityPrefixOf(config: SuiteConfig): string {
  return identityName(config.identityPrefix, '');
}

/** Threads carrying the run id, read with the suite's read-only database login. */
export async function findRunThreads(databaseUrl: string, runId: string): Promise<LeftThread[]> {
  const sql = postgres(databaseUrl, { max: 1, connect_timeout: 5, idle_timeout: 1, onnotice: () => undefined });
  try {
    // The run id is letters, digits and dashes only: no LIKE wildcard can hide in it. By title
    // only: the test users are shared with every other run, which may be going on right now.
    const rows = await sql<{ id: string; user_id: string; title: string }[]>`
      SELECT id::text AS id, user_id, title FROM threads
      WHERE title LIKE ${`${runScopedPrefix(runId)}%`}
      ORDER BY created_at`;
    return rows.map((row) => ({ id: row.id, userId: row.user_id, title: row.title }));
  } finally {
    await sql.end({ timeout: 1 });
  }
}

/** Acts as the owners of a run's threads: the suite's stable test users, or a configured login account. */
class Owners {
  private readonly clients = new Map<string, HttpClient>();
  private loginUserIds?: Promise<Map<string, { email: string; password: string }>>;

  constructor(private readonly config: SuiteConfig) {}

  /** A backend client authenticated as `userId`, or why there is none. */
  async clientFor(userId: string): Promise<HttpClient | string> {
    const prefix = identityPrefixOf(this.config);
    if (userId.toLowerCase().startsWith(prefix)) {
      if (this.config.auth.method === 'login') return 'a stable test user of the suite, but only login accounts are configured (set E2E_BYPASS_KEY or STAGING_JWT_SECRET)';
      return this.client(userId, this.config, userId.slice(prefix.length));
    }
    const account = (await this.loginAccounts()).get(userId);
    if (account) return this.client(userId, { ...this.config, auth: { ...this.config.auth, method: 'login' } }, 'cleanup-login', account);
    return `owned by ${userId}, which is neither a test user of the suite nor a configured login account: left alone`;
  }

  /** The user ids of the configured login accounts (one login each). */
  private loginAccounts(): Promise<Map<string, { email: string; password: string }>> {
    this.loginUserIds ??= (async () => {
      const { email, password, second } = this.config.auth;
      const accounts = [...(email && password ? [{ email, password }] : []), ...(second ? [second] : [])];
      const loginConfig: SuiteConfig = { ...this.config, auth: { ...this.config.auth, method: 'login' } };
      const ids = new Map<string, { email: string; password: string }>();
      await Promise.all(accounts.map(async (account) => {
        const userId = await new TokenSession({ config: loginConfig, label: 'cleanup-login', account }).pair().then((pair) => pair.userId, () => undefined);
        if (userId) ids.set(userId, account);
      }));
      return ids;
    })();
    return this.loginUserIds;
  }

  private client(userId: string, config: SuiteConfig, label: string, account?: { email: string; password: string }): HttpClient {
    let client = this.clients.get(userId);
    if (!client) {
      const identity = new TokenSession({ config, label, ...(account ? { account } : {}) });
      client = createHttpClient({ baseUrl: config.baseUrl, component: 'backend', ...httpDeadlines(config.budgets), getToken: () => identity.accessToken() });
      this.clients.set(userId, client);
    }
    return client;
  }

  async close(): Promise<void> {
    await Promise.all([...this.clients.values()].map((client) => client.close()));
  }
}

/**
 * Finds and deletes what run `config.runId` left. `dryRun` only finds. Never throws for the
 * target's answers: every thread it could not delete is in `failed`, with the reason.
 */
export async function cleanupRun(config: SuiteConfig, options: { dryRun?: boolean } = {}): Promise<CleanupResult> {
  const result: CleanupResult = { found: [], deleted: [], failed: [], redisKeysDeleted: 0, notChecked: [], notes: [] };
  const secrets = secretValues(config);
  if (config.redisUrl && !options.dryRun) {
    try {
      result.redisKeysDeleted = (await cleanupRedisRunKeys(config.redisUrl, config.runId)).deleted;
    } catch (error) {
      result.notChecked.push(`Redis keys ${runScopedKeyPrefix(config.runId)}* (${redactSecrets(messageOf(error), secrets)})`);
    }
  } else if (!config.redisUrl) {
    result.notes.push(`Redis keys ${runScopedKeyPrefix(config.runId)}* not looked at (STAGING_REDIS_URL is not set); the suite gives them a TTL of at most an hour`);
  }
  if (!config.databaseUrl) {
    result.notChecked.push('threads (STAGING_DATABASE_URL is not set: the API lists no threads, so they cannot be found)');
    return result;
  }

  const owners = new Owners(config);
  try {
    const given = new Set<string>();
    for (let pass = 0; pass < MAX_PASSES; pass += 1) {
      const threads = (await findRunThreads(config.databaseUrl, config.runId)).filter((thread) => !given.has(thread.id));
      if (threads.length === 0) break;
      result.found.push(...threads);
      if (options.dryRun) break;
      for (const thread of threads) {
        given.add(thread.id);
        const client = await owners.clientFor(thread.userId);
        if (typeof client === 'string') {
          result.failed.push({ thread, reason: client });
          continue;
        }
        const left = await deleteThread(client, thread.id, secrets);
        if (left) result.failed.push({ thread, reason: left.reason });
        else result.deleted.push(thread.id);
      }
    }
  } catch (error) {
    result.notChecked.push(`threads (${redactSecrets(messageOf(error), secrets)})`);
  } finally {
    await owners.close();
  }
  return result;
}

/** True when nothing carrying the run id is known to be left. */
export function nothingLeft(result: CleanupResult): boolean {
  return result.failed.length === 0 && result.notChecked.length === 0;
}

/** The result for people: one line per kind of data. */
export function describeCleanup(config: SuiteConfig, result: CleanupResult, dryRun = false): string {
  const lines = [`stagecheck cleanup of run ${config.runId} on ${config.baseUrl}${dryRun ? ' (dry run: nothing deleted)' : ''}`];
  const listed = result.found.map((t) => `\n    ${t.id} ${t.userId} "${t.title}"`).join('');
  if (config.databaseUrl && dryRun) lines.push(`  threads  ${result.found.length} found${listed}`);
  else if (config.databaseUrl) lines.push(`  threads  ${result.found.length} found, ${result.deleted.length} deleted (their messages and agent runs with them)`);
  if (!dryRun && config.redisUrl) lines.push(`  redis    ${result.redisKeysDeleted} deleted under ${runScopedKeyPrefix(config.runId)}`);
  for (const { thread, reason } of result.failed) lines.push(`  LEFT     thread ${thread.id} (${thread.userId}): ${reason}`);
  for (const what of result.notChecked) lines.push(`  UNCHECKED ${what}`);
  for (const note of result.notes) lines.push(`  note     ${note}`);
  if (!dryRun && nothingLeft(result)) lines.push('  left     nothing carrying the run id (the stable test users stay, for the next run)');
  return lines.join('\n');
}

/**
 * A signal this soon after the first is the same Ctrl-C arriving twice (the terminal delivers it
 * to the whole process group, and npm relays it to its script again), not a second keypress.
 */
const SAME_KEYPRESS_MS = 1_500;

/**
 * What `npm run e2e` does after Ctrl-C (or SIGTERM): Vitest ended its workers at once, without
 * their fixtures' teardowns, so threads of tests in flight may still be on the target. Removes
 * them (bounded by `deadlineMs`), then says whether anything is left and, if so, the exact
 * command that removes it. A second signal stops waiting.
 */
export async function afterInterrupt(
  env: Env,
  signal: NodeJS.Signals,
  options: { deadlineMs?: number; write?: (text: string) => void; interruptedAt?: number } = {},
): Promise<void> {
  const interruptedAt = options.interruptedAt ?? performance.now();
  const write = options.write ?? ((text: string) => process.stderr.write(`${text}\n`));
  const runId = env.STAGECHECK_RUN_ID ?? 'unknown';
  const command = cleanupCommand(runId);
  write(`\nstagecheck: interrupted (${signal}): run ${runId} stopped before a verdict.`);
  if (!env.STAGING_BASE_URL) {
    write('  It ran against the bundled reference platform, which stops with its data: nothing of the run is left.');
    return;
  }
  const again = (): void => {
    if (performance.now() - interruptedAt < SAME_KEYPRESS_MS) return;
    write(`  stopped waiting for the cleanup: run ${runId} may have left data on ${env.STAGING_BASE_URL}. Remove it with:\n    ${command}`);
    process.exit(2);
  };
  process.on('SIGINT', again);
  process.on('SIGTERM', again);
  try {
    const config = loadConfig(env);
    const deadlineMs = options.deadlineMs ?? 10_000;
    write(`  removing what its tests in flight left (at most ${deadlineMs / 1000} s; Ctrl-C again to skip)...`);
    let timer: NodeJS.Timeout | undefined;
    const result = await Promise.race([
      cleanupRun(config),
      new Promise<undefined>((resolveLater) => (timer = setTimeout(() => resolveLater(undefined), deadlineMs))),
    ]);
    clearTimeout(timer);
    if (!result) write(`  the cleanup did not finish within ${deadlineMs / 1000} s.`);
    else write(describeCleanup(config, result).replace(/^/gm, '  '));
    if (result && nothingLeft(result)) return;
    write(`  Run ${runId} may have left data on ${config.baseUrl}. Remove it with:\n    ${command}`);
  } catch (error) {
    write(`  the cleanup failed: ${redactSecrets(messageOf(error), configuredSecrets(env))}\n  Run ${runId} may have left data on ${env.STAGING_BASE_URL}. Remove it with:\n    ${command}`);
  } finally {
    process.off('SIGINT', again);
    process.off('SIGTERM', again);
  }
}

function parseCli(argv: readonly string[]): { runId: string; dryRun: boolean } {
  let runId: string | undefined;
  let dryRun = false;
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i] as string;
    if (arg === '--run-id') runId = argv[(i += 1)];
    else if (arg.startsWith('--run-id=')) runId = arg.slice('--run-id='.length);
    else if (arg === '--dry-run') dryRun = true;
    else throw new ConfigError([`unknown option ${arg} (usage: npm run cleanup -- --run-id <id> [--dry-run])`]);
  }
  if (!runId) throw new ConfigError(['--run-id is required: the id an interrupted run printed (usage: npm run cleanup -- --run-id <id> [--dry-run])']);
  if (!RUN_ID.test(runId)) throw new ConfigError([`--run-id "${runId}" must be 4-64 letters, digits or dashes, as run ids are`]);
  return { runId, dryRun };
}

async function main(): Promise<number> {
  loadDotenv({ quiet: true, path: resolve(ROOT, '.env') });
  let config: SuiteConfig;
  let dryRun: boolean;
  try {
    const cli = parseCli(process.argv.slice(2));
    dryRun = cli.dryRun;
    const env: Env = { ...process.env, STAGECHECK_RUN_ID: cli.runId };
    if (!env.STAGING_BASE_URL) {
      process.stdout.write('stagecheck cleanup: no target configured. A run against the bundled reference platform leaves nothing: its data goes with the platform when the run ends.\n');
      return 0;
    }
    config = loadConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    return 2;
  }
  const result = await cleanupRun(config, { dryRun });
  process.stdout.write(`${describeCleanup(config, result, dryRun)}\n`);
  if (!config.databaseUrl) return 2;
  return dryRun || nothingLeft(result) ? 0 : 1;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`stagecheck cleanup: ${messageOf(error)}\n`);
      process.exit(2);
    },
  );
}
