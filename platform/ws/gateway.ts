import http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { AgentRunner } from '../agent/runner.ts';
import { authenticateAccessToken } from '../auth/authenticate.ts';
import type { PlatformContext } from '../context.ts';
import { backendUnavailableBody } from '../backend/health.ts';
import { correlationIdOf, errorBody } from '../http/router.ts';
import { consumeTicket } from '../storage/tickets.ts';
import { errorMessage } from '../util/time.ts';
import { readCredentials } from './credentials.ts';
import { CLOSE, closeReason } from './frames.ts';
import { Session, type SessionUser } from './session.ts';

export const WS_PATH = '/ws';

type Admission = { ok: true; user: SessionUser } | { ok: false; code: number; reason: string };

/** Answers an upgrade request with a plain HTTP error (before any 101). */
function rejectHandshake(socket: Duplex, status: number, code: string, message: string, correlationId: string, payload: unknown = errorBody(code, message)): void {
  const body = JSON.stringify(payload);
  const extra = status === 401 ? 'WWW-Authenticate: Bearer\r\n' : '';
  socket.end(
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? ''}\r\nConnection: close\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nx-correlation-id: ${correlationId}\r\n${extra}\r\n${body}`,
  );
}

/**
 * The `/ws` endpoint. Credentials are checked before the upgrade completes, but a *bad*
 * credential is still answered with 101 and then a close frame (1008, or 1003 for a foreign
 * subprotocol), as the contract pins; only a request with no credentials at all gets HTTP 401.
 */
export class WebSocketGateway {
  private readonly context: PlatformContext;
  private readonly agent: AgentRunner;
  private readonly sessions = new Set<Session>();
  private readonly chosenProtocol = new WeakMap<http.IncomingMessage, string>();
  private readonly correlationIds = new WeakMap<http.IncomingMessage, string>();
  private readonly wss: WebSocketServer;

  constructor(context: PlatformContext, agent: AgentRunner) {
    this.context = context;
    this.agent = agent;
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: 1024 * 1024,
      // Echo exactly the protocol we accepted (for 1003 cases: the first one offered, so the client completes the handshake and can read the close code).
      handleProtocols: (_protocols, req) => this.chosenProtocol.get(req) ?? false,
    });
    // The 101 carries the correlation id too, like every other response.
    this.wss.on('headers', (headers, req) => {
      const correlationId = this.correlationIds.get(req);
      if (correlationId) headers.push(`x-correlation-id: ${correlationId}`);
    });
  }

  activeConnections(): number {
    return this.sessions.size;
  }

  handleUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => undefined);
    // The WebSocket service's own cold start (0 ms unless configured): the handshake waits.
    this.context.coldStarts.websocket.run(() => {
      if (!socket.destroyed) this.handleWarmUpgrade(req, socket, head);
    });
  }

  private handleWarmUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    const correlationId = correlationIdOf(req);
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const behaviour = this.context.behaviour;
    if (behaviour.has('backend_503')) {
      rejectHandshake(socket, 503, 'service_unavailable', 'backend unavailable', correlationId, backendUnavailableBody());
      return;
    }
    if (url.pathname !== WS_PATH && url.pathname !== `${WS_PATH}/`) {
      rejectHandshake(socket, 404, 'not_found', `no WebSocket endpoint at ${url.pathname}`, correlationId);
      return;
    }
    if (!this.context.lifecycle.ready) {
      rejectHandshake(socket, 503, 'service_unavailable', `service ${this.context.lifecycle.state}`, correlationId);
      return;
    }
    // Fault ws_reject_503: a load balancer turning away a deterministic fraction of handshakes.
    if (behaviour.get('ws_reject_503')?.counter.next()) {
      rejectHandshake(socket, 503, 'service_unavailable', 'no healthy upstream for the WebSocket', correlationId, { status: 'unhealthy', message: 'no healthy upstream for the WebSocket' });
      return;
    }
    const credentials = readCredentials(req, url);
    if (credentials.kind === 'none') {
      rejectHandshake(socket, 401, 'not_authenticated', 'no credentials: use subprotocol jwt.<token>, Authorization: Bearer, or ?ticket=', correlationId);
      return;
    }
    if (credentials.kind === 'subprotocol' || credentials.kind === 'unsupported_subprotocol') this.chosenProtocol.set(req, credentials.protocol);

    this.correlationIds.set(req, correlationId);
    this.admit(credentials)
      .catch((error: unknown): Admission => ({ ok: false, code: CLOSE.INTERNAL_ERROR, reason: `authentication error: ${errorMessage(error)}` }))
      .then((admission) => {
        if (socket.destroyed) return;
        this.wss.handleUpgrade(req, socket, head, (ws) => this.onUpgraded(ws, admission));
      });
  }

  private async admit(credentials: Exclude<ReturnType<typeof readCredentials>, { kind: 'none' }>): Promise<Admission> {
    switch (credentials.kind) {
      case 'unsupported_subprotocol':
        return { ok: false, code: CLOSE.UNSUPPORTED_DATA, reason: `unsupported subprotocol "${credentials.protocol}": use jwt.<token>` };
      case 'subprotocol':
      case 'bearer': {
        const result = await authenticateAccessToken(this.context, credentials.token, 'websocket');
        if (!result.ok) return { ok: false, code: CLOSE.POLICY_VIOLATION, reason: `authentication failed: ${result.error}` };
        return { ok: true, user: { id: result.claims.sub, email: result.claims.email } };
      }
      case 'ticket': {
        try {
          const ticket = await consumeTicket(this.context.redis, credentials.ticketId);
          if (!ticket) return { ok: false, code: CLOSE.POLICY_VIOLATION, reason: 'authentication failed: ticket unknown, used or expired' };
          return { ok: true, user: { id: ticket.user_id, email: ticket.email } };
        } catch (error) {
          // The ticket store is down: the service cannot admit anyone by ticket right now.
          return { ok: false, code: CLOSE.INTERNAL_ERROR, reason: `service not ready: ticket store unavailable (${errorMessage(error)})` };
        }
      }
    }
  }

  private onUpgraded(ws: WebSocket, admission: Admission): void {
    if (!admission.ok) {
      ws.close(admission.code, closeReason(admission.reason));
      return;
    }
    if (this.context.behaviour.has('ws_close_1011')) {
      ws.close(CLOSE.INTERNAL_ERROR, 'service not ready: agent service unavailable');
      return;
    }
    const session = new Session(ws, admission.user, this.agent, this.context);
    this.sessions.add(session);
    ws.on('close', () => this.sessions.delete(session));
  }

  /** Shutdown: tell clients we are going away, then drop whatever is left. */
  async closeAll(): Promise<void> {
    for (const session of this.sessions) session.close(CLOSE.GOING_AWAY, 'server shutting down');
    this.sessions.clear();
    for (const client of this.wss.clients) client.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }
}
