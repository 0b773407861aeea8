/**
 * An HTTP CONNECT tunnel through a proxy (helpers/core/network-env.ts decides when one is used):
 * DNS of the proxy, TCP to it, `CONNECT host:port`, and its answer. On a 2xx the socket is a
 * byte pipe to the target, on which the caller runs TLS (https/wss) or plain HTTP. Used by the
 * HTTP client's connector, the WebSocket handshake and the network-path walk alike.
 *
 * Failures are {@link TunnelError}s naming the hop: `dns` (the proxy's name), `tcp` (connecting
 * to the proxy) or `proxy` (the CONNECT was refused or not answered), with a code:
 * ENOTFOUND / ECONNREFUSED / ... as the system gives them, DNS_TIMEOUT / CONNECT_TIMEOUT for a
 * hop that ran out of time, PROXY_<status> (e.g. PROXY_407, PROXY_502) for a refused CONNECT,
 * PROXY_CONNECT_TIMEOUT for no answer, PROXY_PROTOCOL for an answer that is not HTTP. Proxy
 * credentials (user:password@ in the proxy URL) go in Proxy-Authorization and never in a message.
 */
import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { errorCode, TIMEOUT_CODES } from '../core/network-errors.ts';
import { redactUrl } from '../core/redact.ts';

export type TunnelHop = 'dns' | 'tcp' | 'proxy';

export interface TunnelTimings {
  /** Lookup of the proxy's name (0 for an IP literal). */
  dnsMs: number;
  /** TCP connect to the proxy. */
  connectMs: number;
  /** CONNECT sent → the proxy's answer. */
  tunnelMs: number;
}

export interface Tunnel {
  socket: net.Socket;
  /** The proxy's answer to CONNECT (2xx). */
  status: number;
  /** The proxy URL without credentials. */
  proxy: string;
  /** The address of the proxy connected to. */
  proxyAddress: string;
  timings: TunnelTimings;
}

export class TunnelError extends Error {
  readonly hop: TunnelHop;
  readonly code: string;
  readonly status?: number;
  readonly proxy: string;
  readonly timings: Partial<TunnelTimings>;

  constructor(message: string, fields: { hop: TunnelHop; code: string; status?: number; proxy: string; timings: Partial<TunnelTimings> }, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'TunnelError';
    this.hop = fields.hop;
    this.code = fields.code;
    this.status = fields.status;
    this.proxy = fields.proxy;
    this.timings = fields.timings;
  }
}

export interface TunnelOptions {
  /** Covers the whole tunnel: proxy DNS, TCP and the CONNECT answer. */
  timeoutMs: number;
  signal?: AbortSignal;
  /** Told when the tunnel enters a hop (for timing and for naming the phase stuck at a deadline). */
  onHop?: (hop: TunnelHop) => void;
}

const MAX_ANSWER_BYTES = 16 * 1024;

/** `host:port` as CONNECT names it (IPv6 in brackets). */
export function connectAuthority(host: string, port: number): string {
  const bare = host.replace(/^\[|\]$/g, '');
  return `${net.isIPv6(bare) ? `[${bare}]` : bare}:${port}`;
}

function proxyAuthorization(proxy: URL): string | undefined {
  if (!proxy.username && !proxy.password) return undefined;
  const user = decodeURIComponent(proxy.username);
  const password = decodeURIComponent(proxy.password);
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

/** Opens a CONNECT tunnel to `host:port` through `proxy`. */
export function openTunnel(proxy: URL, host: string, port: number, options: TunnelOptions): Promise<Tunnel> {
  const shown = redactUrl(proxy.href).replace(/\/$/, '');
  const proxyHost = proxy.hostname.replace(/^\[|\]$/g, '');
  const proxyPort = Number(proxy.port || 80);
  const authority = connectAuthority(host, port);
  const timings: Partial<TunnelTimings> = {};
  let hop: TunnelHop = 'dns';
  const enter = (next: TunnelHop): void => {
    hop = next;
    options.onHop?.(next);
  };

  return new Promise<Tunnel>((resolve, reject) => {
    let socket: net.Socket | undefined;
    let settled = false;
    let hopStarted = performance.now();
    const finish = (error: TunnelError | undefined, tunnel?: Tunnel): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      if (error) {
        socket?.destroy();
        reject(error);
      } else resolve(tunnel!);
    };
    const fail = (code: string, message: string, cause?: unknown, status?: number): void =>
      finish(new TunnelError(`proxy ${shown}: ${message}`, { hop, code, status, proxy: shown, timings: { ...timings } }, cause));
    const timer = setTimeout(() => {
      const code = hop === 'dns' ? TIMEOUT_CODES.dns : hop === 'tcp' ? TIMEOUT_CODES.tcp : 'PROXY_CONNECT_TIMEOUT';
      const what = hop === 'dns' ? `no DNS answer for the proxy ${proxyHost}` : hop === 'tcp' ? 'TCP connect to the proxy did not complete' : `no answer to CONNECT ${authority}`;
      fail(code, `${what} within ${options.timeoutMs} ms`);
    }, options.timeoutMs);
    const onAbort = (): void => fail('ABORTED', `tunnel to ${authority} aborted`, options.signal?.reason);
    options.signal?.addEventListener('abort', onAbort, { once: true });

    const connect = (address: string): void => {
      enter('tcp');
      hopStarted = performance.now();
      const candidate = net.connect({ host: address, port: proxyPort });
      socket = candidate;
      candidate.on('error', (error) => fail(errorCode(error) ?? 'ECONNERROR', `${hop === 'tcp' ? `TCP connect to the proxy ${address}:${proxyPort}` : `CONNECT ${authority}`}: ${error.message}`, error));
      candidate.once('close', () => fail(hop === 'proxy' ? 'PROXY_CLOSED' : 'ECONNRESET', `the proxy closed the connection before answering CONNECT ${authority}`));
      candidate.once('connect', () => {
        timings.connectMs = performance.now() - hopStarted;
        enter('proxy');
        hopStarted = performance.now();
        const headers = [`CONNECT ${authority} HTTP/1.1`, `Host: ${authority}`];
        const credentials = proxyAuthorization(proxy);
        if (credentials) headers.push(`Proxy-Authorization: ${credentials}`);
        candidate.write(`${headers.join('\r\n')}\r\n\r\n`);
        let buffered = Buffer.alloc(0);
        const onData = (chunk: Buffer): void => {
          buffered = Buffer.concat([buffered, chunk]);
          const end = buffered.indexOf('\r\n\r\n');
          if (end < 0) {
            if (buffered.length > MAX_ANSWER_BYTES) fail('PROXY_PROTOCOL', `the answer to CONNECT ${authority} has no end of headers within ${MAX_ANSWER_BYTES} bytes`);
            return;
          }
          // Paused until the caller reads (TLS or HTTP on the tunnel): nothing may be dropped.
          candidate.pause();
          candidate.off('data', onData);
          timings.tunnelMs = performance.now() - hopStarted;
          const statusLine = buffered.subarray(0, buffered.indexOf('\r\n')).toString('latin1');
          const match = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(statusLine);
          if (!match) return fail('PROXY_PROTOCOL', `the answer to CONNECT ${authority} is not HTTP: ${JSON.stringify(statusLine.slice(0, 80))}`);
          const status = Number(match[1]);
          if (status < 200 || status >= 300) return fail(`PROXY_${status}`, `refused the tunnel to ${authority}: CONNECT answered ${status}${match[2] ? ` ${match[2]}` : ''}`, undefined, status);
          const rest = buffered.subarray(end + 4);
          if (rest.length > 0) candidate.unshift(rest);
          candidate.removeAllListeners('close');
          candidate.removeAllListeners('error');
          finish(undefined, {
            socket: candidate,
            status,
            proxy: shown,
            proxyAddress: `${address}:${proxyPort}`,
            timings: { dnsMs: timings.dnsMs ?? 0, connectMs: timings.connectMs ?? 0, tunnelMs: timings.tunnelMs },
          });
        };
        candidate.on('data', onData);
      });
    };

    enter('dns');
    if (net.isIP(proxyHost) !== 0) {
      timings.dnsMs = 0;
      connect(proxyHost);
    } else {
      dns.lookup(proxyHost, (error, address) => {
        if (settled) return;
        timings.dnsMs = performance.now() - hopStarted;
        if (error) return fail(errorCode(error) ?? 'ENOTFOUND', `the proxy's name ${proxyHost} does not resolve: ${error.message}`, error);
        connect(address);
      });
    }
  });
}

/**
 * A Node HTTP agent whose every connection is a CONNECT tunnel through `proxy` (TLS to the
 * target on top for https/wss, with the request's `ca` and server name): what the WebSocket
 * client (ws `agent` option) uses behind a proxy.
 */
export function tunnelAgent(proxy: URL, options: { timeoutMs: number; secure: boolean }): http.Agent {
  // The agent's protocol must be the request's (https.request refuses an http.Agent).
  const agent = options.secure ? new https.Agent({ keepAlive: false }) : new http.Agent({ keepAlive: false });
  type Callback = (error: Error | null, socket?: net.Socket) => void;
  (agent as unknown as { createConnection: (o: tls.ConnectionOptions & net.TcpNetConnectOpts & { secureEndpoint?: boolean; protocol?: string }, cb: Callback) => undefined }).createConnection = (connectOptions, callback) => {
    const host = String(connectOptions.host ?? 'localhost');
    const secure = options.secure;
    const port = Number(connectOptions.port) || (secure ? 443 : 80);
    openTunnel(proxy, host, port, { timeoutMs: options.timeoutMs }).then(
      (tunnel) => {
        if (!secure) {
          // The tunnel arrives paused (nothing dropped before its reader): plain HTTP must resume it, TLS does on its own.
          tunnel.socket.resume();
          return callback(null, tunnel.socket);
        }
        const bare = host.replace(/^\[|\]$/g, '');
        const socket = tls.connect({
          ...connectOptions,
          socket: tunnel.socket,
          servername: connectOptions.servername ?? (net.isIP(bare) === 0 ? bare : undefined),
        });
        callback(null, socket);
      },
      (error: Error) => callback(error),
    );
    return undefined;
  };
  return agent;
}
