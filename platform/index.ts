/**
 * The bundled reference platform: a faithful implementation of the platform contract on real
 * PostgreSQL and Redis, with switchable faults. `startPlatform()` is what the suite's global
 * setup (through `cli.ts`) and the platform's own tests use.
 */
import { createAuthServer } from './auth/service.ts';
import { hashPassword } from './auth/passwords.ts';
import { createAdminServer, createBackend } from './backend/server.ts';
import { ADMIN_PREFIX } from './backend/admin.ts';
import { resolveConfig, type PlatformConfig, type PlatformOptions, type ProfileName, type ProfileSettings } from './config.ts';
import type { PlatformContext } from './context.ts';
import { BehaviourSwitches } from './faults/behaviour.ts';
import { checkFaultAvailable, FaultSwitch, validateFault, type ActiveFault } from './faults/switch.ts';
import { coldStarts } from './http/cold-start.ts';
import { TcpProxy } from './faults/tcp-proxy.ts';
import { closeHttp, listenHttp } from './http/router.ts';
import { Lifecycle } from './lifecycle.ts';
import { registerRunning, unregisterRunning } from './process-cleanup.ts';
import { startStores, type PostgresTarget } from './stores/launcher.ts';
import { makeTempDir } from './stores/temp-dir.ts';
import { TlsState } from './tls/tls-state.ts';
import { createDatabase } from './storage/database.ts';
import { createRedis } from './storage/redis-client.ts';
import { purgeKeyPrefix } from './storage/redis-cleanup.ts';
import { createSchema, dropSchema, type ReadonlyLogin } from './storage/schema.ts';
import { insertUser } from './storage/users.ts';
import { createLogger } from './util/log.ts';
import { TeardownStack } from './util/teardown.ts';

export type { PlatformOptions, ProfileName, ProfileSettings } from './config.ts';
export { optionsFromEnv, PROFILE_SETTINGS, PROFILES, resolveConfig } from './config.ts';
export type { ActiveFault } from './faults/switch.ts';
export { faultCatalog, describeCatalog } from './faults/catalog.ts';
export { parseFaultSpecs } from './faults/spec.ts';
export { MissingBinaryError } from './stores/binaries.ts';

/** The suite's `.env` variables, in the order the CLI prints them. */
export interface PlatformEnv {
  STAGING_BASE_URL: string;
  STAGING_AUTH_URL: string;
  STAGING_WS_URL: string;
  STAGING_DATABASE_URL: string;
  STAGING_REDIS_URL: string;
  /** Absent when the platform was started without a bypass key (test-auth answers 503). */
  E2E_BYPASS_KEY?: string;
  STAGING_TEST_EMAIL: string;
  STAGING_TEST_PASSWORD: string;
  /** A second seeded login account, for login-only runs' isolation and multi-user tests. */
  STAGING_TEST_EMAIL_2: string;
  STAGING_TEST_PASSWORD_2: string;
  STAGING_JWT_SECRET: string;
  PLATFORM_ADMIN_URL: string;
  PLATFORM_ADMIN_TOKEN: string;
  /** TLS only: the PEM file of the CA the platform generated, for the suite to trust. */
  STAGING_CA_FILE?: string;
}

export interface RunningPlatform {
  /** The suite's `.env` variables (also printed by the CLI). */
  env: PlatformEnv & Record<string, string>;
  admin: { url: string; token: string };
  urls: {
    backend: string;
    auth: string;
    ws: string;
    /** Read-only role, through the PostgreSQL fault proxy. */
    database: string;
    /** Through the Redis fault proxy. */
    redis: string;
  };
  version: string;
  environment: string;
  /** The profile the settings' defaults came from. */
  profile: ProfileName;
  /** The staging-like switches in force (each from the profile unless given explicitly). */
  settings: ProfileSettings;
  /** TLS only: the generated CA and server certificate (PEM files, in a temp dir removed on stop). */
  tls?: { caFile: string; certFile: string; notAfter: string };
  /** Milliseconds from startPlatform() until ready. */
  startMs: number;
  /** The real stores behind the proxies (direct, full-rights URLs: for debugging and tests, never the suite). */
  stores: {
    postgres: { directUrl: string; database: string; schema: string; external: boolean };
    redis: { directUrl: string; keyPrefix: string; external: boolean };
  };
  /** What must be gone after stop(): store pids, temp dirs, listening ports. */
  resources: { pids: number[]; tempDirs: string[]; ports: number[] };
  setFault(name: string, params?: Record<string, unknown>): Promise<ActiveFault>;
  clearFault(name: string): Promise<boolean>;
  clearFaults(): Promise<void>;
  activeFaults(): ActiveFault[];
  /** Tears everything down; safe to call twice. */
  stop(): Promise<void>;
}

function suiteDatabaseUrl(postgres: PostgresTarget, readonly: ReadonlyLogin, proxyPort: number): string {
  const auth = `${encodeURIComponent(readonly.user)}${readonly.password ? `:${encodeURIComponent(readonly.password)}` : ''}`;
  return `postgres://${auth}@127.0.0.1:${proxyPort}/${encodeURIComponent(postgres.database)}`;
}

/** The same URL with the host swapped for the proxy (credentials and database kept). */
function viaProxy(directUrl: string, proxyPort: number): string {
  const url = new URL(directUrl);
  url.hostname = '127.0.0.1';
  url.port = String(proxyPort);
  return url.toString();
}

function buildEnv(config: PlatformConfig, urls: RunningPlatform['urls'], adminUrl: string, caFile: string | undefined): PlatformEnv {
  return {
    STAGING_BASE_URL: urls.backend,
    STAGING_AUTH_URL: urls.auth,
    STAGING_WS_URL: urls.ws,
    STAGING_DATABASE_URL: urls.database,
    STAGING_REDIS_URL: urls.redis,
    ...(config.e2eBypassKey ? { E2E_BYPASS_KEY: config.e2eBypassKey } : {}),
    STAGING_TEST_EMAIL: config.testUserEmail,
    STAGING_TEST_PASSWORD: config.testUserPassword,
    STAGING_TEST_EMAIL_2: config.testUser2Email,
    STAGING_TEST_PASSWORD_2: config.testUser2Password,
    STAGING_JWT_SECRET: config.jwtSecret,
    PLATFORM_ADMIN_URL: adminUrl,
    PLATFORM_ADMIN_TOKEN: config.adminToken,
    ...(caFile ? { STAGING_CA_FILE: caFile } : {}),
  };
}

function settingsOf(config: PlatformConfig): ProfileSettings {
  const { tls, coldStartMs, wsHeartbeatS, agentThinkMs, agentStyle, frameStyle, historyStyle, wsPingMs } = config;
  return { tls, coldStartMs, wsHeartbeatS, agentThinkMs, agentStyle, frameStyle, historyStyle, wsPingMs };
}

export async function startPlatform(options: PlatformOptions = {}): Promise<RunningPlatform> {
  const started = performance.now();
  const config = resolveConfig(options);
  const log = createLogger(config.logLevel);
  // Reject bad fault requests before anything is started.
  const initialFaults = config.faults.map((fault) => ({ name: fault.name, params: validateFault(fault.name, fault.params) }));
  for (const fault of initialFaults) checkFaultAvailable(fault.name, { tls: config.tls });

  const teardown = new TeardownStack();
  const lifecycle = new Lifecycle();
  let stores: Awaited<ReturnType<typeof startStores>> | undefined;
  let stopping: Promise<void> | undefined;
  const safety = {
    handleSignals: config.handleSignals,
    // Memoised: a signal and an afterAll may both call stop(); both wait for the one teardown.
    stop: (): Promise<void> =>
      (stopping ??= (async () => {
        lifecycle.state = 'stopping';
        await teardown.run(log);
        unregisterRunning(safety);
      })()),
    killNow: () => stores?.killNow(),
  };
  registerRunning(safety);

  try {
    const passwordHash = hashPassword(config.testUserPassword);
    const password2Hash = hashPassword(config.testUser2Password);
    stores = await startStores({ databaseUrl: config.databaseUrl, redisUrl: config.redisUrl, log });
    const { postgres, redis: redisTarget } = stores;
    const storesToStop = stores;
    teardown.push('stop stores', () => storesToStop.stop());

    const phase = (name: string): void => log.debug(`${name} at ${Math.round(performance.now() - started)} ms`);
    phase('stores ready');
    const readonly = await createSchema(postgres, log);
    phase('schema created');
    teardown.push('drop schema', () => dropSchema(postgres, readonly));
    if (redisTarget.external) teardown.push('purge redis keys', () => purgeKeyPrefix(redisTarget.directUrl, redisTarget.keyPrefix));

    const postgresProxy = new TcpProxy('postgres', postgres.endpoint);
    const redisProxy = new TcpProxy('redis', redisTarget.endpoint);
    const [pgProxyPort, redisProxyPort] = await Promise.all([postgresProxy.start(), redisProxy.start()]);
    teardown.push('close proxies', () => Promise.all([postgresProxy.close(), redisProxy.close()]));

    const sql = createDatabase(viaProxy(postgres.directUrl, pgProxyPort), postgres.schema);
    teardown.push('close postgres pool', () => sql.end({ timeout: 1 }));
    const redis = createRedis(viaProxy(redisTarget.directUrl, redisProxyPort), redisTarget.keyPrefix);
    teardown.push('close redis client', () => redis.disconnect());
    await redis.connect();

    phase('store clients connected');
    await insertUser(sql, { id: 'user-qa', email: config.testUserEmail, password_hash: await passwordHash, name: 'QA User' });
    await insertUser(sql, { id: 'user-qa2', email: config.testUser2Email, password_hash: await password2Hash, name: 'QA User 2' });

    let tls: TlsState | undefined;
    if (config.tls) {
      const dir = makeTempDir('refplat-tls-');
      storesToStop.adoptTempDir(dir);
      tls = await TlsState.create(dir);
      phase('certificates generated');
    }

    const behaviour = new BehaviourSwitches();
    const context: PlatformContext = {
      config,
      sql,
      redis,
      tokens: { secret: new TextEncoder().encode(config.jwtSecret), accessTtlS: config.accessTokenTtlS },
      lifecycle,
      faults: new FaultSwitch({ postgresProxy, redisProxy, behaviour, tls }),
      behaviour,
      log,
      wsUrl: '',
      tls,
      coldStarts: coldStarts(config.coldStartMs),
    };
    const auth = createAuthServer(context);
    const backend = createBackend(context);
    const adminServer = tls ? createAdminServer(context) : undefined;
    const [authPort, backendPort, adminPort] = await Promise.all([listenHttp(auth), listenHttp(backend.server), adminServer ? listenHttp(adminServer) : undefined]);
    teardown.push('close http servers', () => Promise.all([closeHttp(auth), closeHttp(backend.server), adminServer ? closeHttp(adminServer) : undefined]));
    teardown.push('close websockets', () => backend.gateway.closeAll());
    const [httpScheme, wsScheme] = tls ? ['https', 'wss'] : ['http', 'ws'];
    context.wsUrl = `${wsScheme}://127.0.0.1:${backendPort}/ws`;

    for (const fault of initialFaults) await context.faults.set(fault.name, fault.params);
    lifecycle.state = 'ready';

    const urls: RunningPlatform['urls'] = {
      backend: `${httpScheme}://127.0.0.1:${backendPort}`,
      auth: `${httpScheme}://127.0.0.1:${authPort}`,
      ws: context.wsUrl,
      database: suiteDatabaseUrl(postgres, readonly, pgProxyPort),
      redis: viaProxy(redisTarget.directUrl, redisProxyPort).replace(/\/$/, ''),
    };
    // Under TLS the fault switch is plain HTTP on its own port (also still on the backend).
    const adminUrl = `${adminPort ? `http://127.0.0.1:${adminPort}` : urls.backend}${ADMIN_PREFIX}`;
    const startMs = Math.round(performance.now() - started);
    log.info(`ready in ${startMs} ms${config.profile === 'default' ? '' : ` (profile ${config.profile})`}: backend ${backendPort}, auth ${authPort}, postgres proxy ${pgProxyPort}, redis proxy ${redisProxyPort}` +
      (initialFaults.length ? `, faults: ${initialFaults.map((fault) => fault.name).join(', ')}` : ''));
    return {
      env: buildEnv(config, urls, adminUrl, tls?.caFile) as PlatformEnv & Record<string, string>,
      admin: { url: adminUrl, token: config.adminToken },
      urls,
      version: config.version,
      environment: config.environment,
      profile: config.profile,
      settings: settingsOf(config),
      ...(tls ? { tls: { caFile: tls.caFile, certFile: tls.server.certFile, notAfter: tls.server.notAfter.toISOString() } } : {}),
      startMs,
      stores: {
        postgres: { directUrl: postgres.directUrl, database: postgres.database, schema: postgres.schema, external: postgres.external },
        redis: { directUrl: redisTarget.directUrl, keyPrefix: redisTarget.keyPrefix, external: redisTarget.external },
      },
      resources: {
        pids: storesToStop.pids(),
        tempDirs: storesToStop.tempDirs(),
        ports: [backendPort, authPort, ...(adminPort ? [adminPort] : []), pgProxyPort, redisProxyPort, ...(postgres.external ? [] : [postgres.endpoint.port]), ...(redisTarget.external ? [] : [redisTarget.endpoint.port])],
      },
      setFault: (name, params = {}) => context.faults.set(name, params),
      clearFault: (name) => context.faults.clear(name),
      clearFaults: async () => {
        await context.faults.clearAll();
      },
      activeFaults: () => context.faults.activeFaults(),
      stop: safety.stop,
    };
  } catch (error) {
    await safety.stop();
    throw error;
  }
}
