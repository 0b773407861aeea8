/**
 * The WebSocket handshake, as the contract pins it:
 *
 * - `probeHandshake` classifies how a handshake ends (never throws for target behaviour):
 *   established, HTTP rejection before the upgrade, 101-then-close (1008/1011/1003), network
 *   error, timeout, subprotocol mismatch, or a first frame that is not `connection_established`.
 * - `connectWs` resolves with a `WsSession` (helpers/transport/ws.ts) only once `connection_established`
 *   has arrived, else throws a `WsHandshakeError` carrying the classified outcome.
 * - `classifyHandshake` is the one outcome → layer/code mapping (handshake-checks.ts uses it too).
 *
 * Tokens never reach evidence: the `jwt.<token>` subprotocol is recorded as `jwt.[redacted]`,
 * a `?ticket=` value as `[redacted]` (core/redact.ts, the one redactor).
 */
import type { ClientRequest, IncomingMessage } from 'node:http';
import WebSocket from 'ws';
import { BudgetExceededError, type Budget } from '../core/budgets.ts';
import { CheckError, type CheckErrorDetails, type Layer } from '../core/errors.ts';
import { DEFAULT_MAX_FRAME_BYTES } from '../core/frames.ts';
import { formatMs, truncateText } from '../core/format.ts';
import { errorCode } from '../core/network-errors.ts';
import { processNetwork, proxyFor } from '../core/network-env.ts';
import { certProblemOf, CERT_PROBLEM_CODES, describeCertProblem, hostPortOf } from '../core/tls-problems.ts';
import { redactSecrets, redactUrl } from '../core/redact.ts';
import { WsSession } from './ws.ts';
import { describeClose } from './ws-evidence.ts';
import { tunnelAgent } from './tunnel.ts';
import { DEFAULT_HARD_MAX_FRAME_BYTES, type ConnectOptions, type WsAuth } from './ws-options.ts';

export type HandshakeOutcome =
  | { kind: 'established'; protocol: string; connectionId: string; userId: string; ms: number }
  | { kind: 'http-rejected'; status: number; body: string; ms: number; correlationId?: string }
  | { kind: 'closed-after-upgrade'; code: number; reason: string; ms: number }
  | { kind: 'network-error'; code: string; message: string; ms: number }
  | { kind: 'timeout'; stage: 'upgrade' | 'first-frame'; ms: number }
  | { kind: 'protocol-mismatch'; offered: string; echoed: string | null; message: string; ms: number }
  | { kind: 'unexpected-frame'; frameType: string; reason: string; preview: string; ms: number };

const SUBPROTOCOL_ERRORS = new Set([
  'Server sent no subprotocol',
  'Server sent an invalid subprotocol',
  'Server sent a subprotocol but none was requested',
]);

const HTTP_BODY_LIMIT = 2048;
const EVIDENCE_BODY_CHARS = 500;
const BODY_WAIT_MS = 500;

function buildUrl(options: ConnectOptions): { url: string; endpoint: string } {
  let parsed: URL;
  try {
    parsed = new URL(options.url);
  } catch {
    throw new CheckError(`WebSocket URL is not a valid URL: ${JSON.stringify(options.url)}`, { component: 'websocket', layer: 'config' });
  }
  if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') {
    throw new CheckError(`WebSocket URL must start with ws:// or wss://, got ${parsed.protocol}//`, { component: 'websocket', layer: 'config' });
  }
  if (options.auth.method === 'ticket') parsed.searchParams.set('ticket', options.auth.ticketId);
  const url = parsed.toString();
  return { url, endpoint: redactUrl(url) };
}

function secretsOf(auth: WsAuth): string[] {
  if (auth.method === 'subprotocol' || auth.method === 'header') return [auth.token];
  if (auth.method === 'ticket') return [auth.ticketId];
  return [];
}

/**
 * Up to `limit` bytes of a rejection body. The status already decides the outcome, so a body
 * that never ends (no length, connection kept open) is cut after `waitMs`.
 */
function readBody(response: IncomingMessage, limit: number, waitMs = BODY_WAIT_MS): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(() => done(), waitMs);
    const done = (): void => {
      clearTimeout(timer);
      response.removeAllListeners('data');
      resolve(Buffer.concat(chunks).toString('utf8'));
    };
    response.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= limit) done();
    });
    response.once('end', done);
    response.on('error', done); // stays: destroying the request later must not raise an unhandled error
    response.once('close', done);
  });
}


// ---------------------------------------------------------------------------------------
// Handshake

/** The handshake did not end in `connection_established`. */
export class WsHandshakeError extends CheckError {
  readonly outcome: HandshakeOutcome;

  constructor(outcome: HandshakeOutcome, endpoint: string, budget: Budget, cause?: unknown) {
    // A refused certificate is the network's (core/tls-problems.ts): one cause with HTTP's.
    const cert = outcome.kind === 'network-error' ? certProblemOf(outcome.code) : undefined;
    const details: CheckErrorDetails = {
      component: cert ? 'network' : 'websocket',
      ...classifyHandshake(outcome),
      endpoint,
      elapsedMs: Math.round(outcome.ms),
      evidence: { outcome, budget: budget.path },
    };
    if (outcome.kind === 'http-rejected' && outcome.correlationId) details.correlationId = outcome.correlationId;
    const message = cert && outcome.kind === 'network-error' ? describeCertProblem(cert, hostPortOf(endpoint), outcome.code) : describeOutcome(outcome, endpoint, budget);
    super(message, details, cause === undefined ? undefined : { cause });
    this.name = 'WsHandshakeError';
    this.outcome = outcome;
  }
}

/**
 * Layer and code of a handshake outcome, the one mapping behind WsHandshakeError and the
 * handshake checks (helpers/contract/handshake-checks.ts), so both blame the same layer.
 */
export function classifyHandshake(outcome: HandshakeOutcome): { layer: Layer; code: string | number } {
  switch (outcome.kind) {
    case 'established':
      return { layer: 'ws-handshake', code: 'accepted' };
    case 'http-rejected':
      return { layer: 'ws-handshake', code: outcome.status };
    case 'closed-after-upgrade':
      return { layer: 'ws-close', code: outcome.code };
    case 'network-error': {
      const cert = certProblemOf(outcome.code);
      return cert ? { layer: 'tls', code: CERT_PROBLEM_CODES[cert] } : { layer: 'ws-handshake', code: outcome.code };
    }
    case 'timeout':
      return { layer: 'budget', code: 'timeout' };
    case 'protocol-mismatch':
      return { layer: 'protocol', code: 'subprotocol' };
    case 'unexpected-frame':
      return { layer: 'frame', code: outcome.frameType };
  }
}

function describeOutcome(outcome: HandshakeOutcome, endpoint: string, budget: Budget): string {
  switch (outcome.kind) {
    case 'established':
      return `WebSocket ${endpoint} established`;
    case 'http-rejected':
      return `WebSocket handshake to ${endpoint} was rejected with HTTP ${outcome.status} before the upgrade after ${formatMs(outcome.ms)}${outcome.body ? `: ${truncateText(outcome.body, 200)}` : ''}`;
    case 'closed-after-upgrade':
      return `WebSocket ${endpoint} upgraded (101), then the server closed it with ${describeClose(outcome.code, outcome.reason)} after ${formatMs(outcome.ms)}, before connection_established`;
    case 'network-error':
      return `WebSocket handshake to ${endpoint} failed before any HTTP answer after ${formatMs(outcome.ms)}: ${outcome.code} ${outcome.message}`;
    case 'timeout':
      return outcome.stage === 'upgrade'
        ? `WebSocket handshake to ${endpoint}: no answer to the upgrade request within budget '${budget.path}' (${formatMs(budget.ms)})`
        : `WebSocket ${endpoint} upgraded (101) but sent no connection_established within budget '${budget.path}' (${formatMs(budget.ms)})`;
    case 'protocol-mismatch':
      return `WebSocket ${endpoint}: offered subprotocol ${outcome.offered || '(none)'} but the server echoed ${outcome.echoed ?? '(none)'} (${outcome.message})`;
    case 'unexpected-frame':
      return `WebSocket ${endpoint}: the first frame was ${outcome.frameType}, expected connection_established (${outcome.reason}); frame: ${outcome.preview}`;
  }
}

function awaitHandshake(session: WsSession, offered: readonly string[], secrets: readonly string[], signal: AbortSignal): Promise<HandshakeOutcome> {
  const ws = session.socket;
  return new Promise<HandshakeOutcome>((resolve) => {
    let settled = false;
    let opened = false;
    const cleanups: (() => void)[] = [];
    const finish = (outcome: HandshakeOutcome): void => {
      if (settled) return;
      settled = true;
      for (const cleanup of cleanups) cleanup();
      resolve(outcome);
    };
    const ms = (): number => Math.round(session.nowMs());
    signal.addEventListener('abort', () => {
      settled = true;
      for (const cleanup of cleanups) cleanup();
    }, { once: true });

    const onUnexpected = (request: ClientRequest, response: IncomingMessage): void => {
      const status = response.statusCode ?? 0;
      const correlation = response.headers['x-correlation-id'] ?? response.headers['x-request-id'];
      void readBody(response, HTTP_BODY_LIMIT).then((body) => {
        const outcome: HandshakeOutcome = { kind: 'http-rejected', status, body: truncateText(redactSecrets(body, secrets), EVIDENCE_BODY_CHARS), ms: ms() };
        if (typeof correlation === 'string') outcome.correlationId = correlation;
        finish(outcome);
        request.destroy(); // the caller then closes (terminates) the half-open socket
      });
    };
    const onOpen = (): void => {
      opened = true;
      session.protocol = redactSecrets(ws.protocol);
    };
    const onError = (error: Error): void => {
      if (opened) return; // after the upgrade the close event tells the story
      if (SUBPROTOCOL_ERRORS.has(error.message)) {
        const echoed = session.echoedProtocol;
        finish({
          kind: 'protocol-mismatch',
          offered: offered.map((p) => redactSecrets(p)).join(', '),
          echoed: echoed === null ? null : redactSecrets(echoed),
          message: error.message,
          ms: ms(),
        });
        return;
      }
      finish({ kind: 'network-error', code: errorCode(error) ?? 'WS_HANDSHAKE_FAILED', message: redactSecrets(error.message, secrets), ms: ms() });
    };
    ws.on('unexpected-response', onUnexpected);
    ws.on('open', onOpen);
    ws.on('error', onError);
    cleanups.push(() => {
      ws.off('open', onOpen);
      ws.off('error', onError);
      // 'unexpected-response' stays: without a listener ws would throw on a late response.
    });

    const unsubscribe = session.subscribe((event) => {
      if (event.kind === 'close') {
        if (opened) {
          finish({ kind: 'closed-after-upgrade', code: event.info.code, reason: event.info.reason, ms: ms() });
        } else {
          const error = session.lastError;
          finish({
            kind: 'network-error',
            code: (error && errorCode(error)) ?? 'CLOSED_BEFORE_UPGRADE',
            message: error ? redactSecrets(error.message, secrets) : `socket closed before the upgrade (${describeClose(event.info.code, event.info.reason)})`,
            ms: ms(),
          });
        }
        return;
      }
      if (event.kind !== 'frame') return; // failWaits is for waits after the handshake
      const frame = event.frame;
      if (frame.index !== 0) return;
      if (frame.type !== 'connection_established') {
        finish({
          kind: 'unexpected-frame',
          frameType: frame.type,
          reason: frame.error ? frame.error.message : `first frame must be connection_established`,
          preview: truncateText(frame.raw, 200),
          ms: ms(),
        });
        return;
      }
      const { connection_id: connectionId, user_id: userId } = frame.fields;
      if (typeof connectionId !== 'string' || connectionId === '' || typeof userId !== 'string' || userId === '') {
        const missing = [typeof connectionId !== 'string' || connectionId === '' ? 'connection_id' : '', typeof userId !== 'string' || userId === '' ? 'user_id' : ''].filter(Boolean);
        finish({
          kind: 'unexpected-frame',
          frameType: frame.type,
          reason: `connection_established lacks ${missing.join(' and ')}`,
          preview: truncateText(frame.raw, 200),
          ms: ms(),
        });
        return;
      }
      session.connectionId = connectionId;
      session.userId = userId;
      session.handshakeMs = Math.round(frame.receivedAt);
      finish({ kind: 'established', protocol: session.protocol, connectionId, userId, ms: Math.round(frame.receivedAt) });
    });
    cleanups.push(unsubscribe);
  });
}

async function openSession(options: ConnectOptions): Promise<{ session: WsSession; outcome: HandshakeOutcome; cause?: unknown }> {
  const { url, endpoint } = buildUrl(options);
  const secrets = secretsOf(options.auth);
  const offered = options.protocols ?? (options.auth.method === 'subprotocol' ? [`jwt.${options.auth.token}`] : []);
  const headers: Record<string, string> = { ...options.headers };
  if (options.auth.method === 'header') headers.Authorization = `Bearer ${options.auth.token}`;

  const maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  const limits = { maxFrameBytes, hardMaxFrameBytes: Math.max(options.hardMaxFrameBytes ?? DEFAULT_HARD_MAX_FRAME_BYTES, maxFrameBytes) };
  // STAGING_CA_FILE beside the system store, and the proxy unless NO_PROXY or loopback says
  // otherwise (core/network-env.ts): a CONNECT tunnel, TLS to the target on top.
  const network = processNetwork();
  const ca = options.ca ?? network.ca;
  const proxy = proxyFor(url, network.proxy);
  const agent = proxy ? tunnelAgent(proxy, { timeoutMs: options.budget.ms, secure: url.startsWith('wss:') }) : undefined;
  let ws: WebSocket;
  try {
    ws = new WebSocket(url, offered, {
      headers,
      perMessageDeflate: false,
      followRedirects: false,
      maxPayload: limits.hardMaxFrameBytes,
      ...(ca ? { ca } : {}),
      ...(agent ? { agent } : {}),
    });
  } catch (error) {
    throw new CheckError(`cannot open a WebSocket to ${endpoint}: ${redactSecrets((error as Error).message, secrets)}`, {
      component: 'websocket',
      layer: 'config',
      endpoint,
      evidence: { offered: offered.map((p) => redactSecrets(p)) },
    });
  }
  const session = new WsSession(ws, endpoint, secrets, limits);
  try {
    const outcome = await options.budget.step('ws handshake', (signal) => awaitHandshake(session, offered, secrets, signal), {
      component: 'websocket',
      endpoint,
      context: () => (session.upgraded ? 'upgraded, waiting for connection_established' : 'waiting for the answer to the upgrade request'),
    });
    if (outcome.kind !== 'established') await session.close(500);
    return { session, outcome };
  } catch (error) {
    await session.close(500);
    if (error instanceof BudgetExceededError) {
      return { session, outcome: { kind: 'timeout', stage: session.upgraded ? 'first-frame' : 'upgrade', ms: Math.round(session.nowMs()) }, cause: error };
    }
    throw error;
  }
}

/**
 * Opens a session and resolves once `connection_established` has arrived within the budget;
 * otherwise throws a WsHandshakeError (layer 'ws-handshake' for HTTP rejections and network
 * errors, 'ws-close' for 101-then-close, 'budget' for a timeout, 'protocol' for a subprotocol
 * mismatch, 'frame' for a wrong first frame) with the classified `outcome`.
 */
export async function connectWs(options: ConnectOptions): Promise<WsSession> {
  const { session, outcome, cause } = await openSession(options);
  if (outcome.kind === 'established') return session;
  throw new WsHandshakeError(outcome, session.endpoint, options.budget, cause);
}

/** Classifies how a handshake ends, then closes the connection. Never throws for target behaviour. */
export async function probeHandshake(options: ConnectOptions): Promise<HandshakeOutcome> {
  const { session, outcome } = await openSession(options);
  await session.close(1_000);
  return outcome;
}
