/**
 * Tier P2: agent orchestration. The golden path (P1) proves a run answers; these prove the
 * pipeline under it keeps the contract the frontend relies on (tools paired, one terminal,
 * run ids, no stalls, failures reported), which breaks chat for some requests, not all.
 */
import { randomUUID } from 'node:crypto';
import { expectPersistedTurns } from '../../helpers/contract/threads.ts';
import { expectOnlyRuns, framesOfRun, pingBarrier } from '../../helpers/contract/session-checks.ts';
import { expectCorrectAnswer, loadPromptSet, missedPatterns, toolPromptOf } from '../../fixtures/golden-prompts.ts';
import { describe, expect, recordTimeline, test } from '../../fixtures/index.ts';
import { CHECK_IDS } from '../check-ids.ts';
import { followAgentRun, startAgentRun } from '../../helpers/contract/agent-run.ts';
import { check } from '../../helpers/contract/body.ts';
import { CheckError } from '../../helpers/core/errors.ts';
import { compactFrame } from '../../helpers/core/frames.ts';
import { assertRunSequence, isRunTerminal, runAgentOf, toolResultsOf } from '../../helpers/contract/agent-events.ts';
import { expectStatus } from '../../helpers/contract/http-checks.ts';
import { expectRunRefused } from '../../helpers/contract/refusals.ts';

const promptSet = loadPromptSet();
const prompts = promptSet.prompts;
/** The prompt that asks the most of the tools (its minTools and tools come from the prompt set). */
const toolPrompt = toolPromptOf(prompts);

function isEmpty(value: unknown): boolean {
  if (value === undefined || value === null) return true;
  if (typeof value === 'string') return value.trim() === '';
  if (Array.isArray(value)) return value.length === 0;
  if (typeof value === 'object') return Object.keys(value).length === 0;
  return false;
}

describe('agent pipeline: tools, terminal events and failures', { tags: ['p2', 'agent', 'websocket'], concurrent: true }, () => {
  test('runs the tools the prompt needs (at least one), each tool_executing answered by a tool_completed with its execution_id and non-empty results', { meta: { checkId: CHECK_IDS.agentTools } }, async ({ runAgent, ws }) => {
    const session = await ws.open();
    const run = await runAgent(toolPrompt.prompt, { session });
    expectCorrectAnswer(toolPrompt, run);

    const executing = run.events.filter((e) => e.type === 'tool_executing');
    const problems: string[] = [];
    let succeeded = 0;
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
      if (typeof completed.fields.success !== 'boolean') problems.push(`${where}: tool_completed.success is ${JSON.stringify(completed.fields.success)}, expected true or false`);
      if (isEmpty(toolResultsOf(completed))) problems.push(`${where}: tool_completed.results is empty`);
      if (completed.fields.success === true) succeeded += 1;
    }
    // How many tools and which ones the prompt needs is the prompt set's to say (default: one, any).
    if (succeeded < toolPrompt.minTools) {
      problems.push(`the run completed ${succeeded} tool use(s) with success true, the prompt "${toolPrompt.id}" needs at least ${toolPrompt.minTools}`);
    }
    const used = new Set(executing.map((e) => String(e.fields.tool_name)));
    const absent = toolPrompt.tools.filter((name) => !used.has(name));
    if (absent.length > 0) problems.push(`the run did not use ${absent.join(', ')} (the prompt "${toolPrompt.id}" names them); it used ${[...used].join(', ') || 'none'}`);
    if (problems.length > 0) {
      throw new CheckError(`agent run ${run.runId} for "${toolPrompt.prompt}" broke the tool contract:\n${problems.map((p) => `  - ${p}`).join('\n')}`, {
        component: 'agent',
        layer: 'ordering',
        code: 'tool-contract',
        endpoint: session.endpoint,
        evidence: { runId: run.runId, promptId: toolPrompt.id, minTools: toolPrompt.minTools, tools: toolPrompt.tools, frames: run.events.map((e) => compactFrame(e, run.sentAtMs)) },
      });
    }
  });

  test('tags every event of the run with its run_id and ends it with exactly one terminal event', { meta: { checkId: CHECK_IDS.agentOneTerminal } }, async ({ runAgent, ws, budget, config }) => {
    const session = await ws.open();
    const from = session.frames.length;
    const run = await runAgent(prompts[0]!.prompt, { session });
    // Whatever the server sends for this run after its terminal event arrives before the pong.
    await pingBarrier(session, budget('ping barrier', config.budgets.pong));

    expectOnlyRuns(session, [run.runId], 'a connection with a single run');
    const frames = session.frames.filter((f) => f.index >= from);
    // Sub-agents may complete inside the run: the run's terminal is its own agent's (first agent_started).
    const runFrames = framesOfRun(session, run.runId);
    const ownAgent = runAgentOf(runFrames);
    const terminals = runFrames.filter((f) => isRunTerminal(f, ownAgent));
    check(terminals.length === 1, `run ${run.runId} sent ${terminals.length} terminal events (${terminals.map((t) => `${t.type} #${t.index}`).join(', ')}), exactly one is allowed`, {
      component: 'agent',
      layer: 'ordering',
      code: 'terminal-count',
      endpoint: session.endpoint,
      evidence: { frames: frames.map((f) => compactFrame(f, run.sentAtMs)) },
    });
    assertRunSequence(frames, run.runId, { stallMs: config.budgets.stall, endpoint: session.endpoint });
  });

  test('keeps every gap between two events of a run under the stall threshold', { meta: { checkId: CHECK_IDS.agentNoStall } }, async ({ runAgent, ws, budget, config, report }) => {
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

  test('reports a division by zero as a failure, with exactly one terminal event and no invented number', { meta: { checkId: CHECK_IDS.agentDivisionByZero } }, async ({ ws, threads, budget, config, report, skip }) => {
    const failure = promptSet.failurePrompt;
    if (failure === undefined) {
      report.notConfigured = `the prompt file ${promptSet.source} turns the failure prompt off ("failurePrompt": null)`;
      return skip(`NOT CONFIGURED: ${report.notConfigured}`);
    }
    const session = await ws.open();
    const run = await startAgentRun(session, {
      userRequest: failure.prompt,
      budget: budget('agent run', config.budgets.agentRun + config.budgets.coldStart),
      stallMs: config.budgets.stall,
      assertSequence: false,
      expectSuccess: false,
    });
    threads.adopt(run.threadId);
    recordTimeline(report, run);
    await pingBarrier(session, budget('ping barrier', config.budgets.pong));
    // Either terminal is allowed, but the contract's ordering rules hold for both.
    assertRunSequence(framesOfRun(session, run.runId), run.runId, { stallMs: config.budgets.stall, expectSuccess: false, endpoint: session.endpoint });

    const terminal = run.terminal;
    if (terminal.type === 'agent_error') {
      check(typeof terminal.fields.error_code === 'string' && terminal.fields.error_code !== '' && typeof terminal.fields.message === 'string' && terminal.fields.message !== '',
        `agent_error for "${failure.prompt}" lacks a usable error_code or message: ${terminal.raw.slice(0, 300)}`,
        { component: 'agent', layer: 'content', code: 'agent-error-fields', evidence: { terminal: compactFrame(terminal) } });
      return;
    }
    const answer = run.finalResponse;
    const handled = failure.handled.length - missedPatterns(failure.handled, answer).length > 0;
    const invented = failure.invented.length - missedPatterns(failure.invented, answer).length > 0;
    check(handled && !invented,
      `the agent answered "${failure.prompt}" with "${answer.slice(0, 200)}": it must say the division cannot be done, not present a result`,
      { component: 'agent', layer: 'content', code: 'tool-failure-hidden', evidence: { finalResponse: answer.slice(0, 500), timeline: run.timeline } });
  });

  test('refuses a run on an unknown thread with one agent_error carrying run_id, error_code and message', { meta: { checkId: CHECK_IDS.agentUnknownThread } }, async ({ ws, threads, budget, config, api }) => {
    const session = await ws.open();
    const unknownThread = randomUUID();
    // agent_error alone, or agent_started then agent_error: both are the contract's refusal.
    const refusal = await expectRunRefused(session, {
      userRequest: prompts[0]!.prompt,
      threadId: unknownThread,
      budget: budget('agent refusal', config.budgets.agentRun),
      barrierBudget: budget('ping barrier', config.budgets.pong),
      what: 'an unknown thread',
    });
    // Refusing must not have created the thread it was asked for, nor any other.
    expectStatus(await api.request('GET', `/api/threads/${unknownThread}`, { auth: true }), 404, 'GET /api/threads/:id of the unknown thread after the refused run', 'backend');
    for (const id of refusal.otherThreadIds) {
      const read = await api.request('GET', `/api/threads/${encodeURIComponent(id)}`, { auth: true });
      if (read.status === 200) threads.adopt(id);
      expectStatus(read, 404, `GET /api/threads/:id of thread ${id}, named by the refused run's events`, 'backend');
    }
  });

  test('reports in agent_started the thread_id it was given, and answers on that thread', { meta: { checkId: CHECK_IDS.agentThreadId } }, async ({ ws, threads, budget, config, report, api }) => {
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
    await expectPersistedTurns(api, thread.id, [{ prompt: golden.prompt, run, facts: golden.expect }]);
  });
});
