/**
 * The floor: phase 1's probes without Vitest, as directly and as concurrently as they can be
 * done with plain `fetch`, `ws`, `postgres` and `ioredis`. Same requests, same agent run
 * (golden prompt "What is 17 * 3?"), same sample counts (10 PostgreSQL `select 1`, 10 Redis
 * PING+SET+GET), same WebSocket handshakes (subprotocol, header, ticket, none, tampered token,
 * plus the ping/pong and agent-run sessions), the same checks on status codes and bodies, and
 * the same clean-up (threads deleted, sockets closed). What it leaves out is everything the
 * suite adds around the probes: Vitest, fixtures, budgets, evidence, reports.
 *
 * One test-auth identity for everything; every probe that does not need a token starts at
 * once, the rest as soon as the token is there. Samples within a store probe stay sequential
 * (they are latency samples on one connection, as in the suite).
 *
 *   STAGING_BASE_URL=... STAGING_AUTH_URL=... STAGING_WS_URL=... E2E_BYPASS_KEY=... \
 *   STAGING_DATABASE_URL=... STAGING_REDIS_URL=... npx tsx bench/floor.ts
 *
 * prints one JSON line ({@link FloorResult}) and exits 0 when every check passed, 1 otherwise.
 */
import dns from 'node:dns/promises';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import postgres from 'postgres';
import { Redis } from 'ioredis';
import WebSocket from 'ws';

export interface FloorTarget {
  baseUrl: string;
  authUrl: string;
  wsUrl: string;
  databaseUrl?: string;
  redisUrl?: string;
  bypassKey: string;
  runId: string;
}

export interface ProbeTiming {
  name: string;
  /** ms after the first request. */
  startMs: number;
  ms: number;
  ok: boolean;
  error?: string;
}

export interface FloorResult {
  ok: boolean;
  /** Process start to the first request: Node, the tsx loader, imports (ms). */
  startupMs: number;
  /** First request to the last check's verdict (ms). */
  probesMs: number;
  /** Threads deleted, sockets closed, after the verdict (ms). */
  cleanupMs: number;
  /** Process start to done (ms); the parent's wall time adds process spawn and exit. */
  totalMs: number;
  /** start_agent sent → agent_completed received (ms). */
  agentRunMs?: number;
  probes: ProbeTiming[];
  failures: string[];
}

const GOLDEN = { prompt: 'What is 17 * 3?', expect: /\b51\b/ };
const FIVE_EVENTS = ['agent_started', 'agent_thinking', 'tool_executing', 'tool_completed', 'agent_completed'];
const UNHEALTHY = /degraded|unhealthy|down|error|disconnected|fail/i;
const SAMPLES = 10;
const TIMEOUT_MS = 35_000;

class Failed extends Error {}

function ensure(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Failed(message);
}

type Json = Record<string, unknown>;

async function http(method: string, url: string, options: { token?: string; headers?: Record<string, string>; body?: unknown } = {}): Promise<{ status: number; json: Json }> {
  const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] = 'application/json';
  }
  const response = await fetch(url, { method, headers, body, signal: AbortSignal.timeout(TIMEOUT_MS) });
  const text = await response.text();
  let json: Json = {};
  try {
    json = text ? (JSON.parse(text) as Json) : {};
  } catch {
    // not JSON: checks on fields fail below
  }
  return { status: response.status, json };
}

function decodeClaims(token: string): Json {
  const part = token.split('.')[1] ?? '';
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Json;
}

/** One character of the signature's middle changed (as the suite's tamperSignature). */
function tamper(token: string): string {
  const [head, payload, signature = ''] = token.split('.');
  const at = Math.floor(signature.length / 2);
  return `${head}.${payload}.${signature.slice(0, at)}${signature[at] === 'A' ? 'B' : 'A'}${signature.slice(at + 1)}`;
}

interface Session {
  ws: WebSocket;
  frames: Json[];
  onFrame?: (frame: Json) => void;
}

/** Opens a WebSocket and resolves on `connection_established` (the first frame). */
function openSession(url: string, protocols: string[], headers: Record<string, string> = {}): Promise<Session> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, { headers, perMessageDeflate: false });
    const session: Session = { ws, frames: [] };
    const timer = setTimeout(() => fail('no connection_established in time'), TIMEOUT_MS);
    function fail(message: string): void {
      clearTimeout(timer);
      ws.terminate();
      reject(new Failed(message));
    }
    ws.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as Json;
      session.frames.push(frame);
      if (session.frames.length === 1) {
        clearTimeout(timer);
        if (frame.type !== 'connection_established' || typeof frame.user_id !== 'string') return fail(`first frame ${String(frame.type)}`);
        resolve(session);
      }
      session.onFrame?.(frame);
    });
    ws.on('unexpected-response', (_request, response) => fail(`HTTP ${response.statusCode} instead of 101`));
    ws.on('close', (code) => fail(`closed ${code} before connection_established`));
    ws.on('error', (error) => fail(error.message));
  });
}

/** A handshake that must be refused: HTTP 401/403, or 101 then close 1008. */
function expectRefused(url: string, protocols: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, { perMessageDeflate: false });
    const timer = setTimeout(() => done(new Failed('no refusal in time')), TIMEOUT_MS);
    function done(error?: Error): void {
      clearTimeout(timer);
      ws.removeAllListeners('close');
      ws.terminate();
      if (error) reject(error);
      else resolve();
    }
    ws.on('unexpected-response', (_request, response) =>
      done(response.statusCode === 401 || response.statusCode === 403 ? undefined : new Failed(`HTTP ${response.statusCode}`)),
    );
    ws.on('message', (data) => {
      if (JSON.parse(data.toString()).type === 'connection_established') done(new Failed('accepted'));
    });
    ws.on('close', (code) => done(code === 1008 ? undefined : new Failed(`closed ${code}`)));
    ws.on('error', () => undefined);
  });
}

function waitFrame(session: Session, match: (frame: Json) => boolean, what: string): Promise<Json> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Failed(`no ${what} in time`)), TIMEOUT_MS);
    session.onFrame = (frame) => {
      if (!match(frame)) return;
      clearTimeout(timer);
      session.onFrame = undefined;
      resolve(frame);
    };
    session.ws.once('close', (code) => reject(new Failed(`closed ${code} while waiting for ${what}`)));
  });
}

function closeSession(session: Session): Promise<void> {
  return new Promise((resolve) => {
    if (session.ws.readyState === WebSocket.CLOSED) return resolve();
    const timer = setTimeout(() => {
      session.ws.terminate();
      resolve();
    }, 2_000);
    session.ws.removeAllListeners('close');
    session.ws.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    session.ws.close(1000, 'floor: done');
  });
}

/** TCP connect, then `GET <path>` on that connection: the suite's network-path walk, plain. */
async function networkPath(url: string, path: string): Promise<void> {
  const parsed = new URL(url);
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  const address = net.isIP(host) ? host : (await dns.lookup(host)).address;
  const port = Number(parsed.port || 80);
  const status = await new Promise<number>((resolve, reject) => {
    const socket = net.connect({ host: address, port });
    let head = '';
    socket.setTimeout(TIMEOUT_MS, () => socket.destroy(new Error('timeout')));
    socket.on('connect', () => socket.write(`GET ${path} HTTP/1.1\r\nHost: ${parsed.host}\r\nConnection: close\r\n\r\n`));
    socket.on('data', (chunk: Buffer) => {
      head += chunk.toString('latin1');
      const match = /^HTTP\/1\.[01] (\d{3})/.exec(head);
      if (match) {
        socket.destroy();
        resolve(Number(match[1]));
      }
    });
    socket.on('error', reject);
  });
  ensure(status === 200, `GET ${path}: HTTP ${status}`);
}

async function probePostgres(url: string, runId: string): Promise<void> {
  const sql = postgres(url, {
    max: 1,
    connect_timeout: 3,
    prepare: false,
    fetch_types: false,
    onnotice: () => undefined,
    connection: { application_name: `stagecheck-floor-${runId}` },
  });
  try {
    await sql`select current_setting('server_version') as server_version`;
    for (let i = 0; i < SAMPLES; i++) {
      const rows = await sql`select 1 as one`;
      ensure(rows[0]?.one === 1, 'select 1 did not answer 1');
    }
  } finally {
    await sql.end({ timeout: 1 });
  }
}

async function probeRedis(url: string, runId: string): Promise<void> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 2_000,
    commandTimeout: 2_000,
    maxRetriesPerRequest: 0,
    enableReadyCheck: false,
    disableClientInfo: true,
    protocol: 2,
    retryStrategy: () => null,
  });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    for (let i = 0; i < SAMPLES; i++) {
      ensure((await redis.ping()) === 'PONG', 'PING did not answer PONG');
      const key = `e2e:${runId}:floor:${i}`;
      const value = `${runId}:${i}:${Date.now()}`;
      await redis.set(key, value, 'EX', 60);
      ensure((await redis.get(key)) === value, `GET ${key} did not read back the value`);
    }
  } finally {
    redis.disconnect();
  }
}

export async function runFloor(target: FloorTarget): Promise<FloorResult> {
  const startupMs = performance.now();
  const t0 = performance.now();
  const probes: ProbeTiming[] = [];
  const failures: string[] = [];
  const sessions: Session[] = [];
  const threads = new Set<string>();
  let agentRunMs: number | undefined;

  const check = async (name: string, fn: () => Promise<void>): Promise<void> => {
    const started = performance.now();
    try {
      await fn();
      probes.push({ name, startMs: started - t0, ms: performance.now() - started, ok: true });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      probes.push({ name, startMs: started - t0, ms: performance.now() - started, ok: false, error: message });
      failures.push(`${name}: ${message}`);
    }
  };
  const session = async (protocols: string[], headers?: Record<string, string>, url = target.wsUrl): Promise<Session> => {
    const opened = await openSession(url, protocols, headers);
    sessions.push(opened);
    return opened;
  };

  const email = `${target.runId}-floor@stagecheck.test`.toLowerCase();
  const identity = http('POST', `${target.authUrl}/auth/e2e/test-auth`, {
    headers: { 'X-E2E-Bypass-Key': target.bypassKey },
    body: { email, name: 'stagecheck floor' },
  }).then(({ status, json }) => {
    ensure(status === 200, `test-auth HTTP ${status}`);
    const user = json.user as { id?: string } | undefined;
    ensure(typeof json.access_token === 'string' && typeof user?.id === 'string', 'test-auth: no access_token or user.id');
    return { token: json.access_token, refreshToken: json.refresh_token, userId: user.id };
  });
  identity.catch(() => undefined);

  const withToken = async (fn: (id: Awaited<typeof identity>) => Promise<void>): Promise<void> => fn(await identity);

  const all: Promise<void>[] = [
    // Health bodies
    check('GET /health', async () => {
      const { status, json } = await http('GET', `${target.baseUrl}/health`);
      ensure(status === 200 && ['healthy', 'ok'].includes(String(json.status)), `HTTP ${status} ${String(json.status)}`);
      ensure(typeof json.service === 'string' && typeof json.version === 'string' && !Number.isNaN(Date.parse(String(json.timestamp))), 'fields');
    }),
    check('GET /health/ready', async () => {
      const { status, json } = await http('GET', `${target.baseUrl}/health/ready`);
      ensure(status === 200 && json.status === 'ready', `HTTP ${status} ${String(json.status)}`);
      ensure(!UNHEALTHY.test(String(json.redis_db)) && !UNHEALTHY.test(String(json.core_db)), 'a database is not connected');
    }),
    check('GET /api/health', async () => {
      const { status, json } = await http('GET', `${target.baseUrl}/api/health`);
      const checks = json.checks as Record<string, { connected?: boolean; response_time_ms?: unknown }> | undefined;
      for (const store of ['postgres', 'redis']) {
        ensure(checks?.[store]?.connected === true && typeof checks[store]?.response_time_ms === 'number', `${store} not connected`);
      }
      ensure(status === 200 && json.status === 'healthy' && typeof json.uptime_seconds === 'number', `HTTP ${status} ${String(json.status)}`);
    }),
    check('GET /ws/health', async () => {
      const { status, json } = await http('GET', `${target.baseUrl}/ws/health`);
      ensure(status === 200 && json.status === 'healthy', `HTTP ${status} ${String(json.status)}`);
    }),
    check('auth GET /health', async () => {
      const { status, json } = await http('GET', `${target.authUrl}/health`);
      ensure(status === 200 && json.status === 'healthy' && json.database_status === 'connected', `HTTP ${status}`);
    }),
    // Auth
    check('test-auth token claims', () =>
      withToken(async ({ token, refreshToken, userId }) => {
        const claims = decodeClaims(token);
        ensure(claims.iss === 'netra-auth-service' && claims.aud === 'netra-platform' && claims.token_type === 'access', 'iss/aud/token_type');
        ensure(typeof claims.jti === 'string' && claims.sub === userId && claims.email === email && Array.isArray(claims.permissions), 'jti/sub/email/permissions');
        ensure(Number(claims.exp) * 1000 > Date.now() && typeof refreshToken === 'string', 'exp/refresh_token');
      }),
    ),
    check('test-auth wrong key 401', async () => {
      const { status } = await http('POST', `${target.authUrl}/auth/e2e/test-auth`, {
        headers: { 'X-E2E-Bypass-Key': `wrong-${target.runId}` },
        body: { email: `${target.runId}-intruder@stagecheck.test` },
      });
      ensure(status === 401, `HTTP ${status}`);
    }),
    check('verify valid token', () =>
      withToken(async ({ token, userId }) => {
        const { status, json } = await http('POST', `${target.authUrl}/auth/verify`, { token });
        ensure(status === 200 && json.valid === true && json.user_id === userId, `HTTP ${status} valid ${String(json.valid)}`);
      }),
    ),
    check('verify tampered token', () =>
      withToken(async ({ token }) => {
        const { status, json } = await http('POST', `${target.authUrl}/auth/verify`, { token: tamper(token) });
        ensure(status === 200 && json.valid === false, `HTTP ${status} valid ${String(json.valid)}`);
      }),
    ),
    check('POST /api/threads without token 401', async () => {
      const { status } = await http('POST', `${target.baseUrl}/api/threads`, { body: { title: `e2e-${target.runId}-anonymous` } });
      ensure(status === 401, `HTTP ${status}`);
    }),
    // Network path
    check('network path backend', () => networkPath(target.baseUrl, '/health')),
    check('network path auth', () => networkPath(target.authUrl, '/health')),
    check('network path websocket host', () => networkPath(target.wsUrl.replace(/^ws/, 'http'), '/ws/health')),
    // Stores
    check('PostgreSQL probe', async () => {
      ensure(target.databaseUrl, 'STAGING_DATABASE_URL not set');
      await probePostgres(target.databaseUrl, target.runId);
    }),
    check('Redis probe', async () => {
      ensure(target.redisUrl, 'STAGING_REDIS_URL not set');
      await probeRedis(target.redisUrl, target.runId);
    }),
    // Threads
    check('thread create + read', () =>
      withToken(async ({ token, userId }) => {
        const title = `e2e-${target.runId}-floor-crud`;
        const created = await http('POST', `${target.baseUrl}/api/threads`, { token, body: { title } });
        ensure(created.status === 201 && typeof created.json.id === 'string', `create HTTP ${created.status}`);
        threads.add(created.json.id);
        ensure(created.json.title === title && created.json.user_id === userId, 'title/owner');
        const read = await http('GET', `${target.baseUrl}/api/threads/${created.json.id}`, { token });
        ensure(read.status === 200 && read.json.id === created.json.id && read.json.title === title && typeof read.json.created_at === 'string', `read HTTP ${read.status}`);
      }),
    ),
    check('thread delete + 404', () =>
      withToken(async ({ token }) => {
        const created = await http('POST', `${target.baseUrl}/api/threads`, { token, body: { title: `e2e-${target.runId}-floor-delete` } });
        ensure(created.status === 201 && typeof created.json.id === 'string', `create HTTP ${created.status}`);
        threads.add(created.json.id);
        const deleted = await http('DELETE', `${target.baseUrl}/api/threads/${created.json.id}`, { token });
        ensure(deleted.status === 204, `delete HTTP ${deleted.status}`);
        const gone = await http('GET', `${target.baseUrl}/api/threads/${created.json.id}`, { token });
        ensure(gone.status === 404, `after delete HTTP ${gone.status}`);
      }),
    ),
    // WebSocket handshakes
    check('ws subprotocol', () =>
      withToken(async ({ token, userId }) => {
        const s = await session([`jwt.${token}`]);
        ensure(s.frames[0]?.user_id === userId && typeof s.frames[0]?.connection_id === 'string', 'connection_established fields');
      }),
    ),
    check('ws header', () =>
      withToken(async ({ token, userId }) => {
        const s = await session([], { Authorization: `Bearer ${token}` });
        ensure(s.frames[0]?.user_id === userId, 'user_id');
      }),
    ),
    check('ws ticket', () =>
      withToken(async ({ token, userId }) => {
        const ticket = await http('POST', `${target.baseUrl}/api/websocket/ticket`, { token, body: {} });
        ensure(ticket.status === 201 && typeof ticket.json.ticket_id === 'string', `ticket HTTP ${ticket.status}`);
        const url = new URL(target.wsUrl);
        url.searchParams.set('ticket', ticket.json.ticket_id);
        const s = await session([], {}, url.toString());
        ensure(s.frames[0]?.user_id === userId, 'user_id');
      }),
    ),
    check('ws no credentials refused', () => expectRefused(target.wsUrl, [])),
    check('ws tampered token refused', () => withToken(async ({ token }) => expectRefused(target.wsUrl, [`jwt.${tamper(token)}`]))),
    check('ws ping/pong', () =>
      withToken(async ({ token }) => {
        const s = await session([`jwt.${token}`]);
        const pong = waitFrame(s, (f) => f.type === 'pong', 'pong');
        s.ws.send(JSON.stringify({ type: 'ping' }));
        await pong;
      }),
    ),
    // Agent run
    check('agent run', () =>
      withToken(async ({ token }) => {
        const s = await session([`jwt.${token}`]);
        let runId: string | undefined;
        const events: Json[] = [];
        const terminal = waitFrame(
          s,
          (f) => {
            if (f.type === 'agent_started' && runId === undefined) runId = String(f.run_id);
            if (runId === undefined || f.run_id !== runId) return f.type === 'agent_error' || f.type === 'error';
            events.push(f);
            return f.type === 'agent_completed' || f.type === 'agent_error';
          },
          'the run’s terminal event',
        );
        const sent = performance.now();
        s.ws.send(JSON.stringify({ type: 'start_agent', payload: { user_request: GOLDEN.prompt } }));
        const last = await terminal;
        agentRunMs = performance.now() - sent;
        ensure(last.type === 'agent_completed', `terminal ${String(last.type)} ${String(last.error_code ?? '')}`);
        const threadId = String(events[0]?.thread_id);
        threads.add(threadId);
        const firstSeen = FIVE_EVENTS.map((type) => events.findIndex((e) => e.type === type));
        ensure(firstSeen.every((at, i) => at >= 0 && (i === 0 || at > firstSeen[i - 1]!)), `events out of order: ${events.map((e) => e.type).join(',')}`);
        ensure(GOLDEN.expect.test(String(last.final_response)), `wrong answer "${String(last.final_response)}"`);
        const messages = await http('GET', `${target.baseUrl}/api/threads/${threadId}/messages`, { token });
        ensure(messages.status === 200, `messages HTTP ${messages.status}`);
        const list = messages.json as unknown as { role: string; content: string }[];
        const user = list.findIndex((m) => m.role === 'user' && m.content === GOLDEN.prompt);
        const assistant = list.findIndex((m) => m.role === 'assistant' && m.content === last.final_response);
        ensure(user >= 0 && assistant > user, 'messages not persisted in order');
      }),
    ),
  ];
  await Promise.all(all);
  const verdictAt = performance.now();

  // Clean-up, as the suite's fixtures do it: delete created threads, close sessions.
  const token = await identity.then((id) => id.token).catch(() => undefined);
  await Promise.all([
    ...[...threads].map(async (id) => {
      if (!token) return;
      const { status } = await http('DELETE', `${target.baseUrl}/api/threads/${encodeURIComponent(id)}`, { token });
      if (status !== 204 && status !== 404) failures.push(`cleanup: DELETE thread ${id} HTTP ${status}`);
    }),
    ...sessions.map(closeSession),
  ]);
  const end = performance.now();
  return {
    ok: failures.length === 0 && probes.length === 24,
    startupMs,
    probesMs: verdictAt - t0,
    cleanupMs: end - verdictAt,
    totalMs: end,
    ...(agentRunMs !== undefined ? { agentRunMs } : {}),
    probes: probes.sort((a, b) => a.startMs - b.startMs),
    failures,
  };
}

export function targetFromEnv(env: NodeJS.ProcessEnv): FloorTarget {
  const need = (name: string): string => {
    const value = env[name];
    if (!value) throw new Error(`${name} is not set`);
    return value.replace(/\/$/, '');
  };
  return {
    baseUrl: need('STAGING_BASE_URL'),
    authUrl: need('STAGING_AUTH_URL'),
    wsUrl: need('STAGING_WS_URL'),
    databaseUrl: env.STAGING_DATABASE_URL || undefined,
    redisUrl: env.STAGING_REDIS_URL || undefined,
    bypassKey: need('E2E_BYPASS_KEY'),
    runId: env.STAGECHECK_RUN_ID || `floor-${randomBytes(3).toString('hex')}`,
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  runFloor(targetFromEnv(process.env)).then(
    (result) => {
      process.stdout.write(`${JSON.stringify(result)}\n`);
      process.exit(result.ok ? 0 : 1);
    },
    (error: unknown) => {
      process.stdout.write(`${JSON.stringify({ ok: false, failures: [(error as Error).message] })}\n`);
      process.exit(2);
    },
  );
}
