/**
 * Connection timing for the HTTP client (helpers/transport/http.ts): a custom undici connector that
 * times DNS (custom lookup), TCP connect and the TLS handshake of every new socket, a
 * diagnostics_channel hook that tells which socket each request was written to, and the phase a
 * request stuck at its deadline was in. New connections trust STAGING_CA_FILE beside the system
 * store and go through the configured proxy (a CONNECT tunnel, helpers/transport/tunnel.ts) unless
 * NO_PROXY or loopback says otherwise (helpers/core/network-env.ts).
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import dns from 'node:dns';
import type { ConnectionOptions } from 'node:tls';
import type { buildConnector as BuildConnector } from 'undici';
import { buildConnector } from './undici-parts.ts';
import { TIMEOUT_CODES } from '../core/network-errors.ts';
import { processNetwork, proxyFor } from '../core/network-env.ts';
import { redactUrl } from '../core/redact.ts';
import { openTunnel, type TunnelError } from './tunnel.ts';

/** Extra TLS options for new connections (e.g. a private CA for staging). */
export type ConnectTls = Pick<ConnectionOptions, 'ca' | 'rejectUnauthorized' | 'servername'>;


export type ConnPhase = 'dns' | 'tcp' | 'tls' | 'done';

export interface ConnTiming {
  origin: string;
  secure: boolean;
  startedAt: number;
  lookupStartedAt?: number;
  lookupEndedAt?: number;
  tcpAt?: number;
  secureAt?: number;
  phase: ConnPhase;
  /** Requests already written on this socket. */
  requests: number;
  /** The proxy the connection was tunnelled through (no credentials). */
  proxy?: string;
}

const socketTimings = new WeakMap<object, ConnTiming>();
export const PHASE = Symbol('stagecheck.connectPhase');

export interface RequestCtx {
  request?: object;
  socket?: object;
  conn?: ConnTiming;
  reused?: boolean;
  sentAt?: number;
}

let creatingCtx: RequestCtx | undefined;

/**
 * Runs `dispatch` (one undici dispatch, which publishes `undici:request:create` synchronously)
 * with `ctx` as the context the request being created belongs to.
 */
export function dispatchWithCtx<T>(ctx: RequestCtx, dispatch: () => T): T {
  creatingCtx = ctx;
  try {
    return dispatch();
  } finally {
    creatingCtx = undefined;
  }
}
const requestCtx = new WeakMap<object, RequestCtx>();
let channelsInstalled = false;

export function installChannels(): void {
  if (channelsInstalled) return;
  channelsInstalled = true;
  // Published synchronously inside dispatch(), so `creatingCtx` is the call being dispatched.
  diagnosticsChannel.subscribe('undici:request:create', (message) => {
    const { request } = message as { request: object };
    if (creatingCtx !== undefined && creatingCtx.request === undefined) {
      creatingCtx.request = request;
      requestCtx.set(request, creatingCtx);
    }
  });
  diagnosticsChannel.subscribe('undici:client:sendHeaders', (message) => {
    const { request, socket } = message as { request: object; socket: object };
    const ctx = requestCtx.get(request);
    if (ctx === undefined) return;
    ctx.socket = socket;
    ctx.sentAt = performance.now();
    const conn = socketTimings.get(socket);
    if (conn !== undefined) {
      ctx.conn = conn;
      ctx.reused = conn.requests > 0;
      conn.requests += 1;
    }
  });
}

type LookupCallback = (err: NodeJS.ErrnoException | null, ...rest: unknown[]) => void;

export function timedConnector(
  base: { timeout: number; tls?: ConnectTls },
  inFlight: Set<ConnTiming>,
): BuildConnector.connector {
  return (options, callback) => {
    const secure = options.protocol === 'https:';
    const timing: ConnTiming = {
      origin: `${options.protocol}//${options.hostname}:${options.port}`,
      secure,
      startedAt: performance.now(),
      phase: 'tcp',
      requests: 0,
    };
    inFlight.add(timing);
    const lookup = (hostname: string, lookupOptions: object, cb: LookupCallback): void => {
      timing.lookupStartedAt = performance.now();
      timing.phase = 'dns';
      dns.lookup(hostname, lookupOptions as dns.LookupAllOptions, ((err: NodeJS.ErrnoException | null, ...rest: unknown[]) => {
        timing.lookupEndedAt = performance.now();
        if (!err) timing.phase = 'tcp';
        cb(err, ...rest);
      }) as never);
    };
    const done = (err: Error | null, socket: unknown): void => {
      inFlight.delete(timing);
      if (err) {
        if (typeof err === 'object') (err as unknown as Record<symbol, unknown>)[PHASE] = timing.phase;
        callback(err, null);
        return;
      }
      const now = performance.now();
      if (timing.tcpAt === undefined) timing.tcpAt = now;
      if (secure && timing.secureAt === undefined) timing.secureAt = now;
      timing.phase = 'done';
      socketTimings.set(socket as object, timing);
      callback(null, socket as Parameters<BuildConnector.Callback>[1] & object);
    };
    const network = processNetwork();
    // With STAGING_CA_FILE: the system store, NODE_EXTRA_CA_CERTS and the file (core/network-env.ts).
    const tlsOptions = { ...(base.tls ?? {}), ...(base.tls?.ca === undefined && network.ca ? { ca: network.ca } : {}) };
    // One connector per connection so the lookup closure belongs to this socket. (TLS session
    // resumption across connections is deliberately off: each handshake is measured in full.)
    const connector = buildConnector({ ...tlsOptions, timeout: base.timeout, lookup, maxCachedSessions: 0 } as BuildConnector.BuildOptions) as unknown as (
      o: BuildConnector.Options & { httpSocket?: unknown },
      cb: BuildConnector.Callback,
    ) => unknown;
    const watch = (maybeSocket: unknown, tunnelled: boolean): void => {
      if (maybeSocket === null || typeof maybeSocket !== 'object' || !('once' in maybeSocket)) return;
      const socket = maybeSocket as NodeJS.EventEmitter;
      if (!tunnelled) {
        socket.once('connect', () => {
          timing.tcpAt = performance.now();
          if (secure) timing.phase = 'tls';
        });
      }
      if (secure) socket.once('secureConnect', () => (timing.secureAt = performance.now()));
    };

    const port = Number(options.port) || (secure ? 443 : 80);
    const proxy = proxyFor(new URL(`${options.protocol}//${options.host || options.hostname}`), network.proxy);
    if (proxy === undefined) {
      watch(connector(options, (err, socket) => done(err, socket)), false);
      return;
    }
    // Through the proxy: DNS and TCP are the proxy's, the CONNECT answer counts as connecting,
    // then TLS runs end to end with the target over the tunnel.
    timing.proxy = redactUrl(proxy.href);
    timing.lookupStartedAt = performance.now();
    timing.phase = 'dns';
    openTunnel(proxy, options.hostname, port, {
      timeoutMs: base.timeout,
      onHop: (hop) => {
        if (hop !== 'dns' && timing.lookupEndedAt === undefined) timing.lookupEndedAt = performance.now();
        if (hop !== 'dns') timing.phase = 'tcp';
      },
    }).then(
      (tunnel) => {
        timing.tcpAt = performance.now();
        if (!secure) return done(null, tunnel.socket);
        timing.phase = 'tls';
        watch(connector({ ...options, httpSocket: tunnel.socket }, (err, socket) => done(err, socket)), true);
      },
      (error: TunnelError) => {
        timing.phase = error.hop === 'dns' ? 'dns' : 'tcp';
        done(error, null);
      },
    );
  };
}

export function connDurations(conn: ConnTiming | undefined): { dnsMs: number; connectMs: number; tlsMs: number } {
  if (conn === undefined) return { dnsMs: 0, connectMs: 0, tlsMs: 0 };
  const dnsMs = conn.lookupStartedAt !== undefined && conn.lookupEndedAt !== undefined ? conn.lookupEndedAt - conn.lookupStartedAt : 0;
  const tcpStart = conn.lookupEndedAt ?? conn.startedAt;
  const connectMs = conn.tcpAt !== undefined ? Math.max(0, conn.tcpAt - tcpStart) : 0;
  const tlsMs = conn.secure && conn.secureAt !== undefined && conn.tcpAt !== undefined ? Math.max(0, conn.secureAt - conn.tcpAt) : 0;
  return { dnsMs, connectMs, tlsMs };
}


export function timeoutCodeForPhase(phase: ConnPhase | 'headers' | 'body'): { layer: 'dns' | 'tcp' | 'tls' | 'http-status'; code: string; stuck: string } {
  switch (phase) {
    case 'dns':
      return { layer: 'dns', code: TIMEOUT_CODES.dns, stuck: 'DNS lookup did not answer' };
    case 'tcp':
      return { layer: 'tcp', code: TIMEOUT_CODES.tcp, stuck: 'TCP connect did not complete' };
    case 'tls':
      return { layer: 'tls', code: TIMEOUT_CODES.tls, stuck: 'TLS handshake did not complete' };
    case 'done':
    case 'headers':
      return { layer: 'http-status', code: TIMEOUT_CODES.headers, stuck: 'no response headers arrived' };
    case 'body':
      return { layer: 'http-status', code: TIMEOUT_CODES.body, stuck: 'response body did not complete' };
  }
}
