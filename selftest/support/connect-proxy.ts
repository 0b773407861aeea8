/**
 * A tiny HTTP CONNECT proxy on 127.0.0.1 for the project's own tests: it opens the tunnels it is
 * asked for and counts them, so a test can tell that the suite went through it (and to where).
 * It can refuse every CONNECT with a status, or ask for Basic credentials (407 without them).
 * Plain (non-CONNECT) requests are answered 405: the suite only ever tunnels.
 */
import http from 'node:http';
import net from 'node:net';

export interface ConnectProxy {
  /** `http://127.0.0.1:<port>` (with `user:password@` when credentials are required). */
  url: string;
  port: number;
  /** `host:port` of every tunnel opened, in order. */
  readonly tunnels: string[];
  /** CONNECTs refused (by `refuseWith`, or 407 for missing credentials). */
  readonly refused: string[];
  close(): Promise<void>;
}

export interface ConnectProxyOptions {
  /** Answer every CONNECT with this status instead of opening a tunnel. */
  refuseWith?: number;
  /** Require `Proxy-Authorization: Basic` with these credentials. */
  credentials?: { user: string; password: string };
}

export async function startConnectProxy(options: ConnectProxyOptions = {}): Promise<ConnectProxy> {
  const tunnels: string[] = [];
  const refused: string[] = [];
  const sockets = new Set<net.Socket>();
  const track = (socket: net.Socket): void => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  const expected = options.credentials
    ? `Basic ${Buffer.from(`${options.credentials.user}:${options.credentials.password}`).toString('base64')}`
    : undefined;

  const server = http.createServer((_request, response) => {
    response.writeHead(405, { 'content-type': 'text/plain' }).end('this test proxy only tunnels (CONNECT)\n');
  });
  server.on('connect', (request: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    track(client);
    const authority = request.url ?? '';
    if (expected !== undefined && request.headers['proxy-authorization'] !== expected) {
      refused.push(authority);
      client.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test"\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    if (options.refuseWith !== undefined) {
      refused.push(authority);
      client.end(`HTTP/1.1 ${options.refuseWith} Refused By Test Proxy\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    const match = /^\[?([^\]]+?)\]?:(\d+)$/.exec(authority);
    if (!match) {
      client.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const upstream = net.connect({ host: match[1], port: Number(match[2]) });
    track(upstream);
    upstream.once('connect', () => {
      tunnels.push(authority);
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.once('error', () => client.end('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n'));
    client.once('close', () => upstream.destroy());
    upstream.once('close', () => client.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  const auth = options.credentials ? `${encodeURIComponent(options.credentials.user)}:${encodeURIComponent(options.credentials.password)}@` : '';
  return {
    url: `http://${auth}127.0.0.1:${port}`,
    port,
    tunnels,
    refused,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
