import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket as ServerSocket } from 'ws';
import { waitForRun } from '../../helpers/contract/agent-run.ts';
import { Budget, BudgetExceededError } from '../../helpers/core/budgets.ts';
import { CheckError } from '../../helpers/core/errors.ts';
import { FrameError } from '../../helpers/core/frames.ts';
import { expectHandshakeAccepted, expectHandshakeRefused } from '../../helpers/contract/handshake-checks.ts';
import { classifyHandshake, connectWs, probeHandshake, WsHandshakeError, type HandshakeOutcome } from '../../helpers/transport/ws-handshake.ts';
import type { ConnectOptions, WsSession } from '../../helpers/transport/ws.ts';
import { rejectionOf } from '../support/net.ts';

// ---- a scripted WebSocket server on 127.0.0.1 ------------------------------------------------

interface UpgradeContext {
  req: IncomingMessage;
  socket: Duplex;
  /** Completes the upgrade (echoing the first offered subprotocol unless the server says otherwise). */
  accept(): Promise<ServerSocket>;
  /** Answers the upgrade request with a plain HTTP response. */
  rejectWith(status: number, reason: string, body: string): void;
}

interface TestServer {
  url: string;
  requests: IncomingMessage[];
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startServer(
  onUpgrade: (ctx: UpgradeContext) => void | Promise<void>,
  options: { handleProtocols?: (protocols: Set<string>) => string | false } = {},
): Promise<TestServer> {
  const wss = new WebSocketServer({
    noServer: true,
    handleProtocols: options.handleProtocols ?? ((protocols) => protocols.values().next().value ?? false),
  });
  const server: Server = createServer();
  const sockets = new Set<Duplex>();
  const requests: IncomingMessage[] = [];
  server.on('upgrade', (req, socket, head) => {
    sockets.add(socket);
    requests.push(req);
    socket.on('error', () => undefined);
    void onUpgrade({
      req,
      socket,
      accept: () => new Promise((resolve) => wss.handleUpgrade(req, socket, head, (ws) => resolve(ws))),
      rejectWith: (status, reason, body) => {
        socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nX-Correlation-Id: corr-${status}\r\nConnection: close\r\n\r\n${body}`);
      },
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  cleanups.push(async () => {
    for (const client of wss.clients) client.terminate();
    for (const socket of sockets) socket.destroy();
    wss.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { url: `ws://127.0.0.1:${port}/ws`, requests };
}

function json(ws: ServerSocket, frame: Record<string, unknown>): void {
  ws.send(JSON.stringify(frame));
}

async function established(ws: ServerSocket, extra: Record<string, unknown> = {}): Promise<void> {
  json(ws, { type: 'connection_established', connection_id: 'conn-1', user_id: 'e2e-alice', timestamp: Date.now(), ...extra });
}

const healthy = async ({ accept }: UpgradeContext): Promise<void> => {
  await established(await accept());
};

const TOKEN = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.c2lnbmF0dXJl';

/**
 * Time bounds in this file: budgets and stall thresholds a test does not mean to run into are
 * wide (10–30 s), and an upper bound on elapsed time sits far below the alternative it rules out
 * and far above any scheduling lag (typically 10 s).
 */
function opts(url: string, overrides: Partial<ConnectOptions> = {}): ConnectOptions {
  return { url, auth: { method: 'subprotocol', token: TOKEN }, budget: new Budget('ws handshake', 10_000), ...overrides };
}

/** Resolves once `condition()` holds, checked on every event-loop turn (bounded by the test timeout). */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setImmediate(resolve));
}

/** A duration as the messages print it: `250 ms` under a second, `1 s` / `1.2 s` from there on. */
const DURATION = String.raw`(?:\d+ ms|\d+(?:\.\d)? s)`;

async function open(url: string, overrides: Partial<ConnectOptions> = {}): Promise<WsSession> {
  const session = await connectWs(opts(url, overrides));
  cleanups.push(() => session.close(500));
  return session;
}


async function handshakeError(options: ConnectOptions): Promise<WsHandshakeError> {
  const error = await rejectionOf(connectWs(options));
  expect(error).toBeInstanceOf(WsHandshakeError);
  return error as WsHandshakeError;
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

// ---- handshake ---------------------------------------------------------------------------------

describe('probeHandshake / connectWs: established', () => {
  it('passes the token as jwt.<token>, checks the echo, and reports it redacted', async () => {
    const server = await startServer(healthy);
    const outcome = await probeHandshake(opts(server.url));
    expect(outcome).toMatchObject({ kind: 'established', protocol: 'jwt.[redacted]', connectionId: 'conn-1', userId: 'e2e-alice' });
    expect(outcome.ms).toBeGreaterThan(0);
    expect(server.requests[0]!.headers['sec-websocket-protocol']).toBe(`jwt.${TOKEN}`);
  });

  it('resolves only after connection_established, captured as frame 0', async () => {
    const server = await startServer(async ({ accept }) => {
      const ws = await accept();
      await sleep(80);
      await established(ws);
    });
    const budget = new Budget('connect', 10_000);
    const session = await open(server.url, { budget });
    expect(session.frames).toHaveLength(1);
    expect(session.frames[0]).toMatchObject({ index: 0, type: 'connection_established', fields: { connection_id: 'conn-1' } });
    expect(session.frames[0]!.receivedAt).toBeGreaterThanOrEqual(70);
    expect(session.frames[0]!.receivedAtEpoch).toBeGreaterThan(1_700_000_000_000);
    expect(session.connectionId).toBe('conn-1');
    expect(session.userId).toBe('e2e-alice');
    expect(session.handshakeMs).toBeGreaterThanOrEqual(70);
    expect(budget.ledger().map((e) => `${e.label}:${e.outcome}`)).toEqual(['ws handshake:ok']);
  });

  it('sends a header token as Authorization: Bearer, and no subprotocol', async () => {
    const server = await startServer(healthy);
    const session = await open(server.url, { auth: { method: 'header', token: TOKEN } });
    expect(server.requests[0]!.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(server.requests[0]!.headers['sec-websocket-protocol']).toBeUndefined();
    expect(session.protocol).toBe('');
  });

  it('passes a ticket as ?ticket= and keeps it out of the endpoint', async () => {
    const server = await startServer(healthy);
    const session = await open(server.url, { auth: { method: 'ticket', ticketId: 'tkt-secret-123' } });
    expect(server.requests[0]!.url).toBe('/ws?ticket=tkt-secret-123');
    expect(session.endpoint).toBe(`${server.url}?ticket=[redacted]`);
  });
});

describe('probeHandshake / connectWs: refusals and failures', () => {
  it('classifies HTTP 401 before the upgrade, with status, body and correlation id', async () => {
    const server = await startServer(({ rejectWith }) => rejectWith(401, 'Unauthorized', `{"detail":"invalid token ${TOKEN}"}`));
    const outcome = await probeHandshake(opts(server.url));
    expect(outcome).toMatchObject({ kind: 'http-rejected', status: 401, body: '{"detail":"invalid token [redacted]"}', correlationId: 'corr-401' });

    const error = await handshakeError(opts(server.url));
    expect(error.details).toMatchObject({ component: 'websocket', layer: 'ws-handshake', code: 401, correlationId: 'corr-401' });
    expect(error.message).toMatch(new RegExp(`^WebSocket handshake to ws://127\\.0\\.0\\.1:\\d+/ws was rejected with HTTP 401 before the upgrade after ${DURATION}: \\{"detail":"invalid token \\[redacted\\]"\\}$`));
    expect(error.outcome.kind).toBe('http-rejected');
    expect(JSON.stringify(error.details)).not.toContain(TOKEN);
  });

  it('classifies a rejection whose body never ends without waiting for the budget', async () => {
    const server = await startServer(({ socket }) => {
      socket.write('HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\n\r\nforbidden, and the body goes on');
    });
    const started = performance.now();
    const outcome = await probeHandshake(opts(server.url, { budget: new Budget('ws handshake', 30_000) }));
    expect(outcome).toMatchObject({ kind: 'http-rejected', status: 403, body: 'forbidden, and the body goes on' });
    expect(performance.now() - started, 'classified on the status line, far inside the 30 s budget').toBeLessThan(10_000);
  });

  it('classifies HTTP 503 from a load balancer', async () => {
    const server = await startServer(({ rejectWith }) => rejectWith(503, 'Service Unavailable', '{"status":"starting"}'));
    expect(await probeHandshake(opts(server.url))).toMatchObject({ kind: 'http-rejected', status: 503, body: '{"status":"starting"}' });
  });

  it.each([
    [1008, 'auth failed', 'policy violation: authentication failed'],
    [1011, 'not ready', 'server error: service not ready'],
  ])('classifies 101 then close %i', async (code, reason, meaning) => {
    const server = await startServer(async ({ accept }) => (await accept()).close(code, reason));
    expect(await probeHandshake(opts(server.url))).toMatchObject({ kind: 'closed-after-upgrade', code, reason });

    const error = await handshakeError(opts(server.url));
    expect(error.details).toMatchObject({ component: 'websocket', layer: 'ws-close', code });
    expect(error.message).toContain(`upgraded (101), then the server closed it with code ${code} (${meaning}) "${reason}"`);
  });

  it('classifies close 1003 for an unsupported subprotocol offered through the override', async () => {
    const server = await startServer(async ({ accept, req }) => {
      const ws = await accept();
      if (req.headers['sec-websocket-protocol'] !== 'jwt.' + TOKEN) ws.close(1003, 'unsupported subprotocol');
      else await established(ws);
    });
    const outcome = await probeHandshake(opts(server.url, { protocols: ['graphql-ws'] }));
    expect(outcome).toMatchObject({ kind: 'closed-after-upgrade', code: 1003, reason: 'unsupported subprotocol' });
    expect(server.requests[0]!.headers['sec-websocket-protocol']).toBe('graphql-ws');
  });

  it('classifies a refused TCP connection as a network error', async () => {
    const port = await freePort();
    const outcome = await probeHandshake(opts(`ws://127.0.0.1:${port}/ws`));
    expect(outcome).toMatchObject({ kind: 'network-error', code: 'ECONNREFUSED' });
    const error = await handshakeError(opts(`ws://127.0.0.1:${port}/ws`));
    expect(error.details).toMatchObject({ component: 'websocket', layer: 'ws-handshake', code: 'ECONNREFUSED' });
  });

  it('times out at the budget when the upgrade is never answered', async () => {
    const server = await startServer(() => undefined);
    const started = performance.now();
    const outcome = await probeHandshake(opts(server.url, { budget: new Budget('ws handshake', 250) }));
    const took = performance.now() - started;
    expect(outcome).toMatchObject({ kind: 'timeout', stage: 'upgrade' });
    expect(took).toBeGreaterThanOrEqual(240);
    expect(took, 'ended by the budget, not by waiting on the silent server').toBeLessThan(10_000);

    const budget = new Budget('ws handshake', 250);
    const error = await handshakeError(opts(server.url, { budget }));
    expect(error.details).toMatchObject({ layer: 'budget', code: 'timeout' });
    expect(error.message).toMatch(/no answer to the upgrade request within budget 'ws handshake' \(250 ms\)$/);
    expect(error.cause).toBeInstanceOf(BudgetExceededError);
    expect(budget.ledger().map((e) => `${e.label}:${e.outcome}`)).toEqual(['ws handshake:exhausted']);
  });

  it('times out in the first-frame stage when upgraded but connection_established never comes', async () => {
    const server = await startServer(async ({ accept }) => {
      await accept();
    });
    // 2 s: the upgrade itself must finish inside the budget for the stage to be 'first-frame',
    // even on a busy machine. Both handshakes run side by side.
    const [outcome, error] = await Promise.all([
      probeHandshake(opts(server.url, { budget: new Budget('ws handshake', 2_000) })),
      handshakeError(opts(server.url, { budget: new Budget('ws handshake', 2_000) })),
    ]);
    expect(outcome).toMatchObject({ kind: 'timeout', stage: 'first-frame' });
    expect(error.message).toMatch(/upgraded \(101\) but sent no connection_established within budget 'ws handshake' \(2 s\)$/);
  });

  it('classifies a subprotocol the server did not echo exactly, redacting the token', async () => {
    const other = await startServer(healthy, { handleProtocols: () => 'chat' });
    const outcome = await probeHandshake(opts(other.url));
    expect(outcome).toMatchObject({ kind: 'protocol-mismatch', offered: 'jwt.[redacted]', echoed: 'chat', message: 'Server sent an invalid subprotocol' });

    const none = await startServer(healthy, { handleProtocols: () => false });
    const error = await handshakeError(opts(none.url));
    expect(error.outcome).toMatchObject({ kind: 'protocol-mismatch', offered: 'jwt.[redacted]', echoed: null, message: 'Server sent no subprotocol' });
    expect(error.details.layer).toBe('protocol');
    expect(error.message).not.toContain(TOKEN);
  });

  it('classifies a first frame that is not connection_established', async () => {
    const server = await startServer(async ({ accept }) => json(await accept(), { type: 'hello' }));
    expect(await probeHandshake(opts(server.url))).toMatchObject({
      kind: 'unexpected-frame',
      frameType: 'hello',
      reason: 'first frame must be connection_established',
    });

    const garbage = await startServer(async ({ accept }) => (await accept()).send('<html>'));
    const outcome = await probeHandshake(opts(garbage.url));
    expect(outcome).toMatchObject({ kind: 'unexpected-frame', frameType: '<invalid>', preview: '<html>' });
    expect((outcome as Extract<HandshakeOutcome, { kind: 'unexpected-frame' }>).reason).toMatch(/^received a non-JSON frame/);
  });

  it('classifies a connection_established without user_id', async () => {
    const server = await startServer(async ({ accept }) => json(await accept(), { type: 'connection_established', connection_id: 'c' }));
    const error = await handshakeError(opts(server.url));
    expect(error.outcome).toMatchObject({ kind: 'unexpected-frame', reason: 'connection_established lacks user_id' });
    expect(error.details.layer).toBe('frame');
  });

  it('reports a malformed URL as a config error', async () => {
    const error = await rejectionOf(connectWs(opts('http://127.0.0.1:1/ws')));
    expect(error).toBeInstanceOf(CheckError);
    expect((error as CheckError).details.layer).toBe('config');
  });
});

describe('classifyHandshake', () => {
  const outcomes: HandshakeOutcome[] = [
    { kind: 'established', protocol: 'jwt.[redacted]', connectionId: 'c', userId: 'u', ms: 5 },
    { kind: 'http-rejected', status: 503, body: '', ms: 5 },
    { kind: 'closed-after-upgrade', code: 1011, reason: 'not ready', ms: 5 },
    { kind: 'network-error', code: 'ECONNREFUSED', message: 'connect ECONNREFUSED', ms: 5 },
    { kind: 'timeout', stage: 'first-frame', ms: 5 },
    { kind: 'protocol-mismatch', offered: 'jwt.[redacted]', echoed: null, message: 'Server sent no subprotocol', ms: 5 },
    { kind: 'unexpected-frame', frameType: '<invalid>', reason: 'received a non-JSON frame', preview: '<html>', ms: 5 },
  ];

  it('gives each outcome one layer and code', () => {
    expect(outcomes.map(classifyHandshake)).toEqual([
      { layer: 'ws-handshake', code: 'accepted' },
      { layer: 'ws-handshake', code: 503 },
      { layer: 'ws-close', code: 1011 },
      { layer: 'ws-handshake', code: 'ECONNREFUSED' },
      { layer: 'budget', code: 'timeout' },
      { layer: 'protocol', code: 'subprotocol' },
      { layer: 'frame', code: '<invalid>' },
    ]);
  });

  it('is the mapping behind WsHandshakeError and both handshake checks', () => {
    const thrownBy = (fn: () => void): CheckError => {
      try {
        fn();
      } catch (error) {
        if (error instanceof CheckError) return error;
        throw error;
      }
      throw new Error('expected a CheckError');
    };
    for (const outcome of outcomes.slice(1)) {
      const expected = classifyHandshake(outcome);
      expect(new WsHandshakeError(outcome, 'ws://127.0.0.1/ws', new Budget('b', 100)).details, outcome.kind).toMatchObject(expected);
      expect(thrownBy(() => expectHandshakeAccepted(outcome, 'x')).details, outcome.kind).toMatchObject(expected);
      expect(thrownBy(() => expectHandshakeRefused(outcome, 'x')).details, outcome.kind).toMatchObject(expected);
    }
    expect(thrownBy(() => expectHandshakeRefused(outcomes[0]!, 'x')).details).toMatchObject({ component: 'websocket', layer: 'ws-handshake', code: 'accepted' });
  });
});

// ---- session -----------------------------------------------------------------------------------

/** A server whose sockets the test can drive after connection_established. */
async function scripted(): Promise<{ url: string; next: () => Promise<ServerSocket> }> {
  const waiting: ((ws: ServerSocket) => void)[] = [];
  const ready: ServerSocket[] = [];
  const server = await startServer(async ({ accept }) => {
    const ws = await accept();
    await established(ws);
    const taker = waiting.shift();
    if (taker) taker(ws);
    else ready.push(ws);
  });
  return {
    url: server.url,
    next: () => {
      const ws = ready.shift();
      return ws ? Promise.resolve(ws) : new Promise((resolve) => waiting.push(resolve));
    },
  };
}

describe('WsSession capture', () => {
  it('captures malformed frames as <invalid> entries and keeps going', async () => {
    const server = await scripted();
    const session = await open(server.url);
    const ws = await server.next();
    ws.send('not json at all');
    ws.send(Buffer.from([0xde, 0xad]), { binary: true });
    json(ws, { no: 'type' });
    json(ws, { type: 'pong', data: { seq: 1 } });
    // From index 4: the bad frames before it are outside this wait's window.
    const pong = await session.waitFor((f) => f.type === 'pong', { budget: new Budget('w', 10_000), what: 'pong', fromIndex: 4 });
    expect(pong.index).toBe(4);
    expect(pong.wrapped).toBe('data');
    expect(pong.fields.seq).toBe(1);
    expect(session.frames.map((f) => [f.type, f.error?.problem])).toEqual([
      ['connection_established', undefined],
      ['<invalid>', 'not-json'],
      ['<invalid>', 'binary'],
      ['<invalid>', 'missing-type'],
      ['pong', undefined],
    ]);
    expect(session.frames[1]!.error).toBeInstanceOf(FrameError);
    expect(session.frames[1]!.raw).toBe('not json at all');
    expect(session.isOpen).toBe(true);
    const dump = session.dump();
    expect(dump).toContain('<- <invalid>  received a non-JSON frame');
    expect(dump).toContain('<- pong  {"type":"pong","data":{"seq":1}}');
  });

  it('sends JSON and raw frames, and records them for the dump without the token', async () => {
    const server = await scripted();
    const session = await open(server.url);
    const ws = await server.next();
    const received: string[] = [];
    ws.on('message', (data) => received.push(String(data)));
    session.send({ type: 'ping' });
    session.sendRaw('{oops');
    await until(() => received.length >= 2);
    expect(received).toEqual(['{"type":"ping"}', '{oops']);
    expect(session.sent.map((s) => s.type)).toEqual(['ping', '<raw text>']);
    const dump = session.dump();
    expect(dump).toMatch(/^WebSocket ws:\/\/127\.0\.0\.1:\d+\/ws protocol jwt\.\[redacted\] connection conn-1 user e2e-alice: 1 frame received, 2 sent/);
    expect(dump).toContain('-> ping  {"type":"ping"}');
    expect(dump).not.toContain(TOKEN);
    expect(dump.split('\n').at(-1)).toBe('still open');
  });
});

describe('WsSession.waitFor', () => {
  it('resolves with a frame captured before the wait started, and one arriving later', async () => {
    const server = await scripted();
    const session = await open(server.url);
    const ws = await server.next();
    json(ws, { type: 'heartbeat' });
    await until(() => session.frames.length === 2);
    const early = await session.waitFor((f) => f.type === 'heartbeat', { budget: new Budget('w', 10_000), what: 'heartbeat' });
    expect(early.index).toBe(1);
    // Sent once the wait has started, so it can only arrive during the wait.
    const waiting = session.waitFor((f, i) => i > early.index && f.type === 'heartbeat', { budget: new Budget('w', 10_000), what: 'second heartbeat' });
    json(ws, { type: 'heartbeat', n: 2 });
    const later = await waiting;
    expect(later.fields.n).toBe(2);
    const fromIndex = await session.waitFor((f) => f.type === 'heartbeat', { budget: new Budget('w', 10_000), what: 'x', fromIndex: 2 });
    expect(fromIndex.index).toBe(2);
  });

  it('rejects when the budget runs out, naming what it waited for, the budget and the last frame', async () => {
    const server = await scripted();
    const session = await open(server.url);
    const budget = new Budget('ping test', 200);
    const started = performance.now();
    const error = await rejectionOf(session.waitFor((f) => f.type === 'pong', { budget, what: 'pong after ping' }));
    expect(performance.now() - started, 'ended by the budget: no pong ever comes').toBeLessThan(10_000);
    expect(error).toBeInstanceOf(BudgetExceededError);
    const e = error as BudgetExceededError;
    expect(e.details).toMatchObject({ component: 'websocket', layer: 'budget' });
    expect(e.message).toMatch(
      new RegExp(`^Budget exhausted at 'ping test › wait pong after ping': budget 'ping test' \\(200 ms\\) ran out after ${DURATION}; step 'wait pong after ping' used ${DURATION} of 200 ms; waiting for pong after ping; last frame seen: #0 connection_established at t\\+${DURATION}$`),
    );
    expect((e.details.evidence?.lastFrames as { type: string }[]).map((f) => f.type)).toEqual(['connection_established']);
  });

  it('rejects at once with layer ws-close and the close code when the server closes', async () => {
    const server = await scripted();
    const session = await open(server.url);
    const ws = await server.next();
    const started = performance.now();
    // The close is sent once the wait has started, so it arrives during the wait.
    const waiting = rejectionOf(session.waitFor((f) => f.type === 'pong', { budget: new Budget('w', 30_000), what: 'pong' }));
    ws.close(1011, 'backend gone');
    const error = (await waiting) as CheckError;
    expect(performance.now() - started, 'on the close, far inside the 30 s budget').toBeLessThan(10_000);
    expect(error).toBeInstanceOf(CheckError);
    expect(error.details).toMatchObject({ component: 'websocket', layer: 'ws-close', code: 1011 });
    expect(error.message).toMatch(new RegExp(`^the server closed the WebSocket \\(code 1011 \\(server error: service not ready\\) "backend gone"\\) at t\\+${DURATION} while waiting for pong; last frame seen: #0 connection_established`));
    expect(session.closeInfo).toMatchObject({ code: 1011, reason: 'backend gone', by: 'server' });
    // and a wait started after the close fails the same way
    const after = (await rejectionOf(session.waitFor((f) => f.type === 'pong', { budget: new Budget('w', 30_000), what: 'pong' }))) as CheckError;
    expect(after.details.layer).toBe('ws-close');
    // sending on a socket the server closed is a target failure too
    expect(() => session.send({ type: 'ping' })).toThrow(CheckError);
  });

  it('treats a throwing predicate as a harness bug', async () => {
    const server = await scripted();
    const session = await open(server.url);
    const error = await rejectionOf(session.waitFor(() => { throw new TypeError('bad predicate'); }, { budget: new Budget('w', 10_000), what: 'x' }));
    expect(error).toBeInstanceOf(TypeError);
  });
});

describe('WsSession.close', () => {
  it('is idempotent, resolves once closed and records who closed', async () => {
    const server = await scripted();
    const session = await open(server.url);
    const first = session.close();
    const second = session.close();
    expect(second).toBe(first);
    await first;
    expect(session.isOpen).toBe(false);
    expect(session.closeInfo).toMatchObject({ code: 1000, by: 'client' });
    await session.close();
    expect(() => session.send({ type: 'ping' })).toThrow(/not open/);
    expect(session.dump().split('\n').at(-1)).toMatch(new RegExp(`^closed by client at t\\+${DURATION}: code 1000 \\(normal closure\\)`));
  });

  it('terminates after the bounded wait when the server never answers the close', async () => {
    const server = await startServer(async ({ accept, socket }) => {
      const ws = await accept();
      await established(ws);
      // Swallow everything the client sends from now on: its close frame is never answered.
      socket.removeAllListeners('data');
      socket.pause();
    });
    const session = await open(server.url);
    const started = performance.now();
    await session.close(200);
    const took = performance.now() - started;
    expect(took).toBeGreaterThanOrEqual(190);
    expect(took, 'ended by the 200 ms bound: the server never answers the close').toBeLessThan(10_000);
    expect(session.closeInfo?.code).toBe(1006);
  });
});

// ---- runs ----------------------------------------------------------------------------------------

function runFrames(runId: string, threadId = 't-1'): Record<string, unknown>[] {
  return [
    { type: 'agent_started', run_id: runId, thread_id: threadId, agent_name: 'triage', task_description: 'What is 17 * 3?' },
    { type: 'agent_thinking', run_id: runId, reasoning: 'multiply' },
    { type: 'tool_executing', run_id: runId, tool_name: 'calculator', tool_args: { expr: '17*3' }, execution_id: 'e1' },
    { type: 'tool_completed', run_id: runId, tool_name: 'calculator', execution_id: 'e1', results: { value: 51 }, execution_time: 2, success: true },
    { type: 'agent_completed', run_id: runId, status: 'success', final_response: '51' },
  ];
}

async function play(ws: ServerSocket, frames: Record<string, unknown>[], gapMs = 20): Promise<void> {
  for (const frame of frames) {
    json(ws, frame);
    await sleep(gapMs);
  }
}

describe('waitForRun (helpers/contract/agent-run.ts)', () => {
  it('collects only the run events up to the terminal one, skipping other runs', async () => {
    const server = await scripted();
    const session = await open(server.url);
    const ws = await server.next();
    const mine = runFrames('r1');
    const other = runFrames('r2');
    void play(ws, [mine[0]!, other[0]!, mine[1]!, { type: 'heartbeat' }, other[1]!, mine[2]!, mine[3]!, other[4]!, mine[4]!, { ...mine[1]!, reasoning: 'late' }]);
    const run = await waitForRun(session, 'r1', { budget: new Budget('run', 30_000), stallMs: 20_000 });
    expect(run.runId).toBe('r1');
    expect(run.events.map((e) => e.type)).toEqual(['agent_started', 'agent_thinking', 'tool_executing', 'tool_completed', 'agent_completed']);
    expect(run.terminal.type).toBe('agent_completed');
    expect(run.terminal.index).toBe(9);
  });

  it('follows the first run started after an index when given { after }', async () => {
    const server = await scripted();
    const session = await open(server.url);
    const ws = await server.next();
    await play(ws, runFrames('old'), 5);
    await session.waitFor((f) => f.type === 'agent_completed', { budget: new Budget('w', 10_000), what: 'old run end' });
    const after = session.frames.length;
    void play(ws, runFrames('new'));
    const run = await waitForRun(session, { after }, { budget: new Budget('run', 30_000), stallMs: 20_000 });
    expect(run.runId).toBe('new');
    expect(run.events[0]!.index).toBe(after);
    expect(run.events).toHaveLength(5);
  });

  it('fails fast on a stall at stallMs, not at the end of the budget', async () => {
    const server = await scripted();
    const session = await open(server.url);
    const ws = await server.next();
    const frames = runFrames('r-stall');
    // A 1 s stall limit inside a 30 s budget: the two frames are sent together, so only a lag of
    // over a second between them could stall the run early; the bound is far from both.
    const budget = new Budget('agent-run', 30_000);
    const started = performance.now();
    json(ws, frames[0]!);
    json(ws, frames[1]!);
    const error = (await rejectionOf(waitForRun(session, 'r-stall', { budget, stallMs: 1_000 }))) as CheckError;
    const took = performance.now() - started;
    const last = session.frames[session.frames.length - 1]!;
    const silence = session.nowMs() - last.receivedAt;

    expect(error).toBeInstanceOf(CheckError);
    expect(error).not.toBeInstanceOf(BudgetExceededError);
    expect(error.details).toMatchObject({ component: 'agent', layer: 'budget', code: 'stall' });
    expect(silence).toBeGreaterThan(1_000);
    expect(took, 'stopped at the stall limit, far inside the 30 s budget').toBeLessThan(10_000);
    expect(error.message).toMatch(
      new RegExp(`^agent run r-stall stalled: no event for ${DURATION} after agent_thinking \\(frame #2 at t\\+${DURATION}\\), over the 1 s stall limit; 2 events so far \\(agent_started, agent_thinking\\); budget 'agent-run' still had [\\d.]+ s$`),
    );
    expect(error.details.evidence).toMatchObject({ runId: 'r-stall', stallMs: 1_000, lastEvent: { type: 'agent_thinking', i: 2 } });
    expect(budget.ledger().map((e) => `${e.label}:${e.outcome}`)).toEqual(['wait run r-stall terminal event:error']);
  });

  it('keeps the stall clock per run: events of other runs do not reset it', async () => {
    const server = await scripted();
    const session = await open(server.url);
    const ws = await server.next();
    json(ws, runFrames('r1')[0]!);
    json(ws, runFrames('r2')[0]!); // r2 is a run of this connection too, so its events are skipped
    // r2's events come every 40 ms, far more often than the 1 s stall limit: if they reset r1's
    // clock, the run would only end at its 30 s budget (a BudgetExceededError, not code 'stall').
    const noise = setInterval(() => json(ws, { type: 'agent_thinking', run_id: 'r2', reasoning: 'other' }), 40);
    try {
      const error = (await rejectionOf(waitForRun(session, 'r1', { budget: new Budget('run', 30_000), stallMs: 1_000 }))) as CheckError;
      expect(error).not.toBeInstanceOf(BudgetExceededError);
      expect(error.details.code).toBe('stall');
    } finally {
      clearInterval(noise);
    }
  });

  it('runs into the budget when events keep coming but no terminal event does', async () => {
    const server = await scripted();
    const session = await open(server.url);
    const ws = await server.next();
    json(ws, runFrames('r1')[0]!);
    // Events every 40 ms against a 20 s stall limit: only the 1 s budget can end the wait.
    const chatter = setInterval(() => json(ws, { type: 'agent_thinking', run_id: 'r1', reasoning: '...' }), 40);
    try {
      const error = (await rejectionOf(waitForRun(session, 'r1', { budget: new Budget('agent-run', 1_000), stallMs: 20_000 }))) as BudgetExceededError;
      expect(error).toBeInstanceOf(BudgetExceededError);
      expect(error.details.component).toBe('agent');
      expect(error.message).toMatch(/^Budget exhausted at 'agent-run › wait run r1 terminal event': .*; waiting for the terminal event of run r1; \d+ events of the run so far; last frame seen: #\d+ agent_thinking/);
    } finally {
      clearInterval(chatter);
    }
  });

  it('rejects with ws-close when the socket closes mid-run', async () => {
    const server = await scripted();
    const session = await open(server.url);
    const ws = await server.next();
    void play(ws, runFrames('r1').slice(0, 2)).then(() => ws.close(1011, 'agent crashed'));
    const error = (await rejectionOf(waitForRun(session, 'r1', { budget: new Budget('run', 30_000), stallMs: 20_000 }))) as CheckError;
    expect(error.details).toMatchObject({ layer: 'ws-close', code: 1011 });
    expect(error.message).toContain('while waiting for the terminal event of run r1');
    expect((error.details.evidence?.runEvents as unknown[]).length).toBe(2);
  });

  it('refuses to follow an agent_started without run_id', async () => {
    const server = await scripted();
    const session = await open(server.url);
    const ws = await server.next();
    json(ws, { type: 'agent_started', thread_id: 't', agent_name: 'a', task_description: 'd' });
    const error = (await rejectionOf(waitForRun(session, { after: 1 }, { budget: new Budget('run', 10_000) }))) as CheckError;
    expect(error.details).toMatchObject({ component: 'agent', layer: 'ordering', code: 'missing-run-id' });
  });
});

// ---- bad frames from the target ------------------------------------------------------------------

/** Resolves once the session has closed (bounded by the test timeout). */
function closed(session: WsSession): Promise<void> {
  if (session.closeInfo) return Promise.resolve();
  return new Promise((resolve) => {
    const unsubscribe = session.subscribe((event) => {
      if (event.kind !== 'close') return;
      unsubscribe();
      resolve();
    });
  });
}

describe('bad frames from the target', () => {
  const cases: { name: string; send: (ws: ServerSocket) => void; code: string; message: RegExp }[] = [
    {
      name: 'non-JSON',
      send: (ws) => ws.send('{"type":"agent_thinking","run_'),
      code: 'FRAME_NOT_JSON',
      message: new RegExp(`^the server sent a bad frame \\(#1 at t\\+${DURATION}\\) while waiting for pong: received a non-JSON frame \\(.+\\); frame: \\{"type":"agent_thinking","run_$`),
    },
    {
      name: 'binary',
      send: (ws) => ws.send(Buffer.from([0x82, 0xff]), { binary: true }),
      code: 'FRAME_BINARY',
      message: new RegExp(`^the server sent a bad frame \\(#1 at t\\+${DURATION}\\) while waiting for pong: received a binary frame of 2 bytes; the contract allows only JSON text frames; frame: <binary 2 bytes: 82ff>$`),
    },
    {
      name: 'typeless',
      send: (ws) => json(ws, { run_id: 'r1', reasoning: 'hm' }),
      code: 'FRAME_MISSING_TYPE',
      message: new RegExp(`^the server sent a bad frame \\(#1 at t\\+${DURATION}\\) while waiting for pong: received a frame without type \\(a JSON object with no "type"\\); every frame needs a string type; frame: \\{"run_id":"r1","reasoning":"hm"\\}$`),
    },
  ];
  for (const { name, send, code, message } of cases) {
    it(`fails a wait at once on a ${name} frame in its window, as websocket/frame ${code}, and keeps the connection`, async () => {
      const server = await scripted();
      const session = await open(server.url);
      const ws = await server.next();
      const started = performance.now();
      // Sent once the wait has started, so the frame arrives in its window.
      const waiting = rejectionOf(session.waitFor((f) => f.type === 'pong', { budget: new Budget('w', 30_000), what: 'pong' }));
      send(ws);
      const error = (await waiting) as CheckError;
      expect(performance.now() - started, 'on the frame, far inside the 30 s budget').toBeLessThan(10_000);
      expect(error).toBeInstanceOf(CheckError);
      expect(error).not.toBeInstanceOf(BudgetExceededError);
      expect(error.details).toMatchObject({ component: 'websocket', layer: 'frame', code, evidence: { frameIndex: 1 } });
      expect(error.message).toMatch(message);
      expect(session.isOpen).toBe(true);
    });
  }

  it('fails a run at once on a bad frame after agent_started, with the run events so far', async () => {
    const server = await scripted();
    const session = await open(server.url);
    const ws = await server.next();
    const frames = runFrames('r1');
    // Nothing after the bad frame: a client that only judged frames at the run's end would run
    // into its 20 s stall limit and fail with code 'stall', not the frame's code.
    json(ws, frames[0]!);
    ws.send(Buffer.from([1]), { binary: true });
    const started = performance.now();
    const error = (await rejectionOf(waitForRun(session, 'r1', { budget: new Budget('run', 30_000), stallMs: 20_000 }))) as CheckError;
    expect(performance.now() - started, 'failed on the bad frame, long before the stall limit').toBeLessThan(10_000);
    expect(error.details).toMatchObject({ component: 'websocket', layer: 'frame', code: 'FRAME_BINARY' });
    expect(error.message).toMatch(new RegExp(`^the server sent a bad frame \\(#2 at t\\+${DURATION}\\) while waiting for the terminal event of run r1: received a binary frame of 1 bytes`));
    expect((error.details.evidence?.runEvents as { type: string }[]).map((e) => e.type)).toEqual(['agent_started']);
  });

  it('fails a run on an event carrying the run_id of a run this connection never started', async () => {
    const server = await scripted();
    const session = await open(server.url);
    const ws = await server.next();
    const frames = runFrames('r1');
    void play(ws, [frames[0]!, { type: 'agent_thinking', run_id: 'r-other', reasoning: 'another request' }, ...frames.slice(1)]);
    const error = (await rejectionOf(waitForRun(session, 'r1', { budget: new Budget('run', 30_000), stallMs: 20_000 }))) as CheckError;
    expect(error).toBeInstanceOf(CheckError);
    expect(error.details).toMatchObject({
      component: 'websocket',
      layer: 'frame',
      code: 'foreign-run-id',
      evidence: { runId: 'r1', foreignRunId: 'r-other', startedRuns: ['r1'], frame: { i: 2, type: 'agent_thinking', run_id: 'r-other' } },
    });
    expect(error.message).toMatch(
      new RegExp(`^agent_thinking \\(frame #2 at t\\+${DURATION}\\) carries run_id r-other, the run_id of another run: this connection started only run r1 and was following run r1; every event must carry its own run's run_id$`),
    );
  });

  it('counts an event as foreign when its agent_started only comes after it', async () => {
    const server = await scripted();
    const session = await open(server.url);
    const ws = await server.next();
    void play(ws, [runFrames('r1')[0]!, runFrames('r2')[1]!, runFrames('r2')[0]!]);
    const error = (await rejectionOf(waitForRun(session, 'r1', { budget: new Budget('run', 30_000), stallMs: 20_000 }))) as CheckError;
    expect(error.details).toMatchObject({ code: 'foreign-run-id', evidence: { foreignRunId: 'r2', startedRuns: ['r1'] } });
  });

  it('keeps a legit 900 KiB frame under the default limits', async () => {
    const server = await scripted();
    const session = await open(server.url);
    const ws = await server.next();
    json(ws, { type: 'agent_thinking', run_id: 'r1', reasoning: 'y'.repeat(900 * 1024) });
    const frame = await session.waitFor((f) => f.type === 'agent_thinking', { budget: new Budget('w', 10_000), what: 'big thinking' });
    expect(frame.error).toBeUndefined();
    expect(frame.fields.reasoning).toHaveLength(900 * 1024);
  });

  it('measures a frame over maxFrameBytes exactly, without parsing it, and keeps the connection', async () => {
    const server = await scripted();
    const session = await open(server.url, { maxFrameBytes: 1_000 });
    const ws = await server.next();
    const text = JSON.stringify({ type: 'agent_thinking', reasoning: 'x'.repeat(5_000) });
    ws.send(text);
    const error = (await rejectionOf(session.waitFor((f) => f.type === 'pong', { budget: new Budget('w', 10_000), what: 'pong' }))) as CheckError;
    expect(error.details).toMatchObject({ component: 'websocket', layer: 'frame', code: 'FRAME_TOO_LARGE', evidence: { sizeBytes: text.length } });
    expect(error.message).toMatch(new RegExp(`while waiting for pong: received a frame of 4\\.9 KiB \\(${text.length} bytes\\) that exceeds the 1000 bytes frame limit$`));
    expect(session.isOpen).toBe(true);
  });

  it('does not read a frame over the hard cap: closes with 1009 and fails on the frame, not on the close', async () => {
    const server = await scripted();
    const session = await open(server.url, { maxFrameBytes: 1_024, hardMaxFrameBytes: 4_096 });
    const ws = await server.next();
    ws.send('x'.repeat(64 * 1024));
    const error = (await rejectionOf(session.waitFor((f) => f.type === 'pong', { budget: new Budget('w', 10_000), what: 'pong' }))) as CheckError;
    const expected = new RegExp(`^the server sent a bad frame \\(#1 at t\\+${DURATION}\\) while waiting for pong: received a frame that exceeds the client's 4\\.0 KiB hard cap \\(4096 bytes\\); the client stopped reading it at its header and closed the connection with 1009 \\(message too big\\)$`);
    expect(error.details).toMatchObject({ component: 'websocket', layer: 'frame', code: 'FRAME_TOO_LARGE', evidence: { sizeBytes: 4_097 } });
    expect(error.message).toMatch(expected);
    await closed(session);
    // The client sent close 1009 and stopped reading the socket, so the server's reply goes unread: 1006.
    expect(session.closeInfo).toMatchObject({ code: 1006, by: 'client' });
    // Later waits and sends name the frame too, not a close by the suite (a harness error).
    const after = (await rejectionOf(session.waitFor((f) => f.type === 'pong', { budget: new Budget('w', 10_000), what: 'pong', fromIndex: 2 }))) as CheckError;
    expect(after.details).toMatchObject({ layer: 'frame', code: 'FRAME_TOO_LARGE' });
    expect(() => session.send({ type: 'ping' })).toThrow(new RegExp(`^the server sent a bad frame \\(#1 at t\\+${DURATION}\\) and the client closed the connection over it, so ping cannot be sent: received a frame that exceeds`));
  });

  it('classifies broken WebSocket framing (invalid UTF-8 in a text frame) as a bad frame', async () => {
    const server = await scripted();
    const session = await open(server.url);
    const ws = await server.next();
    ws.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false });
    const error = (await rejectionOf(session.waitFor((f) => f.type === 'pong', { budget: new Budget('w', 10_000), what: 'pong' }))) as CheckError;
    expect(error.details).toMatchObject({ component: 'websocket', layer: 'frame', code: 'FRAME_WS_PROTOCOL' });
    expect(error.message).toMatch(/while waiting for pong: received a broken WebSocket frame \(Invalid WebSocket frame: invalid UTF-8 sequence\); the client closed the connection$/);
    await closed(session);
    expect(session.closeInfo).toMatchObject({ code: 1006, by: 'client' }); // sent 1007, the reply goes unread
    expect(session.lastError?.message).toBe('Invalid WebSocket frame: invalid UTF-8 sequence');
  });
});
