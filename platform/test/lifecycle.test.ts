import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { decodeJwt } from 'jose';
import postgres from 'postgres';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { startPlatform, type RunningPlatform } from '../index.ts';
import { isPortOpen } from '../util/ports.ts';
import { login, openSession, readyAgain, request, runAgent, startTestPlatform } from './support.ts';

const started: RunningPlatform[] = [];

afterAll(async () => {
  await Promise.all(started.map((platform) => platform.stop()));
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function expectNothingLeft(platform: RunningPlatform): Promise<void> {
  for (const pid of platform.resources.pids) expect(isAlive(pid), `pid ${pid}`).toBe(false);
  for (const dir of platform.resources.tempDirs) expect(existsSync(dir), dir).toBe(false);
  for (const port of platform.resources.ports) expect(await isPortOpen(port), `port ${port}`).toBe(false);
}

describe('two platforms side by side', () => {
  let production: RunningPlatform;
  let unconfigured: RunningPlatform;

  it('start in parallel without clashing, each well under 10 s', async () => {
    [production, unconfigured] = await Promise.all([
      startTestPlatform({ environment: 'production', accessTokenTtlS: 120 }),
      startTestPlatform({ e2eBypassKey: null, faults: 'redis_refused' }),
    ]);
    started.push(production, unconfigured);
    expect(production.startMs).toBeLessThan(10_000);
    expect(unconfigured.startMs).toBeLessThan(10_000);
    const ports = [...production.resources.ports, ...unconfigured.resources.ports];
    expect(new Set(ports).size).toBe(ports.length);
    expect(production.resources.pids).toHaveLength(2);
    for (const platform of [production, unconfigured]) {
      expect((await request(`${platform.urls.backend}/health`)).status).toBe(200);
    }
  });

  it('test-auth answers 403 in production', async () => {
    const response = await request(`${production.urls.auth}/auth/e2e/test-auth`, { body: {}, headers: { 'x-e2e-bypass-key': production.env.E2E_BYPASS_KEY ?? '' } });
    expect(response.status).toBe(403);
    expect((await request(`${production.urls.backend}/api/health`)).body.environment).toBe('production');
  });

  it('test-auth answers 503 when no bypass key is configured, and the env omits E2E_BYPASS_KEY', async () => {
    expect(unconfigured.env.E2E_BYPASS_KEY).toBeUndefined();
    const response = await request(`${unconfigured.urls.auth}/auth/e2e/test-auth`, { body: {}, headers: { 'x-e2e-bypass-key': 'anything' } });
    expect(response.status).toBe(503);
  });

  it('applies faults given at start, and clears them at run time', async () => {
    expect(unconfigured.activeFaults().map((fault) => fault.name)).toEqual(['redis_refused']);
    expect((await request(`${unconfigured.urls.backend}/health/ready`)).body.redis_db).toBe('degraded');
    await unconfigured.clearFaults();
    expect((await readyAgain(unconfigured)).body.redis_db).toBe('connected');
  });

  it('keeps their data apart', async () => {
    const tokens = await login(production);
    const claims = decodeJwt(tokens.access_token);
    expect(claims.exp! - claims.iat!).toBe(120); // accessTokenTtlS
    const { body: thread } = await request(`${production.urls.backend}/api/threads`, { token: tokens.access_token, body: { title: 'only here' } });
    const elsewhere = await login(unconfigured);
    expect((await request(`${unconfigured.urls.backend}/api/threads/${thread.id}`, { token: elsewhere.access_token })).status).toBe(404);
    // Secrets are per start: a token from one platform is invalid on the other.
    expect((await request(`${unconfigured.urls.backend}/api/threads`, { token: tokens.access_token, body: {} })).status).toBe(401);
  });

  it('with PLATFORM_DATABASE_URL/PLATFORM_REDIS_URL, starts no store and confines itself to a run-unique schema and key prefix', async () => {
    const guest = await startTestPlatform({ databaseUrl: production.stores.postgres.directUrl, redisUrl: production.stores.redis.directUrl });
    started.push(guest);
    expect(guest.resources.pids).toEqual([]);
    expect(guest.resources.tempDirs).toEqual([]);
    expect(guest.stores.postgres.schema).toMatch(/^refplat_[0-9a-f]+$/);
    expect(guest.stores.redis.keyPrefix).toMatch(/^refplat:[0-9a-f]+:$/);

    const tokens = await login(guest);
    const session = await openSession(guest, tokens.access_token);
    const run = await runAgent(session, { type: 'start_agent', payload: { user_request: 'What is the capital of Spain?' } });
    session.close();
    expect(String(run.terminal.final_response)).toContain('Madrid');

    // The suite's read-only URL sees the guest's tables through its own schema.
    const readonly = postgres(guest.env.STAGING_DATABASE_URL, { max: 1, onnotice: () => {} });
    const rows = await readonly`SELECT count(*)::int AS n FROM messages`;
    await readonly.end({ timeout: 1 });
    expect(rows[0]?.n).toBe(2);

    const direct = postgres(production.stores.postgres.directUrl, { max: 1, onnotice: () => {} });
    const redis = new Redis(production.stores.redis.directUrl);
    try {
      const schemaExists = async (): Promise<boolean> =>
        (await direct`SELECT 1 FROM pg_namespace WHERE nspname = ${guest.stores.postgres.schema}`).length === 1;
      expect(await schemaExists()).toBe(true);
      expect((await redis.keys(`${guest.stores.redis.keyPrefix}*`)).length).toBeGreaterThan(0);
      // The host platform's own tables are untouched.
      expect((await direct`SELECT count(*)::int AS n FROM public.messages`)[0]?.n).toBe(0);

      await guest.stop();
      expect(await schemaExists()).toBe(false);
      expect(await redis.keys(`${guest.stores.redis.keyPrefix}*`)).toEqual([]);
      expect((await direct`SELECT 1 FROM pg_roles WHERE rolname = ${`${guest.stores.postgres.schema}_ro`}`).length).toBe(0);
    } finally {
      redis.disconnect();
      await direct.end({ timeout: 1 });
    }
    expect((await request(`${production.urls.backend}/health/ready`)).status).toBe(200);
  });

  it('leave nothing behind after stop: store processes dead, temp dirs removed, ports closed', async () => {
    await Promise.all([production.stop(), unconfigured.stop()]);
    await expectNothingLeft(production);
    await expectNothingLeft(unconfigured);
    await production.stop(); // idempotent
  });
});

describe('start-up failures', () => {
  it('rejects an unknown fault before starting anything', async () => {
    // Before anything is started: rejected before a single event-loop turn, i.e. before any I/O
    // (a process, a temp dir, a socket) could even begin, however busy the machine is.
    const settlesBeforeIo = (promise: Promise<unknown>): Promise<string> =>
      Promise.race([promise.then(() => 'resolved', () => 'rejected'), new Promise<string>((resolve) => setImmediate(() => resolve('still pending after an event-loop turn')))]);
    const starts = [startPlatform({ faults: 'no_such_fault' }), startPlatform({ faults: 'pg_slow:ms=abc' }), startPlatform({ agentThinkMs: -1 })];
    for (const start of starts) expect(await settlesBeforeIo(start)).toBe('rejected');
    await expect(starts[0]).rejects.toThrow(/unknown fault "no_such_fault"/);
    await expect(starts[1]).rejects.toThrow(/invalid parameters for fault "pg_slow"/);
    await expect(starts[2]).rejects.toThrow(/agentThinkMs/);
  });

  it('cleans up when a store cannot be reached', async () => {
    // Nothing listens on port 1: the external-database path fails during schema creation.
    await expect(startPlatform({ databaseUrl: 'postgres://nobody@127.0.0.1:1/none', logLevel: 'silent' })).rejects.toThrow(/ECONNREFUSED/);
  });
});

describe('a platform whose Node process is killed outright', { timeout: 180_000 }, () => {
  it('is cleaned up by the watchdog: store processes dead, temp dirs gone', async () => {
    const root = fileURLToPath(new URL('../..', import.meta.url));
    const code = "const { startPlatform } = await import('./platform/index.ts'); const p = await startPlatform(); console.log(JSON.stringify(p.resources));";
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] });
    let stdout = '';
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    // A bounded wait: a start in a fresh process (node, tsx, initdb) can take tens of seconds on a busy machine.
    const deadline = Date.now() + 90_000;
    while (!stdout.includes('\n') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 25));
    expect(stdout, 'the child printed its resources').toContain('\n');
    const resources = JSON.parse(stdout) as RunningPlatform['resources'];
    expect(resources.pids.every(isAlive)).toBe(true);
    child.kill('SIGKILL');
    // A bounded wait for the watchdog's cleanup: generous, it ends as soon as everything is gone.
    const until = Date.now() + 30_000;
    while ((resources.pids.some(isAlive) || resources.tempDirs.some(existsSync)) && Date.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    for (const pid of resources.pids) expect(isAlive(pid), `pid ${pid}`).toBe(false);
    for (const dir of resources.tempDirs) expect(existsSync(dir), dir).toBe(false);
  });
});
