import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket as ServerSocket } from 'ws';
import { startAgentRun, summarizeTimeline } from '../../helpers/contract/agent-run.ts';
import { Budget } from '../../helpers/core/budgets.ts';
import { CheckError } from '../../helpers/core/errors.ts';
import type { CapturedFrame } from '../../helpers/core/frames.ts';
import { connectWs } from '../../helpers/transport/ws-handshake.ts';
import type { WsSession } from '../../helpers/transport/ws.ts';
import { checkErrorOf } from '../support/net.ts';

type Frame = Record<string, unknown>;
/** What the scripted agent does when it receives a start_agent payload. */
type Agent = (ws: ServerSocket, payload: Frame) => Promise<void>;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A WebSocket server on 127.0.0.1 that greets, then hands each start_agent to `agent`. */
async function agentServer(agent: Agent): Promise<{ session: WsSession; received: Frame[]; socket: () => ServerSocket }> {
  const wss = new WebSocketServer({ noServer: true, handleProtocols: (p) => p.values().next().value ?? false });
  const server = createServer();
  const received: Frame[] = [];
  let current: ServerSocket | undefined;
  server.on('upgrade', (req, socket, head) => {
    wss.handleUpgrade(req, socket, head, (ws) => {
      current = ws;
      ws.send(JSON.stringify({ type: 'connection_established', connection_id: 'c1', user_id: 'e2e-bob' }));
      ws.on('message', (data) => {
        const frame = JSON.parse(String(data)) as Frame;
        received.push(frame);
        if (frame.type === 'start_agent') void agent(ws, frame.payload as Frame);
      });
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const session = await connectWs({ url: `ws://127.0.0.1:${port}/ws`, auth: { method: 'subprotocol', token: 'tok' }, budget: new Budget('connect', 10_000) });
  cleanups.push(async () => {
    await session.close(300);
    for (const client of wss.clients) client.terminate();
    wss.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { session, received, socket: () => current! };
}

function runOf(runId: string, threadId: string, overrides: Partial<Record<string, Frame>> = {}): Frame[] {
  const frames: Record<string, Frame> = {
    agent_started: { type: 'agent_started', run_id: runId, thread_id: threadId, agent_name: 'triage', task_description: 'What is 17 * 3?' },
    agent_thinking: { type: 'agent_thinking', run_id: runId, reasoning: 'multiply' },
    tool_executing: { type: 'tool_executing', run_id: runId, tool_name: 'calculator', tool_args: { expr: '17*3' }, execution_id: 'x1' },
    tool_completed: { type: 'tool_completed', run_id: runId, tool_name: 'calculator', execution_id: 'x1', results: { value: 51 }, execution_time: 4, success: true },
    agent_completed: { type: 'agent_completed', run_id: runId, status: 'success', final_response: '17 * 3 = 51' },
  };
  return Object.entries(frames).map(([type, frame]) => ({ ...frame, ...overrides[type] }));
}

async function play(ws: ServerSocket, frames: Frame[], gapMs = 15): Promise<void> {
  for (const frame of frames) {
    await sleep(gapMs);
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(frame));
  }
}


describe('summarizeTimeline', () => {
  const at = (type: string, receivedAt: number, index: number): CapturedFrame =>
    ({ type, fields: {}, wrapped: 'flat', raw: '', sizeBytes: 0, index, receivedAt, receivedAtEpoch: 0 });

  it('gives each event its offset and the gap since the previous one', () => {
    const events = [at('agent_started', 1_000.4, 1), at('agent_thinking', 1_250, 2), at('agent_completed', 1_900, 3)];
    expect(summarizeTimeline(events)).toEqual([
      { type: 'agent_started', tMs: 0, gapMs: 0 },
      { type: 'agent_thinking', tMs: 250, gapMs: 250 },
      { type: 'agent_completed', tMs: 900, gapMs: 650 },
    ]);
    expect(summarizeTimeline(events, 900)).toEqual([
      { type: 'agent_started', tMs: 100, gapMs: 100 },
      { type: 'agent_thinking', tMs: 350, gapMs: 250 },
      { type: 'agent_completed', tMs: 1_000, gapMs: 650 },
    ]);
    expect(summarizeTimeline([])).toEqual([]);
  });
});

describe('startAgentRun', () => {
  it('sends start_agent, follows the run, and returns its answer, durations and timeline', async () => {
    const { session, received } = await agentServer((ws) => play(ws, runOf('run-1', 'thread-9')));
    const budget = new Budget('agent run', 2_000);
    const run = await startAgentRun(session, { userRequest: 'What is 17 * 3?', budget, stallMs: 500 });

    expect(received).toEqual([{ type: 'start_agent', payload: { user_request: 'What is 17 * 3?' } }]);
    expect(run.runId).toBe('run-1');
    expect(run.threadId).toBe('thread-9');
    expect(run.finalResponse).toBe('17 * 3 = 51');
    expect(run.events.map((e) => e.type)).toEqual(['agent_started', 'agent_thinking', 'tool_executing', 'tool_completed', 'agent_completed']);
    expect(run.terminal.type).toBe('agent_completed');
    expect(run.violations).toEqual([]);
    expect(run.durations.toStarted).toBeGreaterThanOrEqual(10);
    expect(run.durations.toCompleted).toBeGreaterThan(run.durations.toStarted);
    expect(run.timeline.map((t) => t.type)).toEqual(run.events.map((e) => e.type));
    expect(run.timeline[0]!.tMs).toBe(run.durations.toStarted);
    expect(run.timeline.at(-1)!.tMs).toBe(run.durations.toCompleted);
    expect(run.timeline.reduce((sum, t) => sum + t.gapMs, 0)).toBe(run.durations.toCompleted);
    expect(budget.ledger().map((e) => `${e.label}:${e.outcome}`)).toEqual(['wait agent_started:ok', 'wait run run-1 terminal event:ok']);
  });

  it('ignores runs that started before it sent start_agent', async () => {
    const { session, socket } = await agentServer((ws) => play(ws, runOf('new', 't')));
    await play(socket(), runOf('old', 't').slice(0, 2), 1);
    await session.waitFor((f) => f.type === 'agent_thinking', { budget: new Budget('w', 1_000), what: 'old run' });
    const run = await startAgentRun(session, { userRequest: 'q', budget: new Budget('run', 10_000), stallMs: 500 });
    expect(run.runId).toBe('new');
  });

  it('with a threadId, sends it and picks the agent_started of that thread', async () => {
    const { session, received } = await agentServer(async (ws, payload) => {
      await play(ws, runOf('foreign', 'other-thread').slice(0, 1));
      await play(ws, runOf('mine', String(payload.thread_id)));
    });
    const run = await startAgentRun(session, { userRequest: 'q', threadId: 'th-42', budget: new Budget('run', 10_000), stallMs: 500 });
    expect(received[0]).toEqual({ type: 'start_agent', payload: { user_request: 'q', thread_id: 'th-42' } });
    expect(run.runId).toBe('mine');
    expect(run.threadId).toBe('th-42');
  });

  it('fails at once when start_agent is answered with an error frame', async () => {
    const { session } = await agentServer(async (ws) => {
      await sleep(10);
      ws.send(JSON.stringify({ type: 'error', error_code: 'JSON_PARSE_ERROR', message: 'bad payload' }));
    });
    const started = performance.now();
    // The stall threshold and budget are far above the bound, which is far above any scheduling lag.
    const error = await checkErrorOf(startAgentRun(session, { userRequest: 'q', budget: new Budget('run', 30_000), stallMs: 20_000 }));
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(error.details).toMatchObject({ component: 'agent', layer: 'protocol', code: 'JSON_PARSE_ERROR' });
    expect(error.message).toBe('start_agent was answered with error JSON_PARSE_ERROR: bad payload (frame #1) instead of agent_started');
  });

  it('fails with an ordering error when agent_error comes before agent_started', async () => {
    const { session } = await agentServer((ws) => play(ws, [{ type: 'agent_error', run_id: 'r', error_code: 'NO_AGENT', message: 'no agent' }]));
    const error = await checkErrorOf(startAgentRun(session, { userRequest: 'q', budget: new Budget('run', 10_000), stallMs: 500 }));
    expect(error.details).toMatchObject({ component: 'agent', layer: 'ordering', code: 'NO_AGENT' });
  });

  it('rejects a canned fallback: the five names with an empty answer and empty results', async () => {
    const canned = runOf('canned', 't', { tool_completed: { results: [] }, agent_completed: { final_response: '' } });
    const { session } = await agentServer((ws) => play(ws, canned));
    const error = await checkErrorOf(startAgentRun(session, { userRequest: 'q', budget: new Budget('run', 10_000), stallMs: 500 }));
    expect(error.details).toMatchObject({ component: 'agent', layer: 'content', code: 'empty-results' });
    expect(error.message).toBe(
      [
        'agent run canned broke the event contract (2 violations):',
        '  - [empty-results] tool_completed (frame #4) for tool calculator has empty results',
        '  - [empty-final-response] agent_completed (frame #5) has an empty final_response',
      ].join('\n'),
    );
  });

  it('returns the violations instead of throwing when assertSequence is off', async () => {
    const frames = runOf('r', 't');
    const { session } = await agentServer((ws) => play(ws, [frames[0]!, frames[1]!, frames[4]!]));
    const run = await startAgentRun(session, { userRequest: 'q', budget: new Budget('run', 10_000), stallMs: 500, assertSequence: false });
    expect(run.violations).toEqual([{ rule: 'missing-event', message: 'run r lacks tool_executing, tool_completed' }]);
  });

  it('reports an agent_error run as a content failure, or returns it when success is not expected', async () => {
    const frames = runOf('r', 't');
    const failing = [frames[0]!, frames[1]!, { type: 'agent_error', run_id: 'r', error_code: 'LLM_DOWN', message: 'model unavailable' }];
    const { session } = await agentServer((ws) => play(ws, failing));
    const error = await checkErrorOf(startAgentRun(session, { userRequest: 'q', budget: new Budget('run', 10_000), stallMs: 500 }));
    expect(error.details).toMatchObject({ layer: 'content', code: 'agent-error' });
    expect(error.message).toContain('[agent-error] run r ended with agent_error LLM_DOWN: model unavailable');

    const second = await agentServer((ws) => play(ws, failing));
    const run = await startAgentRun(second.session, { userRequest: 'q', budget: new Budget('run', 10_000), stallMs: 500, expectSuccess: false });
    expect(run.terminal.type).toBe('agent_error');
    expect(run.finalResponse).toBe('');
  });

  it('fails fast on a stall mid-run', async () => {
    const { session } = await agentServer((ws) => play(ws, runOf('slow', 't').slice(0, 3)));
    const budget = new Budget('run', 30_000);
    const started = performance.now();
    const error = await checkErrorOf(startAgentRun(session, { userRequest: 'q', budget, stallMs: 200 }));
    const took = performance.now() - started;
    expect(error.details).toMatchObject({ component: 'agent', layer: 'budget', code: 'stall' });
    expect(error.message).toMatch(/^agent run slow stalled: no event for \d+ ms after tool_executing \(frame #3/);
    expect(took, 'stopped at the stall threshold, far inside the 30 s budget').toBeLessThan(10_000);
    expect(budget.ledger().map((e) => `${e.label}:${e.outcome}`)).toEqual(['wait agent_started:ok', 'wait run slow terminal event:error']);
  });

  it('runs into its budget when agent_started never comes', async () => {
    const { session } = await agentServer(async () => undefined);
    const error = await checkErrorOf(startAgentRun(session, { userRequest: 'q', budget: new Budget('agent-run', 250), stallMs: 200 }));
    expect(error.details).toMatchObject({ component: 'agent', layer: 'budget' });
    expect(error.message).toMatch(/^Budget exhausted at 'agent-run › wait agent_started': .*; waiting for agent_started; last frame seen: #0 connection_established/);
  });
});

describe('startAgentRun with a bad frame right after agent_started', () => {
  // The platform's frame_garbage kinds, sent by a scripted agent: each fails the run at once,
  // classified, while the run itself would have completed.
  const kinds: { kind: string; bad: (runId: string) => { data: string | Buffer; binary: boolean }; code: string; message: RegExp }[] = [
    {
      kind: 'non_json',
      bad: (runId) => ({ data: JSON.stringify({ type: 'agent_thinking', run_id: runId }).slice(0, 30), binary: false }),
      code: 'FRAME_NOT_JSON',
      message: /received a non-JSON frame \(/,
    },
    { kind: 'binary', bad: () => ({ data: Buffer.from([0x82, 0xa4, 0xff]), binary: true }), code: 'FRAME_BINARY', message: /received a binary frame of 3 bytes/ },
    {
      kind: 'huge',
      bad: (runId) => ({ data: JSON.stringify({ type: 'agent_thinking', run_id: runId, reasoning: 'x'.repeat(10 * 1024 * 1024) }), binary: false }),
      code: 'FRAME_TOO_LARGE',
      message: /received a frame of 10\.0 MiB \(\d+ bytes\) that exceeds the 1\.0 MiB \(1048576 bytes\) frame limit$/,
    },
    { kind: 'no_type', bad: (runId) => ({ data: JSON.stringify({ run_id: runId, reasoning: 'r' }), binary: false }), code: 'FRAME_MISSING_TYPE', message: /received a frame without type/ },
    {
      kind: 'foreign_run_id',
      bad: () => ({ data: JSON.stringify({ type: 'agent_thinking', run_id: 'run-of-someone-else', reasoning: 'another request' }), binary: false }),
      code: 'foreign-run-id',
      message: /carries run_id run-of-someone-else, the run_id of another run: this connection started only run r1/,
    },
  ];
  for (const { kind, bad, code, message } of kinds) {
    it(`${kind}: fails with websocket/frame ${code} at once, not after the run or its budget`, async () => {
      const frames = runOf('r1', 't');
      const { session } = await agentServer(async (ws) => {
        await play(ws, frames.slice(0, 1));
        const { data, binary } = bad('r1');
        ws.send(data, { binary });
        // Nothing more: a client that only judged frames at the run's end would run into its
        // stall threshold (20 s) and fail with code 'stall', not the frame's code.
      });
      const started = performance.now();
      const error = await checkErrorOf(startAgentRun(session, { userRequest: 'q', budget: new Budget('run', 30_000), stallMs: 20_000 }));
      expect(performance.now() - started, 'failed on the bad frame, long before the stall threshold').toBeLessThan(10_000);
      expect(error.details).toMatchObject({ component: 'websocket', layer: 'frame', code });
      expect(error.message).toMatch(message);
      expect(error.details.evidence?.runEvents).toEqual([expect.objectContaining({ i: 1, type: 'agent_started', run_id: 'r1' })]);
    });
  }
});
