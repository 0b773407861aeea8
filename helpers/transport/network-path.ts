/**
 * Walk the network path to a URL one layer at a time and name the first layer that fails:
 *
 *   dns          dns.lookup of the host (skipped, ok, for an IP literal): ms, addresses
 *   tcp          TCP connect to the resolved addresses in order: ms, address used
 *   tls          https/wss only, on that socket: handshake ms, protocol, certificate subject, issuer,
 *                validTo, daysToExpiry, authorized / authorizationError
 *   http-status  GET <origin><path> (default `/health`) on that same connection: status, firstByteMs
 *
 * The walk stops at the first failing layer (an untrusted or expired certificate fails `tls`; no
 * HTTP is then sent). `checkNetworkPath` never throws for a target failure: it returns the report;
 * {@link assertNetworkPath} turns a failed report into a CheckError with that layer.
 *
 * Timeout scheme: each layer gets its own `timeoutMs` (so the worst case is about 4 × timeoutMs);
 * a layer that has not finished by then fails with DNS_TIMEOUT / CONNECT_TIMEOUT /
 * TLS_HANDSHAKE_TIMEOUT / HEADERS_TIMEOUT (core/network-errors.ts TIMEOUT_CODES, as every transport).
 *
 * `http-status` is ok when the status passes `okStatus` (default: 200–399). A certificate expiring
 * within `certWarnDays` (default 14) adds a warning without failing the layer.
 */
import dns from 'node:dns';
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import { CheckError, messageOf, type Component } from '../core/errors.ts';
import { errorCode, TIMEOUT_CODES } from '../core/network-errors.ts';
import { redactUrl } from '../core/redact.ts';

export type PathLayer = 'dns' | 'tcp' | 'tls' | 'http-status';

export interface PathLayerResult {
  layer: PathLayer;
  ok: boolean;
  ms: number;
  /** Failure code (ECONNREFUSED, ENOTFOUND, CONNECT_TIMEOUT, DEPTH_ZERO_SELF_SIGNED_CERT, 503, ...). */
  code?: string | number;
  /** Failure message (no secrets: the walk sends none). */
  error?: string;
  detail: Record<string, unknown>;
}

export interface PathReport {
  /** The URL checked, credentials and secret query values stripped. */
  url: string;
  component: Component;
  ok: boolean;
  failedLayer?: PathLayer;
  layers: PathLayerResult[];
  /** Non-failing concerns, e.g. a certificate close to expiry. */
  warnings: string[];
  /** Sum of the layer times. */
  totalMs: number;
}

export interface NetworkPathOptions {
  /** Budget for each layer, in ms. */
  timeoutMs: number;
  component: Component;
  /** Path for the HTTP layer (default `/health`). */
  path?: string;
  /** Which statuses make the HTTP layer ok (default 200–399). */
  okStatus?: (status: number) => boolean;
  /** Extra trusted CA(s) for the TLS layer (e.g. a private staging CA). */
  ca?: string | Buffer | Array<string | Buffer>;
  /** Warn when the certificate expires within this many days (default 14). */
  certWarnDays?: number;
}

const DEFAULT_PORTS: Record<string, number> = { 'http:': 80, 'ws:': 80, 'https:': 443, 'wss:': 443 };

interface Timed<T> {
  ok: boolean;
  value?: T;
  error?: unknown;
  timedOut: boolean;
  ms: number;
}

/**
 * Run a callback-style step with a deadline. `start` receives settle callbacks and returns a cleanup
 * function that is called when the deadline passes first.
 */
function timed<T>(timeoutMs: number, start: (resolve: (value: T) => void, reject: (error: unknown) => void) => () => void): Promise<Timed<T>> {
  const started = performance.now();
  return new Promise((settle) => {
    let done = false;
    let cleanup: () => void = () => {};
    const timer = setTimeout(() => {
      if (done) return;
      done = true;
      cleanup();
      settle({ ok: false, timedOut: true, ms: performance.now() - started });
    }, timeoutMs);
    cleanup = start(
      (value) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        settle({ ok: true, value, timedOut: false, ms: performance.now() - started });
      },
      (error) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        settle({ ok: false, error, timedOut: false, ms: performance.now() - started });
      },
    );
  });
}

function certName(name: unknown): string | undefined {
  if (name === null || typeof name !== 'object') return undefined;
  const record = name as Record<string, unknown>;
  const parts: string[] = [];
  for (const key of ['CN', 'O', 'OU']) {
    const value = record[key];
    if (typeof value === 'string') parts.push(`${key}=${value}`);
    else if (Array.isArray(value)) parts.push(`${key}=${value.join('+')}`);
  }
  return parts.length > 0 ? parts.join(', ') : undefined;
}

export async function checkNetworkPath(url: string, options: NetworkPathOptions): Promise<PathReport> {
  const parsed = new URL(url); // a malformed URL is a config error: TypeError, not a target failure
  const port = parsed.port !== '' ? Number(parsed.port) : DEFAULT_PORTS[parsed.protocol];
  if (port === undefined) throw new Error(`checkNetworkPath: unsupported protocol ${parsed.protocol} in ${redactUrl(url)}`);
  const secure = parsed.protocol === 'https:' || parsed.protocol === 'wss:';
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  const timeoutMs = options.timeoutMs;
  const report: PathReport = { url: redactUrl(url), component: options.component, ok: false, layers: [], warnings: [], totalMs: 0 };
  const sockets: net.Socket[] = [];

  const finish = (failed?: PathLayerResult): PathReport => {
    // Outermost first: destroying the TCP socket under a live TLS socket can crash Node 20.
    for (const socket of [...sockets].reverse()) socket.destroy();
    report.totalMs = report.layers.reduce((sum, layer) => sum + layer.ms, 0);
    report.ok = failed === undefined;
    if (failed !== undefined) report.failedLayer = failed.layer;
    return report;
  };
  const push = (result: PathLayerResult): PathLayerResult => {
    report.layers.push(result);
    return result;
  };

  // ---- DNS
  let addresses: Array<{ address: string; family: number }>;
  if (net.isIP(host) !== 0) {
    addresses = [{ address: host, family: net.isIP(host) }];
    push({ layer: 'dns', ok: true, ms: 0, detail: { skipped: 'IP literal', addresses: [host] } });
  } else {
    const lookup = await timed<dns.LookupAddress[]>(timeoutMs, (resolve, reject) => {
      dns.lookup(host, { all: true }, (error, found) => (error ? reject(error) : resolve(found)));
      return () => {}; // a lookup cannot be cancelled; its late answer is ignored
    });
    if (!lookup.ok || lookup.value === undefined || lookup.value.length === 0) {
      const code = lookup.timedOut ? TIMEOUT_CODES.dns : (errorCode(lookup.error) ?? 'ENOTFOUND');
      return finish(
        push({
          layer: 'dns',
          ok: false,
          ms: lookup.ms,
          code,
          error: lookup.timedOut ? `no DNS answer for ${host} within ${timeoutMs} ms` : `${host} does not resolve: ${messageOf(lookup.error)}`,
          detail: { host },
        }),
      );
    }
    addresses = lookup.value;
    push({ layer: 'dns', ok: true, ms: lookup.ms, detail: { host, addresses: addresses.map((a) => a.address) } });
  }

  // ---- TCP: the resolved addresses in order, within one layer budget
  const tcpStarted = performance.now();
  const attempts: Array<{ address: string; code?: string; ms: number }> = [];
  let socket: net.Socket | undefined;
  let lastError: { code: string; message: string } | undefined;
  for (const { address } of addresses) {
    const remaining = timeoutMs - (performance.now() - tcpStarted);
    if (remaining <= 0) break;
    const connect = await timed<net.Socket>(remaining, (resolve, reject) => {
      const candidate = net.connect({ host: address, port });
      sockets.push(candidate);
      candidate.once('connect', () => resolve(candidate));
      candidate.on('error', reject);
      return () => candidate.destroy();
    });
    if (connect.ok && connect.value !== undefined) {
      socket = connect.value;
      attempts.push({ address, ms: connect.ms });
      break;
    }
    const code = connect.timedOut ? TIMEOUT_CODES.tcp : (errorCode(connect.error) ?? 'ECONNERROR');
    attempts.push({ address, code, ms: connect.ms });
    lastError = {
      code,
      message: connect.timedOut ? `TCP connect to ${address}:${port} did not complete within ${timeoutMs} ms` : `TCP connect to ${address}:${port}: ${messageOf(connect.error)}`,
    };
  }
  const tcpMs = performance.now() - tcpStarted;
  if (socket === undefined) {
    const error = lastError ?? { code: TIMEOUT_CODES.tcp, message: `TCP connect to ${host}:${port} did not complete within ${timeoutMs} ms` };
    return finish(push({ layer: 'tcp', ok: false, ms: tcpMs, code: error.code, error: error.message, detail: { port, attempts } }));
  }
  const connectedTo = socket.remoteAddress ?? attempts[attempts.length - 1]?.address;
  push({ layer: 'tcp', ok: true, ms: attempts[attempts.length - 1]?.ms ?? tcpMs, detail: { address: connectedTo, port, attempts } });
  socket.on('error', () => {}); // later errors are reported by the layer that hits them

  // ---- TLS
  let channel: net.Socket = socket;
  if (secure) {
    const tcpSocket = socket;
    const handshake = await timed<tls.TLSSocket>(timeoutMs, (resolve, reject) => {
      const tlsSocket = tls.connect({
        socket: tcpSocket,
        host,
        servername: net.isIP(host) === 0 ? host : undefined,
        rejectUnauthorized: false, // judged below, so an untrusted certificate is reported, not thrown
        ca: options.ca,
        ALPNProtocols: ['http/1.1'],
      });
      sockets.push(tlsSocket);
      tlsSocket.once('secureConnect', () => resolve(tlsSocket));
      tlsSocket.on('error', reject);
      return () => tlsSocket.destroy();
    });
    if (!handshake.ok || handshake.value === undefined) {
      const code = handshake.timedOut ? TIMEOUT_CODES.tls : (errorCode(handshake.error) ?? 'TLS_ERROR');
      return finish(
        push({
          layer: 'tls',
          ok: false,
          ms: handshake.ms,
          code,
          error: handshake.timedOut ? `TLS handshake with ${host}:${port} did not complete within ${timeoutMs} ms` : `TLS handshake with ${host}:${port}: ${messageOf(handshake.error)}`,
          detail: {},
        }),
      );
    }
    const tlsSocket = handshake.value;
    tlsSocket.on('error', () => {});
    const cert = tlsSocket.getPeerCertificate();
    const validTo = cert.valid_to ? new Date(cert.valid_to) : undefined;
    const daysToExpiry = validTo !== undefined && !Number.isNaN(validTo.getTime()) ? (validTo.getTime() - Date.now()) / 86_400_000 : undefined;
    const authorizationError = tlsSocket.authorizationError === null || tlsSocket.authorizationError === undefined ? undefined : String(tlsSocket.authorizationError);
    const detail: Record<string, unknown> = {
      protocol: tlsSocket.getProtocol(),
      subject: certName(cert.subject),
      issuer: certName(cert.issuer),
      subjectAltName: cert.subjectaltname,
      validFrom: cert.valid_from,
      validTo: validTo?.toISOString(),
      daysToExpiry: daysToExpiry === undefined ? undefined : Math.round(daysToExpiry * 10) / 10,
      authorized: tlsSocket.authorized,
      authorizationError,
      fingerprint256: cert.fingerprint256,
    };
    const warnDays = options.certWarnDays ?? 14;
    if (daysToExpiry !== undefined && daysToExpiry >= 0 && daysToExpiry < warnDays) {
      report.warnings.push(`TLS certificate of ${host} expires in ${daysToExpiry.toFixed(1)} days (${validTo?.toISOString()})`);
    }
    if (!tlsSocket.authorized) {
      return finish(
        push({
          layer: 'tls',
          ok: false,
          ms: handshake.ms,
          code: authorizationError ?? 'UNAUTHORIZED',
          error: `certificate of ${host}:${port} is not trusted: ${authorizationError ?? 'unknown reason'}`,
          detail,
        }),
      );
    }
    push({ layer: 'tls', ok: true, ms: handshake.ms, detail });
    channel = tlsSocket;
  }

  // ---- HTTP on the same connection
  const path = options.path ?? '/health';
  const okStatus = options.okStatus ?? ((status: number) => status >= 200 && status < 400);
  const connection = channel;
  const response = await timed<http.IncomingMessage>(timeoutMs, (resolve, reject) => {
    const request = http.request({
      createConnection: () => connection,
      method: 'GET',
      host,
      port,
      path,
      headers: { host: parsed.host, connection: 'close', accept: 'application/json', 'user-agent': 'stagecheck-network-path' },
    });
    request.once('response', (res) => {
      res.resume();
      resolve(res);
    });
    request.on('error', reject);
    request.end();
    return () => request.destroy();
  });
  if (!response.ok || response.value === undefined) {
    const code = response.timedOut ? TIMEOUT_CODES.headers : (errorCode(response.error) ?? 'HTTP_ERROR');
    return finish(
      push({
        layer: 'http-status',
        ok: false,
        ms: response.ms,
        code,
        error: response.timedOut ? `GET ${path}: no response headers within ${timeoutMs} ms` : `GET ${path}: ${messageOf(response.error)}`,
        detail: { path },
      }),
    );
  }
  const status = response.value.statusCode ?? 0;
  const httpResult: PathLayerResult = {
    layer: 'http-status',
    ok: okStatus(status),
    ms: response.ms,
    detail: { path, status, firstByteMs: response.ms, contentType: response.value.headers['content-type'], server: response.value.headers.server },
  };
  if (!httpResult.ok) {
    httpResult.code = status;
    httpResult.error = `GET ${path} answered ${status}`;
  }
  push(httpResult);
  return finish(httpResult.ok ? undefined : httpResult);
}

/** Throws a CheckError naming the failed layer (with the whole walk as evidence); returns an ok report. */
export function assertNetworkPath(report: PathReport): PathReport {
  if (report.ok) return report;
  const failed = report.layers.find((layer) => !layer.ok);
  const layer = report.failedLayer ?? failed?.layer ?? 'tcp';
  const passed = report.layers.filter((l) => l.ok).map((l) => `${l.layer} ok ${l.ms.toFixed(0)} ms`);
  throw new CheckError(
    `network path to ${report.url} fails at ${layer}${failed?.code !== undefined ? ` (${failed.code})` : ''}: ${failed?.error ?? 'failed'}${passed.length > 0 ? ` [${passed.join(', ')}]` : ''}`,
    {
      component: report.component,
      layer,
      endpoint: report.url,
      code: failed?.code,
      elapsedMs: report.totalMs,
      evidence: { layers: report.layers, warnings: report.warnings },
    },
  );
}
