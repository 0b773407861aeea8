/**
 * Configuration mistakes, made the way a user makes them: each runs `npm run e2e` (and a
 * representative few `vitest run --project phase1`) with ONE mistake in an otherwise valid
 * staging configuration, and checks that the run stops before any test, with one message that
 * names the culprit, no stack trace and no secret.
 *
 * "Nothing started" is observed, not assumed: every URL of the configuration, and the store
 * URLs a reference platform would connect to at start, point at a loopback tripwire that
 * counts connections. Two control runs without a mistake show the tripwire does see the
 * suite's traffic and a platform start, so its zero in every mistake is evidence.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it, type ExpectStatic, type TestContext } from 'vitest';
import { titlePattern } from '../../tests/check-ids.ts';
import { childEnvWithReports } from '../support/child-env.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const E2E = join(ROOT, 'scripts', 'e2e.ts');
const VITEST = join(ROOT, 'node_modules', 'vitest', 'vitest.mjs');
const TSX = createRequire(import.meta.url).resolve('tsx');

/** Set in every run; none may reach the output. */
const SECRETS = {
  bypassKey: 'sentinel-bypass-k3y',
  password: 'sentinel-passw0rd',
  jwtSecret: 'sentinel-jwt-s3cret',
  adminToken: 'sentinel-admin-t0ken',
  dbPassword: 'sentinel-db-passw0rd',
  basicAuth: 'sentinel-basic-auth',
  historyPassword: 'sentinel-history-passw0rd',
};

type Env = Record<string, string>;

/** Counts TCP connections to a loopback port and drops each at once. */
interface Tripwire {
  port: number;
  connections(): number;
}

async function tripwire(onTestFinished: TestContext['onTestFinished']): Promise<Tripwire> {
  let count = 0;
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    count += 1;
    sockets.add(socket);
    socket.on('error', () => undefined).on('close', () => sockets.delete(socket));
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(() => new Promise<void>((resolve) => {
    for (const socket of sockets) socket.destroy();
    server.close(() => resolve());
  }));
  return { port: (server.address() as AddressInfo).port, connections: () => count };
}

/** A complete, valid staging configuration whose every endpoint is the tripwire. */
function validStagingEnv(port: number): Env {
  return {
    STAGING_BASE_URL: `http://127.0.0.1:${port}`,
    STAGING_AUTH_URL: `http://127.0.0.1:${port}`,
    STAGING_WS_URL: `ws://127.0.0.1:${port}/ws`,
    STAGING_DATABASE_URL: `postgres://ro:${SECRETS.dbPassword}@127.0.0.1:${port}/app`,
    STAGING_REDIS_URL: `redis://127.0.0.1:${port}`,
    E2E_BYPASS_KEY: SECRETS.bypassKey,
    STAGING_TEST_EMAIL: 'qa@example.test',
    STAGING_TEST_PASSWORD: SECRETS.password,
    STAGING_JWT_SECRET: SECRETS.jwtSecret,
  };
}

/** No target at all: a valid run would start the bundled reference platform. */
function withoutTarget(env: Env): Env {
  const { STAGING_BASE_URL, STAGING_AUTH_URL, STAGING_WS_URL, STAGING_DATABASE_URL, STAGING_REDIS_URL, ...rest } = env;
  return rest;
}

/** The child's clean environment, a reference platform's stores pointed at the tripwire, reports in a temp dir. */
function mistakeEnv(port: number, reportDir: string, env: Env): Record<string, string | undefined> {
  return childEnvWithReports(reportDir, {
    PLATFORM_DATABASE_URL: `postgres://platform:x@127.0.0.1:${port}/platform`,
    PLATFORM_REDIS_URL: `redis://127.0.0.1:${port}`,
    PLATFORM_ADMIN_TOKEN: SECRETS.adminToken,
    ...env,
  });
}

interface Run {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  wallMs: number;
  reportDir: string;
}

async function run(argv: string[], port: number, env: Env, onTestFinished: TestContext['onTestFinished']): Promise<Run> {
  const reportDir = mkdtempSync(join(tmpdir(), 'stagecheck-config-mistake-'));
  onTestFinished(() => rmSync(reportDir, { recursive: true, force: true }));
  const started = performance.now();
  const child = spawn(process.execPath, argv, { cwd: ROOT, env: mistakeEnv(port, reportDir, env), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exitCode = await new Promise<number | null>((resolve) => {
    // A hang guard only: on a loaded 2-core machine a child Vitest has been seen printing nothing for 60 s.
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
  const wallMs = performance.now() - started;
  // A connection the child opened just before exiting may not have been accepted yet.
  await new Promise((resolve) => setTimeout(resolve, 100));
  return { exitCode, stdout, stderr, wallMs, reportDir };
}

const e2e = (args: string[]) => ['--import', TSX, E2E, ...args];
const vitestPhase1 = (args: string[] = []) => [VITEST, 'run', '--project', 'phase1', ...args];
const shown = (r: Run) => `exit ${r.exitCode} after ${Math.round(r.wallMs)} ms\n--- stdout\n${r.stdout.slice(-3000)}\n--- stderr\n${r.stderr.slice(-3000)}`;

const HEADER = 'stagecheck configuration is invalid:';

function expectNoStackTraceNorSecret(expect: ExpectStatic, r: Run, extraSecrets: string[] = []): void {
  const output = `${r.stdout}\n${r.stderr}`;
  expect(output, shown(r)).not.toMatch(/^\s+at .+/m); // Node's frames
  expect(output, shown(r)).not.toMatch(/❯ \S+:\d+:\d+/); // Vitest's frames
  expect(output, shown(r)).not.toMatch(/node_modules\/[^\s*]+\.[cm]?[jt]s\b/); // a file in a dependency
  for (const secret of [...Object.values(SECRETS), ...extraSecrets]) expect(output, `secret ${secret} printed`).not.toContain(secret);
}

interface Mistake {
  what: string;
  /** The env of the run, from the valid one. */
  env?: (valid: Env, port: number) => Env;
  args?: string[];
  /** The one problem line, without its "  - " bullet. */
  culprit: RegExp;
  /** Also run `vitest run --project phase1` directly. */
  direct?: boolean;
}

const MISTAKES: Mistake[] = [
  {
    what: 'STAGING_BASE_URL missing while the other target URLs are set',
    env: ({ STAGING_BASE_URL: _, ...rest }) => rest,
    culprit: /^STAGING_BASE_URL is not set but STAGING_AUTH_URL, STAGING_WS_URL, STAGING_DATABASE_URL and STAGING_REDIS_URL are: set all of/,
  },
  {
    what: 'a store URL without a target (it would be ignored while the bundled platform is tested)',
    env: (valid) => ({ ...withoutTarget(valid), STAGING_REDIS_URL: valid.STAGING_REDIS_URL as string }),
    culprit: /^STAGING_BASE_URL, STAGING_AUTH_URL and STAGING_WS_URL are not set but STAGING_REDIS_URL is/,
  },
  {
    what: 'a malformed STAGING_BASE_URL',
    env: (valid) => ({ ...valid, STAGING_BASE_URL: 'not a url' }),
    culprit: /^STAGING_BASE_URL is not a valid URL: "not a url" \(expected e\.g\. https:\/\/api-staging\.example\.com\)$/,
    direct: true,
  },
  {
    what: 'an ftp:// STAGING_BASE_URL',
    env: (valid, port) => ({ ...valid, STAGING_BASE_URL: `ftp://127.0.0.1:${port}` }),
    culprit: /^STAGING_BASE_URL must use http: or https:, got ftp:/,
  },
  {
    what: 'STAGING_WS_URL on an http scheme',
    env: (valid, port) => ({ ...valid, STAGING_WS_URL: `http://127.0.0.1:${port}/ws` }),
    culprit: /^STAGING_WS_URL must use ws: or wss:, got http: \(a WebSocket URL uses ws:\/\/ or wss:\/\/, e\.g\. ws:\/\/127\.0\.0\.1:\d+\/ws\)$/,
  },
  {
    what: 'a query on STAGING_AUTH_URL, which the suite appends paths to',
    env: (valid) => ({ ...valid, STAGING_AUTH_URL: `${valid.STAGING_AUTH_URL}/v1?tenant=qa` }),
    culprit: /^STAGING_AUTH_URL must not have a query \(\?\.\.\.\): the suite appends paths to it/,
  },
  {
    what: 'credentials in STAGING_BASE_URL',
    env: (valid, port) => ({ ...valid, STAGING_BASE_URL: `http://admin:${SECRETS.basicAuth}@127.0.0.1:${port}` }),
    culprit: /^STAGING_BASE_URL must not carry credentials \(user:password@host\): authenticate with E2E_BYPASS_KEY/,
  },
  {
    what: 'a negative budget',
    env: (valid) => ({ ...valid, BUDGET_AGENT_RUN_MS: '-5' }),
    culprit: /^BUDGET_AGENT_RUN_MS must be a positive whole number of milliseconds, got "-5"$/,
  },
  {
    what: 'a non-numeric budget',
    env: (valid) => ({ ...valid, BUDGET_HTTP_MS: 'fast' }),
    culprit: /^BUDGET_HTTP_MS must be a positive whole number of milliseconds, got "fast"$/,
  },
  {
    what: 'a zero budget',
    env: (valid) => ({ ...valid, BUDGET_WS_HANDSHAKE_MS: '0' }),
    culprit: /^BUDGET_WS_HANDSHAKE_MS must be at least 1, got 0$/,
  },
  {
    what: 'a budget at or below its KPI threshold',
    env: (valid) => ({ ...valid, BUDGET_DB_QUERY_MS: '3000' }),
    culprit: /^BUDGET_DB_QUERY_MS=3000 must be greater than its KPI threshold 'dbProbe' \(5000 ms\): a probe cut off at the threshold cannot measure the KPI$/,
  },
  {
    what: 'a stall threshold that could never fire before the run budget',
    env: (valid) => ({ ...valid, BUDGET_STALL_MS: '30000' }),
    culprit: /^BUDGET_STALL_MS=30000 must be less than BUDGET_AGENT_RUN_MS=30000, or a stall can never be detected/,
  },
  {
    what: 'a KPI sample count of 0',
    env: (valid) => ({ ...valid, KPI_DB_SAMPLES: '0' }),
    culprit: /^KPI_DB_SAMPLES must be at least 10 \(the KPI catalog's minimum for [a-z0-9-]+\), got 0$/,
  },
  {
    what: 'an invalid heartbeat',
    env: (valid) => ({ ...valid, STAGING_WS_HEARTBEAT_S: '0' }),
    culprit: /^STAGING_WS_HEARTBEAT_S must be at least 1, got 0$/,
  },
  {
    what: 'an invalid run id',
    env: (valid) => ({ ...valid, STAGECHECK_RUN_ID: 'my run!' }),
    culprit: /^STAGECHECK_RUN_ID "my run!" must be 4-64 letters, digits or dashes/,
  },
  {
    what: 'STAGECHECK_ALLOW_PRODUCTION that is neither true nor false',
    env: (valid) => ({ ...valid, STAGECHECK_ALLOW_PRODUCTION: 'maybe' }),
    culprit: /^STAGECHECK_ALLOW_PRODUCTION must be true or false, got "maybe"$/,
  },
  {
    // Loopback hosts made "production" by a narrower pattern: the refusal is observed
    // without ever risking traffic to a real host.
    what: 'a host outside STAGING_HOST_PATTERN without the explicit flag',
    env: (valid) => ({ ...valid, STAGING_HOST_PATTERN: String.raw`\.staging\.example\.com$` }),
    culprit: /^STAGING_BASE_URL host "127\.0\.0\.1", STAGING_AUTH_URL host "127\.0\.0\.1" and STAGING_WS_URL host "127\.0\.0\.1" do not match STAGING_HOST_PATTERN .*refusing to test what may be production\. Set STAGECHECK_ALLOW_PRODUCTION=true \(or pass --allow-production to npm run e2e\)/,
    direct: true,
  },
  {
    what: 'no way to authenticate',
    env: ({ E2E_BYPASS_KEY: _k, STAGING_TEST_EMAIL: _e, STAGING_TEST_PASSWORD: _p, STAGING_JWT_SECRET: _s, ...rest }) => rest,
    culprit: /^no way to authenticate: set E2E_BYPASS_KEY \(test-auth\), or STAGING_TEST_EMAIL and STAGING_TEST_PASSWORD \(login\), or STAGING_JWT_SECRET/,
  },
  {
    what: 'a STAGING_DATABASE_URL that is not postgres://',
    env: (valid, port) => ({ ...valid, STAGING_DATABASE_URL: `mysql://ro:${SECRETS.dbPassword}@127.0.0.1:${port}/app` }),
    culprit: /^STAGING_DATABASE_URL must use postgres: or postgresql:, got mysql:/,
  },
  {
    what: 'a STAGING_REDIS_URL that is not redis://',
    env: (valid, port) => ({ ...valid, STAGING_REDIS_URL: `http://127.0.0.1:${port}` }),
    culprit: /^STAGING_REDIS_URL must use redis: or rediss:, got http:/,
  },
  {
    // The suite never writes to the deployment's database: the same server, port and database, spelt otherwise.
    what: 'a STAGECHECK_HISTORY_URL naming the database of STAGING_DATABASE_URL',
    env: (valid, port) => ({ ...valid, STAGECHECK_HISTORY_URL: `postgresql://history:${SECRETS.historyPassword}@localhost:${port}/app` }),
    culprit: /^STAGECHECK_HISTORY_URL \(postgresql:\/\/localhost:\d+\/app\) names the database of STAGING_DATABASE_URL \(postgres:\/\/127\.0\.0\.1:\d+\/app\): the suite never writes to the deployment's database/,
    direct: true,
  },
  {
    what: 'a STAGECHECK_HISTORY_URL that is not postgres://',
    env: (valid, port) => ({ ...valid, STAGECHECK_HISTORY_URL: `https://history:${SECRETS.historyPassword}@127.0.0.1:${port}/history` }),
    culprit: /^STAGECHECK_HISTORY_URL must use postgres: or postgresql:, got https:/,
  },
  {
    what: 'a history bound of 0 runs',
    env: (valid) => ({ ...valid, STAGECHECK_HISTORY_MAX_RUNS: '0' }),
    culprit: /^STAGECHECK_HISTORY_MAX_RUNS must be at least 1, got 0$/,
  },
  {
    // Without the check this run would silently test the bundled platform, not staging.
    what: 'a misspelt STAGING_BASE_URL',
    env: (valid) => ({ ...withoutTarget(valid), STAGING_BASEURL: valid.STAGING_BASE_URL as string }),
    culprit: /^STAGING_BASEURL is set but stagecheck reads no such variable: did you mean STAGING_BASE_URL\?$/,
    direct: true,
  },
  {
    // The silent switch issue 13 ends: CI that would test the bundled platform instead of staging.
    what: 'CI=true without a target and without --local',
    env: (valid) => ({ ...withoutTarget(valid), CI: 'true', STAGECHECK_TARGET: '' }),
    culprit: /^CI=true and STAGING_BASE_URL is not set: a CI run never falls back to the bundled reference platform silently\. Set STAGING_BASE_URL .* or pass --local \(STAGECHECK_TARGET=local\)/,
    direct: true,
  },
  {
    what: '--target staging without STAGING_BASE_URL',
    env: (valid) => withoutTarget(valid),
    args: ['--target', 'staging'],
    culprit: /^STAGECHECK_TARGET=staging \(--target staging\) but STAGING_BASE_URL is not set: set STAGING_BASE_URL .* or pass --local/,
  },
  {
    what: '--local while STAGING_BASE_URL names a deployment',
    args: ['--local'],
    culprit: /^STAGECHECK_TARGET=local \(--local\) asks for the bundled reference platform, but STAGING_BASE_URL is set: unset one of them$/,
  },
  {
    what: 'an undeclared tag in --tags-filter',
    args: ['--tags-filter', 'p9'],
    culprit: /^--tags-filter "p9": "p9" matches no declared tag, so no test could be selected; known tags: p1, p2, p3, p4, p5, p6, backend, auth, websocket, agent, postgres, redis, network$/,
  },
  {
    what: '--report-dir without its value',
    args: ['--report-dir'],
    culprit: /^--report-dir needs a value: the directory the reports are written to$/,
  },
];

describe.concurrent('a configuration mistake stops npm run e2e before any test: exit 2, one message naming the culprit', () => {
  it.for(MISTAKES)('$what', async ({ what, env, args = [], culprit }, { expect, onTestFinished }) => {
    const wire = await tripwire(onTestFinished);
    const valid = validStagingEnv(wire.port);
    const r = await run(e2e(args), wire.port, env ? env(valid, wire.port) : valid, onTestFinished);

    expect(r.exitCode, shown(r)).toBe(2);
    // The whole output is the header and one problem: nothing else was started or printed.
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines, shown(r)).toEqual([HEADER, expect.stringMatching(/^ {2}- /)]);
    expect(lines[1]!.slice(4), what).toMatch(culprit);
    expect(r.stdout, shown(r)).toBe('');
    expectNoStackTraceNorSecret(expect, r);
    expect(existsSync(join(r.reportDir, 'business-impact.json')), 'Vitest ran: a report was written').toBe(false);
    expect(wire.connections(), 'the target or a reference platform was contacted').toBe(0);
  });
});

describe.concurrent('a configuration mistake stops vitest run --project phase1 in global setup', () => {
  it.for(MISTAKES.filter((m) => m.direct))('$what', async ({ what, env, culprit }, { expect, onTestFinished }) => {
    const wire = await tripwire(onTestFinished);
    const valid = validStagingEnv(wire.port);
    const r = await run(vitestPhase1(), wire.port, env ? env(valid, wire.port) : valid, onTestFinished);
    const output = `${r.stdout}\n${r.stderr}`;

    expect(r.exitCode, shown(r)).not.toBe(0);
    expect(output.split(HEADER), shown(r)).toHaveLength(2);
    const problems = output.split('\n').filter((line) => /^ {2}- /.test(line));
    expect(problems, shown(r)).toEqual([expect.stringMatching(/^ {2}- /)]);
    expect(problems[0]!.slice(4), what).toMatch(culprit);
    expectNoStackTraceNorSecret(expect, r);
    // The suite's reporter saw no test at all (not even one collected and skipped).
    const report = JSON.parse(readFileSync(join(r.reportDir, 'business-impact.json'), 'utf8')) as { verdict: string; counts: { total: number; executed: number } };
    expect(report, shown(r)).toMatchObject({ verdict: 'INCONCLUSIVE', counts: { total: 0, executed: 0 } });
    expect(wire.connections(), 'the target or a reference platform was contacted').toBe(0);
  });
});

describe.concurrent('controls: the tripwire sees what a mistake must prevent', () => {
  it('the valid staging configuration the mistakes start from passes validation and reaches the target', async ({ expect, onTestFinished }) => {
    const wire = await tripwire(onTestFinished);
    const r = await run(vitestPhase1(['-t', titlePattern('health')]), wire.port, validStagingEnv(wire.port), onTestFinished);
    // The tripwire drops every connection: the one selected test runs and fails on it.
    expect(r.exitCode, shown(r)).toBe(1);
    expect(r.stdout, shown(r)).toMatch(/Tests {2}1 failed \| 23 skipped \(24\)/);
    expect(`${r.stdout}${r.stderr}`, shown(r)).not.toContain(HEADER);
    expect(wire.connections(), shown(r)).toBeGreaterThan(0);
  });

  it('no target starts the reference platform, which connects to its stores (vitest run --project phase1)', async ({ expect, onTestFinished }) => {
    const wire = await tripwire(onTestFinished);
    const r = await run(vitestPhase1(), wire.port, withoutTarget(validStagingEnv(wire.port)), onTestFinished);
    expect(r.exitCode, shown(r)).not.toBe(0);
    expect(r.stderr, shown(r)).toContain('the reference platform did not start');
    expect(wire.connections(), shown(r)).toBeGreaterThan(0);
  });

  it('CI=true with an explicit --local (STAGECHECK_TARGET=local) starts the reference platform', async ({ expect, onTestFinished }) => {
    const wire = await tripwire(onTestFinished);
    const r = await run(vitestPhase1(), wire.port, { ...withoutTarget(validStagingEnv(wire.port)), CI: 'true', STAGECHECK_TARGET: 'local' }, onTestFinished);
    expect(`${r.stdout}${r.stderr}`, shown(r)).not.toContain(HEADER);
    expect(r.stderr, shown(r)).toContain('the reference platform did not start');
    expect(wire.connections(), shown(r)).toBeGreaterThan(0);
  });
});
