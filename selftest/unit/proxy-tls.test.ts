/**
 * Real network setups at the transport level: a private CA given as STAGING_CA_FILE, an HTTP
 * CONNECT proxy (selftest/support/connect-proxy.ts, which counts its tunnels), refused certificates
 * said the same way by HTTP, WebSocket and the network-path walk, and redirects reported as
 * redirects. Everything runs on 127.0.0.1; loopback goes through the proxy only where a test sets
 * STAGECHECK_PROXY_LOOPBACK=1.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { CertificateFactory, SERVER_NAMES, WRONG_NAME, type Certificate } from '../../platform/tls/certificates.ts';
import { Budget } from '../../helpers/core/budgets.ts';
import { CheckError } from '../../helpers/core/errors.ts';
import { expectStatus } from '../../helpers/contract/http-checks.ts';
import { createHttpClient } from '../../helpers/transport/http.ts';
import { assertNetworkPath, checkNetworkPath } from '../../helpers/transport/network-path.ts';
import { connectWs, WsHandshakeError } from '../../helpers/transport/ws-handshake.ts';
import { startConnectProxy, type ConnectProxy } from '../support/connect-proxy.ts';

const DAY = 86_400_000;
const NETWORK_VARIABLES = ['STAGING_CA_FILE', 'HTTPS_PROXY', 'HTTP_PROXY', 'https_proxy', 'http_proxy', 'NO_PROXY', 'no_proxy', 'STAGECHECK_PROXY_LOOPBACK'];
const saved = Object.fromEntries(NETWORK_VARIABLES.map((name) => [name, process.env[name]]));

let dir: string;
let factory: CertificateFactory;
let good: Certificate;
let server: https.Server;
let base: string;

function setEnv(values: Record<string, string | undefined>): void {
  for (const name of NETWORK_VARIABLES) delete process.env[name];
  for (const [name, value] of Object.entries(values)) if (value !== undefined) process.env[name] = value;
}

function serve(cert: Certificate): void {
  server.setSecureContext({ key: cert.key, cert: cert.cert });
}

async function httpError(path = '/health'): Promise<CheckError> {
  const client = createHttpClient({ baseUrl: base, component: 'backend', defaultTimeoutMs: 10_000 });
  try {
    await client.request('GET', path);
  } catch (error) {
    return error as CheckError;
  } finally {
    await client.close();
  }
  throw new Error('the request succeeded');
}

async function wsError(): Promise<WsHandshakeError> {
  try {
    const session = await connectWs({ url: `${base.replace('https', 'wss')}/ws`, auth: { method: 'none' }, budget: new Budget('ws handshake', 10_000) });
    await session.close();
  } catch (error) {
    return error as WsHandshakeError;
  }
  throw new Error('the handshake succeeded');
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'stagecheck-proxy-tls-'));
  factory = new CertificateFactory(dir);
  await factory.createAuthority();
  good = await factory.issue({ names: SERVER_NAMES, notBefore: new Date(Date.now() - DAY), notAfter: new Date(Date.now() + 30 * DAY), label: 'good' });
  server = https.createServer({ key: good.key, cert: good.cert }, (request, response) => {
    if (request.url === '/moved') response.writeHead(301, { location: 'https://login.example.com/sso?token=abc' }).end();
    else response.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"healthy"}');
  });
  const wss = new WebSocketServer({ server, path: '/ws' });
  wss.on('connection', (socket) => socket.send(JSON.stringify({ type: 'connection_established', connection_id: 'c1', user_id: 'u1' })));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 60_000);

afterEach(() => {
  serve(good);
  setEnv(saved);
});

afterAll(async () => {
  setEnv(saved);
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

describe('STAGING_CA_FILE', () => {
  it('is trusted beside the system store by HTTP, WebSocket and the network-path walk', async () => {
    setEnv({ STAGING_CA_FILE: factory.ca.certFile });
    const client = createHttpClient({ baseUrl: base, component: 'backend', defaultTimeoutMs: 10_000 });
    expect((await client.request('GET', '/health')).status).toBe(200);
    await client.close();
    const session = await connectWs({ url: `${base.replace('https', 'wss')}/ws`, auth: { method: 'none' }, budget: new Budget('ws handshake', 10_000) });
    expect(session.connectionId).toBe('c1');
    await session.close();
    const path = await checkNetworkPath(base, { timeoutMs: 5_000, component: 'backend' });
    expect(path.layers.map((l) => `${l.layer}:${l.ok}`)).toEqual(['dns:true', 'tcp:true', 'tls:true', 'http-status:true']);
  });

  it('without it, the private CA is untrusted: one cause naming STAGING_CA_FILE, the same from every transport', async () => {
    setEnv({});
    const [http, ws] = [await httpError(), await wsError()];
    const path = await checkNetworkPath(base, { timeoutMs: 5_000, component: 'backend' });
    let walk: CheckError | undefined;
    try {
      assertNetworkPath(path);
    } catch (error) {
      walk = error as CheckError;
    }
    for (const error of [http, ws, walk!]) {
      expect(error).toBeInstanceOf(CheckError);
      expect(error.details).toMatchObject({ component: 'network', layer: 'tls', code: 'TLS_UNTRUSTED' });
    }
    expect(http.message).toMatch(/^TLS certificate of 127\.0\.0\.1:\d+ is not trusted by this runner \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\): .*set STAGING_CA_FILE/);
    expect(ws.message).toBe(http.message);
    expect(walk!.message).toBe(http.message);
  });
});

describe('certificate problems', () => {
  it('an expired certificate is TLS_EXPIRED with "renew", a certificate for another name TLS_WRONG_NAME naming the host', async () => {
    setEnv({ STAGING_CA_FILE: factory.ca.certFile });
    serve(await factory.issue({ names: SERVER_NAMES, notBefore: new Date(Date.now() - 10 * DAY), notAfter: new Date(Date.now() - DAY), label: 'expired' }));
    const expired = [await httpError(), await wsError()];
    for (const error of expired) expect(error.details).toMatchObject({ component: 'network', layer: 'tls', code: 'TLS_EXPIRED' });
    expect(expired[0]!.message).toMatch(/has expired \(CERT_HAS_EXPIRED\): renew the certificate of 127\.0\.0\.1/);
    const walk = await checkNetworkPath(base, { timeoutMs: 5_000, component: 'backend' });
    expect(() => assertNetworkPath(walk)).toThrow(expired[0]!.message);

    serve(await factory.issue({ names: { dns: [WRONG_NAME], ips: [] }, notBefore: new Date(Date.now() - DAY), notAfter: new Date(Date.now() + 30 * DAY), label: 'wrong' }));
    const wrong = [await httpError(), await wsError()];
    for (const error of wrong) expect(error.details).toMatchObject({ component: 'network', layer: 'tls', code: 'TLS_WRONG_NAME' });
    expect(wrong[0]!.message).toMatch(/is issued for another host name \(ERR_TLS_CERT_ALTNAME_INVALID\): issue it for 127\.0\.0\.1/);
    expect(wrong[1]!.message).toBe(wrong[0]!.message);
  });

  it('a trusted certificate expiring within 14 days passes the walk, DEGRADED with its date', async () => {
    setEnv({ STAGING_CA_FILE: factory.ca.certFile });
    const soon = await factory.issue({ names: SERVER_NAMES, notBefore: new Date(Date.now() - DAY), notAfter: new Date(Date.now() + 5 * DAY), label: 'soon' });
    serve(soon);
    const path = await checkNetworkPath(base, { timeoutMs: 5_000, component: 'backend' });
    expect(path.ok).toBe(true);
    expect(path.degraded).toEqual([expect.stringContaining(`expires on ${soon.notAfter.toISOString().slice(0, 10)}`)]);
  });
});

describe('HTTPS_PROXY', () => {
  let proxy: ConnectProxy;
  beforeAll(async () => {
    proxy = await startConnectProxy();
  });
  afterAll(() => proxy.close());

  it('leaves loopback targets direct unless STAGECHECK_PROXY_LOOPBACK=1', async () => {
    setEnv({ STAGING_CA_FILE: factory.ca.certFile, HTTPS_PROXY: proxy.url });
    const before = proxy.tunnels.length;
    const client = createHttpClient({ baseUrl: base, component: 'backend', defaultTimeoutMs: 10_000 });
    expect((await client.request('GET', '/health')).status).toBe(200);
    await client.close();
    expect(proxy.tunnels.length).toBe(before);
  });

  it('tunnels HTTP, the WebSocket and the network-path walk, which reports the proxy hop', async () => {
    setEnv({ STAGING_CA_FILE: factory.ca.certFile, HTTPS_PROXY: proxy.url, STAGECHECK_PROXY_LOOPBACK: '1' });
    const target = base.replace('https://', '');
    const before = proxy.tunnels.length;
    const client = createHttpClient({ baseUrl: base, component: 'backend', defaultTimeoutMs: 10_000 });
    const result = await client.request('GET', '/health');
    expect(result.status).toBe(200);
    expect(result.timings.tlsMs).toBeGreaterThan(0);
    await client.close();
    const session = await connectWs({ url: `${base.replace('https', 'wss')}/ws`, auth: { method: 'none' }, budget: new Budget('ws handshake', 10_000) });
    await session.close();
    const path = await checkNetworkPath(base, { timeoutMs: 5_000, component: 'backend' });
    expect(path.layers.map((l) => `${l.layer}:${l.ok}`)).toEqual(['dns:true', 'tcp:true', 'proxy:true', 'tls:true', 'http-status:true']);
    expect(path.layers.find((l) => l.layer === 'proxy')?.detail).toMatchObject({ connect: target, status: 200 });
    expect(path.proxy).toBe(`http://127.0.0.1:${proxy.port}/`);
    expect(proxy.tunnels.slice(before)).toEqual([target, target, target]);
  });

  it('a refused CONNECT fails at tcp with PROXY_<status>; the walk names the proxy hop', async () => {
    const refusing = await startConnectProxy({ refuseWith: 403 });
    try {
      setEnv({ STAGING_CA_FILE: factory.ca.certFile, HTTPS_PROXY: refusing.url, STAGECHECK_PROXY_LOOPBACK: '1' });
      const error = await httpError();
      expect(error.details).toMatchObject({ layer: 'tcp', code: 'PROXY_403' });
      expect(error.message).toContain(`proxy http://127.0.0.1:${refusing.port}: refused the tunnel`);
      expect((await wsError()).outcome).toMatchObject({ kind: 'network-error', code: 'PROXY_403' });
      const path = await checkNetworkPath(base, { timeoutMs: 5_000, component: 'backend' });
      expect(path.failedLayer).toBe('proxy');
      expect(() => assertNetworkPath(path)).toThrow(/fails at tcp \(PROXY_403\)/);
    } finally {
      await refusing.close();
    }
  });

  it('sends the proxy credentials of the URL, and never shows them', async () => {
    const guarded = await startConnectProxy({ credentials: { user: 'runner', password: 'pr0xy-s3cret' } });
    try {
      setEnv({ STAGING_CA_FILE: factory.ca.certFile, HTTPS_PROXY: guarded.url, STAGECHECK_PROXY_LOOPBACK: '1' });
      const client = createHttpClient({ baseUrl: base, component: 'backend', defaultTimeoutMs: 10_000 });
      expect((await client.request('GET', '/health')).status).toBe(200);
      await client.close();
      expect(guarded.tunnels).toHaveLength(1);
      setEnv({ STAGING_CA_FILE: factory.ca.certFile, HTTPS_PROXY: guarded.url.replace('pr0xy-s3cret', 'wrong'), STAGECHECK_PROXY_LOOPBACK: '1' });
      const error = await httpError();
      expect(error.details.code).toBe('PROXY_407');
      expect(JSON.stringify({ message: error.message, details: error.details })).not.toMatch(/pr0xy-s3cret|wrong@|runner:/);
    } finally {
      await guarded.close();
    }
  });
});

describe('redirects', () => {
  it('are reported as redirects with their status and Location, not as a status mismatch', async () => {
    setEnv({ STAGING_CA_FILE: factory.ca.certFile });
    const client = createHttpClient({ baseUrl: base, component: 'backend', defaultTimeoutMs: 10_000 });
    const result = await client.request('GET', '/moved');
    await client.close();
    expect(() => expectStatus(result, 200, 'GET /moved')).toThrow('GET /moved: expected HTTP 200, got a redirect: 301 to https://login.example.com/sso?token=[redacted]');
    try {
      expectStatus(result, 200, 'GET /moved');
    } catch (error) {
      expect((error as CheckError).details).toMatchObject({ layer: 'http-status', code: 'redirect', evidence: { status: 301, location: 'https://login.example.com/sso?token=[redacted]' } });
    }
    const path = await checkNetworkPath(base, { timeoutMs: 5_000, component: 'backend', path: '/moved', okStatus: (status) => status === 200 });
    expect(path.layers.at(-1)).toMatchObject({ layer: 'http-status', ok: false, code: 'redirect', detail: { status: 301, location: 'https://login.example.com/sso?token=[redacted]' } });
  });
});
