/**
 * Agent and frame faults, each switched on and off at run time through /__platform/faults and
 * observed over a real WebSocket and the threads API: the contract violation while on, a
 * well-formed run once cleared.
 */
import WebSocket from 'ws';
import { describe, expect, it } from 'vitest';
import { CANNED_RESPONSE } from '../agent/runner.ts';
import type { RunningPlatform } from '../index.ts';
import { faultOff, faultOn, request, runAgent, sessionPlatformPerFile, TERMINAL, type Frame, type RunCapture, type Tokens, type WsClient } from './support.ts';

let platform: RunningPlatform;
let tokens: Tokens;
let client: WsClient;

sessionPlatformPerFile((shared) => ({ platform, tokens, client } = shared));

let prompts = 0;
/** A fresh arithmetic prompt each time (no cache hits between tests) and its answer. */
function arithmetic(): { text: string; answer: string } {
  prompts += 1;
  const a = 100 + prompts;
  return { text: `What is ${a} * 3?`, answer: String(a * 3) };
}

const start = (text: string): Record<string, unknown> => ({ type: 'start_agent', payload: { user_request: text } });
const types = (run: RunCapture): string[] => run.events.map((event) => event.type);

/** The contract's ordering rules: started first, tools paired in order, one terminal, last. */
function expectWellFormed(run: RunCapture): void {
  const seen = types(run);
  expect(seen[0]).toBe('agent_started');
  expect(seen.filter((type) => TERMINAL.has(type))).toEqual(['agent_completed']);
  expect(seen.at(-1)).toBe('agent_completed');
  for (const executing of run.events.filter((event) => event.type === 'tool_executing')) {
    const completed = run.events.findIndex((event) => event.type === 'tool_completed' && event.execution_id === executing.execution_id);
    expect(completed, String(executing.tool_name)).toBeGreaterThan(run.events.indexOf(executing));
  }
}

/** Frames of the run so far, after `settleMs` more of silence. */
async function settle(settleMs: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, settleMs));
}

describe('agent_stall', () => {
  it('stops a run after the first tool_executing, sends no terminal event and keeps the connection open; cleared, runs complete', async () => {
    await faultOn(platform, 'agent_stall');
    const correlationId = 'stall-1';
    const from = client.frames.length;
    client.send({ ...start(arithmetic().text), correlation_id: correlationId });
    const executing = await client.waitFor((frame) => frame.correlation_id === correlationId && frame.type === 'tool_executing', 5000, 'tool_executing', from);
    await settle(400);
    const runFrames = client.frames.slice(from).filter((frame) => frame.run_id === executing.run_id);
    expect(runFrames.map((frame) => frame.type)).toEqual(['agent_started', 'agent_thinking', 'tool_executing']);
    expect(client.socket.readyState).toBe(WebSocket.OPEN);
    client.send({ type: 'ping', correlation_id: 'stall-ping' });
    await client.waitFor((frame) => frame.type === 'pong' && frame.correlation_id === 'stall-ping', 10_000, 'pong');

    await faultOff(platform, 'agent_stall');
    const run = await runAgent(client, start(arithmetic().text));
    expectWellFormed(run);
  });

  it('stops after the event named by `after`', async () => {
    await faultOn(platform, 'agent_stall', { after: 'agent_started' });
    const from = client.frames.length;
    client.send({ ...start(arithmetic().text), correlation_id: 'stall-2' });
    const started = await client.waitFor((frame) => frame.correlation_id === 'stall-2' && frame.type === 'agent_started', 5000, 'agent_started', from);
    await settle(300);
    expect(client.frames.slice(from).filter((frame) => frame.run_id === started.run_id).map((frame) => frame.type)).toEqual(['agent_started']);
  });
});

describe('agent_canned', () => {
  it('emits the five events with empty results and a canned answer that does not answer; cleared, the answer is real', async () => {
    await faultOn(platform, 'agent_canned');
    const question = arithmetic();
    const run = await runAgent(client, start(question.text));
    expectWellFormed(run);
    expect(types(run)).toEqual(['agent_started', 'agent_thinking', 'tool_executing', 'tool_completed', 'agent_completed']);
    const completed = run.events.find((event) => event.type === 'tool_completed') as Frame;
    expect(completed.results).toEqual({});
    expect(run.events.map((event) => event.tool_name).filter(Boolean)).not.toContain('calculator');
    expect(run.terminal.final_response).toBe(CANNED_RESPONSE);
    expect(String(run.terminal.final_response)).not.toContain(question.answer);
    const threadId = String(run.events[0]?.thread_id);
    const messages = await request(`${platform.urls.backend}/api/threads/${threadId}/messages`, { token: tokens.access_token });
    expect(messages.body.map((message: { content: string }) => message.content)).toEqual([question.text, CANNED_RESPONSE]);

    await faultOff(platform, 'agent_canned');
    const real = await runAgent(client, start(question.text));
    expectWellFormed(real);
    expect(String(real.terminal.final_response)).toContain(question.answer);
    expect(real.events.filter((event) => event.type === 'tool_completed').map((event) => event.tool_name)).toContain('calculator');
  });
});

describe('agent_out_of_order', () => {
  it('sends agent_thinking before agent_started and each tool_completed before its tool_executing; cleared, order is restored', async () => {
    await faultOn(platform, 'agent_out_of_order');
    const question = arithmetic();
    const run = await runAgent(client, start(question.text));
    expect(types(run).slice(0, 2)).toEqual(['agent_thinking', 'agent_started']);
    const completions = run.events.filter((event) => event.type === 'tool_completed');
    expect(completions.length).toBeGreaterThanOrEqual(4);
    for (const completed of completions) {
      const executing = run.events.findIndex((event) => event.type === 'tool_executing' && event.execution_id === completed.execution_id);
      expect(executing).toBeGreaterThan(run.events.indexOf(completed));
    }
    expect(run.terminal.type).toBe('agent_completed');
    expect(String(run.terminal.final_response)).toContain(question.answer);

    await faultOff(platform, 'agent_out_of_order');
    expectWellFormed(await runAgent(client, start(arithmetic().text)));
  });
});

describe('agent_tool_unmatched', () => {
  it('never sends the tool_completed of the first tool_executing, and still completes; cleared, every tool is paired', async () => {
    await faultOn(platform, 'agent_tool_unmatched');
    const run = await runAgent(client, start(arithmetic().text));
    await settle(100);
    const events = client.frames.filter((frame) => frame.run_id === run.runId);
    const executions = events.filter((event) => event.type === 'tool_executing');
    const unmatched = executions.filter((executing) => !events.some((event) => event.type === 'tool_completed' && event.execution_id === executing.execution_id));
    expect(unmatched.map((event) => event.tool_name)).toEqual([executions[0]?.tool_name]);
    expect(run.terminal.type).toBe('agent_completed');

    await faultOff(platform, 'agent_tool_unmatched');
    expectWellFormed(await runAgent(client, start(arithmetic().text)));
  });
});

describe('agent_double_terminal', () => {
  it('sends agent_completed twice; cleared, exactly once', async () => {
    await faultOn(platform, 'agent_double_terminal');
    const run = await runAgent(client, start(arithmetic().text));
    await client.waitFor((frame) => frame.run_id === run.runId && TERMINAL.has(frame.type) && frame !== run.terminal, 10_000, 'second terminal event');
    expect(client.frames.filter((frame) => frame.run_id === run.runId && TERMINAL.has(frame.type)).map((frame) => frame.type)).toEqual(['agent_completed', 'agent_completed']);

    await faultOff(platform, 'agent_double_terminal');
    const healthy = await runAgent(client, start(arithmetic().text));
    await settle(150);
    expect(client.frames.filter((frame) => frame.run_id === healthy.runId && TERMINAL.has(frame.type))).toHaveLength(1);
  });
});

describe('answer_not_persisted', () => {
  it('completes the run over the WebSocket but saves only the user message; cleared, both are saved', async () => {
    const messagesOf = async (run: RunCapture): Promise<Array<{ role: string; run_id: string }>> =>
      (await request(`${platform.urls.backend}/api/threads/${String(run.events[0]?.thread_id)}/messages`, { token: tokens.access_token })).body;
    await faultOn(platform, 'answer_not_persisted');
    const question = arithmetic();
    const run = await runAgent(client, start(question.text));
    expectWellFormed(run);
    expect(String(run.terminal.final_response)).toContain(question.answer);
    expect((await messagesOf(run)).map((message) => message.role)).toEqual(['user']);

    await faultOff(platform, 'answer_not_persisted');
    const healthy = await runAgent(client, start(arithmetic().text));
    expect((await messagesOf(healthy)).map((message) => message.role)).toEqual(['user', 'assistant']);
  });
});

describe('agent_slow', () => {
  it('adds `ms` to a run spread over its events (no gap near ms); cleared, the run is fast again', async () => {
    // 2 s: each gap of the slow run is ~ms/10, and the fast run takes milliseconds, so the ms/2
    // bounds below sit far from both and far above a busy machine's scheduling lag.
    const ms = 2_000;
    const duration = (run: RunCapture): { total: number; maxGap: number } => {
      const times = run.events.map((event) => Date.parse(String(event.timestamp)));
      const gaps = times.slice(1).map((time, index) => time - (times[index] ?? time));
      return { total: (times.at(-1) ?? 0) - (times[0] ?? 0), maxGap: Math.max(...gaps) };
    };
    await faultOn(platform, 'agent_slow', { ms });
    const slow = duration(await runAgent(client, start(arithmetic().text)));
    expect(slow.total).toBeGreaterThanOrEqual(ms);
    expect(slow.maxGap).toBeLessThan(ms / 2);

    await faultOff(platform, 'agent_slow');
    const fast = duration(await runAgent(client, start(arithmetic().text)));
    expect(fast.total).toBeLessThan(ms / 2);
  });
});

describe('frame_garbage', () => {
  it('adds one malformed frame of each kind to a run, which still completes; cleared, no malformed frame', async () => {
    const previous = await runAgent(client, start(arithmetic().text));
    const checks: Record<string, (frames: Frame[], run: RunCapture) => void> = {
      non_json: (frames) => expect(frames.filter((frame) => frame.type === '__non_json__')).toHaveLength(1),
      binary: (frames) => expect(frames.filter((frame) => frame.type === '__binary__')).toHaveLength(1),
      huge: (frames, run) => {
        const huge = frames.filter((frame) => String(frame.reasoning ?? '').length >= 10 * 1024 * 1024);
        expect(huge).toHaveLength(1);
        expect(huge[0]).toMatchObject({ type: 'agent_thinking', run_id: run.runId });
      },
      no_type: (frames, run) => expect(frames.filter((frame) => frame.type === '__no_type__' && frame.run_id === run.runId)).toHaveLength(1),
      foreign_run_id: (frames, run) => {
        const foreign = frames.filter((frame) => typeof frame.run_id === 'string' && frame.run_id !== run.runId);
        expect(foreign).toHaveLength(1);
        expect(foreign[0]).toMatchObject({ type: 'agent_thinking', run_id: expect.any(String) });
      },
    };
    let lastRun = previous;
    for (const [kind, check] of Object.entries(checks)) {
      await faultOn(platform, 'frame_garbage', { kind });
      const from = client.frames.length;
      const run = await runAgent(client, start(arithmetic().text));
      expect(run.terminal.type, kind).toBe('agent_completed');
      check(client.frames.slice(from), run);
      if (kind === 'foreign_run_id') expect(client.frames.slice(from).some((frame) => frame.run_id === lastRun.runId), kind).toBe(true);
      lastRun = run;
    }

    await faultOff(platform, 'frame_garbage');
    const from = client.frames.length;
    const run = await runAgent(client, start(arithmetic().text));
    await settle(50);
    const frames = client.frames.slice(from);
    expect(frames.every((frame) => !frame.type.startsWith('__') && frame.run_id === run.runId)).toBe(true);
    expectWellFormed(run);
  });
});
