import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckError } from '../../helpers/core/errors.ts';
import { assertNetworkPath, checkNetworkPath, type PathReport } from '../../helpers/transport/network-path.ts';
import { closeServer, listen } from '../support/net.ts';



const sockets = new Set<net.Socket>();
function track(socket: net.Socket): void {
  sockets.add(socket);
  socket.on('close', () => sockets.delete(socket));
  socket.on('error', () => {});
}

function handler(req: http.IncomingMessage, res: http.ServerResponse): void {
  if (req.url === '/health') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"status":"healthy"}');
  } else if (req.url === '/starting') {
    res.writeHead(503, { 'content-type': 'application/json' });
    res.end('{"status":"unhealthy"}');
  } else {
    res.writeHead(404);
    res.end();
  }
}

let certDir: string;
let cert: string;
let web: http.Server;
let webPort: number;
let silent: net.Server;
let silentPort: number;
let secure: https.Server;
let securePort: number;
let refusedPort: number;

/** Per-layer timeout: generous, so only the tests about a silent listener (which pass 500 ms) time out. */
const opts = { timeoutMs: 10_000, component: 'backend' as const };

function layerNames(report: PathReport): string[] {
  return report.layers.map((l) => `${l.layer}:${l.ok ? 'ok' : 'fail'}`);
}

beforeAll(async () => {
  certDir = mkdtempSync(join(tmpdir(), 'stagecheck-path-'));
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', join(certDir, 'key.pem'), '-out', join(certDir, 'cert.pem'),
    '-days', '10', '-subj', '/CN=127.0.0.1/O=Stagecheck Test', '-addext', 'subjectAltName=IP:127.0.0.1',
  ], { stdio: 'ignore' });
  cert = readFileSync(join(certDir, 'cert.pem'), 'utf8');
  const key = readFileSync(join(certDir, 'key.pem'), 'utf8');

  web = http.createServer(handler);
  web.on('connection', track);
  webPort = await listen(web);
  silent = net.createServer(track);
  silentPort = await listen(silent);
  secure = https.createServer({ cert, key }, handler);
  secure.on('connection', track);
  securePort = await listen(secure);
  const released = net.createServer();
  refusedPort = await listen(released);
  await closeServer(released);
});

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await Promise.all([web, silent, secure].map((s) => (s ? closeServer(s) : undefined)));
  rmSync(certDir, { recursive: true, force: true });
});

describe('checkNetworkPath over plain HTTP', () => {
  it('walks dns (skipped for an IP literal), tcp and http and reports ok', async () => {
    const report = await checkNetworkPath(`http://127.0.0.1:${webPort}/api`, opts);
    expect(report.ok).toBe(true);
    expect(report.failedLayer).toBeUndefined();
    expect(layerNames(report)).toEqual(['dns:ok', 'tcp:ok', 'http-status:ok']);
    expect(report.layers[0]?.detail).toMatchObject({ skipped: 'IP literal', addresses: ['127.0.0.1'] });
    expect(report.layers[1]?.detail).toMatchObject({ address: '127.0.0.1', port: webPort });
    expect(report.layers[2]?.detail).toMatchObject({ path: '/health', status: 200 });
    expect(report.layers[2]?.detail.firstByteMs).toBeGreaterThan(0);
    expect(assertNetworkPath(report)).toBe(report);
  });

  it('resolves a host name and reports the addresses (ws URL maps to http)', async () => {
    const report = await checkNetworkPath(`ws://localhost:${webPort}/ws`, opts);
    expect(report.ok).toBe(true);
    expect(report.layers[0]?.layer).toBe('dns');
    expect(report.layers[0]?.detail.addresses).toContain('127.0.0.1');
  });

  it('fails at dns for a name under .invalid', async () => {
    const report = await checkNetworkPath('https://nohost.invalid/health', opts);
    expect(report.ok).toBe(false);
    expect(report.failedLayer).toBe('dns');
    expect(layerNames(report)).toEqual(['dns:fail']);
    expect(['ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME', 'EAI_FAIL']).toContain(report.layers[0]?.code);
  });

  it('fails at tcp with ECONNREFUSED for a port that refuses', async () => {
    const report = await checkNetworkPath(`http://127.0.0.1:${refusedPort}`, opts);
    expect(report.failedLayer).toBe('tcp');
    expect(report.layers[1]).toMatchObject({ layer: 'tcp', ok: false, code: 'ECONNREFUSED' });
  });

  it('fails at http-status with HEADERS_TIMEOUT, within the timeout, for a listener that never answers', async () => {
    const started = performance.now();
    const report = await checkNetworkPath(`http://127.0.0.1:${silentPort}`, { ...opts, timeoutMs: 500 });
    const elapsed = performance.now() - started;
    expect(layerNames(report)).toEqual(['dns:ok', 'tcp:ok', 'http-status:fail']);
    expect(report.layers[2]).toMatchObject({ code: 'HEADERS_TIMEOUT' });
    expect(elapsed).toBeGreaterThanOrEqual(490);
    expect(elapsed, 'ended by the 500 ms timeout, not by waiting on the silent listener').toBeLessThan(10_000);
  });

  it('fails at http-status with the status for a 503, and honours a custom path and okStatus', async () => {
    const starting = await checkNetworkPath(`http://127.0.0.1:${webPort}`, { ...opts, path: '/starting' });
    expect(starting.failedLayer).toBe('http-status');
    expect(starting.layers[2]).toMatchObject({ code: 503, detail: { status: 503, path: '/starting' } });
    const tolerant = await checkNetworkPath(`http://127.0.0.1:${webPort}`, { ...opts, path: '/starting', okStatus: (s) => s === 503 });
    expect(tolerant.ok).toBe(true);
  });
});

describe('checkNetworkPath over TLS', () => {
  it('reports an untrusted self-signed certificate at tls with its details, without throwing', async () => {
    const report = await checkNetworkPath(`https://127.0.0.1:${securePort}`, opts);
    expect(report.failedLayer).toBe('tls');
    expect(layerNames(report)).toEqual(['dns:ok', 'tcp:ok', 'tls:fail']);
    const tlsLayer = report.layers[2];
    expect(tlsLayer?.code).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
    expect(tlsLayer?.detail).toMatchObject({ authorized: false, authorizationError: 'DEPTH_ZERO_SELF_SIGNED_CERT', subject: 'CN=127.0.0.1, O=Stagecheck Test' });
  });

  it('passes with the CA trusted: handshake ms, protocol, issuer and days to expiry of about 10', async () => {
    const report = await checkNetworkPath(`wss://127.0.0.1:${securePort}/ws`, { ...opts, ca: cert });
    expect(report.ok).toBe(true);
    expect(layerNames(report)).toEqual(['dns:ok', 'tcp:ok', 'tls:ok', 'http-status:ok']);
    const detail = report.layers[2]?.detail ?? {};
    expect(report.layers[2]?.ms).toBeGreaterThan(0);
    expect(detail.authorized).toBe(true);
    expect(detail.protocol).toMatch(/^TLSv1\.[23]$/);
    expect(detail.issuer).toBe('CN=127.0.0.1, O=Stagecheck Test');
    expect(detail.daysToExpiry as number).toBeGreaterThan(9.5);
    expect(detail.daysToExpiry as number).toBeLessThanOrEqual(10.1);
    expect(typeof detail.validTo).toBe('string');
    expect(report.warnings).toHaveLength(1);
    expect(report.degraded).toEqual(report.warnings);
    expect(report.warnings[0]).toMatch(/expires on \d{4}-\d\d-\d\d \(in (9\.\d|10\.0) days, under 14\)/);
    const quiet = await checkNetworkPath(`https://127.0.0.1:${securePort}`, { ...opts, ca: cert, certWarnDays: 5 });
    expect(quiet.warnings).toEqual([]);
  });

  it('fails at tls with TLS_HANDSHAKE_TIMEOUT for a listener that never answers the handshake', async () => {
    const report = await checkNetworkPath(`https://127.0.0.1:${silentPort}`, { ...opts, timeoutMs: 500 });
    expect(report.failedLayer).toBe('tls');
    expect(report.layers[2]).toMatchObject({ layer: 'tls', ok: false, code: 'TLS_HANDSHAKE_TIMEOUT' });
  });

  it('fails at tls when the server speaks plain HTTP', async () => {
    const report = await checkNetworkPath(`https://127.0.0.1:${webPort}`, opts);
    expect(report.failedLayer).toBe('tls');
    expect(String(report.layers[2]?.code)).toMatch(/SSL|TLS|EPROTO|ECONNRESET/);
  });
});

describe('assertNetworkPath', () => {
  it('throws a CheckError with the failed layer, code, component and the walk as evidence', async () => {
    const report = await checkNetworkPath(`http://user:pw@127.0.0.1:${refusedPort}/x?token=t`, { ...opts, component: 'auth' });
    let error: CheckError | undefined;
    try {
      assertNetworkPath(report);
    } catch (e) {
      error = e as CheckError;
    }
    expect(error).toBeInstanceOf(CheckError);
    expect(error?.details).toMatchObject({ component: 'auth', layer: 'tcp', code: 'ECONNREFUSED' });
    expect(error?.details.endpoint).toBe(`http://127.0.0.1:${refusedPort}/x?token=[redacted]`);
    expect((error?.details.evidence?.layers as unknown[]).length).toBe(2);
    expect(error?.message).toContain('fails at tcp');
    expect(JSON.stringify(error?.details)).not.toContain('pw@');
  });

  it('rejects a malformed URL as a harness error, not a CheckError', async () => {
    const error = await checkNetworkPath('not a url', opts).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
  });
});
