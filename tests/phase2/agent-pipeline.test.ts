/**
 * Tier P2: agent orchestration. The golden path (P1) proves a run answers; these prove the
 * pipeline under it keeps the contract the frontend relies on (tools paired, one terminal,
 * run ids, no stalls, failures reported), which breaks chat for some requests, not all.
 */
import { randomUUID } from 'node:crypto';
import { expectPersistedTurns } from '../../helpers/contract/threads.ts';
import { expectOnlyRuns, framesOfRun, pingBarrier } from '../../helpers/contract/session-checks.ts';
import {
  expectCorrectAnswer,
  DIVISION_BY_ZERO_PROMPT,
  HANDLED_DIVISION_BY_ZERO,
  INVENTED_DIVISION_RESULT,
  loadGoldenPrompts,
} from '../../fixtures/golden-prompts.ts';
import { describe, expect, recordTimeline, test } from '../../fixtures/index.ts';
import { followAgentRun, startAgentRun } from '../../helpers/contract/agent-run.ts';
import { check } from '../../helpers/contract/body.ts';
import { CheckError } from '../../helpers/core/errors.ts';
import { compactFrame, runIdOf } from '../../helpers/core/frames.ts';
import { assertRunSequence, isAgentEventType, isTerminalEventType } from '../../helpers/contract/agent-events.ts';
import { expectStatus } from '../../helpers/contract/http-checks.ts';

const prompts = loadGoldenPrompts();
/** A prompt that needs a lookup besides the bookkeeping tools (capital), else the first one. */
const toolPrompt = prompts.find((p) => p.id.startsWith('capital')) ?? prompts[0]!;

function isEmpty(value: unknown): boolean {
  if (value === undefined || value === null) return true;
  if (typeof value === 'string') return value.trim() === '';
  if (Array.isArray(value)) return value.length === 0;
  if (typeof value === 'object') return Object.keys(value).length === 0;
  return false;
}

describe('agent pipeline: tools, terminal events and failures', { tags: ['p2', 'agent', 'websocket'] }, () => {
  test('runs at least two distinct tools, each tool_executing answered by a tool_completed with its execution_id, non-empty results and success true', async ({ runAgent, ws }) => {
    const session = await ws.open();
    const run = await runAgent(toolPrompt.prompt, { session });
    expectCorrectAnswer(toolPrompt, run);

    const executing = run.events.filter((e) => e.type === 'tool_executing');
    const problems: string[] = [];
    for (const start of executing) {
      const id = start.fields.execution_id;
      const done = run.events.filter((e) => e.type === 'tool_completed' && e.fields.execution_id === id);
      const where = `${String(start.fields.tool_name)} (execution_id ${String(id)}, frame #${start.index})`;
      if (done.length !== 1) {
        problems.push(`${where} has ${done.length} tool_completed events, expected exactly 1`);
        continue;
      }
      const completed = done[0]!;
      if (completed.index < start.index) problems.push(`${where}: tool_completed (frame #${completed.index}) arrived before its tool_executing`);
      if (completed.fields.tool_name !== start.fields.tool_name) problems.push(`${where}: tool_completed names ${String(completed.fields.tool_name)}`);
      if (completed.fields.success !== true) problems.push(`${where}: tool_completed.success is ${JSON.stringify(completed.fields.success)}, expected true`);
      if (isEmpty(completed.fields.results)) problems.push(`${where}: tool_completed.results is empty`);
      if (typeof completed.fields.execution_time !== 'number' || completed.fields.execution_time < 0) {
        problems.push(`${where}: tool_completed.execution_time is ${JSON.stringify(completed.fields.execution_time)}, expected a number >= 0`);
      }
    }
    const tools = new Set(executing.map((e) => String(e.fields.tool_name)));
    if (tools.size < 2) problems.push(`the run used ${tools.size} distinct tool(s) (${[...tools].join(', ') || 'none'}), expected at least 2`);
    if (problems.length > 0) {
      throw new CheckError(`agent run ${run.runId} for "${toolPrompt.prompt}" broke the tool contract:\n${problems.map((p) => `  - ${p}`).join('\n')}`, {
        component: 'agent',
        layer: 'ordering',
        code: 'tool-contract',
        endpoint: session.endpoint,
        evidence: { runId: run.runId, frames: run.events.map((e) => compactFrame(e, run.sentAtMs)) },
      });
    }
  });

  test('tags every event of the run with its run_id and ends it with exactly one terminal event', async ({ runAgent, ws, budget, config }) => {
    const session = await ws.open();
    const from = session.frames.length;
    const run = await runAgent(prompts[0]!.prompt, { session });
    // Whatever the server sends for this run after its terminal event arrives before the pong.
    await pingBarrier(session, budget('ping barrier', config.budgets.wsReceive));

    expectOnlyRuns(session, [run.runId], 'a connection with a single run');
    const frames = session.frames.filter((f) => f.index >= from);
    const terminals = framesOfRun(session, run.runId).filter((f) => isTerminalEventType(f.type));
    check(terminals.length === 1, `run ${run.runId} sent ${terminals.length} terminal events (${terminals.map((t) => `${t.type} #${t.index}`).join(', ')}), exactly one is allowed`, {
      component: 'agent',
      layer: 'ordering',
      code: 'terminal-count',
      endpoint: session.endpoint,
      evidence: { frames: frames.map((f) => compactFrame(f, run.sentAtMs)) },
    });
    assertRunSequence(frames, run.runId, { stallMs: config.budgets.stall, endpoint: session.endpoint });
  });

  test('keeps every gap between two events of a run under the stall threshold', async ({ runAgent, ws, budget, config, report }) => {
    const session = await ws.open();
    const run = await runAgent(prompts[0]!.prompt, { session });
    const gaps = run.events.slice(1).map((event, i) => Math.round(event.receivedAt - run.events[i]!.receivedAt));
    report.measurements.push({ name: 'gap between two agent events', unit: 'ms', samples: gaps });
    const worst = Math.max(...gaps);
    check(gaps.length >= 4 && worst <= config.budgets.stall, `run ${run.runId}: ${gaps.length + 1} events, largest gap ${worst} ms (stall limit ${config.budgets.stall} ms)`, {
      component: 'agent',
      layer: 'budget',
      code: 'stall',
      endpoint: session.endpoint,
      evidence: { timeline: run.timeline },
    });
    expect(run.durations.toCompleted, 'ms from start_agent to the terminal event').toBeLessThanOrEqual(config.budgets.agentRun + config.budgets.coldStart);
  });

  test('reports a division by zero as a failure, with exactly one terminal event and no invented number', async ({ ws, threads, budget, config, report }) => {
    const session = await ws.open();
    const run = await startAgentRun(session, {
      userRequest: DIVISION_BY_ZERO_PROMPT,
      budget: budget('agent run', config.budgets.agentRun + config.budgets.coldStart),
      stallMs: config.budgets.stall,
      assertSequence: false,
      expectSuccess: false,
    });
    threads.adopt(run.threadId);
    recordTimeline(report, run);
    await pingBarrier(session, budget('ping barrier', config.budgets.wsReceive));
    // Either terminal is allowed, but the contract's ordering rules hold for both.
    assertRunSequence(framesOfRun(session, run.runId), run.runId, { stallMs: config.budgets.stall, expectSuccess: false, endpoint: session.endpoint });

    const terminal = run.terminal;
    if (terminal.type === 'agent_error') {
      check(typeof terminal.fields.error_code === 'string' && terminal.fields.error_code !== '' && typeof terminal.fields.message === 'string' && terminal.fields.message !== '',
        `agent_error for "${DIVISION_BY_ZERO_PROMPT}" lacks a usable error_code or message: ${terminal.raw.slice(0, 300)}`,
        { component: 'agent', layer: 'content', code: 'agent-error-fields', evidence: { terminal: compactFrame(terminal) } });
      return;
    }
    const answer = run.finalResponse;
    check(HANDLED_DIVISION_BY_ZERO.test(answer) && !INVENTED_DIVISION_RESULT.test(answer),
      `the agent answered "${DIVISION_BY_ZERO_PROMPT}" with "${answer.slice(0, 200)}": it must say the division cannot be done, not present a result`,
      { component: 'agent', layer: 'content', code: 'tool-failure-hidden', evidence: { finalResponse: answer.slice(0, 500), timeline: run.timeline } });
  });

  test('refuses a run on an unknown thread with one agent_error carrying run_id, error_code and message', async ({ ws, threads, budget, config, api }) => {
    const session = await ws.open();
    const unknownThread = randomUUID();
    const from = session.frames.length;
    session.send({ type: 'start_agent', payload: { user_request: prompts[0]!.prompt, thread_id: unknownThread } });
    const first = await session.waitFor((f) => isAgentEventType(f.type) || f.type === 'error', {
      budget: budget('agent refusal', config.budgets.agentRun),
      what: `agent_error for start_agent on unknown thread ${unknownThread}`,
      fromIndex: from,
      component: 'agent',
    });
    await pingBarrier(session, budget('ping barrier', config.budgets.wsReceive));
    const frames = session.frames.filter((f) => f.index >= from && (isAgentEventType(f.type) || f.type === 'error'));
    // Should the platform have started a run anyway, its thread must not outlive the test.
    for (const f of frames) if (typeof f.fields.thread_id === 'string' && f.fields.thread_id !== unknownThread) threads.adopt(f.fields.thread_id);

    const evidence = { frames: frames.map((f) => compactFrame(f)) };
    check(first.type === 'agent_error', `start_agent on an unknown thread was answered with ${first.type} (frame #${first.index}), expected agent_error`, {
      component: 'agent', layer: 'ordering', code: first.type, endpoint: session.endpoint, evidence,
    });
    check(frames.length === 1, `start_agent on an unknown thread produced ${frames.length} events (${frames.map((f) => f.type).join(', ')}), expected the agent_error alone`, {
      component: 'agent', layer: 'ordering', code: 'terminal-count', endpoint: session.endpoint, evidence,
    });
    const missing = ['error_code', 'message'].filter((k) => typeof first.fields[k] !== 'string' || first.fields[k] === '');
    if (runIdOf(first) === undefined) missing.unshift('run_id');
    check(missing.length === 0, `agent_error for an unknown thread lacks ${missing.join(', ')}: ${first.raw.slice(0, 300)}`, {
      component: 'agent', layer: 'content', code: 'missing-field', endpoint: session.endpoint, evidence,
    });
    // Refusing must not have created the thread it was asked for.
    expectStatus(await api.request('GET', `/api/threads/${unknownThread}`, { auth: true }), 404, 'GET /api/threads/:id of the unknown thread after the refused run', 'backend');
  });

  test('reports in agent_started the thread_id it was given, and answers on that thread', async ({ ws, threads, budget, config, report, api }) => {
    const golden = prompts[0]!;
    const thread = await threads.create('p2-given-thread');
    const session = await ws.open();
    const run = await followAgentRun(session, { type: 'start_agent', payload: { user_request: golden.prompt, thread_id: thread.id } }, {
      threadId: thread.id,
      budget: budget('agent run', config.budgets.agentRun + config.budgets.coldStart),
      stallMs: config.budgets.stall,
    });
    recordTimeline(report, run);
    expect(run.threadId, 'agent_started.thread_id').toBe(thread.id);
    const completedThread = run.terminal.fields.thread_id;
    if (completedThread !== undefined) expect(completedThread, 'agent_completed.thread_id').toBe(thread.id);
    expectCorrectAnswer(golden, run);
    await expectPersistedTurns(api, thread.id, [{ prompt: golden.prompt, run }]);
  });
});
