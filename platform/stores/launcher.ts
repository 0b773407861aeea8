import type { Logger } from '../util/log.ts';
import { randomSlug } from '../util/ids.ts';
import { startPostgresServer, type OwnedPostgresServer } from './postgres-server.ts';
import { startRedisServer, type OwnedRedisServer } from './redis-server.ts';
import { unprivilegedUserIfRoot } from './run-as.ts';
import { makeTempDir, removeTempDir } from './temp-dir.ts';
import { Watchdog } from './watchdog.ts';

export interface Endpoint {
  host: string;
  port: number;
}

/** Where the real PostgreSQL is and how to reach it directly (setup/teardown only). */
export interface PostgresTarget {
  endpoint: Endpoint;
  /** Direct connection URL with full rights on `database`; never given to the suite. */
  directUrl: string;
  database: string;
  /** Tables live here: `public` in our own cluster, `refplat_<random>` in a shared one. */
  schema: string;
  /** True when PLATFORM_DATABASE_URL pointed us at someone else's server. */
  external: boolean;
}

export interface RedisTarget {
  endpoint: Endpoint;
  directUrl: string;
  /** Prefix for every key; empty in our own server, `refplat:<random>:` in a shared one. */
  keyPrefix: string;
  external: boolean;
}

export interface Stores {
  postgres: PostgresTarget;
  redis: RedisTarget;
  pids(): number[];
  tempDirs(): string[];
  /** Removes `dir` with the stores' own (on stop, on exit, and by the watchdog if we are killed). */
  adoptTempDir(dir: string): void;
  stop(): Promise<void>;
  /** Synchronous last-resort teardown for process 'exit'. */
  killNow(): void;
}

export interface StoreOptions {
  databaseUrl?: string | undefined;
  redisUrl?: string | undefined;
  log: Logger;
}

function endpointOf(url: URL, defaultPort: number): Endpoint {
  return { host: url.hostname || '127.0.0.1', port: url.port ? Number(url.port) : defaultPort };
}

function ownedPostgresTarget(server: OwnedPostgresServer): PostgresTarget {
  return {
    endpoint: { host: server.host, port: server.port },
    directUrl: `postgres://${server.superuser}@${server.host}:${server.port}/stagecheck`,
    database: 'stagecheck',
    schema: 'public',
    external: false,
  };
}

function externalPostgresTarget(databaseUrl: string): PostgresTarget {
  const url = new URL(databaseUrl);
  return {
    endpoint: endpointOf(url, 5432),
    directUrl: databaseUrl,
    database: decodeURIComponent(url.pathname.replace(/^\//, '')) || 'postgres',
    schema: `refplat_${randomSlug()}`,
    external: true,
  };
}

function externalRedisTarget(redisUrl: string): RedisTarget {
  const url = new URL(redisUrl);
  return { endpoint: endpointOf(url, 6379), directUrl: redisUrl, keyPrefix: `refplat:${randomSlug()}:`, external: true };
}

/**
 * Starts (or, with external URLs, just describes) the two stores, in parallel because initdb
 * dominates start-up. On any failure everything already started is torn down before throwing.
 */
export async function startStores(options: StoreOptions): Promise<Stores> {
  const runAs = options.databaseUrl ? undefined : unprivilegedUserIfRoot();
  const watchdog = options.databaseUrl && options.redisUrl ? undefined : new Watchdog();
  const dirs: string[] = [];
  let pgServer: OwnedPostgresServer | undefined;
  let redisServer: OwnedRedisServer | undefined;

  const launchPostgres = async (): Promise<PostgresTarget> => {
    if (options.databaseUrl) return externalPostgresTarget(options.databaseUrl);
    const dir = makeTempDir('refplat-pg-', runAs, { preferMemory: true });
    dirs.push(dir);
    watchdog?.trackDir(dir);
    pgServer = await startPostgresServer(runAs, dir, watchdog);
    return ownedPostgresTarget(pgServer);
  };
  const launchRedis = async (): Promise<RedisTarget> => {
    if (options.redisUrl) return externalRedisTarget(options.redisUrl);
    const dir = makeTempDir('refplat-redis-');
    dirs.push(dir);
    watchdog?.trackDir(dir);
    redisServer = await startRedisServer(dir, watchdog);
    return { endpoint: { host: redisServer.host, port: redisServer.port }, directUrl: `redis://${redisServer.host}:${redisServer.port}`, keyPrefix: '', external: false };
  };

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    // SIGINT is PostgreSQL's "fast shutdown": SIGTERM would wait for clients to disconnect.
    await Promise.all([pgServer?.process.stop('SIGINT'), redisServer?.process.stop('SIGTERM')]);
    for (const dir of dirs) removeTempDir(dir);
    watchdog?.release();
  };
  const killNow = (): void => {
    if (stopped) return;
    pgServer?.process.killNow();
    redisServer?.process.killNow();
    for (const dir of dirs) {
      try {
        removeTempDir(dir);
      } catch {
        // the watchdog retries once we are gone
      }
    }
  };

  const [pg, redis] = await Promise.allSettled([launchPostgres(), launchRedis()]);
  if (pg.status === 'rejected' || redis.status === 'rejected') {
    await stop();
    throw pg.status === 'rejected' ? pg.reason : (redis as PromiseRejectedResult).reason;
  }
  options.log.debug(`stores: postgres ${pg.value.endpoint.port}${pg.value.external ? ' (external)' : ''}, redis ${redis.value.endpoint.port}${redis.value.external ? ' (external)' : ''}`);
  return {
    postgres: pg.value,
    redis: redis.value,
    pids: () => [pgServer?.process.pid, redisServer?.process.pid].filter((pid): pid is number => typeof pid === 'number'),
    tempDirs: () => [...dirs],
    adoptTempDir: (dir) => {
      dirs.push(dir);
      watchdog?.trackDir(dir);
    },
    stop,
    killNow,
  };
}
