/**
 * The hops of the network-path walk (helpers/transport/network-path.ts) up to a connected
 * socket: directly (DNS of the target, TCP to its addresses in order), or through the configured
 * proxy (DNS of the proxy, TCP to it, the CONNECT answer as the `proxy` layer). Each hop is one
 * layer of the report with its own budget.
 */
import dns from 'node:dns';
import net from 'node:net';
import { messageOf } from '../core/errors.ts';
import { errorCode, TIMEOUT_CODES } from '../core/network-errors.ts';
import { redactUrl } from '../core/redact.ts';
import { connectAuthority, openTunnel, TunnelError } from './tunnel.ts';

/** `proxy`: the CONNECT through the configured proxy (its answer), between TCP to the proxy and TLS to the target. */
export type PathLayer = 'dns' | 'tcp' | 'proxy' | 'tls' | 'http-status';

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

export interface Timed<T> {
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
export function timed<T>(timeoutMs: number, start: (resolve: (value: T) => void, reject: (error: unknown) => void) => () => void): Promise<Timed<T>> {
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

export type Push = (result: PathLayerResult) => PathLayerResult;

/** DNS of the target, then TCP to its addresses in order, within one layer budget. */
export async function walkDirect(host: string, port: number, timeoutMs: number, push: Push, sockets: net.Socket[]): Promise<net.Socket | undefined> {
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
      push({
          layer: 'dns',
          ok: false,
          ms: lookup.ms,
          code,
          error: lookup.timedOut ? `no DNS answer for ${host} within ${timeoutMs} ms` : `${host} does not resolve: ${messageOf(lookup.error)}`,
          detail: { host },
        });
      return undefined;
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
    push({ layer: 'tcp', ok: false, ms: tcpMs, code: error.code, error: error.message, detail: { port, attempts } });
    return undefined;
  }
  const connectedTo = socket.remoteAddress ?? attempts[attempts.length - 1]?.address;
  push({ layer: 'tcp', ok: true, ms: attempts[attempts.length - 1]?.ms ?? tcpMs, detail: { address: connectedTo, port, attempts } });
  return socket;

}

/** The proxy hop as layers: DNS of the proxy, TCP to it, then `proxy` (the CONNECT answer). */
export async function walkTunnel(proxy: URL, host: string, port: number, timeoutMs: number, push: Push): Promise<net.Socket | undefined> {
  const proxyHost = proxy.hostname.replace(/^\[|\]$/g, '');
  const shown = redactUrl(proxy.href).replace(/\/$/, '');
  const target = connectAuthority(host, port);
  try {
    // One budget per hop, as for a direct walk.
    const tunnel = await openTunnel(proxy, host, port, { timeoutMs: 3 * timeoutMs });
    push({ layer: 'dns', ok: true, ms: tunnel.timings.dnsMs, detail: { proxy: shown, host: proxyHost, ...(net.isIP(proxyHost) ? { skipped: 'IP literal' } : {}) } });
    push({ layer: 'tcp', ok: true, ms: tunnel.timings.connectMs, detail: { proxy: shown, address: tunnel.proxyAddress } });
    push({ layer: 'proxy', ok: true, ms: tunnel.timings.tunnelMs, detail: { proxy: shown, connect: target, status: tunnel.status } });
    return tunnel.socket;
  } catch (error) {
    if (!(error instanceof TunnelError)) throw error;
    const t = error.timings;
    if (error.hop !== 'dns') push({ layer: 'dns', ok: true, ms: t.dnsMs ?? 0, detail: { proxy: shown, host: proxyHost } });
    if (error.hop === 'proxy') push({ layer: 'tcp', ok: true, ms: t.connectMs ?? 0, detail: { proxy: shown } });
    const ms = error.hop === 'dns' ? (t.dnsMs ?? timeoutMs) : error.hop === 'tcp' ? (t.connectMs ?? timeoutMs) : (t.tunnelMs ?? timeoutMs);
    push({ layer: error.hop, ok: false, ms, code: error.code, error: error.message, detail: { proxy: shown, connect: target, ...(error.status !== undefined ? { status: error.status } : {}) } });
    return undefined;
  }
}
