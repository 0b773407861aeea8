/**
 * A TCP proxy that adds latency the way a distant staging does, for the benchmark's
 * "staging-like" scenario: every client→server chunk is held for `delayMs` before it is
 * forwarded; server→client bytes pass at once. So each HTTP request, each WebSocket upgrade
 * and each client WebSocket frame reaches the server `delayMs` later (one exchange = +delayMs),
 * while a TCP connect to the proxy itself is as fast as loopback.
 *
 * Chunks keep their order (timers of equal duration fire in creation order) and so does a
 * client's FIN: it is forwarded `delayMs` after the client sent it, behind its data.
 *
 *   npx tsx bench/delay-proxy.ts --delay-ms 50 --target 127.0.0.1:8080 [--target host:port ...]
 *
 * prints one JSON line `{"ready":true,"delayMs":50,"proxies":[{"target":"127.0.0.1:8080","port":N}]}`
 * and runs until SIGINT/SIGTERM (or until its parent process dies).
 */
import net from 'node:net';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';

export interface DelayProxyOptions {
  targetHost: string;
  targetPort: number;
  /** Hold each client→server chunk this long (ms). */
  delayMs: number;
  listenHost?: string;
}

export interface DelayProxy {
  port: number;
  target: string;
  /** Connections accepted and client→server chunks delayed so far. */
  stats: { connections: number; chunks: number };
  close(): Promise<void>;
}

export async function startDelayProxy(options: DelayProxyOptions): Promise<DelayProxy> {
  const { targetHost, targetPort, delayMs } = options;
  const sockets = new Set<net.Socket>();
  const stats = { connections: 0, chunks: 0 };

  const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (client) => {
    stats.connections += 1;
    const upstream = net.connect({ host: targetHost, port: targetPort, allowHalfOpen: true, noDelay: true });
    sockets.add(client);
    sockets.add(upstream);
    let clientEnded = false;
    const forwardEnd = (): void => {
      if (clientEnded) return;
      clientEnded = true;
      setTimeout(() => {
        if (!upstream.destroyed) upstream.end();
      }, delayMs);
    };

    client.on('data', (chunk: Buffer) => {
      stats.chunks += 1;
      setTimeout(() => {
        if (!upstream.destroyed) upstream.write(chunk);
      }, delayMs);
    });
    client.on('end', forwardEnd);
    // A client that vanishes: what it already sent still arrives (as on a real network), then FIN.
    client.on('close', forwardEnd);
    client.on('error', () => undefined);

    upstream.on('data', (chunk: Buffer) => {
      if (!client.destroyed) client.write(chunk);
    });
    upstream.on('end', () => {
      if (!client.destroyed) client.end();
    });
    upstream.on('error', () => client.destroy());
    upstream.on('close', () => {
      sockets.delete(upstream);
      if (!client.destroyed) client.end();
    });
    client.on('close', () => {
      sockets.delete(client);
      // Never keep an upstream connection longer than its pending chunks need.
      setTimeout(() => upstream.destroy(), delayMs + 5_000).unref();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, options.listenHost ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as net.AddressInfo;
  return {
    port: address.port,
    target: `${targetHost}:${targetPort}`,
    stats,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

function parseTarget(text: string): { host: string; port: number } {
  const match = /^(.+):(\d+)$/.exec(text);
  if (!match) throw new Error(`--target must be host:port, got "${text}"`);
  return { host: match[1]!, port: Number(match[2]) };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { 'delay-ms': { type: 'string', default: '50' }, target: { type: 'string', multiple: true } },
    strict: true,
  });
  const delayMs = Number(values['delay-ms']);
  if (!Number.isFinite(delayMs) || delayMs < 0) throw new Error('--delay-ms must be a non-negative number');
  const targets = (values.target ?? []).map(parseTarget);
  if (targets.length === 0) throw new Error('give at least one --target host:port');
  const proxies = await Promise.all(targets.map((t) => startDelayProxy({ targetHost: t.host, targetPort: t.port, delayMs })));
  process.stdout.write(`${JSON.stringify({ ready: true, delayMs, proxies: proxies.map((p) => ({ target: p.target, port: p.port })) })}\n`);
  const stop = (): void => {
    void Promise.all(proxies.map((p) => p.close())).then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  // Stop with the parent (the benchmark) instead of lingering as an orphan.
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) stop();
  }, 1_000).unref();
  // Keep running: the listening servers hold the event loop.
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    process.stderr.write(`delay-proxy: ${(error as Error).message}\n`);
    process.exit(2);
  });
}
