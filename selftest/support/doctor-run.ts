/**
 * `npm run doctor` (scripts/doctor.ts) run as a user runs it, a child process with a clean
 * environment (selftest/support/child-env.ts: a developer's .env cannot leak in), and what its
 * self-tests read from its output. Shared by selftest/runs/doctor.test.ts (fast tier) and
 * doctor-network.test.ts (slow tier).
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { expect } from 'vitest';
import { childEnv } from './child-env.ts';
import { ROOT } from './run-e2e.ts';
import type { TargetPlatform } from './target-platform.ts';

const DOCTOR = join(ROOT, 'scripts', 'doctor.ts');
const TSX = createRequire(import.meta.url).resolve('tsx');
/**
 * Asked: 5 s on a healthy target. Judged on doctor's own clock (its `total`, from its start to its
 * verdict), with room for a loaded 2-core machine; starting node and tsx, which can take 10 s
 * there, is bounded only as a hang.
 */
export const HEALTHY_TOTAL_BOUND_MS = 15_000;
export const CHILD_START_BOUND_MS = 30_000;

export interface DoctorRun {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  wallMs: number;
}

export function runDoctor(args: readonly string[], env: Record<string, string | undefined>): Promise<DoctorRun> {
  const started = performance.now();
  const child = spawn(process.execPath, ['--import', TSX, DOCTOR, ...args], { cwd: ROOT, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ exitCode: code, stdout, stderr, wallMs: performance.now() - started });
    });
  });
}

export function tail(run: DoctorRun): string {
  return `exit ${run.exitCode} after ${Math.round(run.wallMs)} ms\n${run.stdout.slice(-4000)}\n${run.stderr.slice(-2000)}`;
}

/** Every secret the runs of a test file hold: none may be printed. */
export class SecretsHeld {
  readonly #secrets = new Set<string>();

  add(secret: string): void {
    this.#secrets.add(secret);
  }

  /** A platform's env as a configured staging (its admin switch is not part of a deployment), its secrets noted. */
  asStaging(platform: TargetPlatform, extra: Record<string, string> = {}): Record<string, string> {
    const env = platform.suiteEnv(extra);
    delete env.PLATFORM_ADMIN_URL;
    delete env.PLATFORM_ADMIN_TOKEN;
    delete env.NODE_EXTRA_CA_CERTS; // trust only what STAGING_CA_FILE says
    for (const name of ['E2E_BYPASS_KEY', 'STAGING_TEST_PASSWORD', 'STAGING_TEST_PASSWORD_2', 'STAGING_JWT_SECRET']) if (env[name]) this.add(env[name]);
    if (platform.env.PLATFORM_ADMIN_TOKEN) this.add(platform.env.PLATFORM_ADMIN_TOKEN);
    return env;
  }

  expectNoneIn(run: DoctorRun): void {
    for (const secret of this.#secrets) {
      expect(run.stdout.includes(secret), `a secret (${secret.slice(0, 3)}…) in stdout`).toBe(false);
      expect(run.stderr.includes(secret), `a secret (${secret.slice(0, 3)}…) in stderr`).toBe(false);
    }
  }
}

/** doctor's own time from its start to its verdict (`total` on its last line), ms. */
export function totalMs(run: DoctorRun): number {
  const match = /total ([\d.]+) (ms|s)\)$/m.exec(run.stdout);
  if (!match) throw new Error(`no total time on doctor's last line\n${tail(run)}`);
  return Number(match[1]) * (match[2] === 's' ? 1000 : 1);
}

/** The status column of one layer row in a section of the text report. */
export function layerStatus(stdout: string, section: string, layer: string): string | undefined {
  const block = stdout.split('\n\n').find((b) => b.startsWith(`${section}  `));
  return block?.split('\n').map((line) => new RegExp(`^  ${layer}\\s+(\\S+)`).exec(line)?.[1]).find(Boolean);
}
