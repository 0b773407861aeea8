import http from 'node:http';
import { AgentRunner } from '../agent/runner.ts';
import type { PlatformContext } from '../context.ts';
import { createRequestListener } from '../http/router.ts';
import { WebSocketGateway } from '../ws/gateway.ts';
import { adminRoutes } from './admin.ts';
import { healthRoutes } from './health.ts';
import { threadRoutes } from './threads.ts';
import { ticketRoutes } from './tickets.ts';

export interface Backend {
  server: http.Server;
  gateway: WebSocketGateway;
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
  const server = http.createServer(createRequestListener(routes, context.log, 'backend'));
  server.on('upgrade', (req, socket, head) => gateway.handleUpgrade(req, socket, head));
  return { server, gateway };
}
