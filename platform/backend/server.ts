import http from 'node:http';
import { AgentRunner } from '../agent/runner.ts';
import type { PlatformContext } from '../context.ts';
import { correlationIdOf, createRequestListener, sendJson } from '../http/router.ts';
import { WebSocketGateway } from '../ws/gateway.ts';
import { ADMIN_PREFIX, adminRoutes } from './admin.ts';
import { backendUnavailableBody, healthRoutes } from './health.ts';
import { threadRoutes } from './threads.ts';
import { ticketRoutes } from './tickets.ts';

export interface Backend {
  server: http.Server;
  gateway: WebSocketGateway;
}

export function isAdminPath(rawUrl: string | undefined): boolean {
  const path = new URL(rawUrl ?? '/', 'http://127.0.0.1').pathname;
  return path === ADMIN_PREFIX || path.startsWith(`${ADMIN_PREFIX}/`);
}

/** The backend: REST API, health, fault admin, and the WebSocket gateway on the same port. */
export function createBackend(context: PlatformContext): Backend {
  const gateway = new WebSocketGateway(context, new AgentRunner(context));
  const routes = [
    ...healthRoutes(context, gateway),
    ...threadRoutes(context),
    ...ticketRoutes(context),
    ...adminRoutes(context),
  ];
  const listener = createRequestListener(routes, context.log, 'backend');
  const server = http.createServer((req, res) => {
    // Fault backend_503: everything but the fault switch itself answers 503.
    if (context.behaviour.has('backend_503') && !isAdminPath(req.url)) {
      req.resume();
      sendJson(res, { status: 503, body: backendUnavailableBody() }, correlationIdOf(req));
      return;
    }
    listener(req, res);
  });
  server.on('upgrade', (req, socket, head) => gateway.handleUpgrade(req, socket, head));
  return { server, gateway };
}
