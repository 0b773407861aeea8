import { findRedisServer } from './binaries.ts';
import { ManagedProcess, type PidTracker } from './managed-process.ts';
import { findFreePort } from '../util/ports.ts';

const READY_TIMEOUT_MS = 10_000;
const PORT_ATTEMPTS = 4;

export interface OwnedRedisServer {
  host: string;
  port: number;
  process: ManagedProcess;
}

/** A private redis-server with persistence off; `dir` is a temp dir the caller removes. */
export async function startRedisServer(dir: string, tracker?: PidTracker): Promise<OwnedRedisServer> {
  const binary = findRedisServer();
  for (let attempt = 1; ; attempt++) {
    const port = await findFreePort();
    const server = new ManagedProcess('redis-server', binary, [
      '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
      '--daemonize', 'no', '--dir', dir, '--loglevel', 'notice',
    ], { cwd: dir }, tracker);
    try {
      await server.waitForLine(/Ready to accept connections/i, READY_TIMEOUT_MS);
      return { host: '127.0.0.1', port, process: server };
    } catch (error) {
      await server.stop('SIGKILL');
      const lostPortRace = /address already in use/i.test(server.recentOutput());
      if (lostPortRace && attempt < PORT_ATTEMPTS) continue;
      throw new Error(`redis-server did not start: ${(error as Error).message}\n${server.recentOutput().slice(-800)}`);
    }
  }
}
