import net from 'node:net';
import { sleep } from '../util/time.ts';
import type { Endpoint } from '../stores/launcher.ts';

type Direction = 'toClient' | 'toServer';

interface Link {
  client: net.Socket;
  upstream: net.Socket;
  /** Saw dropped bytes while black-holed: its protocol stream is no longer trustworthy. */
  tainted: boolean;
  /** Per direction, when the last delayed chunk is released; keeps chunks in order when the delay changes. */
  releaseAt: Record<Direction, number>;
}

/**
 * The one path from the platform and the suite to a store. Store faults are implemented here,
 * uniformly: delay server→client bytes, refuse connections (listener closed), or black-hole
 * (connections stay open, nothing is forwarded).
 */
export class TcpProxy {
  readonly name: string;
  private readonly target: Endpoint;
  private readonly server: net.Server;
  private readonly links = new Set<Link>();
  private listeningPort = 0;
  private delays: Record<Direction, number> = { toClient: 0, toServer: 0 };
  private blackhole = false;
  /** Who holds the listener closed (`pg_down`, `health_lies`...): refused while any holder remains. */
  private readonly refusalHolders = new Set<string>();
  private refusing = false;
  private closed = false;

  constructor(name: string, target: Endpoint) {
    this.name = name;
    this.target = target;
    this.server = net.createServer((client) => this.accept(client));
  }

  get port(): number {
    return this.listeningPort;
  }

  get connectionCount(): number {
    return this.links.size;
  }

  async start(): Promise<number> {
    this.listeningPort = await this.listen(0);
    return this.listeningPort;
  }

  private listen(port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const onError = (error: Error): void => reject(error);
      this.server.once('error', onError);
      this.server.listen(port, '127.0.0.1', () => {
        this.server.off('error', onError);
        const address = this.server.address();
        resolve(address && typeof address === 'object' ? address.port : port);
      });
    });
  }

  private accept(client: net.Socket): void {
    if (this.refusing || this.closed) {
      client.destroy();
      return;
    }
    const upstream = net.connect({ host: this.target.host, port: this.target.port });
    const link: Link = { client, upstream, tainted: false, releaseAt: { toClient: 0, toServer: 0 } };
    this.links.add(link);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    client.on('data', (chunk) => this.forward(link, upstream, chunk, 'toServer'));
    upstream.on('data', (chunk) => this.forward(link, client, chunk, 'toClient'));
    const teardown = (): void => {
      this.links.delete(link);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', teardown);
    client.on('close', teardown);
    upstream.on('error', () => {
      // A black hole hides the server's fate from the client as well.
      if (this.blackhole) link.tainted = true;
      else teardown();
    });
    upstream.on('close', () => {
      if (this.blackhole) {
        link.tainted = true;
        return;
      }
      // Let bytes still held back by a delay reach the client before closing it.
      const wait = Math.max(0, link.releaseAt.toClient - Date.now());
      void sleep(wait).then(teardown);
    });
  }

  private forward(link: Link, destination: net.Socket, chunk: Buffer, direction: Direction): void {
    if (this.blackhole) {
      link.tainted = true;
      return;
    }
    const now = Date.now();
    const releaseAt = Math.max(now + this.delays[direction], link.releaseAt[direction]);
    link.releaseAt[direction] = releaseAt;
    if (releaseAt <= now) {
      if (!destination.destroyed) destination.write(chunk);
      return;
    }
    setTimeout(() => {
      if (!destination.destroyed) destination.write(chunk);
    }, releaseAt - now);
  }

  /** Delays every chunk travelling in `direction` by `ms` (0 to clear). */
  setDelay(direction: Direction, ms: number): void {
    this.delays[direction] = Math.max(0, ms);
  }

  /** Black hole on/off. Turning it off drops the connections that lost bytes so clients reconnect cleanly. */
  setBlackhole(on: boolean): void {
    this.blackhole = on;
    if (on) return;
    for (const link of this.links) {
      if (!link.tainted) continue;
      this.links.delete(link);
      link.client.destroy();
      link.upstream.destroy();
    }
  }

  /**
   * Refusal on/off for one holder: the listener really closes (clients see ECONNREFUSED) while
   * any holder wants it closed, and reopens on the same port when the last one lets go. Two
   * faults that both refuse (`pg_down` and `health_lies`) can then be cleared in any order.
   */
  async setRefusing(on: boolean, holder = 'default'): Promise<void> {
    if (this.closed) return;
    if (on) this.refusalHolders.add(holder);
    else this.refusalHolders.delete(holder);
    const wanted = this.refusalHolders.size > 0;
    if (wanted === this.refusing) return;
    this.refusing = wanted;
    if (wanted) {
      this.dropAll();
      await new Promise<void>((resolve) => this.server.close(() => resolve()));
      return;
    }
    for (let attempt = 1; ; attempt++) {
      try {
        await this.listen(this.listeningPort);
        return;
      } catch (error) {
        if (attempt >= 20) throw new Error(`${this.name} proxy could not reopen port ${this.listeningPort}: ${(error as Error).message}`);
        await sleep(50);
      }
    }
  }

  private dropAll(): void {
    for (const link of this.links) {
      link.client.destroy();
      link.upstream.destroy();
    }
    this.links.clear();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.dropAll();
    if (this.server.listening) await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
