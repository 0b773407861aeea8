/**
 * The fault catalog, and the backend, health, auth and WebSocket faults: each switched on and
 * off at run time through /__platform/faults and observed over real sockets. Agent faults are in
 * faults-agent.test.ts. One more platform is started through the CLI with PLATFORM_FAULTS.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { faultCatalog, startPlatform, type RunningPlatform } from '../index.ts';
import {
  admin,
  connectWs,
  faultOff,
  faultOn,
  login,
  mintToken,
  openSession,
  readyAgain,
  request,
  runAgent,
  startTestPlatform,
  testAuth,
  type Handshake,
  type Tokens,
  type WsClient,
} from './support.ts';

let platform: RunningPlatform;
let tokens: Tokens;
const clients: WsClient[] = [];

beforeAll(async () => {
  // Heartbeat after 0.25 s of silence so no_heartbeat is observable in well under a second.
  platform = await startTestPlatform({ wsHeartbeatS: 0.25 });
  tokens = await login(platform);
});
afterAll(async () => {
  for (const client of clients) client.close();
  await platform?.stop();
});
afterEach(async () => {
  await platform.clearFaults();
  // The next test starts with both stores answering, whatever this one switched off.
  await readyAgain(platform);
});

const ALL_FAULTS = [
  'pg_down', 'pg_slow', 'redis_refused', 'redis_silent', 'backend_503', 'health_lies', 'ws_reject_503', 'ws_close_1011',
  'ws_accept_invalid_tokens', 'revocation_ignored', 'bypass_key_ignored', 'auth_input_unchecked', 'agent_stall', 'agent_canned', 'agent_out_of_order', 'agent_tool_unmatched',
  'agent_double_terminal', 'answer_not_persisted', 'thread_leak', 'agent_slow', 'no_heartbeat', 'no_pong', 'frame_garbage', 'http_slow',
  // TLS profile only (platform/test/staging-profile.test.ts).
  'tls_expired', 'tls_wrong_name', 'tls_untrusted', 'tls_expiring',
];

function track(handshake: Handshake): Handshake {
  if (handshake.kind === 'open') clients.push(handshake.client);
  return handshake;
}

const bearer = (token: string): { headers: Record<string, string> } => ({ headers: { authorization: `Bearer ${token}` } });

/** 101 then connection_established, or the way it failed: `http <status>` or `close <code>`. */
async function handshakeOutcome(token: string): Promise<string> {
  const handshake = track(await connectWs(platform.urls.ws, bearer(token)));
  if (handshake.kind === 'http') return `http ${handshake.status}`;
  const outcome = await Promise.race([
    handshake.client.waitForType('connection_established', 10_000).then((frame) => `established ${String(frame.user_id)}`),
    handshake.client.closed.then((closed) => `close ${closed.code}`),
  ]);
  handshake.client.close();
  return outcome;
}

function tcpConnects(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('GET /__platform/faults', () => {
  it('lists every fault with its component, description and parameter schema', async () => {
    const { status, body } = await admin(platform, 'GET', '/faults');
    expect(status).toBe(200);
    const catalog = body.catalog as Array<{ name: string; component: string; description: string; params: Record<string, any> }>;
    expect(catalog.map((fault) => fault.name).sort()).toEqual([...ALL_FAULTS].sort());
    for (const fault of catalog) {
      expect(['backend', 'auth', 'websocket', 'agent', 'postgres', 'redis', 'network'], fault.name).toContain(fault.component);
      expect(fault.description.length, fault.name).toBeGreaterThan(20);
      expect(fault.params.type, fault.name).toBe('object');
    }
    const byName = new Map(catalog.map((fault) => [fault.name, fault]));
    expect(byName.get('ws_reject_503')?.params.properties.rate).toMatchObject({ default: 1, minimum: 0, maximum: 1 });
    expect(byName.get('agent_stall')?.params.properties.after).toMatchObject({ default: 'tool_executing', enum: expect.arrayContaining(['agent_started', 'tool_completed']) });
    expect(byName.get('frame_garbage')?.params.properties.kind.enum).toEqual(['non_json', 'binary', 'huge', 'no_type', 'foreign_run_id']);
    expect(byName.get('agent_slow')?.params.properties.ms).toBeDefined();
    expect(Object.fromEntries(catalog.map((fault) => [fault.name, fault.component]))).toMatchObject({
      backend_503: 'backend', health_lies: 'postgres', ws_reject_503: 'websocket', ws_close_1011: 'websocket', ws_accept_invalid_tokens: 'websocket',
      revocation_ignored: 'auth', agent_stall: 'agent', answer_not_persisted: 'agent', thread_leak: 'backend', no_heartbeat: 'websocket', no_pong: 'websocket',
    });
  });

  it('rejects bad parameters with 422 and leaves nothing active', async () => {
    for (const [name, params] of [
      ['ws_reject_503', { rate: 1.5 }],
      ['agent_stall', { after: 'agent_completed' }],
      ['frame_garbage', { kind: 'poetry' }],
      ['agent_slow', { ms: -1 }],
      ['backend_503', { extra: true }],
    ] as const) {
      expect((await admin(platform, 'PUT', `/faults/${name}`, params)).status, name).toBe(422);
    }
    expect(platform.activeFaults()).toEqual([]);
  });

  it('refuses a TLS fault with 409 on a plain-HTTP platform, naming the staging profile', async () => {
    const response = await admin(platform, 'PUT', '/faults/tls_expiring', { days: 3 });
    expect(response.status).toBe(409);
    expect(response.body).toMatchObject({ error: 'fault_unavailable', message: expect.stringMatching(/tls_expiring.*--profile staging/) });
    expect((await admin(platform, 'PUT', '/faults/tls_expiring', { days: -1 })).status).toBe(422);
    expect(platform.activeFaults()).toEqual([]);
  });

  it('refuses to start with bad fault parameters', async () => {
    await expect(startPlatform({ faults: 'ws_reject_503:rate=2', logLevel: 'silent' })).rejects.toThrow(/ws_reject_503/);
  });

  it('the catalog in code is the one served', () => {
    expect(faultCatalog.map((fault) => fault.name).sort()).toEqual([...ALL_FAULTS].sort());
  });
});

/**
 * Sends a raw Redis PING on a fresh connection; the reply, or "no reply" after `waitMs`, or
 * "refused". The default wait is long (a reply ends it at once); only a check that expects
 * silence passes a short one.
 */
function redisPing(port: number, waitMs = 10_000): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve('no reply');
    }, waitMs);
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(data.toString().trim());
    });
    socket.once('error', () => {
      clearTimeout(timer);
      resolve('refused');
    });
  });
}

describe('store faults (TCP proxies)', () => {
  const ready = async (): Promise<{ status: number; body: any }> => request(`${platform.urls.backend}/health/ready`);
  const postgresPort = (): number => Number(new URL(platform.urls.database).port);
  const redisPort = (): number => Number(new URL(platform.urls.redis).port);

  it('pg_slow delays PostgreSQL round trips by ms; cleared, they are fast again', async () => {
    // 1 s of delay: "fast again" (< 500 ms) is far from it and far above a busy machine's lag.
    await faultOn(platform, 'pg_slow', { ms: 1_000 });
    expect((await request(`${platform.urls.backend}/api/health`)).body.checks.postgres.response_time_ms).toBeGreaterThanOrEqual(990);
    await faultOff(platform, 'pg_slow');
    expect((await request(`${platform.urls.backend}/api/health`)).body.checks.postgres.response_time_ms).toBeLessThan(500);
  });

  it('pg_down refuses PostgreSQL connections (ready 503); cleared, connects and ready 200', async () => {
    await faultOn(platform, 'pg_down');
    expect(await tcpConnects(postgresPort())).toBe(false);
    expect((await ready()).status).toBe(503);
    await faultOff(platform, 'pg_down');
    expect(await tcpConnects(postgresPort())).toBe(true);
    expect((await ready()).status).toBe(200);
  });

  it('redis_refused refuses Redis connections (redis_db degraded); cleared, PING answers PONG', async () => {
    await faultOn(platform, 'redis_refused');
    expect(await redisPing(redisPort())).toBe('refused');
    expect((await ready()).body.redis_db).toBe('degraded');
    await faultOff(platform, 'redis_refused');
    expect(await redisPing(redisPort())).toBe('+PONG');
    expect((await readyAgain(platform)).body.redis_db).toBe('connected');
  });

  it('redis_silent accepts Redis connections and never answers; cleared, PING answers PONG', async () => {
    await faultOn(platform, 'redis_silent');
    expect(await tcpConnects(redisPort())).toBe(true);
    expect(await redisPing(redisPort(), 300)).toBe('no reply');
    await faultOff(platform, 'redis_silent');
    expect(await redisPing(redisPort())).toBe('+PONG');
    expect((await readyAgain(platform)).body.redis_db).toBe('connected');
  });
});

describe('backend_503', () => {
  it('answers 503 {status:"unhealthy", message} to HTTP requests and WebSocket upgrades, but not to the fault switch; cleared, serves again', async () => {
    await faultOn(platform, 'backend_503');
    for (const path of ['/health', '/health/ready', '/api/health', '/ws/health', '/api/threads/00000000-0000-0000-0000-000000000000']) {
      const { status, body } = await request(`${platform.urls.backend}${path}`, { token: tokens.access_token });
      expect(status, path).toBe(503);
      expect(body, path).toMatchObject({ status: 'unhealthy', message: expect.any(String) });
    }
    expect((await request(`${platform.urls.backend}/api/threads`, { token: tokens.access_token, body: { title: 'x' } })).status).toBe(503);
    const handshake = track(await connectWs(platform.urls.ws, bearer(tokens.access_token)));
    expect(handshake.kind === 'http' && handshake.status).toBe(503);
    if (handshake.kind === 'http') expect(JSON.parse(handshake.body)).toMatchObject({ status: 'unhealthy', message: expect.any(String) });
    expect((await admin(platform, 'GET', '/faults')).status).toBe(200);
    expect((await request(`${platform.urls.auth}/health`)).status).toBe(200);

    await faultOff(platform, 'backend_503');
    expect((await request(`${platform.urls.backend}/health`)).body.status).toBe('healthy');
    expect(await handshakeOutcome(tokens.access_token)).toBe('established user-qa');
  });
});

describe('http_slow', () => {
  it('answers the matching endpoint `ms` late and every other one at full speed; cleared, at full speed again', async () => {
    const created = await request(`${platform.urls.backend}/api/threads`, { token: tokens.access_token, body: { title: 'http_slow' } });
    const messages = `${platform.urls.backend}/api/threads/${created.body.id as string}/messages`;
    const timed = async (url: string): Promise<{ status: number; ms: number }> => {
      const started = performance.now();
      const { status } = await request(url, { token: tokens.access_token });
      return { status, ms: performance.now() - started };
    };
    expect(await faultOn(platform, 'http_slow', { path: '/api/threads/*/messages', ms: 600 })).toMatchObject({ path: '/api/threads/*/messages', ms: 600 });
    const slow = await timed(messages);
    expect(slow.status).toBe(200);
    expect(slow.ms).toBeGreaterThanOrEqual(590);
    const thread = await timed(`${platform.urls.backend}/api/threads/${created.body.id as string}`);
    expect(thread.status).toBe(200);
    expect(thread.ms).toBeLessThan(500);
    expect((await admin(platform, 'PUT', '/faults/http_slow', { ms: 10 })).status, 'path is required').toBe(422);

    await faultOff(platform, 'http_slow');
    expect((await timed(messages)).ms).toBeLessThan(500);
  });
});

describe('health_lies', () => {
  it('reports PostgreSQL healthy on every health endpoint while it refuses real traffic; cleared, real traffic works', async () => {
    const databasePort = Number(new URL(platform.urls.database).port);
    await faultOn(platform, 'health_lies');
    const ready = await request(`${platform.urls.backend}/health/ready`);
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({ status: 'ready', core_db: 'connected' });
    const api = await request(`${platform.urls.backend}/api/health`);
    expect(api.status).toBe(200);
    expect(api.body).toMatchObject({ status: 'healthy', checks: { postgres: { status: 'healthy', connected: true, error: null } } });
    const ws = await request(`${platform.urls.backend}/ws/health`);
    expect(ws.body).toMatchObject({ status: 'healthy', components: { postgres: { status: 'healthy' } } });
    expect((await request(`${platform.urls.backend}/health`)).body.status).toBe('healthy');
    const auth = await request(`${platform.urls.auth}/health`);
    expect(auth.status).toBe(200);
    expect(auth.body).toMatchObject({ status: 'healthy', database_status: 'connected' });
    // The truth: the database refuses connections and everything that needs it fails.
    expect(await tcpConnects(databasePort)).toBe(false);
    expect((await request(`${platform.urls.backend}/api/threads`, { token: tokens.access_token, body: { title: 'lies' } })).status).toBe(503);

    await faultOff(platform, 'health_lies');
    expect(await tcpConnects(databasePort)).toBe(true);
    const created = await request(`${platform.urls.backend}/api/threads`, { token: tokens.access_token, body: { title: 'truth' } });
    expect(created.status).toBe(201);
    await request(`${platform.urls.backend}/api/threads/${created.body.id}`, { method: 'DELETE', token: tokens.access_token });
  });

  it('composes with pg_down: clearing one leaves PostgreSQL down until the other is cleared too', async () => {
    await faultOn(platform, 'pg_down');
    await faultOn(platform, 'health_lies');
    expect((await request(`${platform.urls.backend}/health/ready`)).status).toBe(200);
    await faultOff(platform, 'health_lies');
    expect((await request(`${platform.urls.backend}/health/ready`)).status).toBe(503);
    await faultOff(platform, 'pg_down');
    expect((await request(`${platform.urls.backend}/health/ready`)).status).toBe(200);
  });
});

describe('ws_reject_503', () => {
  it('rejects exactly the configured fraction of handshakes with HTTP 503 (rate 0.2: 4 of 20); cleared, all open', async () => {
    await faultOn(platform, 'ws_reject_503', { rate: 0.2 });
    const outcomes: string[] = [];
    for (let i = 0; i < 20; i++) outcomes.push(await handshakeOutcome(tokens.access_token));
    const rejected = outcomes.flatMap((outcome, index) => (outcome === 'http 503' ? [index + 1] : []));
    expect(rejected).toEqual([5, 10, 15, 20]);
    expect(outcomes.filter((outcome) => outcome === 'established user-qa')).toHaveLength(16);

    await faultOff(platform, 'ws_reject_503');
    for (let i = 0; i < 5; i++) expect(await handshakeOutcome(tokens.access_token)).toBe('established user-qa');
  });

  it('rejects every handshake at the default rate 1, before looking at credentials', async () => {
    expect(await faultOn(platform, 'ws_reject_503')).toEqual({ rate: 1 });
    for (let i = 0; i < 3; i++) expect(await handshakeOutcome(tokens.access_token)).toBe('http 503');
    const anonymous = await connectWs(platform.urls.ws);
    expect(anonymous.kind === 'http' && anonymous.status).toBe(503);
  });
});

describe('ws_close_1011', () => {
  it('completes the handshake then closes 1011 before connection_established; cleared, sessions establish', async () => {
    await faultOn(platform, 'ws_close_1011');
    const handshake = track(await connectWs(platform.urls.ws, bearer(tokens.access_token)));
    expect(handshake.kind).toBe('open');
    if (handshake.kind !== 'open') return;
    const closed = await Promise.race([handshake.client.closed, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no close within 10 s')), 10_000))]);
    expect(closed.code).toBe(1011);
    expect(closed.reason).toMatch(/not ready/);
    expect(handshake.client.frames).toEqual([]);

    await faultOff(platform, 'ws_close_1011');
    expect(await handshakeOutcome(tokens.access_token)).toBe('established user-qa');
  });
});

describe('ws_accept_invalid_tokens', () => {
  it('establishes sessions with forged, expired, wrong-audience, refresh and garbage tokens; cleared, closes them 1008', async () => {
    const bad = {
      forged: await mintToken(platform, { secret: 'not-the-signing-secret-at-all-000' }),
      expired: await mintToken(platform, { expiresIn: -30 }),
      wrongAudience: await mintToken(platform, { audience: 'someone-else' }),
      refresh: tokens.refresh_token,
      garbage: 'garbage',
    };
    await faultOn(platform, 'ws_accept_invalid_tokens');
    for (const [name, token] of Object.entries(bad)) {
      expect(await handshakeOutcome(token), name).toBe(name === 'garbage' ? 'established anonymous' : 'established user-qa');
    }
    // Only the WebSocket is broken: the backend's HTTP routes still refuse a forged token.
    expect((await request(`${platform.urls.backend}/api/threads`, { token: bad.forged, body: {} })).status).toBe(401);

    await faultOff(platform, 'ws_accept_invalid_tokens');
    for (const [name, token] of Object.entries(bad)) expect(await handshakeOutcome(token), name).toBe('close 1008');
  });
});

describe('bypass_key_ignored', () => {
  it('lets test-auth issue tokens with a missing or wrong bypass key; cleared, both are 401 again', async () => {
    const testAuthWith = (headers: Record<string, string>) => request(`${platform.urls.auth}/auth/e2e/test-auth`, { body: { email: 'keyless@stagecheck.local' }, headers });
    expect((await testAuthWith({})).body).toMatchObject({ error: 'missing_bypass_key' });
    expect((await testAuthWith({ 'x-e2e-bypass-key': 'wrong' })).status).toBe(401);

    await faultOn(platform, 'bypass_key_ignored');
    for (const headers of [{}, { 'x-e2e-bypass-key': 'wrong' }] as Record<string, string>[]) {
      const issued = await testAuthWith(headers);
      expect(issued.status, JSON.stringify(headers)).toBe(200);
      expect(issued.body.access_token, JSON.stringify(headers)).toEqual(expect.any(String));
    }

    await faultOff(platform, 'bypass_key_ignored');
    expect((await testAuthWith({})).status).toBe(401);
    expect((await testAuthWith({ 'x-e2e-bypass-key': 'wrong' })).body).toMatchObject({ error: 'invalid_bypass_key' });
  });
});

describe('auth_input_unchecked', () => {
  it('answers malformed or incomplete auth bodies with 500 instead of 422 while valid ones still work; cleared, 422 again', async () => {
    const loginWith = (rawBody: string) => request(`${platform.urls.auth}/auth/login`, { rawBody });
    const refreshWith = (rawBody: string) => request(`${platform.urls.auth}/auth/refresh`, { rawBody });
    const valid = JSON.stringify({ email: platform.env.STAGING_TEST_EMAIL, password: platform.env.STAGING_TEST_PASSWORD });
    expect((await loginWith('{"email":"qa@stagecheck.local"}')).status).toBe(422);

    await faultOn(platform, 'auth_input_unchecked');
    expect((await loginWith('{"email":"qa@stagecheck.local"}')).body).toMatchObject({ error: 'internal_error' });
    expect((await loginWith('{"email":')).status).toBe(500);
    expect((await refreshWith('{}')).status).toBe(500);
    expect((await loginWith(valid)).status).toBe(200);

    await faultOff(platform, 'auth_input_unchecked');
    expect((await loginWith('{"email":')).status).toBe(422);
    expect((await refreshWith('{}')).body).toMatchObject({ error: 'validation_error' });
  });
});

describe('revocation_ignored', () => {
  it('lets the backend and the WebSocket accept a logged-out token while /auth/verify still calls it revoked; cleared, 401 and 1008', async () => {
    const session = await login(platform);
    const logout = await request(`${platform.urls.auth}/auth/logout`, { method: 'POST', token: session.access_token });
    expect(logout.status).toBe(200);
    expect((await request(`${platform.urls.backend}/api/threads`, { token: session.access_token, body: {} })).status).toBe(401);

    await faultOn(platform, 'revocation_ignored');
    const created = await request(`${platform.urls.backend}/api/threads`, { token: session.access_token, body: { title: 'after logout' } });
    expect(created.status).toBe(201);
    expect(await handshakeOutcome(session.access_token)).toBe('established user-qa');
    expect((await request(`${platform.urls.auth}/auth/verify`, { method: 'POST', token: session.access_token })).body).toMatchObject({ valid: false, error: 'token revoked' });

    await faultOff(platform, 'revocation_ignored');
    expect((await request(`${platform.urls.backend}/api/threads/${created.body.id}`, { token: session.access_token })).status).toBe(401);
    expect(await handshakeOutcome(session.access_token)).toBe('close 1008');
    await request(`${platform.urls.backend}/api/threads/${created.body.id}`, { method: 'DELETE', token: tokens.access_token });
  });
});

describe('thread_leak', () => {
  it("serves a thread and its messages to another user (DELETE still refused); cleared, 404 again", async () => {
    const owner = await testAuth(platform, 'leak-owner@stagecheck.local');
    const other = await testAuth(platform, 'leak-other@stagecheck.local');
    const thread = (await request(`${platform.urls.backend}/api/threads`, { token: owner.access_token, body: { title: 'private' } })).body;
    const threadUrl = `${platform.urls.backend}/api/threads/${thread.id}`;
    expect((await request(threadUrl, { token: other.access_token })).status).toBe(404);

    await faultOn(platform, 'thread_leak');
    const leaked = await request(threadUrl, { token: other.access_token });
    expect(leaked.status).toBe(200);
    expect(leaked.body).toMatchObject({ id: thread.id, user_id: owner.user.id });
    expect((await request(`${threadUrl}/messages`, { token: other.access_token })).status).toBe(200);
    expect((await request(threadUrl, { method: 'DELETE', token: other.access_token })).status).toBe(404);

    await faultOff(platform, 'thread_leak');
    expect((await request(threadUrl, { token: other.access_token })).status).toBe(404);
    expect((await request(`${threadUrl}/messages`, { token: other.access_token })).status).toBe(404);
    expect((await request(threadUrl, { method: 'DELETE', token: owner.access_token })).status).toBe(204);
  });
});

describe('no_heartbeat', () => {
  it('sends no heartbeat however long the client is silent; cleared, the same connection gets heartbeats again', async () => {
    const client = await openSession(platform, tokens.access_token);
    clients.push(client);
    await client.waitForType('heartbeat', 10_000);
    await faultOn(platform, 'no_heartbeat');
    // A heartbeat the server sent before the fault took effect may still be on its way: a ping's
    // pong comes after it on the same socket, so frames from the pong on were all sent under the fault.
    client.send({ type: 'ping', correlation_id: 'no-heartbeat-sync' });
    const pong = await client.waitFor((frame) => frame.type === 'pong' && frame.correlation_id === 'no-heartbeat-sync', 10_000, 'pong');
    const from = client.frames.indexOf(pong) + 1;
    // Four heartbeat intervals (0.25 s) of client silence.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(client.frames.slice(from).map((frame) => frame.type)).toEqual([]);
    expect(client.socket.readyState).toBe(WebSocket.OPEN);

    await faultOff(platform, 'no_heartbeat');
    await client.waitForType('heartbeat', 10_000, client.frames.length);
  });
});

describe('no_pong', () => {
  it('reads pings and never answers them, while other frames are still answered; cleared, pings get pongs again', async () => {
    const client = await openSession(platform, tokens.access_token);
    clients.push(client);
    await faultOn(platform, 'no_pong');
    client.send({ type: 'ping', correlation_id: 'unanswered' });
    // An unknown type is acknowledged: once its ack is here, the ping before it was read and left unanswered.
    client.send({ type: 'no-pong-sync' });
    const ack = await client.waitFor((frame) => frame.type === 'ack' && frame.received_type === 'no-pong-sync', 10_000, 'ack');
    expect(client.frames.slice(0, client.frames.indexOf(ack)).filter((frame) => frame.type === 'pong')).toEqual([]);
    expect(client.socket.readyState).toBe(WebSocket.OPEN);

    await faultOff(platform, 'no_pong');
    client.send({ type: 'ping', correlation_id: 'answered' });
    await client.waitFor((frame) => frame.type === 'pong' && frame.correlation_id === 'answered', 10_000, 'pong');
  });
});

describe('faults at start from PLATFORM_FAULTS (CLI)', { timeout: 180_000 }, () => {
  let child: ChildProcess | undefined;
  afterAll(() => {
    if (child && child.exitCode === null) child.kill('SIGTERM');
  });

  it('starts with several faults active, behaving as faulty, and clears them at run time', async () => {
    const root = fileURLToPath(new URL('../..', import.meta.url));
    child = spawn(process.execPath, ['--import', 'tsx', 'platform/cli.ts', '--json'], {
      cwd: root,
      env: {
        ...process.env,
        PLATFORM_FAULTS: 'ws_reject_503:rate=0.5,agent_stall:after=agent_thinking,no_heartbeat',
        PLATFORM_AGENT_THINK_MS: '2',
        // These tests are about the default profile, whatever the caller's environment says.
        PLATFORM_PROFILE: '',
        PLATFORM_WS_HEARTBEAT_S: '0.25',
        PLATFORM_LOG_LEVEL: 'error',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child?.once('exit', (code) => resolve(code)));
    let stdout = '';
    // A bounded wait: a CLI start (node, tsx, initdb) can take tens of seconds on a busy machine.
    const ready = await new Promise<{ ready: boolean; env: Record<string, string> }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ready line within 90 s: ${stdout}`)), 90_000);
      child?.stdout?.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        const line = stdout.split('\n')[0];
        if (stdout.includes('\n') && line) {
          clearTimeout(timer);
          resolve(JSON.parse(line) as { ready: boolean; env: Record<string, string> });
        }
      });
      child?.once('exit', (code) => reject(new Error(`CLI exited ${code}`)));
    });
    expect(ready.ready).toBe(true);
    const env = ready.env;
    const adminCall = (method: string, path = ''): Promise<{ status: number; body: any }> =>
      request(`${env.PLATFORM_ADMIN_URL}/faults${path}`, { method, headers: { 'x-platform-admin-token': env.PLATFORM_ADMIN_TOKEN ?? '' } });

    const listed = await adminCall('GET');
    expect(listed.body.active.map((fault: { name: string; params: unknown }) => [fault.name, fault.params])).toEqual([
      ['ws_reject_503', { rate: 0.5 }],
      ['agent_stall', { after: 'agent_thinking' }],
      ['no_heartbeat', {}],
    ]);
    const loggedIn = await request(`${env.STAGING_AUTH_URL}/auth/login`, { body: { email: env.STAGING_TEST_EMAIL, password: env.STAGING_TEST_PASSWORD } });
    const auth = bearer(loggedIn.body.access_token);
    const connect = async (): Promise<Handshake> => track(await connectWs(env.STAGING_WS_URL ?? '', auth));
    // rate 0.5: the 1st handshake opens, the 2nd is refused.
    const first = await connect();
    expect((await connect()).kind === 'http').toBe(true);
    expect(first.kind).toBe('open');
    if (first.kind !== 'open') return;
    const client = first.client;
    await client.waitForType('connection_established');
    client.send({ type: 'start_agent', payload: { user_request: 'What is 2 + 2?' }, correlation_id: 'boot-1' });
    await client.waitFor((frame) => frame.correlation_id === 'boot-1' && frame.type === 'agent_thinking', 5000, 'agent_thinking');
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(client.frames.map((frame) => frame.type)).toEqual(['connection_established', 'agent_started', 'agent_thinking']);

    const cleared = await adminCall('DELETE');
    expect(cleared.body.cleared.sort()).toEqual(['agent_stall', 'no_heartbeat', 'ws_reject_503']);
    await client.waitForType('heartbeat', 10_000);
    const run = await runAgent(client, { type: 'start_agent', payload: { user_request: 'What is 2 + 2?' } });
    expect(run.terminal).toMatchObject({ type: 'agent_completed', final_response: expect.stringContaining('4') });
    for (let i = 0; i < 3; i++) expect((await connect()).kind).toBe('open');

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
