/**
 * Phase 2 run end to end, as a user runs it: on a healthy reference platform whose stores are
 * inspected afterwards (everything passes, nothing skipped, nothing the run created is left
 * behind), and on a platform issuing short-lived access tokens (the suite refreshes ahead of
 * expiry, so no request is refused for an expired token).
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import { describe, expect, it, onTestFinished } from 'vitest';
import { TokenSession, type Attribution } from '../../helpers/auth/tokens.ts';
import { loadConfig } from '../../helpers/core/config.ts';
import { createHttpClient } from '../../helpers/transport/http.ts';
import { startPlatform, type RunningPlatform } from '../../platform/index.ts';
import { CHECK_IDS } from '../../tests/check-ids.ts';
import { checkIdProblems, runSuite, type SuiteRun } from './run-suite.ts';
import { speedBlindEnv } from '../support/speed-blind.ts';

/** Phase 2 needs the other engineers' files too; this is the size of the whole phase. */
const MIN_PHASE2_TESTS = 40;
/** The heartbeat the suite's own global setup gives the local platform. */
const HEARTBEAT_S = 2;

function notPassed(run: SuiteRun): string[] {
  return run.tests.filter((t) => t.status !== 'passed').map((t) => `${t.fullName}: ${t.status} ${t.failureMessages[0]?.slice(0, 400) ?? ''}`);
}

function expectHealthyRun(run: SuiteRun): void {
  expect(notPassed(run), run.stderr.slice(-3000)).toEqual([]);
  expect(run.exitCode, run.stderr.slice(-2000)).toBe(0);
  expect(run.tests.length).toBeGreaterThanOrEqual(MIN_PHASE2_TESTS);
}

/** A platform of this test's own, stopped when the test finishes; and the env pointing phase 2 at it. */
async function ownPlatform(options: Parameters<typeof startPlatform>[0] = {}): Promise<{ platform: RunningPlatform; runId: string; env: Record<string, string> }> {
  const heartbeatS = options.wsHeartbeatS ?? HEARTBEAT_S;
  const platform = await startPlatform({ ...options, wsHeartbeatS: heartbeatS });
  onTestFinished(() => platform.stop());
  const runId = `selftest-${randomUUID().slice(0, 8)}`;
  // STAGING_BASE_URL is set, so the child's global setup starts no platform of its own.
  return { platform, runId, env: { ...platform.env, ...speedBlindEnv(), STAGECHECK_RUN_ID: runId, STAGING_WS_HEARTBEAT_S: String(heartbeatS) } };
}

describe('phase 2 against the reference platform', () => {
  it(`passes on a healthy platform with at least ${MIN_PHASE2_TESTS} tests, each of one tier, and leaves no thread, message, agent run or Redis key with the run id behind`, async () => {
    const { platform, runId, env } = await ownPlatform();
    const run = await runSuite({ args: ['--project', 'phase2'], env });
    expectHealthyRun(run);
    for (const test of run.tests) expect(test.meta.stagecheck?.schema, `${test.fullName} records its meta`).toBe(1);
    expect(checkIdProblems(run.tests, 'phase2'), 'every test carries its own check id').toEqual([]);
    const tiers = new Set(run.tests.flatMap((t) => t.tags.filter((tag) => /^p[1-6]$/.test(tag))));
    expect([...tiers].sort(), 'phase 2 covers every tier').toEqual(['p1', 'p2', 'p3', 'p4', 'p5', 'p6']);
    for (const test of run.tests) {
      expect(test.tags.filter((tag) => /^p[1-6]$/.test(tag)), `${test.fullName} carries exactly one tier`).toHaveLength(1);
    }

    const sql = postgres(platform.stores.postgres.directUrl, { max: 1, onnotice: () => undefined });
    onTestFinished(() => sql.end({ timeout: 1 }));
    const schema = `"${platform.stores.postgres.schema.replace(/"/g, '""')}"`;
    const pattern = `%${runId}%`;
    const count = async (query: string): Promise<number> => Number((await sql.unsafe(query, [pattern]))[0]?.n);
    // Control: the run did act as the suite's stable test users here, so the queries below look
    // at the right data. The users stay (reused by the next run); the run's data is known by its titles.
    expect(Number((await sql.unsafe(`SELECT count(*) AS n FROM ${schema}.users WHERE id LIKE 'e2e-stagecheck-%'`))[0]?.n), 'stable test users (control)').toBeGreaterThan(0);
    const leftovers = {
      threads: await count(`SELECT count(*) AS n FROM ${schema}.threads WHERE title ILIKE $1`),
      messages: await count(
        `SELECT count(*) AS n FROM ${schema}.messages m JOIN ${schema}.threads t ON t.id = m.thread_id WHERE t.title ILIKE $1 OR m.content ILIKE $1`,
      ),
      agentRuns: await count(`SELECT count(*) AS n FROM ${schema}.agent_runs a JOIN ${schema}.threads t ON t.id = a.thread_id WHERE t.title ILIKE $1`),
      // Every thread of the suite's users: a run on this platform of its own leaves none at all
      // (a thread the server titled after a prompt would show here, not above).
      threadsOfTestUsers: Number((await sql.unsafe(`SELECT count(*) AS n FROM ${schema}.threads WHERE user_id LIKE 'e2e-stagecheck-%'`))[0]?.n),
    };
    expect(leftovers).toEqual({ threads: 0, messages: 0, agentRuns: 0, threadsOfTestUsers: 0 });

    const redis = new Redis(platform.stores.redis.directUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
    onTestFinished(() => redis.disconnect());
    await redis.connect();
    const scan = async (match: string): Promise<string[]> => {
      const keys: string[] = [];
      let cursor = '0';
      do {
        const [next, batch] = await redis.scan(cursor, 'MATCH', match, 'COUNT', 1000);
        cursor = next;
        keys.push(...batch);
      } while (cursor !== '0');
      return keys;
    };
    expect(await redis.dbsize(), 'the run stored tokens in this Redis (control)').toBeGreaterThan(0);
    expect(await scan(`*e2e:${runId}:*`), 'e2e:<runId>:* keys').toEqual([]);
    expect(await scan(`*${runId}*`), 'keys containing the run id').toEqual([]);
  });

  it('passes with 3 s access tokens, and an identity never gets a 401 over more than three token lifetimes', async () => {
    const ttlS = 3;
    // The run is held open on purpose, not hoped to be slow: phase 2's heartbeat check waits for
    // two heartbeats the platform sends after heartbeatS of silence each, so the run lasts at
    // least 2 x heartbeatS = 8 s, more than two 3 s token lifetimes, however fast the machine.
    const heartbeatS = 4;
    const { platform, runId, env } = await ownPlatform({ accessTokenTtlS: ttlS, wsHeartbeatS: heartbeatS });
    const config = loadConfig({ ...env, STAGECHECK_RUN_ID: runId });

    // Alongside the suite: one identity asking every 200 ms for 3.5 token lifetimes.
    const loop = authenticatedLoop(config, 3.5 * ttlS * 1000);
    const run = await runSuite({ args: ['--project', 'phase2'], env });
    const { requests, refused, history } = await loop;

    expectHealthyRun(run);
    const heldOpen = run.tests.find((t) => t.meta.checkId === CHECK_IDS.heartbeat);
    expect(heldOpen?.duration, 'control: the heartbeat check held the run open for two heartbeats').toBeGreaterThanOrEqual(2 * heartbeatS * 1000 - 500);
    expect(run.wallMs, 'control: phase 2 outlasts two token lifetimes').toBeGreaterThan(2 * ttlS * 1000);
    expect(refused, 'requests refused with the identity\'s current token').toEqual([]);
    expect(requests).toBeGreaterThan(20);
    expect(history.filter((r) => r.origin === 'refresh').length, 'tokens renewed through /auth/refresh ahead of exp').toBeGreaterThanOrEqual(3);
    for (const record of history) expect(record.expiresAt - record.issuedAt, 'the platform issued 3 s tokens').toBe(ttlS * 1000);

    // The suite's worker identities refreshed too: every refresh spends a refresh token in Redis
    // (the auth-flow tests spend two of their own on purpose).
    const redis = new Redis(platform.stores.redis.directUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
    onTestFinished(() => redis.disconnect());
    await redis.connect();
    const spent: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await redis.scan(cursor, 'MATCH', '*refresh_spent:*', 'COUNT', 1000);
      cursor = next;
      spent.push(...batch);
    } while (cursor !== '0');
    expect(spent.length, 'refresh tokens spent beyond the loop and the auth-flow tests').toBeGreaterThan(history.length - 1 + 2);
  });
});

interface LoopResult {
  requests: number;
  refused: { status: number; attribution: Attribution }[];
  history: TokenSession['history'];
}

/** GET an unknown thread (404 = token accepted) every 200 ms for `durationMs`. */
async function authenticatedLoop(config: ReturnType<typeof loadConfig>, durationMs: number): Promise<LoopResult> {
  const identity = new TokenSession({ config, label: 'selftest-ttl-loop' });
  const api = createHttpClient({ baseUrl: config.baseUrl, component: 'backend', defaultTimeoutMs: 5_000 });
  const refused: LoopResult['refused'] = [];
  let requests = 0;
  const end = performance.now() + durationMs;
  try {
    while (performance.now() < end) {
      const token = await identity.accessToken();
      const result = await api.request('GET', `/api/threads/${randomUUID()}`, { auth: token });
      requests += 1;
      if (result.status !== 404) refused.push({ status: result.status, attribution: identity.attribute(token) });
      await sleep(200);
    }
  } finally {
    await api.close();
  }
  return { requests, refused, history: identity.history };
}
