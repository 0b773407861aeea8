import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { CheckError } from '../../helpers/core/errors.ts';
import { createHttpClient, type HttpClient } from '../../helpers/transport/http.ts';
import { expectJsonBody, expectStatus } from '../../helpers/contract/http-checks.ts';
import { checkErrorOf, closeServer, listen, refusedPort } from '../support/net.ts';

const JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJlMmUtdW5pdCJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ';





const sockets = new Set<net.Socket>();
function track(socket: net.Socket): void {
  sockets.add(socket);
  socket.on('close', () => sockets.delete(socket));
  socket.on('error', () => {});
}

let certDir: string;
let cert: string;
let key: string;
let api: http.Server;
let apiPort: number;
let silent: net.Server;
let silentPort: number;
let closer: net.Server;
let closerPort: number;
let garbage: net.Server;
let garbagePort: number;
let tlsServer: https.Server;
let tlsPort: number;
const clients: HttpClient[] = [];
const seenAuth: string[] = [];

function client(baseUrl: string, extra: Partial<Parameters<typeof createHttpClient>[0]> = {}): HttpClient {
  // A generous default: only the tests about deadlines set short ones, and then on purpose.
  const c = createHttpClient({ baseUrl, component: 'backend', defaultTimeoutMs: 10_000, ...extra });
  clients.push(c);
  return c;
}

function handler(req: http.IncomingMessage, res: http.ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://x');
  if (req.headers.authorization) seenAuth.push(req.headers.authorization);
  switch (url.pathname) {
    case '/health':
      res.writeHead(200, { 'content-type': 'application/json', 'x-correlation-id': 'corr-123' });
      res.end(JSON.stringify({ status: 'healthy', service: 'backend', version: 'v1' }));
      return;
    case '/body-corr':
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ok: true, correlation_id: 'corr-body' }));
      return;
    case '/missing':
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ detail: 'not found', access_token: JWT }));
      return;
    case '/slow-first-byte':
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('late');
      }, 300);
      return;
    case '/stall-body':
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"partial":');
      return; // never ends
    case '/not-json':
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html>oops</html>');
      return;
    case '/unavailable-html':
      res.writeHead(503, { 'content-type': 'text/html' });
      res.end('<html>503 Service Unavailable</html>');
      return;
    case '/thread':
      res.writeHead(201, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: 't1', title: 'x', created_at: '2026-01-01T00:00:00Z', user_id: 42 }));
      return;
    case '/echo': {
      let data = '';
      req.on('data', (chunk: Buffer) => (data += chunk.toString()));
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ method: req.method, contentType: req.headers['content-type'] ?? null, body: data }));
      });
      return;
    }
    default:
      res.writeHead(404);
      res.end();
  }
}

beforeAll(async () => {
  certDir = mkdtempSync(join(tmpdir(), 'stagecheck-http-'));
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', join(certDir, 'key.pem'), '-out', join(certDir, 'cert.pem'),
    '-days', '10', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
  ], { stdio: 'ignore' });
  cert = readFileSync(join(certDir, 'cert.pem'), 'utf8');
  key = readFileSync(join(certDir, 'key.pem'), 'utf8');

  api = http.createServer(handler);
  api.on('connection', track);
  apiPort = await listen(api);

  silent = net.createServer(track); // accepts, never answers
  silentPort = await listen(silent);

  closer = net.createServer((socket) => {
    track(socket);
    socket.once('data', () => socket.end()); // reads the request, closes without a response
  });
  closerPort = await listen(closer);

  garbage = net.createServer((socket) => {
    track(socket);
    socket.once('data', () => socket.end('SSH-2.0-OpenSSH_9.6\r\n\r\n'));
  });
  garbagePort = await listen(garbage);

  tlsServer = https.createServer({ cert, key }, handler);
  tlsServer.on('connection', track);
  tlsPort = await listen(tlsServer);
});

afterAll(async () => {
  // Server side first: a client's close() waits for its connection attempts, and a handshake with
  // the silent listener only ends when that listener drops it (or at the client's 30 s connect timeout).
  for (const socket of sockets) socket.destroy();
  await Promise.all(clients.map((c) => c.close().catch(() => {})));
  await Promise.all([api, silent, closer, garbage, tlsServer].map((s) => (s ? closeServer(s) : undefined)));
  rmSync(certDir, { recursive: true, force: true });
});

describe('HttpClient.request: successful answers', () => {
  it('returns status, parsed JSON, headers, header correlation id and a redacted URL', async () => {
    const result = await client(`http://user:pw@127.0.0.1:${apiPort}`).request('GET', '/health?token=abc');
    expect(result.status).toBe(200);
    expect(result.json).toEqual({ status: 'healthy', service: 'backend', version: 'v1' });
    expect(result.headers['content-type']).toBe('application/json');
    expect(result.correlationId).toBe('corr-123');
    expect(result.url).toBe(`http://127.0.0.1:${apiPort}/health?token=[redacted]`);
    expect(result.method).toBe('GET');
    expect(result.component).toBe('backend');
  });

  it('reads the correlation id from the body when there is no header', async () => {
    const result = await client(`http://127.0.0.1:${apiPort}`).request('GET', '/body-corr');
    expect(result.correlationId).toBe('corr-body');
  });

  it('measures a new connection, then reports the kept-alive one as reused with zero connection phases', async () => {
    const c = client(`http://127.0.0.1:${apiPort}`);
    const first = await c.request('GET', '/health');
    expect(first.timings.reusedConnection).toBe(false);
    expect(first.timings.dnsMs).toBe(0); // IP literal: no lookup
    expect(first.timings.connectMs).toBeGreaterThan(0);
    expect(first.timings.tlsMs).toBe(0);
    expect(first.timings.firstByteMs).toBeGreaterThanOrEqual(first.timings.connectMs);
    expect(first.timings.totalMs).toBeGreaterThanOrEqual(first.timings.firstByteMs);
    const second = await c.request('GET', '/health');
    expect(second.timings).toMatchObject({ reusedConnection: true, dnsMs: 0, connectMs: 0, tlsMs: 0 });
    expect(second.timings.totalMs).toBeGreaterThan(0);
  });

  it('times the DNS lookup of a host name', async () => {
    const result = await client(`http://localhost:${apiPort}`).request('GET', '/health');
    expect(result.status).toBe(200);
    expect(result.timings.reusedConnection).toBe(false);
    expect(result.timings.dnsMs).toBeGreaterThan(0);
  });

  it('measures a slow first byte', async () => {
    const result = await client(`http://127.0.0.1:${apiPort}`).request('GET', '/slow-first-byte');
    expect(result.body).toBe('late');
    expect(result.json).toBeUndefined();
    expect(result.timings.firstByteMs).toBeGreaterThanOrEqual(290);
    expect(result.timings.waitMs).toBeGreaterThanOrEqual(290);
  });

  it('sends JSON bodies with a content type and bearer tokens from getToken or the auth option', async () => {
    const c = client(`http://127.0.0.1:${apiPort}`, { getToken: async () => 'from-getter' });
    const posted = await c.request('POST', '/echo', { body: { title: 'x' }, auth: true });
    expect(posted.json).toEqual({ method: 'POST', contentType: 'application/json', body: '{"title":"x"}' });
    await c.request('GET', '/health', { auth: 'explicit-token' });
    await c.request('GET', '/health');
    expect(seenAuth.slice(-2)).toEqual(['Bearer from-getter', 'Bearer explicit-token']);
  });

  it('fails as a harness error when auth is requested without a token source', async () => {
    const error = await client(`http://127.0.0.1:${apiPort}`).request('GET', '/health', { auth: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(CheckError);
  });
});

describe('HttpClient.request: status is the caller’s to judge', () => {
  it('does not throw for a 404; expectStatus does, with layer http-status, the code and redacted evidence', async () => {
    const c = client(`http://127.0.0.1:${apiPort}`);
    const result = await c.request('GET', '/missing', { auth: 'secret-token-value' });
    expect(result.status).toBe(404);
    expect(expectStatus(await c.request('GET', '/health'), [200, 204], 'GET /health').status).toBe(200);
    let error: CheckError | undefined;
    try {
      expectStatus(result, 200, 'GET /missing', 'websocket');
    } catch (e) {
      error = e as CheckError;
    }
    expect(error).toBeInstanceOf(CheckError);
    expect(error?.details).toMatchObject({ component: 'websocket', layer: 'http-status', code: 404 });
    expect(error?.details.endpoint).toBe(`GET http://127.0.0.1:${apiPort}/missing`);
    expect(error?.details.evidence).toMatchObject({ status: 404, expected: [200] });
    const evidence = JSON.stringify(error?.details);
    expect(evidence).toContain('not found');
    expect(evidence).not.toContain(JWT);
    expect(evidence).toContain('timings');
    expect(error?.message).toBe('GET /missing: expected HTTP 200, got 404');
  });

  it('defaults the component of expectStatus to the client component', async () => {
    const c = createHttpClient({ baseUrl: `http://127.0.0.1:${apiPort}`, component: 'auth', defaultTimeoutMs: 2000 });
    clients.push(c);
    const result = await c.request('GET', '/missing');
    expect(() => expectStatus(result, 200, 'x')).toThrow(expect.objectContaining({ details: expect.objectContaining({ component: 'auth' }) }));
  });
});

describe('HttpClient.request: content', () => {
  it('throws layer content INVALID_JSON when expectJson and a 2xx body is not JSON', async () => {
    const error = await checkErrorOf(client(`http://127.0.0.1:${apiPort}`).request('GET', '/not-json', { expectJson: true }));
    expect(error.details).toMatchObject({ component: 'backend', layer: 'content', code: 'INVALID_JSON' });
    expect(error.details.evidence).toMatchObject({ status: 200, contentType: 'text/html' });
  });

  it('leaves a non-2xx non-JSON body to expectStatus', async () => {
    const result = await client(`http://127.0.0.1:${apiPort}`).request('GET', '/unavailable-html', { expectJson: true });
    expect(result.status).toBe(503);
    expect(result.json).toBeUndefined();
  });

  it('expectJsonBody returns the parsed body or names the first bad field', async () => {
    const c = client(`http://127.0.0.1:${apiPort}`);
    const result = await c.request('POST', '/thread', { body: { title: 'x' } });
    const loose = z.object({ id: z.string(), title: z.string() });
    expect(expectJsonBody(result, loose, 'POST /api/threads')).toEqual({ id: 't1', title: 'x' });
    const strict = z.object({ id: z.string(), title: z.string(), created_at: z.string(), user_id: z.string() });
    let error: CheckError | undefined;
    try {
      expectJsonBody(result, strict, 'POST /api/threads');
    } catch (e) {
      error = e as CheckError;
    }
    expect(error?.details).toMatchObject({ layer: 'content', code: 'SCHEMA_MISMATCH', component: 'backend' });
    expect(error?.details.evidence?.field).toBe('user_id');
    expect(error?.message).toContain('`user_id`');
    const html = await c.request('GET', '/not-json');
    expect(() => expectJsonBody(html, loose, 'GET /not-json')).toThrow(expect.objectContaining({ details: expect.objectContaining({ layer: 'content', code: 'INVALID_JSON' }) }));
  });
});

describe('HttpClient.request: transport failures by layer', () => {
  it('reports a refused port at layer tcp with ECONNREFUSED', async () => {
    const port = await refusedPort();
    const error = await checkErrorOf(client(`http://127.0.0.1:${port}`).request('GET', '/health'));
    expect(error.details).toMatchObject({ component: 'backend', layer: 'tcp', code: 'ECONNREFUSED' });
    expect(error.details.endpoint).toBe(`GET http://127.0.0.1:${port}/health`);
  });

  it('reports an unresolvable name at layer dns', async () => {
    const error = await checkErrorOf(client('http://nohost.invalid').request('GET', '/health'));
    expect(error.details.layer).toBe('dns');
    expect(['ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME', 'EAI_FAIL']).toContain(error.details.code);
  });

  it('reports a server that accepts and never answers as http-status HEADERS_TIMEOUT within the deadline', async () => {
    // The client's own default (and connect timeout) is 30 s: only the request's 400 ms can end it early.
    const started = performance.now();
    const error = await checkErrorOf(client(`http://127.0.0.1:${silentPort}`, { defaultTimeoutMs: 30_000 }).request('GET', '/health', { timeoutMs: 400 }));
    const elapsed = performance.now() - started;
    expect(error.details).toMatchObject({ layer: 'http-status', code: 'HEADERS_TIMEOUT' });
    expect(error.details.evidence?.timeoutMs, 'the per-request deadline decided').toBe(400);
    expect(elapsed).toBeGreaterThanOrEqual(390);
    expect(elapsed, 'far below the 30 s default it rules out').toBeLessThan(10_000);
    expect(error.details.elapsedMs).toBeGreaterThanOrEqual(390);
  });

  it('bounds a request by its class of endpoint when it gives no deadline of its own (timeoutFor)', async () => {
    const byClass = (path: string) => (path === '/health' ? 400 : 30_000);
    const started = performance.now();
    const error = await checkErrorOf(client(`http://127.0.0.1:${silentPort}`, { defaultTimeoutMs: 30_000, timeoutFor: byClass }).request('GET', '/health'));
    expect(error.details).toMatchObject({ layer: 'http-status', code: 'HEADERS_TIMEOUT' });
    expect(error.details.evidence?.timeoutMs, "the health class's deadline decided").toBe(400);
    expect(performance.now() - started, 'far below the 30 s of the other classes').toBeLessThan(10_000);
  });

  it('reports a body that stops mid-way as http-status BODY_TIMEOUT', async () => {
    const error = await checkErrorOf(client(`http://127.0.0.1:${apiPort}`).request('GET', '/stall-body', { timeoutMs: 300 }));
    expect(error.details).toMatchObject({ layer: 'http-status', code: 'BODY_TIMEOUT' });
  });

  it('reports a connection closed without a response at layer tcp SOCKET_CLOSED', async () => {
    const error = await checkErrorOf(client(`http://127.0.0.1:${closerPort}`).request('GET', '/health'));
    expect(error.details).toMatchObject({ layer: 'tcp', code: 'SOCKET_CLOSED' });
  });

  it('reports a non-HTTP answer at layer protocol with the parser code', async () => {
    const error = await checkErrorOf(client(`http://127.0.0.1:${garbagePort}`).request('GET', '/health'));
    expect(error.details.layer).toBe('protocol');
    expect(String(error.details.code)).toMatch(/^(HPE_|HTTP_PARSE_ERROR$)/);
  });
});

describe('HttpClient.request over TLS', () => {
  it('reports an untrusted self-signed certificate at layer tls as TLS_UNTRUSTED, with the OpenSSL code', async () => {
    const error = await checkErrorOf(client(`https://127.0.0.1:${tlsPort}`).request('GET', '/health'));
    expect(error.details).toMatchObject({ component: 'network', layer: 'tls', code: 'TLS_UNTRUSTED', evidence: { nodeCode: 'DEPTH_ZERO_SELF_SIGNED_CERT' } });
    expect(error.message).toContain('(DEPTH_ZERO_SELF_SIGNED_CERT): if the deployment uses a private or self-signed CA, set STAGING_CA_FILE');
  });

  it('measures the TLS handshake with a trusted CA, then reuses the connection', async () => {
    const c = client(`https://127.0.0.1:${tlsPort}`, { tls: { ca: cert } });
    const first = await c.request('GET', '/health');
    expect(first.status).toBe(200);
    expect(first.timings.reusedConnection).toBe(false);
    expect(first.timings.tlsMs).toBeGreaterThan(0);
    expect(first.timings.connectMs).toBeGreaterThan(0);
    const second = await c.request('GET', '/health');
    expect(second.timings).toMatchObject({ reusedConnection: true, tlsMs: 0, connectMs: 0 });
  });

  it('reports a listener that never completes the handshake as tls TLS_HANDSHAKE_TIMEOUT', async () => {
    const started = performance.now();
    const c = client(`https://127.0.0.1:${silentPort}`, { defaultTimeoutMs: 30_000 });
    const error = await checkErrorOf(c.request('GET', '/health', { timeoutMs: 400 }));
    expect(error.details).toMatchObject({ layer: 'tls', code: 'TLS_HANDSHAKE_TIMEOUT' });
    // The per-request deadline (400 ms), not the 30 s connect timeout, decides.
    expect(error.details.evidence?.timeoutMs).toBe(400);
    expect(performance.now() - started).toBeLessThan(10_000);
  });

  it('names the handshake phase when the connect timeout fires first', async () => {
    const c = client(`https://127.0.0.1:${silentPort}`, { connectTimeoutMs: 300 });
    const error = await checkErrorOf(c.request('GET', '/health', { timeoutMs: 30_000 }));
    expect(error.details).toMatchObject({ layer: 'tls', code: 'TLS_HANDSHAKE_TIMEOUT' });
    // The connector's timeout, not the request's 30 s deadline (which would carry its timeoutMs).
    expect(error.details.evidence?.timeoutMs).toBeUndefined();
    expect(error.details.elapsedMs).toBeLessThan(10_000);
  });
});
