import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { isPortOpen } from '../util/ports.ts';
import { request } from './support.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const children: ChildProcess[] = [];

afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
});

interface Cli {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<number | null>;
}

function runCli(args: string[], env: Record<string, string> = {}): Cli {
  // Spawn node directly (not npm/npx) so SIGTERM reaches the CLI itself.
  const child = spawn(process.execPath, ['--import', 'tsx', 'platform/cli.ts', ...args], {
    cwd: root,
    // The default profile, whatever the caller's environment says (PLATFORM_PROFILE=staging would be HTTPS).
    env: { ...process.env, PLATFORM_AGENT_THINK_MS: '2', PLATFORM_PROFILE: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stdout: () => stdout, stderr: () => stderr, exit };
}

/** A bounded wait: a CLI start (node, tsx, initdb) can take tens of seconds on a busy machine. */
async function waitForOutput(cli: Cli, pattern: RegExp, timeoutMs = 90_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const match = pattern.exec(cli.stdout());
    if (match) return match[0];
    if (cli.child.exitCode !== null) throw new Error(`CLI exited ${cli.child.exitCode}: ${cli.stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`no ${pattern} on stdout within ${timeoutMs} ms; stderr: ${cli.stderr()}`);
}

// Room for the 90 s bounded waits on a CLI start above.
describe('npm run platform (cli.ts)', { timeout: 180_000 }, () => {
  it('--json prints exactly one ready line, serves, and exits 0 on SIGTERM leaving nothing behind', async () => {
    const cli = runCli(['--json', '--fault', 'pg_slow:ms=1']);
    const line = await waitForOutput(cli, /^\{.*\}\n/);
    const ready = JSON.parse(line) as { ready: boolean; env: Record<string, string>; startMs: number };
    expect(Object.keys(ready).sort()).toEqual(['env', 'ready', 'startMs']);
    expect(ready.ready).toBe(true);
    expect(ready.startMs).toBeLessThan(10_000);
    expect(Object.keys(ready.env)).toEqual([
      'STAGING_BASE_URL', 'STAGING_AUTH_URL', 'STAGING_WS_URL', 'STAGING_DATABASE_URL', 'STAGING_REDIS_URL', 'E2E_BYPASS_KEY',
      'STAGING_TEST_EMAIL', 'STAGING_TEST_PASSWORD', 'STAGING_TEST_EMAIL_2', 'STAGING_TEST_PASSWORD_2', 'STAGING_JWT_SECRET', 'PLATFORM_ADMIN_URL', 'PLATFORM_ADMIN_TOKEN',
    ]);
    expect(ready.env.STAGING_WS_URL).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/ws$/);
    expect(ready.env.STAGING_DATABASE_URL).toMatch(/^postgres:\/\/stagecheck_readonly@127\.0\.0\.1:\d+\/stagecheck$/);
    expect(ready.env.STAGING_REDIS_URL).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
    expect((await request(`${ready.env.STAGING_BASE_URL}/health`)).status).toBe(200);
    const faults = await request(`${ready.env.PLATFORM_ADMIN_URL}/faults`, { headers: { 'x-platform-admin-token': ready.env.PLATFORM_ADMIN_TOKEN ?? '' } });
    expect(faults.body.active).toMatchObject([{ name: 'pg_slow', params: { ms: 1 } }]);

    cli.child.kill('SIGTERM');
    expect(await cli.exit).toBe(0);
    expect(cli.stdout().trim().split('\n')).toHaveLength(1);
    for (const secret of ['E2E_BYPASS_KEY', 'STAGING_TEST_PASSWORD', 'STAGING_TEST_PASSWORD_2', 'STAGING_JWT_SECRET', 'PLATFORM_ADMIN_TOKEN']) {
      expect(cli.stderr()).not.toContain(ready.env[secret]);
    }
    for (const url of [ready.env.STAGING_BASE_URL, ready.env.STAGING_AUTH_URL, ready.env.STAGING_DATABASE_URL, ready.env.STAGING_REDIS_URL]) {
      expect(await isPortOpen(Number(new URL(url ?? '').port))).toBe(false);
    }
  });

  it('prints .env lines and a timing comment by default', async () => {
    const cli = runCli([], { PLATFORM_E2E_BYPASS_KEY: 'fixed-key-for-test', PLATFORM_VERSION: 'cli-build-7' });
    await waitForOutput(cli, /# ready in \d+ ms\n/);
    const lines = cli.stdout().trim().split('\n');
    const env = Object.fromEntries(lines.filter((line) => !line.startsWith('#')).map((line) => line.split(/=(.*)/s).slice(0, 2)));
    expect(env.E2E_BYPASS_KEY).toBe('fixed-key-for-test');
    expect(env.STAGING_TEST_EMAIL).toBe('qa@stagecheck.local');
    expect(env.STAGING_TEST_EMAIL_2).toBe('qa2@stagecheck.local');
    expect(lines.at(-1)).toMatch(/^# ready in \d+ ms$/);
    expect((await request(`${env.STAGING_BASE_URL}/health`)).body.version).toBe('cli-build-7');
    cli.child.kill('SIGINT');
    expect(await cli.exit).toBe(0);
  });

  it('stops by itself when its parent dies without forwarding a signal', async () => {
    // `; true` keeps sh from exec-ing node, so the CLI's parent is the shell we then SIGKILL.
    const shell = spawn('sh', ['-c', `"${process.execPath}" --import tsx platform/cli.ts --json; true`], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(shell);
    let stdout = '';
    let stderr = '';
    shell.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    shell.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const deadline = Date.now() + 90_000;
    while (!stdout.includes('\n') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 25));
    expect(stdout, `the ready line; stderr: ${stderr}`).toContain('\n');
    const env = (JSON.parse(stdout) as { env: Record<string, string> }).env;
    shell.kill('SIGKILL');
    const port = Number(new URL(env.STAGING_BASE_URL ?? '').port);
    // A bounded wait for the CLI to notice and stop: generous, it ends as soon as the port closes.
    const until = Date.now() + 30_000;
    while ((await isPortOpen(port)) && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 100));
    // Its stderr says whether it noticed ("parent process exited") and how far its stop got.
    expect(await isPortOpen(port), `port ${port} still open 30 s after the parent died; stderr: ${stderr}`).toBe(false);
    expect(stderr).toContain('parent process exited');
  });

  it('exits 1 with one clear message when the start fails', async () => {
    const cli = runCli(['--json', '--fault', 'no_such_fault']);
    expect(await cli.exit).toBe(1);
    expect(cli.stderr().trim().split('\n')).toHaveLength(1);
    expect(cli.stderr()).toMatch(/failed to start: unknown fault "no_such_fault"/);
    expect(cli.stderr()).not.toMatch(/\n\s+at /);
    expect(JSON.parse(cli.stdout())).toMatchObject({ ready: false, error: expect.stringContaining('no_such_fault') });
  });

  it('exits 2 with usage on an unknown flag', async () => {
    const cli = runCli(['--bogus']);
    expect(await cli.exit).toBe(2);
    expect(cli.stderr()).toContain('Usage: npm run platform');
  });
});
