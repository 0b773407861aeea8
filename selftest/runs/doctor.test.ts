/**
 * `npm run doctor` (scripts/doctor.ts) run as a user runs it, a child process with a clean
 * environment (selftest/support/child-env.ts: a developer's .env cannot leak in), against
 * reference platforms handed to it as a staging:
 *
 * - healthy → exit 0, every layer of every section listed, within the time a healthy target
 *   allows (≤ 5 s asked; asserted generously, the machine is shared), also as one JSON document;
 * - the backend on a port that refuses → exit 1, "backend: TCP refused at 127.0.0.1:<port>";
 * - the backend on a port that accepts and never answers → exit 1 naming the HTTP layer and the
 *   budget it ran out of (BUDGET_HTTP_MS), bounded by that budget;
 * - the staging profile (TLS with its own CA) without STAGING_CA_FILE, or with another CA → exit 1
 *   naming TLS;
 * - a wrong bypass key → exit 1 naming the token layer and test-auth's 401;
 * - a partial target → exit 2 naming the missing variable.
 * No secret the platform or the run holds appears in any stdout or stderr.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { childEnv } from '../support/child-env.ts';
import { startConnectProxy, type ConnectProxy } from '../support/connect-proxy.ts';
import { closeServer, listen, refusedPort } from '../support/net.ts';
import { ROOT } from '../support/run-e2e.ts';
import { startTargetPlatform, type TargetPlatform } from '../support/target-platform.ts';

const DOCTOR = join(ROOT, 'scripts', 'doctor.ts');
const TSX = createRequire(import.meta.url).resolve('tsx');
/**
 * Asked: 5 s on a healthy target. Judged on doctor's own clock (its `total`, from its start to its
 * verdict), with room for a loaded 2-core machine; starting node and tsx, which can take 10 s
 * there, is bounded only as a hang.
 */
const HEALTHY_TOTAL_BOUND_MS = 15_000;
const CHILD_START_BOUND_MS = 30_000;
/** Above BUDGET_HTTP_MS's floor (the DB KPI's 5 s failure threshold), short enough for the fast tier. */
const SHORT_HTTP_BUDGET_MS = '5500';

interface DoctorRun {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  wallMs: number;
}

function runDoctor(args: readonly string[], env: Record<string, string | undefined>): Promise<DoctorRun> {
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

function tail(run: DoctorRun): string {
  return `exit ${run.exitCode} after ${Math.round(run.wallMs)} ms\n${run.stdout.slice(-4000)}\n${run.stderr.slice(-2000)}`;
}

let healthy: TargetPlatform;
let staging: TargetPlatform;
let blackhole: net.Server;
const held: net.Socket[] = [];
let blackholePort: number;
let proxy: ConnectProxy;
const PROXY_PASSWORD = `proxy-pw-${process.pid}`;
const dirs: string[] = [];
/** Every secret a run below holds: none may be printed. */
const secrets = new Set<string>();

/** A platform's env as a configured staging: its admin switch is not part of a deployment. */
function asStaging(platform: TargetPlatform, extra: Record<string, string> = {}): Record<string, string> {
  const env = platform.suiteEnv(extra);
  delete env.PLATFORM_ADMIN_URL;
  delete env.PLATFORM_ADMIN_TOKEN;
  delete env.NODE_EXTRA_CA_CERTS; // trust only what STAGING_CA_FILE says
  for (const name of ['E2E_BYPASS_KEY', 'STAGING_TEST_PASSWORD', 'STAGING_TEST_PASSWORD_2', 'STAGING_JWT_SECRET']) if (env[name]) secrets.add(env[name]);
  for (const name of ['PLATFORM_ADMIN_TOKEN']) if (platform.env[name]) secrets.add(platform.env[name]);
  return env;
}

function expectNoSecret(run: DoctorRun): void {
  for (const secret of secrets) {
    expect(run.stdout.includes(secret), `a secret (${secret.slice(0, 3)}…) in stdout`).toBe(false);
    expect(run.stderr.includes(secret), `a secret (${secret.slice(0, 3)}…) in stderr`).toBe(false);
  }
}

/** doctor's own time from its start to its verdict (`total` on its last line), ms. */
function totalMs(run: DoctorRun): number {
  const match = /total ([\d.]+) (ms|s)\)$/m.exec(run.stdout);
  if (!match) throw new Error(`no total time on doctor's last line\n${tail(run)}`);
  return Number(match[1]) * (match[2] === 's' ? 1000 : 1);
}

/** The status column of one layer row in a section of the text report. */
function layerStatus(stdout: string, section: string, layer: string): string | undefined {
  const block = stdout.split('\n\n').find((b) => b.startsWith(`${section}  `));
  return block?.split('\n').map((line) => new RegExp(`^  ${layer}\\s+(\\S+)`).exec(line)?.[1]).find(Boolean);
}

beforeAll(async () => {
  blackhole = net.createServer((socket) => {
    held.push(socket); // accepted, never answered
  });
  [healthy, staging, blackholePort, proxy] = await Promise.all([
    startTargetPlatform(),
    startTargetPlatform({ profile: 'staging' }),
    listen(blackhole),
    startConnectProxy({ credentials: { user: 'doctor', password: PROXY_PASSWORD } }),
  ]);
  secrets.add(PROXY_PASSWORD);
  expect(staging.env.STAGING_BASE_URL, 'the staging profile serves HTTPS').toMatch(/^https:/);
}, 90_000);

afterAll(async () => {
  for (const socket of held) socket.destroy();
  if (blackhole) await closeServer(blackhole);
  await Promise.all([healthy?.stop(), staging?.stop(), proxy?.close()]);
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('npm run doctor', { concurrent: true, timeout: 90_000 }, () => {
  it('lists every layer of every section as ok and exits 0 against a healthy target', async () => {
    const run = await runDoctor([], asStaging(healthy));
    expect(run.exitCode, tail(run)).toBe(0);
    const layers: Record<string, string[]> = {
      backend: ['dns', 'tcp', 'http-status'],
      auth: ['dns', 'tcp', 'http-status'],
      websocket: ['dns', 'tcp', 'http-status', 'ws-upgrade', 'connection_established'],
      'auth token': ['token', 'claims', 'clock-skew'],
      postgres: ['connect', 'query'],
      redis: ['connect', 'round-trip'],
    };
    for (const [section, names] of Object.entries(layers)) {
      for (const layer of names) expect(layerStatus(run.stdout, section, layer), `${section} ${layer}\n${tail(run)}`).toBe('ok');
      if (section !== 'auth token' && section !== 'postgres' && section !== 'redis') expect(layerStatus(run.stdout, section, 'tls'), `${section} tls`).toBe('n/a');
    }
    expect(run.stdout).toMatch(/^HEALTHY \(exit 0\)/m);
    expect(run.stdout).toMatch(/STAGING_BASE_URL\s+http:\/\/127\.0\.0\.1:\d+\s+environment/);
    expect(run.stdout).toMatch(/BUDGET_HTTP_MS\s+10000\s+default/);
    expect(totalMs(run), tail(run)).toBeLessThan(HEALTHY_TOTAL_BOUND_MS);
    expect(run.wallMs, tail(run)).toBeLessThan(HEALTHY_TOTAL_BOUND_MS + CHILD_START_BOUND_MS);
    console.info(`doctor against a healthy target: wall ${Math.round(run.wallMs)} ms, ${/\(checks [^)]*\)/.exec(run.stdout)?.[0]}`);
    expectNoSecret(run);
  });

  it('prints one JSON document with --json', async () => {
    const run = await runDoctor(['--json'], asStaging(healthy));
    expect(run.exitCode, tail(run)).toBe(0);
    const report = JSON.parse(run.stdout) as { exitCode: number; healthy: boolean; firstBroken: unknown; sections: Array<{ name: string; layers: Array<{ layer: string; status: string; ms?: number }> }>; configuration: Array<{ name: string; source: string }>; target: { target: string } };
    expect(report).toMatchObject({ exitCode: 0, healthy: true, firstBroken: null, target: { target: 'staging' } });
    expect(report.sections.map((s) => s.name)).toEqual(['backend', 'auth', 'websocket', 'auth token', 'postgres', 'redis']);
    for (const section of report.sections) {
      for (const layer of section.layers) expect(['ok', 'n/a'], `${section.name} ${layer.layer}: ${layer.status}`).toContain(layer.status);
    }
    expect(report.configuration.find((row) => row.name === 'E2E_BYPASS_KEY')).toEqual({ name: 'E2E_BYPASS_KEY', value: '[redacted]', source: 'environment' });
    expectNoSecret(run);
  });

  it('walks through the configured proxy and names it, without its password', async () => {
    const run = await runDoctor([], asStaging(healthy, { HTTP_PROXY: proxy.url, STAGECHECK_PROXY_LOOPBACK: '1' }));
    expect(run.exitCode, tail(run)).toBe(0);
    const shown = proxy.url.replace(/\/\/[^@]*@/, '//');
    expect(run.stdout, tail(run)).toContain(`backend  ${healthy.env.STAGING_BASE_URL} via proxy ${shown}`);
    for (const section of ['backend', 'auth', 'websocket']) expect(layerStatus(run.stdout, section, 'proxy'), `${section} proxy\n${tail(run)}`).toBe('ok');
    expect(layerStatus(run.stdout, 'websocket', 'connection_established'), tail(run)).toBe('ok');
    expect(run.stdout).toMatch(/HTTP_PROXY\s+http:\/\/127\.0\.0\.1:\d+\/?\s+environment/);
    expect(proxy.tunnels.length, 'the tunnels were opened by that proxy').toBeGreaterThan(0);
    expectNoSecret(run);
  });

  it('names TCP and the address when the backend port refuses', async () => {
    const port = await refusedPort();
    const run = await runDoctor([], asStaging(healthy, { STAGING_BASE_URL: `http://127.0.0.1:${port}` }));
    expect(run.exitCode, tail(run)).toBe(1);
    expect(run.stdout, tail(run)).toContain(`BROKEN (exit 1): backend: TCP refused at 127.0.0.1:${port}`);
    expect(layerStatus(run.stdout, 'backend', 'http-status'), tail(run)).toBe('--');
    expectNoSecret(run);
  });

  it('names the HTTP layer and its budget when the backend port accepts and never answers', async () => {
    const run = await runDoctor([], asStaging(healthy, { STAGING_BASE_URL: `http://127.0.0.1:${blackholePort}`, BUDGET_HTTP_MS: SHORT_HTTP_BUDGET_MS }));
    expect(run.exitCode, tail(run)).toBe(1);
    expect(run.stdout, tail(run)).toContain('BROKEN (exit 1): backend: HTTP: GET /health got no response headers within 5.5 s (BUDGET_HTTP_MS)');
    expect(layerStatus(run.stdout, 'backend', 'tcp'), tail(run)).toBe('ok');
    // Bounded by the budget it names, never a hang.
    expect(totalMs(run), tail(run)).toBeGreaterThanOrEqual(Number(SHORT_HTTP_BUDGET_MS));
    expect(totalMs(run), tail(run)).toBeLessThan(Number(SHORT_HTTP_BUDGET_MS) + HEALTHY_TOTAL_BOUND_MS);
    expect(run.wallMs, tail(run)).toBeLessThan(Number(SHORT_HTTP_BUDGET_MS) + HEALTHY_TOTAL_BOUND_MS + CHILD_START_BOUND_MS);
    expectNoSecret(run);
  });

  it('names TLS when the staging CA is not given', async () => {
    const run = await runDoctor([], asStaging(staging, { STAGING_CA_FILE: '' }));
    expect(run.exitCode, tail(run)).toBe(1);
    expect(run.stdout, tail(run)).toMatch(/BROKEN \(exit 1\): backend: TLS certificate not trusted at 127\.0\.0\.1:\d+ \(TLS_UNTRUSTED/);
    expect(run.stdout, 'the fix is named').toContain('set STAGING_CA_FILE');
    expectNoSecret(run);
  });

  it('names TLS when STAGING_CA_FILE holds another CA', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stagecheck-doctor-'));
    dirs.push(dir);
    const otherCa = join(dir, 'other-ca.pem');
    writeFileSync(otherCa, tls.rootCertificates[0]!);
    const run = await runDoctor([], asStaging(staging, { STAGING_CA_FILE: otherCa }));
    expect(run.exitCode, tail(run)).toBe(1);
    expect(run.stdout, tail(run)).toMatch(/BROKEN \(exit 1\): backend: TLS certificate not trusted at 127\.0\.0\.1:\d+ \(TLS_UNTRUSTED/);
    expectNoSecret(run);
  });

  it('names the token layer and test-auth 401 for a wrong bypass key', async () => {
    const wrongKey = `wrong-bypass-key-${Date.now()}`;
    secrets.add(wrongKey);
    const run = await runDoctor([], asStaging(healthy, { E2E_BYPASS_KEY: wrongKey }));
    expect(run.exitCode, tail(run)).toBe(1);
    expect(run.stdout, tail(run)).toContain('BROKEN (exit 1): auth token: POST /auth/e2e/test-auth answered 401');
    expect(layerStatus(run.stdout, 'websocket', 'ws-upgrade'), 'no token, no handshake').toBe('--');
    expectNoSecret(run);
  });

  it('exits 2 naming the variable of a partial target', async () => {
    const env = asStaging(healthy);
    const run = await runDoctor([], { ...env, STAGING_AUTH_URL: '' });
    expect(run.exitCode, tail(run)).toBe(2);
    expect(run.stderr, tail(run)).toMatch(/STAGING_AUTH_URL is not set/);
    expect(run.stderr, 'no stack trace').not.toMatch(/\n\s+at /);
    expectNoSecret(run);
  });
});
