/**
 * `npm run monitor`'s command line refuses bad input before it starts anything: one message
 * naming the flag or the variable, exit 2, no stack trace, and never the webhook URL itself.
 */
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { childEnv } from '../support/child-env.ts';
import { ROOT } from '../support/run-e2e.ts';

const TSX = createRequire(import.meta.url).resolve('tsx');

/** The monitor to its end (it exits before starting anything here), killed after 30 s. */
function monitor(args: string[], env: Record<string, string> = {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', TSX, join(ROOT, 'scripts', 'monitor.ts'), ...args], { cwd: ROOT, env: childEnv(env), encoding: 'utf8', timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ status: error ? ((error as { code?: number }).code ?? null) : 0, stdout, stderr });
    });
  });
}

describe.concurrent('npm run monitor refuses bad input with exit 2', () => {
  it('a bad flag value names the flag', async ({ expect }) => {
    const run = await monitor(['--every', '5']);
    expect(run.status).toBe(2);
    expect(run.stderr.trim()).toBe('stagecheck monitor: --every "5" is not a duration: give a number with its unit, e.g. 30s, 5m or 8h');
    expect(run.stdout).toBe('');
  });

  it('a bad STAGECHECK_ALERT_WEBHOOK names the variable, not its value', async ({ expect }) => {
    const run = await monitor(['--every', '5m'], { STAGECHECK_ALERT_WEBHOOK: 'ftp://hooks.example.com/secret-path-9d2' });
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/^stagecheck monitor: STAGECHECK_ALERT_WEBHOOK must be an http:\/\/ or https:\/\/ URL/);
    expect(run.stderr + run.stdout).not.toContain('secret-path-9d2');
  });

  it('CI=true without STAGING_BASE_URL or --local is the configuration error e2e gives', async ({ expect }) => {
    const run = await monitor(['--every', '5m'], { CI: 'true', STAGECHECK_TARGET: '' });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('CI=true and STAGING_BASE_URL is not set');
    expect(run.stderr).toContain('--local');
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('--help prints the usage', async ({ expect }) => {
    const run = await monitor(['--help']);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^usage: npm run monitor -- --every 5m/);
  });
});
