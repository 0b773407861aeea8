/**
 * Real-time communication over the WebSocket, beyond the handshake phase 1 checks.
 *
 * Tier P4 for reconnection, idle connections and tickets: when they break, live updates stop
 * or a reconnecting client is locked out, but conversations stay readable over HTTP.
 * Tier P5 for the answers to malformed and unknown frames: they only matter to a buggy or
 * newer client, which must get an error instead of a silently dead connection.
 * Tier P6 for ping/pong latency: a measurement for the report, failing only when pongs stop.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { expectPersistedTurns } from '../../helpers/contract/threads.ts';
import { describe, expect, recordTimeline, test } from '../../fixtures/index.ts';
import { CHECK_IDS } from '../check-ids.ts';
import { loadGoldenPrompts } from '../../fixtures/golden-prompts.ts';
import { expectHandshakeAccepted, expectHandshakeRefused } from '../../helpers/contract/handshake-checks.ts';
import { startAgentRun } from '../../helpers/contract/agent-run.ts';
import { check, expectFields } from '../../helpers/contract/body.ts';
import type { Budget } from '../../helpers/core/budgets.ts';
import { CheckError } from '../../helpers/core/errors.ts';
import { compactFrame, type CapturedFrame } from '../../helpers/core/frames.ts';
import { type HttpClient, type HttpResult } from '../../helpers/transport/http.ts';
import { expectStatus } from '../../helpers/contract/http-checks.ts';
import { summarize } from '../../helpers/core/stats.ts';
import { probeHandshake } from '../../helpers/transport/ws-handshake.ts';
import type { WsSession } from '../../helpers/transport/ws.ts';

const prompts = loadGoldenPrompts();
const PING_SAMPLES = 20;

/**
 * Ticket lifetimes to try, shortest first. The contract sets no bounds on `ttl_seconds`: a
 * deployment may refuse a short one with 422 (one accepts from 5 s up), so the expiry check
 * uses the shortest one the deployment accepts, and names it.
 */
const TICKET_TTL_LADDER_S = [1, 2, 5, 10, 30] as const;

/** POST /api/websocket/ticket as the worker's identity. */
async function issueTicket(api: HttpClient, ttlSeconds?: number): Promise<{ ticket_id: string; expires_at: string }> {
  const result = await api.request('POST', '/api/websocket/ticket', { body: ttlSeconds === undefined ? {} : { ttl_seconds: ttlSeconds }, auth: true });
  return ticketOf(result, ttlSeconds);
}

/** The shortest-lived ticket the deployment issues: each ttl of the ladder in turn, past 422 refusals. */
async function shortestTicket(api: HttpClient): Promise<{ ticket: { ticket_id: string; expires_at: string }; ttlSeconds: number; refused: number[] }> {
  const refused: number[] = [];
  for (const ttlSeconds of TICKET_TTL_LADDER_S) {
    const result = await api.request('POST', '/api/websocket/ticket', { body: { ttl_seconds: ttlSeconds }, auth: true });
    if (result.status === 422 || result.status === 400) {
      refused.push(ttlSeconds);
      continue;
    }
    return { ticket: ticketOf(result, ttlSeconds), ttlSeconds, refused };
  }
  throw new CheckError(`POST /api/websocket/ticket refused every ttl_seconds of ${TICKET_TTL_LADDER_S.join(', ')} with 422/400: the contract's ttl_seconds is not honoured`, {
    component: 'backend', layer: 'http-status', endpoint: 'POST /api/websocket/ticket', code: 422, evidence: { refused },
  });
}

function ticketOf(result: HttpResult, ttlSeconds: number | undefined): { ticket_id: string; expires_at: string } {
  expectStatus(result, 201, `POST /api/websocket/ticket${ttlSeconds === undefined ? '' : ` {ttl_seconds: ${ttlSeconds}}`}`, 'backend');
  const body = expectFields(result, 'POST /api/websocket/ticket', 'backend', { ticket_id: 'string', expires_at: 'string', websocket_url: 'string' });
  check(!Number.isNaN(Date.parse(body.expires_at)), `POST /api/websocket/ticket: expires_at "${body.expires_at}" is not a timestamp`, {
    component: 'backend', layer: 'content', endpoint: 'POST /api/websocket/ticket', evidence: { expires_at: body.expires_at },
  });
  return body;
}

/** The next frame after `from` that is not a heartbeat (heartbeats may come at any time). */
function nextReply(session: WsSession, from: number, budget: Budget, what: string): Promise<CapturedFrame> {
  return session.waitFor((frame) => frame.type !== 'heartbeat', { budget, what, fromIndex: from });
}

/** Sends a ping; the next non-heartbeat frame must be its pong. Returns the round trip in ms. */
async function pingPong(session: WsSession, budget: Budget, what: string): Promise<number> {
  const from = session.frames.length;
  const sentAt = session.nowMs();
  session.send({ type: 'ping' });
  const reply = await nextReply(session, from, budget, `pong ${what}`);
  check(reply.type === 'pong', `ping ${what} was answered with ${reply.type} instead of pong`, {
    component: 'websocket', layer: 'frame', endpoint: session.endpoint, code: reply.type, evidence: { frame: compactFrame(reply) },
  });
  return reply.receivedAt - sentAt;
}

function expectStillOpen(session: WsSession, what: string): void {
  const info = session.closeInfo;
  check(session.isOpen && info === undefined, `the server closed the connection ${what}${info ? ` (code ${info.code} "${info.reason}" at t+${info.atMs} ms)` : ''}`, {
    component: 'websocket', layer: 'ws-close', endpoint: session.endpoint, ...(info ? { code: info.code } : {}), evidence: { closeInfo: info },
  });
}

describe('WebSocket reconnection', { tags: ['p4', 'websocket', 'backend'], concurrent: true }, () => {
  test('finds the thread intact over HTTP and continues it on a new connection after the connection drops', { meta: { checkId: CHECK_IDS.reconnect } }, async ({ runAgent, ws, threads, api, budget, config, report }) => {
    const first = prompts[0]!;
    const second = prompts.find((p) => p.prompt !== first.prompt) ?? first;
    const session = await ws.open();
    const turn1 = await runAgent(first.prompt, { session, label: 'run before the drop' });

    // Drop the connection without a close handshake, as a lost network does.
    session.socket.terminate();
    await budget('drop', config.budgets.wsHandshake).step('socket closed after terminate', () =>
      new Promise<void>((resolve) => {
        if (session.closeInfo) return resolve();
        const off = session.subscribe((event) => {
          if (event.kind !== 'close') return;
          off();
          resolve();
        });
      }));

    const read = await api.request('GET', `/api/threads/${encodeURIComponent(turn1.threadId)}`, { auth: true });
    expectStatus(read, 200, 'GET /api/threads/:id after the connection dropped', 'backend');
    await expectPersistedTurns(api, turn1.threadId, [{ prompt: first.prompt, run: turn1, facts: first.expect }]);

    const again = await ws.open();
    expect(again.connectionId, 'the new connection has a connection_id of its own').not.toBe(session.connectionId);
    const turn2 = await startAgentRun(again, { userRequest: second.prompt, threadId: turn1.threadId, budget: budget('run after reconnecting', config.budgets.agentRun), stallMs: config.budgets.stall });
    recordTimeline(report, turn2);
    expect(turn2.threadId, 'the run after reconnecting continues the same thread').toBe(turn1.threadId);
    await expectPersistedTurns(api, turn1.threadId, [{ prompt: first.prompt, run: turn1, facts: first.expect }, { prompt: second.prompt, run: turn2, facts: second.expect }]);
  });
});

describe('WebSocket idle connection', { tags: ['p4', 'websocket'], concurrent: true }, () => {
  // The run's longest necessary wait (2 × 35 s on a deployment): it starts beside phase 1 and is
  // judged once phase 1 has passed (fixtures/gate.ts), so the run ends soon after it.
  test('sends a heartbeat after heartbeatS of client silence, twice, and keeps the idle connection open', { meta: { checkId: CHECK_IDS.heartbeat, startsBeforeGate: true } }, async ({ ws, budget, config, report, gate }) => gate.overlap(async () => {
    const silenceMs = config.heartbeatS * 1000;
    const marginMs = Math.max(2_000, silenceMs / 4);
    const session = await ws.open();
    const established = session.frames.find((f) => f.type === 'connection_established')!;
    const first = await session.waitFor((f) => f.type === 'heartbeat', {
      budget: budget('first heartbeat', silenceMs + marginMs),
      what: `a heartbeat after ${config.heartbeatS} s of client silence`,
    });
    const second = await session.waitFor((f) => f.type === 'heartbeat', {
      budget: budget('second heartbeat', silenceMs + marginMs),
      what: `a second heartbeat after ${2 * config.heartbeatS} s of client silence`,
      fromIndex: first.index + 1,
    });
    report.measurements.push({
      name: 'WebSocket heartbeat interval under client silence',
      unit: 'ms',
      samples: [Math.round(first.receivedAt - established.receivedAt), Math.round(second.receivedAt - first.receivedAt)],
    });
    expectStillOpen(session, `after ${Math.round(second.receivedAt / 1000)} s without a client frame`);
    await pingPong(session, budget('pong after idling', config.budgets.pong), 'after idling');
  }));
});

describe('WebSocket tickets', { tags: ['p4', 'websocket', 'backend'], concurrent: true }, () => {
  test('refuses a second connection with a ticket that was already used', { meta: { checkId: CHECK_IDS.ticketReused } }, async ({ api, budget, config }) => {
    const ticket = await issueTicket(api);
    const first = await probeHandshake({ url: config.wsUrl, auth: { method: 'ticket', ticketId: ticket.ticket_id }, budget: budget('first use of the ticket', config.budgets.wsHandshake) });
    expectHandshakeAccepted(first, 'a WebSocket handshake with a fresh ticket');
    const second = await probeHandshake({ url: config.wsUrl, auth: { method: 'ticket', ticketId: ticket.ticket_id }, budget: budget('second use of the ticket', config.budgets.wsHandshake) });
    expectHandshakeRefused(second, 'a second WebSocket handshake with an already used ticket');
  });

  test('refuses a ticket once its ttl_seconds have passed, while one used within them is accepted', { meta: { checkId: CHECK_IDS.ticketExpired } }, async ({ api, budget, config, report }) => {
    // The shortest lifetime the deployment accepts (1 s, else the next step up after a 422).
    const { ticket: late, ttlSeconds, refused } = await shortestTicket(api);
    const issuedAt = Date.now();
    report.measurements.push({ name: `WebSocket ticket lifetime used: ttl_seconds ${ttlSeconds}${refused.length ? ` (refused with 422: ${refused.join(', ')})` : ''}`, unit: 'ms', samples: [ttlSeconds * 1000] });
    // The control's ttl leaves room for a slow runner: a 1 s control refused because issuing and
    // using it took over a second on a loaded machine was a false alarm (measured), not expiry.
    const controlTtlSeconds = Math.max(10, ttlSeconds);
    const control = await issueTicket(api, controlTtlSeconds);
    const now = await probeHandshake({ url: config.wsUrl, auth: { method: 'ticket', ticketId: control.ticket_id }, budget: budget('ticket used at once', config.budgets.wsHandshake) });
    expectHandshakeAccepted(now, `a WebSocket handshake with a ${controlTtlSeconds} s ticket used at once (control)`);

    const waitMs = ttlSeconds * 1000 + 500 - (Date.now() - issuedAt);
    await budget('ticket expiry', waitMs + 1_000).step(`sleep ${waitMs} ms past the ticket's ttl`, (signal) => sleep(Math.max(0, waitMs), undefined, { signal }));
    const after = await probeHandshake({ url: config.wsUrl, auth: { method: 'ticket', ticketId: late.ticket_id }, budget: budget('ticket used after its ttl', config.budgets.wsHandshake) });
    expectHandshakeRefused(after, `a WebSocket handshake with a ticket ${ttlSeconds * 1000 + 500} ms after issue (ttl_seconds ${ttlSeconds})`);
  });
});

describe('WebSocket frame handling', { tags: ['p5', 'websocket'], concurrent: true }, () => {
  test('answers malformed JSON with error JSON_PARSE_ERROR and keeps the connection open', { meta: { checkId: CHECK_IDS.malformedJson } }, async ({ ws, budget, config }) => {
    const session = await ws.open();
    const from = session.frames.length;
    session.sendRaw('{"type": "ping", "payload": ');
    const reply = await nextReply(session, from, budget('reply to malformed JSON', config.budgets.wsReceive), 'the reply to a malformed JSON frame');
    check(reply.type === 'error' && reply.fields.error_code === 'JSON_PARSE_ERROR',
      `a malformed JSON frame was answered with ${reply.type}${reply.fields.error_code === undefined ? '' : ` ${String(reply.fields.error_code)}`} instead of error JSON_PARSE_ERROR`, {
        component: 'websocket', layer: 'frame', endpoint: session.endpoint, code: String(reply.fields.error_code ?? reply.type), evidence: { frame: compactFrame(reply) },
      });
    expectStillOpen(session, 'after a malformed JSON frame');
    await pingPong(session, budget('pong after malformed JSON', config.budgets.pong), 'after the malformed frame');
  });

  test('acknowledges an unknown message type with ack and its received_type', { meta: { checkId: CHECK_IDS.unknownType } }, async ({ ws, budget, config }) => {
    const session = await ws.open();
    const type = `stagecheck_unknown_${randomUUID().slice(0, 8)}`;
    const from = session.frames.length;
    session.send({ type, payload: { note: 'a type the server does not know' } });
    const reply = await nextReply(session, from, budget('reply to an unknown type', config.budgets.wsReceive), `the reply to a frame of type ${type}`);
    check(reply.type === 'ack' && reply.fields.received_type === type,
      `a frame of unknown type ${type} was answered with ${reply.type} (received_type ${String(reply.fields.received_type)}) instead of ack with received_type ${type}`, {
        component: 'websocket', layer: 'frame', endpoint: session.endpoint, code: reply.type, evidence: { frame: compactFrame(reply) },
      });
    expectStillOpen(session, 'after a frame of unknown type');
  });
});

describe('WebSocket ping latency', { tags: ['p6', 'websocket'], concurrent: true }, () => {
  test(`answers each of ${PING_SAMPLES} pings with a pong, round trips recorded`, { meta: { checkId: CHECK_IDS.pingLatency } }, async ({ ws, budget, config, report }) => {
    const session = await ws.open();
    const samples: number[] = [];
    const measurement = { name: 'WebSocket ping → pong round trip', unit: 'ms' as const, samples };
    report.measurements.push(measurement);
    const pongs = budget('ping samples', config.budgets.pong * PING_SAMPLES);
    for (let i = 1; i <= PING_SAMPLES; i++) {
      samples.push(Math.round((await pingPong(session, pongs, `${i} of ${PING_SAMPLES}`)) * 10) / 10);
    }
    const summary = summarize(samples);
    expect(summary.count, 'round trips measured').toBe(PING_SAMPLES);
    expectStillOpen(session, `after ${PING_SAMPLES} pings`);
  });
});
