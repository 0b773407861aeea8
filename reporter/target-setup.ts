/**
 * Setup file of the phase1 and phase2 projects (vitest.config.ts): snapshots the target's
 * deployment version (`GET {baseUrl}/health` → `version`) before and after each test module
 * and keeps both in the module's meta (`stagecheckTarget`). The reporter compares every
 * snapshot of the run, also across shards (module meta travels in blob reports): a version
 * change makes the run INCONCLUSIVE. A snapshot that gets no version is recorded as such and
 * never fails a test: the health checks themselves judge the target. The "after" snapshot is
 * taken as the module's last test to finish ends its body, beside that test's clean-up, so the
 * module does not wait one more round trip for it. The module meta also
 * carries the run's head (helpers/core/target-head.ts), so merged shards name their target.
 */
import { afterAll, afterEach, beforeAll, inject } from 'vitest';
import type { RunnerTask } from 'vitest';
import { loadConfig } from '../helpers/core/config.ts';
import { redactUrl } from '../helpers/core/redact.ts';
import { targetHead, type TargetHead } from '../helpers/core/target-head.ts';
import { Agent, requestOn } from '../helpers/transport/undici-parts.ts';
import type { ModuleTargetMeta } from './gate.ts';

const SNAPSHOT_TIMEOUT_MS = 2_000;

function target(): { url: string | null; runId: string | null; head?: TargetHead } {
  try {
    const env = { ...process.env, ...inject('stagecheckEnv') };
    const config = loadConfig(env);
    return { url: config.baseUrl, runId: config.runId, head: targetHead(config, { profile: env.STAGECHECK_PLATFORM_PROFILE }) };
  } catch {
    return { url: null, runId: null }; // config problems are reported by global setup and the tests
  }
}

/**
 * The module's own connection pool, apart from the suite's clients: a snapshot is not a probe, so
 * it is neither in the request log (latency, cold start) nor judged by fail-fast. Not the global
 * `fetch`: its first use loads Node's own copy of undici, ~25 ms of a worker's CPU just before its
 * first test (docs/performance.md).
 */
const snapshots = new Agent({ connect: { timeout: SNAPSHOT_TIMEOUT_MS } });

async function snapshot(url: string | null, phase: 'before' | 'after'): Promise<ModuleTargetMeta['snapshots'][number]> {
  const at = new Date().toISOString();
  if (!url) return { phase, at, version: null, error: 'no target configured' };
  const signal = AbortSignal.timeout(SNAPSHOT_TIMEOUT_MS);
  try {
    const health = new URL(`${url}/health`);
    const response = await requestOn(snapshots, { origin: health.origin, path: `${health.pathname}${health.search}`, method: 'GET', signal });
    const body = (await response.body.json().catch(() => undefined)) as { version?: unknown } | undefined;
    if (typeof body?.version === 'string' && body.version !== '') return { phase, at, version: body.version };
    return { phase, at, version: null, error: `HTTP ${response.statusCode} without a version` };
  } catch (error) {
    return { phase, at, version: null, error: signal.aborted ? `no answer within ${SNAPSHOT_TIMEOUT_MS} ms` : String((error as Error).message ?? error) };
  }
}

/** Ids of the tests in `task` that are set to run (not skipped, not todo). */
function runnableTestIds(task: RunnerTask): string[] {
  if (task.type === 'test') return task.mode === 'skip' || task.mode === 'todo' ? [] : [task.id];
  return 'tasks' in task ? task.tasks.flatMap(runnableTestIds) : [];
}

type Snapshot = ModuleTargetMeta['snapshots'][number];
let before: Promise<Snapshot> | undefined;
let after: Promise<Snapshot> | undefined;
/** The module's tests that have not finished yet. */
let unfinished = new Set<string>();
const { url, runId, head } = target();

// eslint-disable-next-line no-empty-pattern
beforeAll(({}, suite) => {
  // Not awaited: a slow target must not hold up the module; the snapshot is taken now all the same.
  before = snapshot(url, 'before');
  after = undefined;
  unfinished = new Set(runnableTestIds(suite));
});

// afterEach runs before the test's fixtures clean up (Vitest 4.1's order).
afterEach(({ task }) => {
  if (unfinished.delete(task.id) && unfinished.size === 0) after = snapshot(url, 'after');
});

// Vitest wants the hook context destructured, even when unused.
// eslint-disable-next-line no-empty-pattern
afterAll(async ({}, suite) => {
  const taken = [await (before ?? snapshot(url, 'before')), await (after ?? snapshot(url, 'after'))];
  await snapshots.destroy();
  suite.meta.stagecheckTarget = { baseUrl: url ? redactUrl(url) : null, runId, snapshots: taken, ...(head ? { head } : {}) };
});
