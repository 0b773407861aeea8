import { SignJWT } from 'jose';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningPlatform } from '../index.ts';
import { connectWs, login, openSession, request, runAgent, startTestPlatform, type Tokens, type WsClient } from './support.ts';

let platform: RunningPlatform;
let tokens: Tokens;
const open: WsClient[] = [];

beforeAll(async () => {
  // Heartbeat after 1 s of silence so the heartbeat test stays short.
  platform = await startTestPlatform({ wsHeartbeatS: 1 });
  tokens = await login(platform);
});
afterAll(async () => {
  for (const client of open) client.close();
  await platform?.stop();
});

async function opened(handshake: Promise<Awaited<ReturnType<typeof connectWs>>>): Promise<WsClient> {
  const result = await handshake;
  if (result.kind !== 'open') throw new Error(`expected 101, got HTTP ${result.status}`);
  open.push(result.client);
  return result.client;
}

describe('WebSocket handshake', () => {
  it('accepts subprotocol jwt.<token>, echoes that exact protocol and sends connection_established', async () => {
    const protocol = `jwt.${tokens.access_token}`;
    const client = await opened(connectWs(platform.urls.ws, { protocols: [protocol] }));
    expect(client.protocol).toBe(protocol);
    const established = await client.waitForType('connection_established');
    expect(established).toMatchObject({ user_id: 'user-qa', connection_id: expect.any(String) });
    expect(Date.parse(String(established.timestamp))).not.toBeNaN();
  });

  it('picks the jwt.* protocol among several offered', async () => {
    const protocol = `jwt.${tokens.access_token}`;
    const client = await opened(connectWs(platform.urls.ws, { protocols: ['chat', protocol] }));
    expect(client.protocol).toBe(protocol);
    await client.waitForType('connection_established');
  });

  it('accepts Authorization: Bearer, and the 101 echoes the correlation id', async () => {
    let upgradeHeaders: Record<string, unknown> = {};
    const handshake = connectWs(platform.urls.ws, { headers: { authorization: `Bearer ${tokens.access_token}`, 'x-correlation-id': 'corr-ws-1' } }, (headers) => {
      upgradeHeaders = headers;
    });
    const client = await opened(handshake);
    expect((await client.waitForType('connection_established')).user_id).toBe('user-qa');
    expect(upgradeHeaders['x-correlation-id']).toBe('corr-ws-1');
  });

  it('accepts a single-use ?ticket=', async () => {
    const { body } = await request(`${platform.urls.backend}/api/websocket/ticket`, { token: tokens.access_token, body: {} });
    const client = await opened(connectWs(`${platform.urls.ws}?ticket=${encodeURIComponent(body.ticket_id)}`));
    expect((await client.waitForType('connection_established')).user_id).toBe('user-qa');
  });

  it('answers HTTP 401 before the upgrade when no credentials are given at all', async () => {
    const result = await connectWs(platform.urls.ws);
    expect(result.kind).toBe('http');
    if (result.kind !== 'http') return;
    expect(result.status).toBe(401);
    expect(result.headers['x-correlation-id']).toEqual(expect.any(String));
    expect(JSON.parse(result.body).error).toBe('not_authenticated');
  });

  it('answers HTTP 404 for another path', async () => {
    const result = await connectWs(platform.urls.ws.replace(/\/ws$/, '/other'), { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(result.kind === 'http' && result.status).toBe(404);
  });

  it('completes the handshake then closes 1008 for invalid, expired and refresh tokens', async () => {
    const now = Math.floor(Date.now() / 1000);
    const expired = await new SignJWT({ email: 'qa@stagecheck.local', permissions: [], token_type: 'access' })
      .setProtectedHeader({ alg: 'HS256' }).setSubject('user-qa').setIssuer('netra-auth-service').setAudience('netra-platform')
      .setJti(crypto.randomUUID()).setIssuedAt(now - 100).setExpirationTime(now - 10)
      .sign(new TextEncoder().encode(platform.env.STAGING_JWT_SECRET));
    const cases: Array<[string, Parameters<typeof connectWs>[1], RegExp]> = [
      ['garbage subprotocol token', { protocols: ['jwt.garbage'] }, /malformed/],
      ['garbage bearer', { headers: { authorization: 'Bearer garbage' } }, /malformed/],
      ['expired', { protocols: [`jwt.${expired}`] }, /expired/],
      ['refresh token', { headers: { authorization: `Bearer ${tokens.refresh_token}` } }, /token type/],
    ];
    for (const [name, options, reason] of cases) {
      const client = await opened(connectWs(platform.urls.ws, options));
      const closed = await client.closed;
      expect(closed.code, name).toBe(1008);
      expect(closed.reason, name).toMatch(reason);
      expect(client.frames, name).toEqual([]);
    }
  });

  it('completes the handshake then closes 1003 for a subprotocol that is not jwt.*', async () => {
    const client = await opened(connectWs(platform.urls.ws, { protocols: ['graphql-ws'] }));
    expect(client.protocol).toBe('graphql-ws');
    const closed = await client.closed;
    expect(closed.code).toBe(1003);
    expect(closed.reason).toMatch(/subprotocol/);
  });
});

describe('WebSocket frames', () => {
  it('answers ping with pong carrying the correlation id', async () => {
    const client = await openSession(platform, tokens.access_token);
    open.push(client);
    client.send({ type: 'ping', correlation_id: 'c-ping' });
    const pong = await client.waitForType('pong');
    expect(pong).toMatchObject({ correlation_id: 'c-ping', timestamp: expect.any(String) });
  });

  it('acknowledges unknown types with received_type', async () => {
    const client = await openSession(platform, tokens.access_token);
    open.push(client);
    client.send({ type: 'subscribe_everything' });
    expect(await client.waitForType('ack')).toMatchObject({ received_type: 'subscribe_everything' });
  });

  it('answers malformed JSON with JSON_PARSE_ERROR and stays open', async () => {
    const client = await openSession(platform, tokens.access_token);
    open.push(client);
    client.send('{this is not json');
    expect(await client.waitForType('error')).toMatchObject({ error_code: 'JSON_PARSE_ERROR', message: expect.any(String) });
    client.send({ type: 'ping' });
    await client.waitForType('pong');
    expect(client.socket.readyState).toBe(WebSocket.OPEN);
  });

  it('answers binary frames and non-object JSON with error frames and stays open', async () => {
    const client = await openSession(platform, tokens.access_token);
    open.push(client);
    client.socket.send(Buffer.from([1, 2, 3]), { binary: true });
    expect(await client.waitFor((frame) => frame.error_code === 'BINARY_NOT_SUPPORTED')).toMatchObject({ type: 'error' });
    client.send('[1,2]');
    expect(await client.waitFor((frame) => frame.error_code === 'INVALID_MESSAGE')).toMatchObject({ type: 'error' });
    client.send({ type: 'start_agent', payload: {} });
    await client.waitFor((frame) => frame.error_code === 'INVALID_MESSAGE' && String(frame.message).includes('user_request'));
    expect(client.socket.readyState).toBe(WebSocket.OPEN);
  });

  it('sends a heartbeat after the configured client silence and keeps the connection open', async () => {
    const client = await openSession(platform, tokens.access_token);
    open.push(client);
    // The silence is measured from a ping the client sends: the server restarts its clock when it
    // receives it (after `started`), and frames after the pong were sent after that.
    const started = performance.now();
    client.send({ type: 'ping', correlation_id: 'heartbeat-clock' });
    const pong = await client.waitFor((frame) => frame.type === 'pong' && frame.correlation_id === 'heartbeat-clock', 10_000, 'pong');
    const heartbeat = await client.waitForType('heartbeat', 10_000, client.frames.indexOf(pong) + 1);
    expect(performance.now() - started, 'not before 1 s of client silence').toBeGreaterThanOrEqual(998);
    expect(heartbeat.timestamp).toEqual(expect.any(String));
    await client.waitFor((frame) => frame.type === 'heartbeat' && frame !== heartbeat, 10_000, 'second heartbeat');
    expect(client.socket.readyState).toBe(WebSocket.OPEN);
  });

  it('delivers run events only to the connection that started the run', async () => {
    const starter = await openSession(platform, tokens.access_token);
    const bystander = await openSession(platform, tokens.access_token);
    open.push(starter, bystander);
    await runAgent(starter, { type: 'start_agent', payload: { user_request: 'What is 6 * 7?' } });
    expect(bystander.frames.filter((frame) => typeof frame.run_id === 'string')).toEqual([]);
  });

  it('counts open connections in /ws/health', async () => {
    const { body } = await request(`${platform.urls.backend}/ws/health`);
    expect(body.components.websocket.active_connections).toBeGreaterThan(0);
  });
});

describe('WebSocket under faults', () => {
  it('closes 1011 when the ticket store is unreachable', async () => {
    const { body } = await request(`${platform.urls.backend}/api/websocket/ticket`, { token: tokens.access_token, body: {} });
    await platform.setFault('redis_refused');
    try {
      const client = await opened(connectWs(`${platform.urls.ws}?ticket=${encodeURIComponent(body.ticket_id)}`));
      expect((await client.closed).code).toBe(1011);
    } finally {
      await platform.clearFaults();
    }
  });
});
