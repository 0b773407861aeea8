import http from 'node:http';
import https from 'node:https';
import { AgentRunner } from '../agent/runner.ts';
import type { PlatformContext } from '../context.ts';
import { correlationIdOf, createRequestListener, sendJson } from '../http/router.ts';
import { WebSocketGateway } from '../ws/gateway.ts';
import { ADMIN_PREFIX, adminRoutes } from './admin.ts';
import { backendUnavailableBody, healthRoutes } from './health.ts';
import { threadRoutes } from './threads.ts';
import { ticketRoutes } from './tickets.ts';

export interface Backend {
  server: http.Server | https.Server;
  gateway: WebSocketGateway;
}

/**
 * The fault switch alone, on plain HTTP: under TLS it gets its own loopback port so that the
 * harness can switch faults whatever certificate the service presents (a `tls_*` fault included).
 */
export function createAdminServer(context: PlatformContext): http.Server {
  return http.createServer(createRequestListener(adminRoutes(context), context.log, 'admin'));
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
  const handle: http.RequestListener = (req, res) => {
    // Fault backend_503: everything but the fault switch itself answers 503.
    if (context.behaviour.has('backend_503') && !isAdminPath(req.url)) {
      req.resume();
      sendJson(res, { status: 503, body: backendUnavailableBody() }, correlationIdOf(req));
      return;
    }
    // Fault http_slow: the matching endpoint answers `ms` late.
    const slow = context.behaviour.get('http_slow');
    if (slow && (!slow.method || slow.method === req.method) && slow.pattern.test(new URL(req.url ?? '/', 'http://127.0.0.1').pathname)) {
      setTimeout(() => listener(req, res), slow.ms);
      return;
    }
    listener(req, res);
  };
  // The fault switch is the harness's, not the service's: it never waits for a cold start.
  const gated: http.RequestListener = (req, res) => (isAdminPath(req.url) ? handle(req, res) : context.coldStarts.backend.run(() => handle(req, res)));
  const server = context.tls ? https.createServer(context.tls.serverOptions(), gated) : http.createServer(gated);
  context.tls?.attach(server);
  server.on('upgrade', (req, socket, head) => gateway.handleUpgrade(req, socket, head));
  return { server, gateway };
}
