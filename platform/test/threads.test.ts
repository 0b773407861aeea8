import postgres from 'postgres';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningPlatform } from '../index.ts';
import { connectWs, login, openSession, request, runAgent, startTestPlatform, testAuth, type Tokens } from './support.ts';

let platform: RunningPlatform;
let owner: Tokens;
let stranger: Tokens;
let readonlyDb: postgres.Sql;

beforeAll(async () => {
  platform = await startTestPlatform();
  [owner, stranger] = await Promise.all([login(platform), testAuth(platform, 'stranger@stagecheck.local')]);
  readonlyDb = postgres(platform.env.STAGING_DATABASE_URL, { max: 1, onnotice: () => {} });
});
afterAll(async () => {
  await readonlyDb?.end({ timeout: 1 });
  await platform?.stop();
});

async function countOf(query: PromiseLike<readonly Record<string, unknown>[]>): Promise<number> {
  const rows = await query;
  return Number(rows[0]?.n);
}

const api = (path: string): string => `${platform.urls.backend}${path}`;

async function newThread(token: string, title = 'A thread'): Promise<{ id: string; title: string; user_id: string; created_at: string }> {
  const { status, body } = await request(api('/api/threads'), { token, body: { title } });
  expect(status).toBe(201);
  return body;
}

describe('POST /api/threads', () => {
  it('creates a thread owned by the caller', async () => {
    const thread = await newThread(owner.access_token, 'e2e-run-1 thread');
    expect(thread).toMatchObject({ title: 'e2e-run-1 thread', user_id: 'user-qa' });
    expect(thread.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(Date.parse(thread.created_at)).not.toBeNaN();
  });

  it('answers 401 without or with an invalid token, and 422 for a bad title', async () => {
    expect((await request(api('/api/threads'), { body: { title: 'x' } })).status).toBe(401);
    expect((await request(api('/api/threads'), { body: { title: 'x' }, token: 'garbage' })).status).toBe(401);
    expect((await request(api('/api/threads'), { body: { title: 'x' }, token: owner.refresh_token })).status).toBe(401);
    expect((await request(api('/api/threads'), { body: { title: 42 }, token: owner.access_token })).status).toBe(422);
  });
});

describe('GET /api/threads/:id', () => {
  it('returns the owner its thread', async () => {
    const thread = await newThread(owner.access_token);
    const { status, body } = await request(api(`/api/threads/${thread.id}`), { token: owner.access_token });
    expect(status).toBe(200);
    expect(body).toEqual(thread);
  });

  it('answers 404 for another user, an unknown id and a malformed id, never leaking existence', async () => {
    const thread = await newThread(owner.access_token);
    const foreign = await request(api(`/api/threads/${thread.id}`), { token: stranger.access_token });
    const unknown = await request(api(`/api/threads/${crypto.randomUUID()}`), { token: stranger.access_token });
    expect(foreign.status).toBe(404);
    expect(unknown.status).toBe(404);
    expect(foreign.body).toEqual(unknown.body);
    expect((await request(api('/api/threads/not-a-uuid'), { token: owner.access_token })).status).toBe(404);
    expect((await request(api(`/api/threads/${thread.id}/messages`), { token: stranger.access_token })).status).toBe(404);
    expect((await request(api(`/api/threads/${thread.id}`), { method: 'DELETE', token: stranger.access_token })).status).toBe(404);
  });

  it('answers 401 without a token', async () => {
    expect((await request(api(`/api/threads/${crypto.randomUUID()}`))).status).toBe(401);
  });
});

describe('DELETE /api/threads/:id', () => {
  it('answers 204 and takes the messages and runs with it', async () => {
    const session = await openSession(platform, owner.access_token);
    const run = await runAgent(session, { type: 'start_agent', payload: { user_request: 'What is 2 + 2?' } });
    session.close();
    const threadId = String(run.terminal.thread_id);
    const before = await countOf(readonlyDb`SELECT count(*)::int AS n FROM messages WHERE thread_id = ${threadId}`);
    expect(before).toBe(2);
    const deleted = await request(api(`/api/threads/${threadId}`), { method: 'DELETE', token: owner.access_token });
    expect(deleted.status).toBe(204);
    expect(deleted.body).toBeUndefined();
    const after = await countOf(readonlyDb`SELECT count(*)::int AS n FROM messages WHERE thread_id = ${threadId}`);
    expect(after).toBe(0);
    const runs = await countOf(readonlyDb`SELECT count(*)::int AS n FROM agent_runs WHERE thread_id = ${threadId}`);
    expect(runs).toBe(0);
    expect((await request(api(`/api/threads/${threadId}`), { token: owner.access_token })).status).toBe(404);
    expect((await request(api(`/api/threads/${threadId}`), { method: 'DELETE', token: owner.access_token })).status).toBe(404);
  });
});

describe('STAGING_DATABASE_URL', () => {
  it('is a read-only role that can read the platform tables but not write them', async () => {
    const capitals = await countOf(readonlyDb`SELECT count(*)::int AS n FROM facts WHERE relation = 'capital'`);
    expect(capitals).toBeGreaterThanOrEqual(20);
    await expect(readonlyDb`INSERT INTO facts (subject, relation, object) VALUES ('x', 'y', 'z')`).rejects.toThrow(/read-only|permission denied/);
  });
});

describe('POST /api/websocket/ticket', () => {
  it('issues a ticket that opens exactly one connection', async () => {
    const { status, body } = await request(api('/api/websocket/ticket'), { token: owner.access_token, body: {} });
    expect(status).toBe(201);
    expect(body).toMatchObject({ ticket_id: expect.any(String), websocket_url: platform.urls.ws });
    const expiresIn = Date.parse(body.expires_at) - Date.now();
    expect(expiresIn).toBeGreaterThan(25_000);
    expect(expiresIn).toBeLessThanOrEqual(30_000);

    const redis = new Redis(platform.env.STAGING_REDIS_URL);
    expect(await redis.exists(`ws_ticket:${body.ticket_id}`)).toBe(1);
    redis.disconnect();

    const first = await connectWs(`${body.websocket_url}?ticket=${encodeURIComponent(body.ticket_id)}`);
    expect(first.kind).toBe('open');
    if (first.kind !== 'open') return;
    const established = await first.client.waitForType('connection_established');
    expect(established.user_id).toBe('user-qa');
    first.client.close();

    const second = await connectWs(`${body.websocket_url}?ticket=${encodeURIComponent(body.ticket_id)}`);
    expect(second.kind).toBe('open');
    if (second.kind !== 'open') return;
    const closed = await second.client.closed;
    expect(closed.code).toBe(1008);
    expect(closed.reason).toMatch(/ticket/);
  });

  it('expires after ttl_seconds', async () => {
    const { body } = await request(api('/api/websocket/ticket'), { token: owner.access_token, body: { ttl_seconds: 1 } });
    await new Promise((resolve) => setTimeout(resolve, 1200));
    const handshake = await connectWs(`${platform.urls.ws}?ticket=${encodeURIComponent(body.ticket_id)}`);
    expect(handshake.kind).toBe('open');
    if (handshake.kind !== 'open') return;
    expect((await handshake.client.closed).code).toBe(1008);
  });

  it('caps ttl_seconds at 300, refuses nonsense with 422 and anonymous callers with 401', async () => {
    const capped = await request(api('/api/websocket/ticket'), { token: owner.access_token, body: { ttl_seconds: 9999 } });
    expect(capped.status).toBe(201);
    expect(Date.parse(capped.body.expires_at) - Date.now()).toBeLessThanOrEqual(300_000);
    expect((await request(api('/api/websocket/ticket'), { token: owner.access_token, body: { ttl_seconds: -1 } })).status).toBe(422);
    expect((await request(api('/api/websocket/ticket'), { body: {} })).status).toBe(401);
  });

  it('refuses an unknown ticket with 1008', async () => {
    const handshake = await connectWs(`${platform.urls.ws}?ticket=no-such-ticket`);
    expect(handshake.kind).toBe('open');
    if (handshake.kind !== 'open') return;
    expect((await handshake.client.closed).code).toBe(1008);
  });
});
