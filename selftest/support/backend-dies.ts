/**
 * The run in which the backend dies mid-run: `npm run e2e` (both phases) against a reference
 * platform whose backend sits behind a forwarder that goes silent once phase 1 has passed and
 * phase 2 has been talking to it for 0.5 s (selftest/support/blackhole-proxy.ts), while most of
 * phase 2's tests are still running: on a quiet machine all of phase 2 takes about 2.5 s against the
 * reference platform, and at 2 s the backend died after the last test that needed it. Shared by the
 * fail-fast self-test and the time-to-verdict benchmark.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startBlackholeProxy } from './blackhole-proxy.ts';
import { runE2e, type E2eRun } from './run-e2e.ts';
import { startTargetPlatform } from './target-platform.ts';

export interface BackendDiesRun {
  run: E2eRun;
  /** Epoch ms of the backend's last answer, and of the moment it went silent. */
  lastAnsweredAt: number;
  diedAt: number;
}

/** Phase 2 talks this long to the backend before it dies. */
const TALKING_MS = 500;

export async function runWithBackendDying(reportDir: string, env: Record<string, string> = {}): Promise<BackendDiesRun> {
  const platform = await startTargetPlatform();
  const backendPort = Number(new URL(platform.env.STAGING_BASE_URL!).port);
  const proxy = await startBlackholeProxy(backendPort);
  let diedAt: number | undefined;
  let phase2: { answers: number; talkingSince?: number } | undefined;
  const gateFile = join(reportDir, 'phase1-gate.json');
  const watcher = setInterval(() => {
    if (diedAt !== undefined) return;
    if (!phase2) {
      if (gatePassed(gateFile)) phase2 = { answers: proxy.answers };
      return;
    }
    if (phase2.talkingSince === undefined && proxy.answers > phase2.answers) phase2.talkingSince = Date.now();
    if (phase2.talkingSince !== undefined && Date.now() - phase2.talkingSince >= TALKING_MS) {
      proxy.blackhole();
      diedAt = Date.now();
    }
  }, 50);
  try {
    const suiteEnv = platform.suiteEnv({ ...env, STAGING_BASE_URL: `http://127.0.0.1:${proxy.port}`, STAGING_WS_URL: `ws://127.0.0.1:${proxy.port}/ws` });
    const run = await runE2e([], { reportDir, env: suiteEnv, timeoutMs: 400_000 });
    if (diedAt === undefined) throw new Error(`phase 1 never passed, so the backend was never stopped:\n${run.stdout.slice(-2000)}`);
    return { run, lastAnsweredAt: proxy.lastAnsweredAt!, diedAt };
  } finally {
    clearInterval(watcher);
    await proxy.close();
    await platform.stop();
  }
}

function gatePassed(file: string): boolean {
  try {
    return existsSync(file) && (JSON.parse(readFileSync(file, 'utf8')) as { status?: string }).status === 'passed';
  } catch {
    return false; // being written
  }
}
