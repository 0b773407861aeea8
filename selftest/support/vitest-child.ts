/**
 * Vitest itself as a child process, exactly as a developer types it (`npx vitest ...`), with
 * the clean child environment (selftest/support/child-env.ts): a one-off run that returns its
 * exit code and output, or a watch-mode session the caller drives and stops.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './run-e2e.ts';
import type { ChildEnv } from './child-env.ts';

export const VITEST = join(ROOT, 'node_modules', 'vitest', 'vitest.mjs');

export interface VitestChildRun {
  exitCode: number | null;
  stdout: string;
  stderr: string;
}

/** `vitest <args>` to its end; killed (SIGKILL) after `timeoutMs`. */
export async function runVitestChild(args: readonly string[], env: ChildEnv, timeoutMs = 120_000): Promise<VitestChildRun> {
  const child = spawn(process.execPath, [VITEST, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const output = collect(child);
  const exitCode = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
  return { exitCode, ...output() };
}

export interface WatchSession {
  /** Everything printed so far (stdout and stderr interleaved). */
  output(): string;
  /** Ends the session: SIGTERM, then SIGKILL if it is still there after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

/** `vitest watch <args>`: stdin is a pipe, not a terminal, so reruns come from file changes. */
export function startVitestWatch(args: readonly string[], env: ChildEnv): WatchSession {
  const child = spawn(process.execPath, [VITEST, 'watch', ...args], { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
  const output = collect(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    output: () => {
      const { stdout, stderr } = output();
      return `${stdout}\n${stderr}`;
    },
    stop: async (graceMs = 10_000) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

function collect(child: ChildProcess): () => { stdout: string; stderr: string } {
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return () => ({ stdout, stderr });
}

/** Polls `probe` until it returns a value, for at most `timeoutMs`; throws naming `what` when time is up. */
export async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs: number, describeLast: () => string = () => ''): Promise<T> {
  const end = performance.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (performance.now() > end) throw new Error(`waited ${timeoutMs / 1000} s for ${what}; it did not happen\n${describeLast()}`);
    await new Promise((tick) => setTimeout(tick, 100));
  }
}
