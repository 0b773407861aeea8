/**
 * Store probes against throwaway servers only: a redis-server and a PostgreSQL cluster started in
 * temp dirs on free 127.0.0.1 ports, plus fake listeners (refusing, silent, stalling proxy). The
 * machine's own PostgreSQL/Redis are never touched.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckError } from '../../helpers/core/errors.ts';
import {
  assertRunKey,
  assertStoreProbe,
  cleanupRedisRunKeys,
  describeStoreUrl,
  guardedSet,
  probePostgres,
  probeRedis,
  runKeyPrefix,
} from '../../helpers/transport/stores.ts';
import { checkErrorOf, closeServer, listen, refusedPort as freePort } from '../support/net.ts';

const PG_BIN = '/usr/lib/postgresql/15/bin';
const REDIS_BIN = '/usr/bin/redis-server';
const runId = `unit-${process.pid}-${Date.now()}`;


/** Fails at once when the server process has already exited (e.g. its port was taken meanwhile). */
function expectRunning(child: ChildProcess | undefined, what: string): void {
  if (child && (child.exitCode !== null || child.signalCode !== null)) {
    throw new Error(`${what} exited (code ${child.exitCode}, signal ${child.signalCode}) before it accepted connections`);
  }
}

// Bounded waits for the throwaway servers: generous, since a busy machine can take many seconds to
// start them; each wait ends as soon as the server answers (or its process is gone).
async function waitUntilAcceptingConnections(port: number, child: ChildProcess | undefined, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    expectRunning(child, 'postgres');
    try {
      execFileSync(join(PG_BIN, 'pg_isready'), ['-h', '127.0.0.1', '-p', String(port), '-q'], { stdio: 'ignore' });
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  throw new Error(`the throwaway PostgreSQL on port ${port} did not accept connections within ${timeoutMs} ms`);
}

async function waitForPort(port: number, what: string, child: ChildProcess | undefined, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    expectRunning(child, what);
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what} did not listen on ${port} within ${timeoutMs} ms`);
}

function stop(child: ChildProcess | undefined, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
    }, 5000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill(signal);
  });
}


// Fake listeners shared by both stores.
const sockets = new Set<net.Socket>();
let silent: net.Server;
let silentPort: number;

beforeAll(async () => {
  silent = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  });
  silentPort = await listen(silent);
});

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await closeServer(silent);
});

describe('describeStoreUrl', () => {
  it('shows host:port/db without credentials', () => {
    expect(describeStoreUrl('postgres://reader:s3cret@db.internal:6543/app?sslmode=require')).toBe('db.internal:6543/app');
    expect(describeStoreUrl('postgresql://u:p@db/app')).toBe('db:5432/app');
    expect(describeStoreUrl('redis://:pw@cache.internal:6380/2')).toBe('cache.internal:6380/2');
    expect(describeStoreUrl('rediss://default:pw@cache')).toBe('cache:6379/0');
    expect(describeStoreUrl('not a url with password')).toBe('[unparseable store URL]');
  });
});

describe('Redis key guard', () => {
  it('allows only keys under e2e:<runId>:', () => {
    expect(runKeyPrefix('run-1')).toBe('e2e:run-1:');
    expect(() => assertRunKey('e2e:run-1:probe:0', 'run-1')).not.toThrow();
    for (const key of ['e2e:run-2:probe:0', 'session:abc', 'e2e:run-1', 'e2e:run-1:', 'x:e2e:run-1:y']) {
      expect(() => assertRunKey(key, 'run-1')).toThrow(/only keys under e2e:run-1:/);
    }
  });

  it('rejects run ids that could widen the prefix or the SCAN pattern, as harness errors', () => {
    for (const bad of ['', '*', 'a*', 'a:b', 'a?', 'a[b]', 'a b']) {
      let error: unknown;
      try {
        runKeyPrefix(bad);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(Error);
      expect(error).not.toBeInstanceOf(CheckError);
    }
  });

  it('guardedSet refuses foreign keys and missing or long TTLs before sending anything', async () => {
    const calls: unknown[][] = [];
    const fake = { set: async (...args: unknown[]) => calls.push(args) } as unknown as Redis;
    await expect(guardedSet(fake, 'user:1', 'v', 'run-1')).rejects.toThrow(/refusing/);
    await expect(guardedSet(fake, 'e2e:run-1:k', 'v', 'run-1', 0)).rejects.toThrow(/TTL/);
    await expect(guardedSet(fake, 'e2e:run-1:k', 'v', 'run-1', 86_400)).rejects.toThrow(/TTL/);
    expect(calls).toEqual([]);
    await guardedSet(fake, 'e2e:run-1:k', 'v', 'run-1');
    expect(calls).toEqual([['e2e:run-1:k', 'v', 'EX', 60]]);
  });
});

describe('probeRedis', () => {
  let redisServer: ChildProcess | undefined;
  let redisDir: string | undefined;
  let redisPort: number;
  let admin: Redis;
  const password = 'unit-redis-pw';
  let url: string;

  beforeAll(async () => {
    if (!existsSync(REDIS_BIN)) throw new Error(`${REDIS_BIN} is required for the Redis probe tests`);
    redisPort = await freePort();
    redisDir = mkdtempSync(join(tmpdir(), 'stagecheck-redis-'));
    redisServer = spawn(
      REDIS_BIN,
      ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--requirepass', password, '--dir', redisDir],
      { stdio: 'ignore' },
    );
    await waitForPort(redisPort, 'redis-server', redisServer);
    url = `redis://:${password}@127.0.0.1:${redisPort}/0`;
    admin = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await admin.connect();
  }, 60_000);

  afterAll(async () => {
    admin?.disconnect();
    await stop(redisServer);
    if (redisDir) rmSync(redisDir, { recursive: true, force: true });
  });

  it('takes 10 PING/SET/GET samples and leaves only TTL keys under the run prefix', async () => {
    const result = await probeRedis(url, { samples: 10, runId });
    expect(result.total).toBe(10);
    expect(result.successCount).toBe(10);
    expect(result.rate.text).toBe('10/10 = 100.0%');
    expect(result.endpoint).toBe(`127.0.0.1:${redisPort}/0`);
    expect(result.connectMs).toBeGreaterThan(0);
    expect(result.samples.every((s) => s.ok && s.attempted && s.ms > 0 && (s.pingMs ?? 0) > 0)).toBe(true);
    expect(() => assertStoreProbe(result)).not.toThrow();
    const keys = (await admin.keys('*')).sort();
    expect(keys).toEqual(Array.from({ length: 10 }, (_, i) => `e2e:${runId}:probe:${i}`).sort());
    const ttl = await admin.ttl(`e2e:${runId}:probe:0`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60);
  });

  it('cleanupRedisRunKeys deletes this run’s keys and nothing else', async () => {
    await admin.set(`e2e:${runId}:extra`, '1', 'EX', 60);
    await admin.set(`e2e:${runId}-other:keep`, '1', 'EX', 60);
    await admin.set('app:session:1', '1', 'EX', 60);
    const { deleted } = await cleanupRedisRunKeys(url, runId);
    expect(deleted).toBe(11);
    expect((await admin.keys('*')).sort()).toEqual(['app:session:1', `e2e:${runId}-other:keep`]);
    await admin.del('app:session:1', `e2e:${runId}-other:keep`);
  });

  it('reports a missing password as protocol NOAUTH on every sample', async () => {
    const result = await probeRedis(`redis://127.0.0.1:${redisPort}/0`, { samples: 3, runId });
    expect(result.successCount).toBe(0);
    expect(result.samples.map((s) => s.error?.details.code)).toEqual(['NOAUTH', 'NOAUTH', 'NOAUTH']);
    expect(result.samples[0]?.error?.details).toMatchObject({ component: 'redis', layer: 'protocol' });
    expect(() => assertStoreProbe(result)).toThrow(expect.objectContaining({ details: expect.objectContaining({ code: 'NOAUTH', evidence: expect.objectContaining({ rate: '0/3 = 0.0%' }) }) }));
  });

  it('throws protocol WRONGPASS for a wrong password, without leaking it', async () => {
    const error = await checkErrorOf(probeRedis(`redis://:not-the-password@127.0.0.1:${redisPort}/0`, { samples: 3, runId }));
    expect(error.details).toMatchObject({ component: 'redis', layer: 'protocol', code: 'WRONGPASS' });
    expect(JSON.stringify(error.details) + error.message).not.toContain('not-the-password');
  });

  it('records a command timeout as budget COMMAND_TIMEOUT and fails the rest fast', async () => {
    // Writes paused (until UNPAUSE below): AUTH and PING answer, the SET of the first sample does not.
    await admin.call('CLIENT', 'PAUSE', '60000', 'WRITE');
    try {
      // 2 s per command: AUTH and PING answer well within it on a busy machine, and one timeout
      // per sample would take 20 s, so the bound below tells "the rest failed fast" apart.
      const started = performance.now();
      const result = await probeRedis(url, { samples: 10, timeoutMs: 2_000, runId: `${runId}-paused` });
      const elapsed = performance.now() - started;
      expect(result.successCount).toBe(0);
      expect(result.samples[0]?.error?.details).toMatchObject({ component: 'redis', layer: 'budget', code: 'COMMAND_TIMEOUT' });
      expect(result.samples[0]?.attempted).toBe(true);
      expect(result.samples[0]?.pingMs).toBeGreaterThan(0);
      expect(String(result.samples[0]?.error?.details.evidence?.what)).toMatch(/^SET e2e:/);
      expect(result.samples.slice(1).every((s) => !s.attempted && s.error?.details.code === 'COMMAND_TIMEOUT')).toBe(true);
      expect(elapsed, 'one timeout, not one per sample (20 s)').toBeLessThan(10_000);
    } finally {
      await admin.call('CLIENT', 'UNPAUSE');
    }
  });

  it('throws tcp ECONNREFUSED for a refusing port', async () => {
    const refusedPort = await freePort();
    const error = await checkErrorOf(probeRedis(`redis://127.0.0.1:${refusedPort}`, { samples: 10, runId }));
    expect(error.details).toMatchObject({ component: 'redis', layer: 'tcp', code: 'ECONNREFUSED' });
    expect(error.details.endpoint).toBe(`127.0.0.1:${refusedPort}/0`);
  });

  it('reports a silent Redis within one timeout (default 2 s), not one per sample', async () => {
    const started = performance.now();
    const result = await probeRedis(`redis://127.0.0.1:${silentPort}`, { samples: 10, runId });
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(1900);
    expect(elapsed, 'one timeout, not one per sample (20 s)').toBeLessThan(10_000);
    expect(result.total).toBe(10);
    expect(result.samples).toHaveLength(10);
    expect(result.successCount).toBe(0);
    expect(result.samples[0]?.error?.details).toMatchObject({ layer: 'budget', code: 'COMMAND_TIMEOUT' });
    expect(result.samples.filter((s) => s.attempted)).toHaveLength(1);
  });

  it('reports a silent Redis that needs AUTH at connect, within the budget', async () => {
    const started = performance.now();
    const error = await checkErrorOf(probeRedis(`redis://:pw@127.0.0.1:${silentPort}`, { samples: 10, timeoutMs: 500, runId }));
    // The connect budget is 2 × 500 + 500 ms; the bound only rules out waiting on the silent server.
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(error.details).toMatchObject({ component: 'redis', layer: 'budget', code: 'COMMAND_TIMEOUT' });
  });
});

describe('probePostgres against fake listeners', () => {
  it('throws tcp ECONNREFUSED for a refusing port', async () => {
    const refusedPort = await freePort();
    const error = await checkErrorOf(probePostgres(`postgres://u:p@127.0.0.1:${refusedPort}/db`, { runId, connectTimeoutMs: 1000 }));
    expect(error.details).toMatchObject({ component: 'postgres', layer: 'tcp', code: 'ECONNREFUSED' });
    expect(error.details.endpoint).toBe(`127.0.0.1:${refusedPort}/db`);
  });

  it('throws tcp CONNECT_TIMEOUT within the connect timeout for a listener that never answers', async () => {
    // The query timeout is 30 s, so only the 1 s connect timeout can end it within the bound
    // (the code tells it apart too: the connect-plus-query backstop would say QUERY_TIMEOUT).
    const started = performance.now();
    const error = await checkErrorOf(probePostgres(`postgres://u:p@127.0.0.1:${silentPort}/db`, { runId, connectTimeoutMs: 1000, queryTimeoutMs: 30_000 }));
    const elapsed = performance.now() - started;
    expect(error.details).toMatchObject({ component: 'postgres', layer: 'tcp', code: 'CONNECT_TIMEOUT' });
    expect(elapsed).toBeGreaterThanOrEqual(950);
    expect(elapsed).toBeLessThan(10_000);
  });

  it('throws dns for a name under .invalid', async () => {
    const error = await checkErrorOf(probePostgres('postgres://u:p@nohost.invalid:5432/db', { runId, connectTimeoutMs: 2000 }));
    expect(error.details.layer).toBe('dns');
    expect(['ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME', 'EAI_FAIL']).toContain(error.details.code);
  });
});

describe('probePostgres against a throwaway PostgreSQL', () => {
  let dir: string;
  let pg: ChildProcess | undefined;
  let pgPort: number;
  const password = 'unit-pg-pw';
  let url: string;
  // A proxy that forwards to the throwaway server until the client sends `select 1`, then stalls.
  let stall: net.Server;
  let stallPort: number;

  beforeAll(async () => {
    for (const bin of ['initdb', 'postgres']) {
      if (!existsSync(join(PG_BIN, bin))) throw new Error(`${PG_BIN}/${bin} is required for the PostgreSQL probe tests`);
    }
    dir = mkdtempSync(join(tmpdir(), 'stagecheck-pg-'));
    writeFileSync(join(dir, 'pw'), `${password}\n`);
    let ids: { uid: number; gid: number } | undefined;
    if (process.getuid?.() === 0) {
      // initdb refuses to run as root: run the cluster as the postgres user.
      ids = {
        uid: Number(execFileSync('id', ['-u', 'postgres']).toString().trim()),
        gid: Number(execFileSync('id', ['-g', 'postgres']).toString().trim()),
      };
      chownSync(dir, ids.uid, ids.gid);
      chownSync(join(dir, 'pw'), ids.uid, ids.gid);
    }
    execFileSync(
      join(PG_BIN, 'initdb'),
      ['-D', join(dir, 'data'), '-U', 'postgres', '--auth=scram-sha-256', `--pwfile=${join(dir, 'pw')}`, '-N', '-E', 'UTF8', '--no-locale'],
      { stdio: 'ignore', ...(ids ?? {}) },
    );
    pgPort = await freePort();
    pg = spawn(
      join(PG_BIN, 'postgres'),
      ['-D', join(dir, 'data'), '-p', String(pgPort), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off'],
      { stdio: 'ignore', ...(ids ?? {}) },
    );
    await waitForPort(pgPort, 'postgres', pg);
    // The port opens before recovery ends; until then connections get 57P03 "starting up".
    await waitUntilAcceptingConnections(pgPort, pg);
    url = `postgres://postgres:${password}@127.0.0.1:${pgPort}/postgres`;

    stall = net.createServer((client) => {
      sockets.add(client);
      client.on('close', () => sockets.delete(client));
      const upstream = net.connect({ host: '127.0.0.1', port: pgPort });
      sockets.add(upstream);
      upstream.on('close', () => sockets.delete(upstream));
      let stalled = false;
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
      client.on('data', (chunk: Buffer) => {
        if (chunk.includes('select 1')) stalled = true;
        if (!stalled) upstream.write(chunk);
      });
      upstream.on('data', (chunk: Buffer) => {
        if (!stalled) client.write(chunk);
      });
      client.on('close', () => upstream.destroy());
    });
    stallPort = await listen(stall);
  }, 120_000);

  afterAll(async () => {
    if (stall) await closeServer(stall);
    await stop(pg, 'SIGINT'); // fast shutdown
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('times 10 select 1 round trips and reads the server version', async () => {
    const result = await probePostgres(url, { samples: 10, runId });
    expect(result.failures).toEqual([]);
    expect(result.samples).toHaveLength(10);
    expect(result.samples.every((ms) => ms > 0 && ms < 3000)).toBe(true);
    expect(result.successCount).toBe(10);
    expect(result.rate.text).toBe('10/10 = 100.0%');
    expect(result.serverVersion).toMatch(/^15\./);
    expect(result.connectMs).toBeGreaterThan(0);
    expect(result.endpoint).toBe(`127.0.0.1:${pgPort}/postgres`);
    expect(() => assertStoreProbe(result)).not.toThrow();
  });

  it('throws protocol 28P01 for a wrong password, without leaking it', async () => {
    const error = await checkErrorOf(probePostgres(`postgres://postgres:wrong-pw-123@127.0.0.1:${pgPort}/postgres`, { runId }));
    expect(error.details).toMatchObject({ component: 'postgres', layer: 'protocol', code: '28P01' });
    expect(error.details.evidence?.sqlState).toBe('28P01');
    expect(JSON.stringify(error.details) + error.message).not.toContain('wrong-pw-123');
  });

  it('throws protocol 3D000 for a database that does not exist', async () => {
    const error = await checkErrorOf(probePostgres(`postgres://postgres:${password}@127.0.0.1:${pgPort}/no_such_db`, { runId }));
    expect(error.details).toMatchObject({ layer: 'protocol', code: '3D000' });
  });

  it('records a query with no answer as budget QUERY_TIMEOUT and fails the rest fast', async () => {
    // 40 samples of 500 ms: one timeout per sample would take 20 s, far above the bound below.
    // The connect timeout is wide: only the stalled `select 1` may time out.
    const started = performance.now();
    const result = await probePostgres(`postgres://postgres:${password}@127.0.0.1:${stallPort}/postgres`, {
      samples: 40,
      queryTimeoutMs: 500,
      connectTimeoutMs: 20_000,
      runId,
    });
    const elapsed = performance.now() - started;
    expect(result.serverVersion).toMatch(/^15\./);
    expect(result.samples).toEqual([]);
    expect(result.failures).toHaveLength(40);
    expect(result.failures[0]).toMatchObject({ index: 0, attempted: true });
    expect(result.failures[0]?.error.details).toMatchObject({ component: 'postgres', layer: 'budget', code: 'QUERY_TIMEOUT' });
    expect(result.failures.slice(1).every((f) => !f.attempted && f.error.details.code === 'QUERY_TIMEOUT')).toBe(true);
    expect(result.rate.text).toBe('0/40 = 0.0%');
    expect(elapsed, 'one timeout, not one per sample (20 s)').toBeLessThan(10_000);
  });
});
