import path from 'node:path';
import { findPostgresBinaries } from './binaries.ts';
import { ManagedProcess, type PidTracker } from './managed-process.ts';
import type { RunAs } from './run-as.ts';
import { makeTempDir } from './temp-dir.ts';
import { findFreePort } from '../util/ports.ts';

const READY_TIMEOUT_MS = 15_000;
const PORT_ATTEMPTS = 4;

export interface OwnedPostgresServer {
  host: string;
  port: number;
  superuser: string;
  dir: string;
  process: ManagedProcess;
}

function childEnv(): NodeJS.ProcessEnv {
  // English log lines (we wait for "ready to accept connections") and no PG* leakage from the caller.
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('PG')) env[key] = value;
  return { ...env, LC_ALL: 'C', LANG: 'C' };
}

/**
 * A throwaway cluster: initdb into a fresh temp dir (trust auth, no fsync: the data dies with
 * the run), then postgres on a free loopback port. The caller owns `dir` and `process`.
 */
export async function startPostgresServer(runAs: RunAs | undefined, dir?: string, tracker?: PidTracker): Promise<OwnedPostgresServer> {
  const binaries = findPostgresBinaries();
  const baseDir = dir ?? makeTempDir('refplat-pg-', runAs);
  const dataDir = path.join(baseDir, 'data');
  const spawnOptions = { cwd: baseDir, env: childEnv(), ...(runAs ? { uid: runAs.uid, gid: runAs.gid } : {}) };

  const superuser = 'postgres';
  const initdb = new ManagedProcess('initdb', binaries.initdb, ['-D', dataDir, '-A', 'trust', '-N', '--no-locale', '-E', 'UTF8', '-U', superuser], spawnOptions, tracker);
  const code = await initdb.completion();
  if (code !== 0) throw new Error(`initdb failed (exit ${code}): ${initdb.recentOutput().slice(-800)}`);

  for (let attempt = 1; ; attempt++) {
    const port = await findFreePort();
    const server = new ManagedProcess('postgres', binaries.postgres, [
      '-D', dataDir, '-k', baseDir, '-p', String(port), '-h', '127.0.0.1', '-F',
      '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off',
      '-c', 'shared_buffers=16MB', '-c', 'max_connections=60',
    ], spawnOptions, tracker);
    try {
      await server.waitForLine(/ready to accept connections/, READY_TIMEOUT_MS);
      return { host: '127.0.0.1', port, superuser, dir: baseDir, process: server };
    } catch (error) {
      await server.stop('SIGQUIT');
      const lostPortRace = /could not bind|address already in use/i.test(server.recentOutput());
      if (lostPortRace && attempt < PORT_ATTEMPTS) continue;
      throw new Error(`postgres did not start: ${(error as Error).message}\n${server.recentOutput().slice(-800)}`);
    }
  }
}
