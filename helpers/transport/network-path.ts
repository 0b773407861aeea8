/**
 * Walk the network path to a URL one layer at a time and name the first layer that fails:
 *
 *   dns          dns.lookup of the host (skipped, ok, for an IP literal): ms, addresses
 *   tcp          TCP connect to the resolved addresses in order: ms, address used
 *   tls          https/wss only, on that socket: handshake ms, protocol, certificate subject, issuer,
 *                validTo, daysToExpiry, authorized / authorizationError
 *   http-status  GET <origin><path> (default `/health`) on that same connection: status, firstByteMs;
 *                an unexpected 3xx is code `redirect` with its Location
 *
 * Through a proxy (HTTPS_PROXY / HTTP_PROXY, not for NO_PROXY or loopback: core/network-env.ts) the
 * first hops are the proxy's: dns and tcp of the proxy, then `proxy` (the CONNECT answer), then tls
 * with the target over the tunnel (network-path-hops.ts). TLS trusts STAGING_CA_FILE beside the
 * system store. A refused certificate fails as core/tls-problems.ts says it (component network,
 * layer tls, TLS_UNTRUSTED / TLS_EXPIRED / TLS_WRONG_NAME, the fix named), as HTTP and WebSocket do.
 *
 * The walk stops at the first failing layer (an untrusted or expired certificate fails `tls`; no
 * HTTP is then sent). `checkNetworkPath` never throws for a target failure: it returns the report;
 * {@link assertNetworkPath} turns a failed report into a CheckError with that layer.
 *
 * Timeout scheme: each layer gets its own `timeoutMs` (so the worst case is about 4 × timeoutMs);
 * a layer that has not finished by then fails with DNS_TIMEOUT / CONNECT_TIMEOUT /
 * TLS_HANDSHAKE_TIMEOUT / HEADERS_TIMEOUT (core/network-errors.ts TIMEOUT_CODES, as every transport).
 *
 * `http-status` is ok when the status passes `okStatus` (default: 200–399). A trusted certificate
 * expiring within `certWarnDays` (default 14) does not fail the layer: it goes in `degraded`, naming
 * the date.
 */
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import { CheckError, messageOf, type Component } from '../core/errors.ts';
import { errorCode, TIMEOUT_CODES } from '../core/network-errors.ts';
import { processNetwork, proxyFor } from '../core/network-env.ts';
import { redactUrl } from '../core/redact.ts';
import { certProblemError, certProblemOf, CERT_WARN_DAYS, expiringCertificate } from '../core/tls-problems.ts';
import { connectAuthority } from './tunnel.ts';
import { timed, walkDirect, walkTunnel, type PathLayer, type PathLayerResult } from './network-path-hops.ts';

export type { PathLayer, PathLayerResult } from './network-path-hops.ts';

export interface PathReport {
  /** The URL checked, credentials and secret query values stripped. */
  url: string;
  component: Component;
  ok: boolean;
  failedLayer?: PathLayer;
  layers: PathLayerResult[];
  /** Non-failing concerns, e.g. a certificate close to expiry. */
  warnings: string[];
  /** Reasons the path works but is DEGRADED: a certificate expiring within `certWarnDays`, naming the date. */
  degraded: string[];
  /** The proxy the walk went through (no credentials), when one applies to this URL. */
  proxy?: string;
  /** Sum of the layer times. */
  totalMs: number;
}

export interface NetworkPathOptions {
  /** Budget for each layer, in ms. */
  timeoutMs: number;
  /**
   * Budget for the HTTP layer (default `timeoutMs`): a request may wait on the deployment's cold
   * start, which the contract allows (+3–4 s), where connecting may not.
   */
  httpTimeoutMs?: number;
  component: Component;
  /** Path for the HTTP layer (default `/health`). */
  path?: string;
  /** Which statuses make the HTTP layer ok (default 200–399). */
  okStatus?: (status: number) => boolean;
  /** Trusted CA(s) for the TLS layer (default: STAGING_CA_FILE beside the system store, else Node's default store). */
  ca?: string | Buffer | Array<string | Buffer>;
  /** The proxy to walk through; `null` for none (default: from the environment, core/network-env.ts). */
  proxy?: URL | null;
  /** Warn when the certificate expires within this many days (default 14). */
  certWarnDays?: number;
}

const DEFAULT_PORTS: Record<string, number> = { 'http:': 80, 'ws:': 80, 'https:': 443, 'wss:': 443 };

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
  const report: PathReport = { url: redactUrl(url), component: options.component, ok: false, layers: [], warnings: [], degraded: [], totalMs: 0 };
  const network = processNetwork();
  const ca = options.ca ?? network.ca;
  const proxy = options.proxy === undefined ? proxyFor(parsed, network.proxy) : (options.proxy ?? undefined);
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

  let socket: net.Socket | undefined;
  if (proxy) {
    // ---- Through the proxy: DNS of the proxy, TCP to it, CONNECT to the target
    report.proxy = redactUrl(proxy.href);
    const tunnelled = await walkTunnel(proxy, host, port, timeoutMs, push);
    if (!tunnelled) return finish(report.layers.at(-1));
    sockets.push(tunnelled);
    socket = tunnelled;
  } else {
    const direct = await walkDirect(host, port, timeoutMs, push, sockets);
    if (!direct) return finish(report.layers.at(-1));
    socket = direct;
  }
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
        ca,
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
    const expiring = expiringCertificate(connectAuthority(host, port), validTo, Date.now(), options.certWarnDays ?? CERT_WARN_DAYS);
    if (expiring) {
      report.warnings.push(expiring);
      if (tlsSocket.authorized) report.degraded.push(expiring);
    }
    if (!tlsSocket.authorized) {
      return finish(
        push({
          layer: 'tls',
          ok: false,
          ms: handshake.ms,
          code: authorizationError ?? 'UNAUTHORIZED',
          error: `certificate of ${host}:${port} is not trusted: ${authorizationError ?? 'unknown reason'}`,
          detail: { ...detail, hostPort: connectAuthority(host, port) },
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
  const httpTimeoutMs = options.httpTimeoutMs ?? timeoutMs;
  // A tunnel arrives paused (transport/tunnel.ts): TLS resumes it, plain HTTP must, or its answer is never read.
  if (!secure) connection.resume();
  const response = await timed<http.IncomingMessage>(httpTimeoutMs, (resolve, reject) => {
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
        error: response.timedOut ? `GET ${path}: no response headers within ${httpTimeoutMs} ms` : `GET ${path}: ${messageOf(response.error)}`,
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
  if (!httpResult.ok && status >= 300 && status < 400) {
    // Reported as what it is, with where it points; the walk never follows it.
    const location = response.value.headers.location;
    httpResult.code = 'redirect';
    httpResult.detail.location = location === undefined ? undefined : redactUrl(location);
    httpResult.error = `GET ${path} answered a redirect: ${status} to ${httpResult.detail.location ?? '(no Location header)'}`;
  } else if (!httpResult.ok) {
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
  const cert = failed?.layer === 'tls' ? certProblemOf(String(failed.code)) : undefined;
  if (failed && cert) {
    // The same cause, in the same words, as the HTTP and WebSocket clients give it.
    throw certProblemError({
      problem: cert,
      hostPort: String(failed.detail.hostPort ?? report.url),
      nodeCode: String(failed.code),
      endpoint: report.url,
      elapsedMs: report.totalMs,
      evidence: { certificate: failed.detail, layers: report.layers, proxy: report.proxy },
    });
  }
  // The proxy's refusal is a connection that could not be made.
  const walked = report.failedLayer ?? failed?.layer ?? 'tcp';
  const layer = walked === 'proxy' ? 'tcp' : walked;
  const passed = report.layers.filter((l) => l.ok).map((l) => `${l.layer} ok ${l.ms.toFixed(0)} ms`);
  throw new CheckError(
    `network path to ${report.url} fails at ${layer}${failed?.code !== undefined ? ` (${failed.code})` : ''}: ${failed?.error ?? 'failed'}${passed.length > 0 ? ` [${passed.join(', ')}]` : ''}`,
    {
      component: report.component,
      layer,
      endpoint: report.url,
      code: failed?.code,
      elapsedMs: report.totalMs,
      evidence: { layers: report.layers, warnings: report.warnings, ...(report.proxy ? { proxy: report.proxy } : {}) },
    },
  );
}
