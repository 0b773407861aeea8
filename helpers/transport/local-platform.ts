// Transport: it reaches a target (the bundled platform, as a child process whose stdout names its URLs) and knows nothing of the contract.
/**
 * Starts the bundled reference platform as a child process, exactly as a user would with
 * `npm run platform`, and reads the environment it prints. The suite never imports the
 * platform's code: it talks to it over the network like to any staging.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export interface LocalPlatform {
  env: Record<string, string>;
  startMs: number;
  stop(): Promise<void>;
}

const CLI = fileURLToPath(new URL('../../platform/cli.ts', import.meta.url));
const TSX_LOADER = createRequire(import.meta.url).resolve('tsx');

/**
 * `detached`: the platform gets a process group of its own, so a terminal's Ctrl-C does not stop
 * it before its starter has finished with it (the monitor lets an interrupted iteration clean up
 * first); it still stops when its starter exits (platform/cli.ts watches for that).
 */
export async function startLocalPlatform(options: { args?: string[]; env?: Record<string, string>; timeoutMs?: number; detached?: boolean } = {}): Promise<LocalPlatform> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const child = spawn(process.execPath, ['--import', TSX_LOADER, CLI, '--json', ...(options.args ?? [])], {
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.detached ?? false,
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000);
  });

  const ready = await new Promise<{ env: Record<string, string>; startMs: number }>((resolve, reject) => {
    let stdout = '';
    const fail = (why: string) => {
      clearTimeout(timer);
      child.kill('SIGTERM');
      reject(new Error(`the reference platform did not start: ${why}${stderr.trim() ? `\n${stderr.trim()}` : ''}`));
    };
    const timer = setTimeout(() => fail(`not ready within ${timeoutMs} ms`), timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const line = stdout.split('\n').find((l) => l.startsWith('{'));
      if (!line || !stdout.includes('\n')) return;
      clearTimeout(timer);
      try {
        const parsed = JSON.parse(line) as { ready?: boolean; env?: Record<string, string>; startMs?: number };
        if (!parsed.ready || !parsed.env) return fail('it printed no ready line with its environment');
        resolve({ env: parsed.env, startMs: parsed.startMs ?? Number.NaN });
      } catch {
        fail('its ready line was not JSON');
      }
    });
    child.once('exit', (code, signal) => fail(`it exited early (${signal ?? `exit code ${code}`})`));
    child.once('error', (error) => fail(error.message));
  });
  child.removeAllListeners('exit');

  return { ...ready, stop: () => stopChild(child) };
}

async function stopChild(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}
