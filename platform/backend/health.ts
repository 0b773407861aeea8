import type { PlatformContext } from '../context.ts';
import type { Route } from '../http/router.ts';
import { isoNow } from '../util/time.ts';
import { checkStores } from './store-checks.ts';

export const BACKEND_SERVICE_NAME = 'netra-backend';

/** The body of every answer under fault `backend_503` (HTTP requests and WebSocket upgrades alike). */
export function backendUnavailableBody(): Record<string, string> {
  return { status: 'unhealthy', message: 'service unavailable: the backend cannot serve requests', timestamp: isoNow() };
}

export interface WebSocketStats {
  activeConnections(): number;
}

export function healthRoutes(context: PlatformContext, ws: WebSocketStats): Route[] {
  const notReady = (): { status: number; body: unknown } => ({
    status: 503,
    body: { status: 'unhealthy', message: `service ${context.lifecycle.state}`, timestamp: isoNow() },
  });
  return [
    {
      method: 'GET',
      path: '/health',
      handler: () =>
        context.lifecycle.ready
          ? { status: 200, body: { status: 'healthy', service: BACKEND_SERVICE_NAME, version: context.config.version, timestamp: isoNow() } }
          : notReady(),
    },
    {
      method: 'GET',
      path: '/health/ready',
      // PostgreSQL is critical (503); Redis only degrades the service (still 200).
      handler: async () => {
        if (!context.lifecycle.ready) return notReady();
        const checks = await checkStores(context);
        const coreOk = checks.postgres.connected;
        return {
          status: coreOk ? 200 : 503,
          body: {
            status: coreOk ? 'ready' : 'not_ready',
            core_db: coreOk ? 'connected' : 'disconnected',
            redis_db: checks.redis.connected ? 'connected' : 'degraded',
            details: checks,
            timestamp: isoNow(),
          },
        };
      },
    },
    {
      method: 'GET',
      path: '/api/health',
      handler: async () => {
        if (!context.lifecycle.ready) return notReady();
        const checks = await checkStores(context);
        const status = !checks.postgres.connected ? 'unhealthy' : !checks.redis.connected ? 'degraded' : 'healthy';
        return {
          status: status === 'unhealthy' ? 503 : 200,
          body: {
            status,
            timestamp: isoNow(),
            uptime_seconds: context.lifecycle.uptimeSeconds(),
            version: context.config.version,
            environment: context.config.environment,
            checks,
          },
        };
      },
    },
    {
      method: 'GET',
      path: '/ws/health',
      // Always 200: the body decides. The agent needs both stores, so either failing makes it unhealthy.
      handler: async () => {
        const accepting = context.lifecycle.ready;
        const checks = await checkStores(context);
        const agentOk = checks.postgres.connected && checks.redis.connected;
        const healthy = accepting && agentOk;
        const state = (ok: boolean): string => (ok ? 'healthy' : 'unhealthy');
        return {
          status: 200,
          body: {
            status: state(healthy),
            components: {
              websocket: { status: state(accepting), active_connections: ws.activeConnections() },
              agent: { status: state(agentOk) },
              postgres: { status: checks.postgres.status, error: checks.postgres.error },
              redis: { status: checks.redis.status, error: checks.redis.error },
            },
            timestamp: isoNow(),
          },
        };
      },
    },
  ];
}
