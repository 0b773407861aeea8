/**
 * Test helpers for the platform's own tests: everything goes over real sockets (fetch, ws),
 * exactly as the suite will talk to a deployment.
 */
import { readFileSync } from 'node:fs';
import { SignJWT } from 'jose';
import { Agent, fetch as undiciFetch } from 'undici';
import WebSocket from 'ws';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { startPlatform, type PlatformOptions, type RunningPlatform } from '../index.ts';

export type Frame = Record<string, unknown> & { type: string };

/** Fast settings for tests: tiny think time, quiet logs. */
export function startTestPlatform(options: PlatformOptions = {}): Promise<RunningPlatform> {
  return startPlatform({ agentThinkMs: 2, logLevel: 'error', ...options });
}

export interface JsonResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/** The PEM of the CA a TLS platform generated (undefined for a plain-HTTP one). */
export function caOf(platform: RunningPlatform): string | undefined {
  return platform.tls ? readFileSync(platform.tls.caFile, 'utf8') : undefined;
}

/** fetch over HTTPS trusting `ca` (a fresh connection pool per call: no TLS session is reused). */
async function fetchTrusting(url: string, init: RequestInit, ca: string): Promise<Response> {
  const dispatcher = new Agent({ connect: { ca } });
  try {
    const response = await undiciFetch(url, { ...(init as object), dispatcher } as Parameters<typeof undiciFetch>[1]);
    const text = await response.text();
    return new Response(text || null, { status: response.status, headers: response.headers as unknown as Headers });
  } finally {
    await dispatcher.close();
  }
}

export async function request<T = any>(
  url: string,
  init: { method?: string; token?: string; body?: unknown; rawBody?: string; headers?: Record<string, string>; ca?: string | undefined } = {},
): Promise<JsonResponse<T>> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  let body: string | undefined;
  if (init.rawBody !== undefined) body = init.rawBody;
  else if (init.body !== undefined) body = JSON.stringify(init.body);
  if (body !== undefined) headers['content-type'] ??= 'application/json';
  const requestInit: RequestInit = { method: init.method ?? (body === undefined ? 'GET' : 'POST'), headers, ...(body !== undefined ? { body } : {}) };
  const response = init.ca ? await fetchTrusting(url, requestInit, init.ca) : await fetch(url, requestInit);
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // keep the text
  }
  return { status: response.status, body: parsed as T, headers: response.headers };
}

export interface Tokens {
  access_token: string;
  refresh_token: string;
  user: { id: string; email: string };
}

export async function login(platform: RunningPlatform): Promise<Tokens> {
  const response = await request<Tokens>(`${platform.urls.auth}/auth/login`, {
    body: { email: platform.env.STAGING_TEST_EMAIL, password: platform.env.STAGING_TEST_PASSWORD },
    ca: caOf(platform),
  });
  if (response.status !== 200) throw new Error(`login failed: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body;
}

export async function testAuth(platform: RunningPlatform, email: string): Promise<Tokens> {
  const response = await request<Tokens>(`${platform.urls.auth}/auth/e2e/test-auth`, {
    body: { email },
    headers: { 'x-e2e-bypass-key': platform.env.E2E_BYPASS_KEY ?? '' },
    ca: caOf(platform),
  });
  if (response.status !== 200) throw new Error(`test-auth failed: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body;
}

export function admin(platform: RunningPlatform, method: string, path: string, body?: unknown, token = platform.admin.token): Promise<JsonResponse> {
  return request(`${platform.admin.url}${path}`, { method, headers: token ? { 'x-platform-admin-token': token } : {}, ...(body !== undefined ? { body } : {}) });
}

export type Handshake =
  | { kind: 'open'; client: WsClient }
  | { kind: 'http'; status: number; body: string; headers: Record<string, unknown> };

function rawBytes(data: WebSocket.RawData): Buffer {
  return Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
}

/** Text frames as parsed JSON; what is not a JSON object with a string type is recorded as `__non_json__` / `__no_type__`. */
function parseTextFrame(text: string): Frame {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { type: '__non_json__', text: text.slice(0, 200), length: text.length };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return { type: '__non_json__', text: text.slice(0, 200), length: text.length };
  const object = parsed as Record<string, unknown>;
  return typeof object.type === 'string' ? (object as Frame) : { ...object, type: '__no_type__' };
}

/** A WebSocket connection that records every frame and its close, with bounded waits. */
export class WsClient {
  readonly socket: WebSocket;
  readonly frames: Frame[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private readonly listeners = new Set<() => void>();

  constructor(socket: WebSocket) {
    this.socket = socket;
    socket.on('message', (data, isBinary) => {
      this.frames.push(isBinary ? { type: '__binary__', bytes: rawBytes(data).length } : parseTextFrame(rawBytes(data).toString('utf8')));
      for (const listener of this.listeners) listener();
    });
    this.closed = new Promise((resolve) => socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  get protocol(): string {
    return this.socket.protocol;
  }

  send(message: unknown): void {
    this.socket.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** Resolves with the first recorded frame (from index `from`) that matches. */
  waitFor(predicate: (frame: Frame) => boolean, timeoutMs = 5000, what = 'frame', from = 0): Promise<Frame> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const found = this.frames.slice(from).find(predicate);
        if (!found) return false;
        clearTimeout(timer);
        this.listeners.delete(onFrame);
        resolve(found);
        return true;
      };
      const onFrame = (): void => {
        check();
      };
      const timer = setTimeout(() => {
        this.listeners.delete(onFrame);
        reject(new Error(`no ${what} within ${timeoutMs} ms; frames: ${JSON.stringify(this.frames.map((frame) => frame.type))}`));
      }, timeoutMs);
      if (!check()) this.listeners.add(onFrame);
    });
  }

  waitForType(type: string, timeoutMs = 5000, from = 0): Promise<Frame> {
    return this.waitFor((frame) => frame.type === type, timeoutMs, `"${type}" frame`, from);
  }

  close(): void {
    if (this.socket.readyState === WebSocket.OPEN || this.socket.readyState === WebSocket.CONNECTING) this.socket.terminate();
  }
}

export function connectWs(
  url: string,
  options: { protocols?: string[]; headers?: Record<string, string>; ca?: string | undefined } = {},
  onUpgradeHeaders?: (headers: Record<string, unknown>) => void,
): Promise<Handshake> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, options.protocols ?? [], { headers: options.headers ?? {}, ...(options.ca ? { ca: options.ca } : {}) });
    if (onUpgradeHeaders) socket.once('upgrade', (response) => onUpgradeHeaders(response.headers));
    // Record frames from the first byte: the server may send before our 'open' handler runs.
    const client = new WsClient(socket);
    socket.once('open', () => resolve({ kind: 'open', client }));
    socket.once('unexpected-response', (_request, response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ kind: 'http', status: response.statusCode ?? 0, body, headers: response.headers }));
      response.on('error', () => resolve({ kind: 'http', status: response.statusCode ?? 0, body, headers: response.headers }));
    });
    socket.once('error', (error) => reject(error));
  });
}

/** Opens an authenticated connection and waits for `connection_established`. */
export async function openSession(platform: RunningPlatform, token: string): Promise<WsClient> {
  const handshake = await connectWs(platform.urls.ws, { headers: { authorization: `Bearer ${token}` }, ca: caOf(platform) });
  if (handshake.kind !== 'open') throw new Error(`handshake failed with HTTP ${handshake.status}`);
  await handshake.client.waitForType('connection_established');
  return handshake.client;
}

export interface RunCapture {
  runId: string;
  events: Frame[];
  terminal: Frame;
}

export const TERMINAL = new Set(['agent_completed', 'agent_error']);

/** Sends one agent request and collects that run's events until its terminal event. */
export async function runAgent(client: WsClient, message: Record<string, unknown>, timeoutMs = 15_000): Promise<RunCapture> {
  const correlationId = `test-${Math.random().toString(36).slice(2)}`;
  const from = client.frames.length;
  client.send({ ...message, correlation_id: correlationId });
  const first = await client.waitFor((frame) => frame.correlation_id === correlationId && typeof frame.run_id === 'string', timeoutMs, 'first run event', from);
  const runId = String(first.run_id);
  const terminal = await client.waitFor((frame) => frame.run_id === runId && TERMINAL.has(frame.type), timeoutMs, 'terminal event', from);
  const events = client.frames.slice(from).filter((frame) => frame.run_id === runId);
  return { runId, events, terminal };
}

/** Switches a fault on through the admin endpoint, as the suite's fault matrix does. */
export async function faultOn(platform: RunningPlatform, name: string, params?: Record<string, unknown>): Promise<Record<string, unknown>> {
  const response = await admin(platform, 'PUT', `/faults/${name}`, params);
  if (response.status !== 200) throw new Error(`PUT /faults/${name}: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body.fault.params as Record<string, unknown>;
}

/** Clears a fault through the admin endpoint; fails unless it was active. */
export async function faultOff(platform: RunningPlatform, name: string): Promise<void> {
  const response = await admin(platform, 'DELETE', `/faults/${name}`);
  if (response.status !== 200 || response.body.cleared !== true) throw new Error(`DELETE /faults/${name}: ${response.status} ${JSON.stringify(response.body)}`);
}

/** An access token signed like the auth service's, with overridable claims and key. */
export async function mintToken(
  platform: RunningPlatform,
  options: { sub?: string; audience?: string; expiresIn?: number; secret?: string; tokenType?: string } = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ email: 'qa@stagecheck.local', permissions: ['read', 'write'], token_type: options.tokenType ?? 'access' })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(options.sub ?? 'user-qa')
    .setIssuer('netra-auth-service')
    .setAudience(options.audience ?? 'netra-platform')
    .setJti(crypto.randomUUID())
    .setIssuedAt(now - 60)
    .setExpirationTime(now + (options.expiresIn ?? 600))
    .sign(new TextEncoder().encode(options.secret ?? platform.env.STAGING_JWT_SECRET));
}

export interface SessionPlatform {
  platform: RunningPlatform;
  tokens: Tokens;
  client: WsClient;
}

/**
 * One platform per test file with a logged-in user and one open WebSocket session, handed to
 * `assign` once started; faults are cleared after every test, everything stopped after the file.
 */
export function sessionPlatformPerFile(assign: (shared: SessionPlatform) => void): void {
  let shared: SessionPlatform | undefined;
  beforeAll(async () => {
    const platform = await startTestPlatform();
    const tokens = await login(platform);
    shared = { platform, tokens, client: await openSession(platform, tokens.access_token) };
    assign(shared);
  });
  afterAll(async () => {
    shared?.client.close();
    await shared?.platform.stop();
  });
  afterEach(async () => {
    await shared?.platform.clearFaults();
  });
}

/**
 * /health/ready once both stores answer again, or the last answer at the bound. Clearing a fault
 * takes effect at once, but the platform's Redis client reconnects on its own (a backoff of up to
 * 0.5 s, then its handshake), which on a busy machine can outlast the ready check's 1 s PING
 * timeout: recovery is awaited, bounded, not assumed at once.
 */
export async function readyAgain(target: RunningPlatform, boundMs = 20_000): Promise<{ status: number; body: any }> {
  const deadline = Date.now() + boundMs;
  for (;;) {
    const answer = await request(`${target.urls.backend}/health/ready`);
    if ((answer.status === 200 && answer.body.redis_db === 'connected') || Date.now() > deadline) return answer;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
