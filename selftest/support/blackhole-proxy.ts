/**
 * A TCP forwarder in front of one component that can be told to stop answering mid-run, the way a
 * hung server or a route that silently drops behaves: `blackhole()` stops forwarding on every
 * open connection (in both directions) and accepts new connections without ever forwarding them.
 * Nothing is closed or refused: clients see silence. `lastAnsweredAt` is when bytes last went
 * from the server to a client (epoch ms): the component's last good answer.
 */
import net from 'node:net';

export interface BlackholeProxy {
  port: number;
  /** Epoch ms of the last server → client bytes forwarded (undefined before the first). */
  readonly lastAnsweredAt: number | undefined;
  /** Server → client chunks forwarded so far. */
  readonly answers: number;
  blackhole(): void;
  close(): Promise<void>;
}

export async function startBlackholeProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<BlackholeProxy> {
  const sockets = new Set<net.Socket>();
  let silent = false;
  let lastAnsweredAt: number | undefined;
  let answers = 0;
  const track = (socket: net.Socket): void => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
  };
  const server = net.createServer((client) => {
    track(client);
    if (silent) return; // accepted, never answered
    const upstream = net.connect(targetPort, targetHost);
    track(upstream);
    client.on('data', (chunk) => {
      if (!silent) upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (silent) return;
      lastAnsweredAt = Date.now();
      answers += 1;
      client.write(chunk);
    });
    // Ends pass through while answering; once silent, nothing does.
    client.on('end', () => !silent && upstream.end());
    upstream.on('end', () => !silent && client.end());
    client.on('close', () => !silent && upstream.destroy());
    upstream.on('close', () => !silent && client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    get lastAnsweredAt() {
      return lastAnsweredAt;
    },
    get answers() {
      return answers;
    },
    blackhole() {
      silent = true;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
