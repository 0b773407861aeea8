import { describe, expect, it } from 'vitest';
import type { RunningPlatform } from '../index.ts';
import { request, runAgent, sessionPlatformPerFile, testAuth, TERMINAL, type Frame, type RunCapture, type Tokens, type WsClient } from './support.ts';

let platform: RunningPlatform;
let tokens: Tokens;
let client: WsClient;

sessionPlatformPerFile((shared) => ({ platform, tokens, client } = shared));

/** The contract's ordering rules, checked on one run's events. */
function expectWellFormedRun(run: RunCapture): void {
  const types = run.events.map((event) => event.type);
  expect(types[0]).toBe('agent_started');
  expect(types.filter((type) => TERMINAL.has(type))).toHaveLength(1);
  expect(TERMINAL.has(types.at(-1) ?? '')).toBe(true);
  expect(types).toContain('agent_thinking');
  const executing = run.events.filter((event) => event.type === 'tool_executing');
  expect(executing.length).toBeGreaterThanOrEqual(2);
  for (const tool of executing) {
    const at = run.events.indexOf(tool);
    const completed = run.events.findIndex((event) => event.type === 'tool_completed' && event.execution_id === tool.execution_id);
    expect(completed).toBeGreaterThan(at);
    expect(tool).toMatchObject({ tool_name: expect.any(String), tool_args: expect.any(Object) });
  }
  for (const event of run.events) {
    expect(event.run_id).toBe(run.runId);
    expect(Date.parse(String(event.timestamp))).not.toBeNaN();
  }
  const started = run.events[0] as Frame;
  expect(started).toMatchObject({ thread_id: expect.any(String), agent_name: expect.any(String), task_description: expect.any(String) });
}

function toolsUsed(run: RunCapture): string[] {
  return run.events.filter((event) => event.type === 'tool_completed').map((event) => String(event.tool_name));
}

describe('agent run on start_agent', () => {
  it('answers arithmetic with the five events in order and persists both messages', async () => {
    const run = await runAgent(client, { type: 'start_agent', payload: { user_request: 'What is 17 * 3?' } });
    expectWellFormedRun(run);
    expect(run.terminal).toMatchObject({ type: 'agent_completed', status: 'success' });
    expect(String(run.terminal.final_response)).toContain('51');
    for (const completed of run.events.filter((event) => event.type === 'tool_completed')) {
      expect(completed.success).toBe(true);
      expect(Object.keys(completed.results as object).length).toBeGreaterThan(0);
      expect(completed.execution_time).toEqual(expect.any(Number));
    }
    // At least one PostgreSQL tool and one Redis tool.
    expect(toolsUsed(run)).toEqual(expect.arrayContaining(['thread_history', 'cache_lookup', 'cache_store', 'calculator']));

    const threadId = String(run.events[0]?.thread_id);
    const messages = await request(`${platform.urls.backend}/api/threads/${threadId}/messages`, { token: tokens.access_token });
    expect(messages.status).toBe(200);
    expect(messages.body.map((message: { role: string }) => message.role)).toEqual(['user', 'assistant']);
    expect(messages.body[0]).toMatchObject({ content: 'What is 17 * 3?', run_id: run.runId });
    expect(messages.body[1]).toMatchObject({ content: run.terminal.final_response, run_id: run.runId });
    const thread = await request(`${platform.urls.backend}/api/threads/${threadId}`, { token: tokens.access_token });
    expect(thread.body.title).toBe('What is 17 * 3?');
  });

  it.each([
    ['What is 2.5 + 4?', '6.5'],
    ['What is (1 + 2) * 3 - 10 / 4?', '6.5'],
    ['What is 100 - 58?', '42'],
  ])('computes %s', async (question, answer) => {
    const run = await runAgent(client, { type: 'start_agent', payload: { user_request: question } });
    expect(run.terminal.type).toBe('agent_completed');
    expect(String(run.terminal.final_response)).toContain(answer);
  });

  it('answers capitals from the PostgreSQL facts table', async () => {
    const run = await runAgent(client, { type: 'start_agent', payload: { user_request: 'What is the capital of France?' } });
    expectWellFormedRun(run);
    expect(String(run.terminal.final_response)).toContain('Paris');
    const lookup = run.events.find((event) => event.type === 'tool_completed' && event.tool_name === 'knowledge_lookup');
    expect(lookup?.results).toMatchObject({ found: true, answer: 'Paris' });
  });

  it('serves a repeated question from the Redis cache and says so in the tool results', async () => {
    await runAgent(client, { type: 'start_agent', payload: { user_request: 'What is the capital of Japan?' } });
    const again = await runAgent(client, { type: 'start_agent', payload: { user_request: 'What is the capital of Japan?' } });
    const cache = again.events.find((event) => event.type === 'tool_completed' && event.tool_name === 'cache_lookup');
    expect(cache?.results).toMatchObject({ hit: true });
    expect(String(again.terminal.final_response)).toContain('Tokyo');
  });

  it('admits what it does not know, still using its tools', async () => {
    const run = await runAgent(client, { type: 'start_agent', payload: { user_request: 'Write me a poem about lighthouses' } });
    expectWellFormedRun(run);
    expect(run.terminal.type).toBe('agent_completed');
    expect(String(run.terminal.final_response)).toMatch(/don't know/);
  });
});

describe('agent run on user_message in an existing thread', () => {
  it('recalls the previous question from the thread history and keeps messages oldest first', async () => {
    const first = await runAgent(client, { type: 'start_agent', payload: { user_request: 'What is the capital of Italy?' } });
    const threadId = String(first.terminal.thread_id);
    const second = await runAgent(client, { type: 'user_message', payload: { message: 'What was my previous question?', thread_id: threadId } });
    expectWellFormedRun(second);
    expect(second.events[0]?.thread_id).toBe(threadId);
    expect(String(second.terminal.final_response)).toContain('What is the capital of Italy?');

    const { body } = await request(`${platform.urls.backend}/api/threads/${threadId}/messages`, { token: tokens.access_token });
    expect(body.map((message: { role: string; content: string }) => `${message.role}:${message.content.slice(0, 12)}`)).toEqual([
      'user:What is the ',
      `assistant:${String(first.terminal.final_response).slice(0, 12)}`,
      'user:What was my ',
      `assistant:${String(second.terminal.final_response).slice(0, 12)}`,
    ]);
    const times = body.map((message: { created_at: string }) => Date.parse(message.created_at));
    expect([...times].sort((a, b) => a - b)).toEqual(times);
  });

  it("ends with agent_error THREAD_NOT_FOUND for another user's thread", async () => {
    const other = await testAuth(platform, 'other-agent-user@stagecheck.local');
    const { body: thread } = await request(`${platform.urls.backend}/api/threads`, { token: other.access_token, body: { title: 'private' } });
    const run = await runAgent(client, { type: 'user_message', payload: { message: 'What was my previous question?', thread_id: thread.id } });
    expect(run.terminal).toMatchObject({ type: 'agent_error', error_code: 'THREAD_NOT_FOUND' });
  });
});

describe('concurrent runs', () => {
  it('keeps two runs on one connection apart by run_id', async () => {
    const [a, b] = await Promise.all([
      runAgent(client, { type: 'start_agent', payload: { user_request: 'What is 9 * 9?' } }),
      runAgent(client, { type: 'start_agent', payload: { user_request: 'What is the capital of Germany?' } }),
    ]);
    expect(a.runId).not.toBe(b.runId);
    expectWellFormedRun(a);
    expectWellFormedRun(b);
    expect(String(a.terminal.final_response)).toContain('81');
    expect(String(b.terminal.final_response)).toContain('Berlin');
  });
});

describe('agent under store faults', () => {
  it('ends with agent_error when PostgreSQL is down', async () => {
    await platform.setFault('pg_down');
    const run = await runAgent(client, { type: 'start_agent', payload: { user_request: 'What is 17 * 3?' } });
    expect(run.terminal).toMatchObject({ type: 'agent_error', error_code: 'DATABASE_UNAVAILABLE', message: expect.any(String) });
    expect(run.events.filter((event) => event.type === 'agent_completed')).toEqual([]);
  });

  it('ends with agent_error after a failed tool_completed when Redis is silent', async () => {
    await platform.setFault('redis_silent');
    const run = await runAgent(client, { type: 'start_agent', payload: { user_request: 'What is 1 + 1?' } });
    expect(run.events[0]?.type).toBe('agent_started');
    const failed = run.events.find((event) => event.type === 'tool_completed' && event.success === false);
    expect(failed).toMatchObject({ tool_name: 'cache_lookup', results: { error: expect.any(String) } });
    expect(run.terminal).toMatchObject({ type: 'agent_error', error_code: 'CACHE_UNAVAILABLE' });
  });

  it('works again once the faults are cleared', async () => {
    const run = await runAgent(client, { type: 'start_agent', payload: { user_request: 'What is 17 * 3?' } });
    expect(String(run.terminal.final_response)).toContain('51');
  });
});
