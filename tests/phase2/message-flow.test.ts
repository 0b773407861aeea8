/**
 * Tier P3: message flow and orchestration. Follow-ups, parallel runs and many users at once
 * are how chat is used beyond the first answer; when they break, conversations degrade
 * (lost context, mixed-up answers) while single questions still work, so P3, below the P1 path.
 */
import { expectPersistedTurns } from '../../helpers/contract/threads.ts';
import { expectOnlyRuns, pingBarrier } from '../../helpers/contract/session-checks.ts';
import { expectCorrectAnswer, loadGoldenPrompts, PREVIOUS_QUESTION_PROMPT, quotesQuestion, type GoldenPrompt } from '../../fixtures/golden-prompts.ts';
import { describe, expect, recordTimeline, test } from '../../fixtures/index.ts';
import { followAgentRun, startAgentRun, type AgentRunResult } from '../../helpers/contract/agent-run.ts';
import { check, expectFields } from '../../helpers/contract/body.ts';
import { expectStatus } from '../../helpers/contract/http-checks.ts';

const prompts = loadGoldenPrompts();
const first = prompts[0]!;
/** A second prompt with a different text, when the prompt set has one. */
const second: GoldenPrompt | undefined = prompts.find((p) => p.prompt !== first.prompt);

function expectRecalls(run: AgentRunResult, question: string, notQuestion?: string): void {
  const recalled = quotesQuestion(run.finalResponse, question);
  const wrong = notQuestion !== undefined && quotesQuestion(run.finalResponse, notQuestion);
  check(recalled && !wrong, `asked "${PREVIOUS_QUESTION_PROMPT}" after "${question}", the agent answered "${run.finalResponse.slice(0, 200)}"${wrong ? `, quoting the older "${notQuestion}"` : ''}: the thread's context was lost`, {
    component: 'agent',
    layer: 'content',
    code: 'context-lost',
    evidence: { runId: run.runId, threadId: run.threadId, expectedQuote: question, finalResponse: run.finalResponse.slice(0, 500) },
  });
}

describe('conversation context across turns', { tags: ['p3', 'agent', 'websocket', 'backend', 'postgres'] }, () => {
  test('answers a follow-up user_message on the same thread with the previous question, messages oldest first', async ({ runAgent, ws, budget, config, report, api }) => {
    const session = await ws.open();
    const turn1 = await runAgent(first.prompt, { session, label: 'turn 1' });
    const turn2 = await followAgentRun(session, { type: 'user_message', payload: { message: PREVIOUS_QUESTION_PROMPT, thread_id: turn1.threadId } }, {
      threadId: turn1.threadId,
      budget: budget('turn 2', config.budgets.agentRun),
      stallMs: config.budgets.stall,
    });
    recordTimeline(report, turn2);

    expect(turn2.runId, 'the follow-up is a run of its own').not.toBe(turn1.runId);
    expectRecalls(turn2, first.prompt);
    await expectPersistedTurns(api, turn1.threadId, [
      { prompt: first.prompt, run: turn1 },
      { prompt: PREVIOUS_QUESTION_PROMPT, run: turn2 },
    ]);
  });

  test('recalls the latest question, not an older one, after three turns, with all six messages in order', async ({ runAgent, ws, budget, config, report, api }) => {
    const older = second ?? first;
    const latest = first;
    const session = await ws.open();
    const turn1 = await runAgent(older.prompt, { session, label: 'turn 1' });
    const follow = (message: string, name: string) =>
      followAgentRun(session, { type: 'user_message', payload: { message, thread_id: turn1.threadId } }, {
        threadId: turn1.threadId,
        budget: budget(name, config.budgets.agentRun),
        stallMs: config.budgets.stall,
      });
    const turn2 = await follow(latest.prompt, 'turn 2');
    const turn3 = await follow(PREVIOUS_QUESTION_PROMPT, 'turn 3');
    for (const run of [turn2, turn3]) recordTimeline(report, run);

    expectCorrectAnswer(older, turn1);
    expectCorrectAnswer(latest, turn2);
    expectRecalls(turn3, latest.prompt, older === latest ? undefined : older.prompt);
    await expectPersistedTurns(api, turn1.threadId, [
      { prompt: older.prompt, run: turn1 },
      { prompt: latest.prompt, run: turn2 },
      { prompt: PREVIOUS_QUESTION_PROMPT, run: turn3 },
    ]);
  });
});

describe('orchestration on one connection', { tags: ['p3', 'agent', 'websocket'] }, () => {
  test('keeps the events of two concurrent runs on one connection apart', async ({ ws, threads, budget, config, report, api }) => {
    const a = first;
    const b = second ?? first;
    const [threadA, threadB] = await Promise.all([threads.create('p3-concurrent-a'), threads.create('p3-concurrent-b')]);
    const session = await ws.open();
    const runBudget = budget('two concurrent runs', config.budgets.agentRun + config.budgets.coldStart);
    const [runA, runB] = await Promise.all([
      startAgentRun(session, { userRequest: a.prompt, threadId: threadA.id, budget: runBudget.child('run a'), stallMs: config.budgets.stall }),
      startAgentRun(session, { userRequest: b.prompt, threadId: threadB.id, budget: runBudget.child('run b'), stallMs: config.budgets.stall }),
    ]);
    recordTimeline(report, runA);
    recordTimeline(report, runB);
    await pingBarrier(session, budget('ping barrier', config.budgets.wsReceive));

    expect(runA.runId, 'the two runs have distinct run_ids').not.toBe(runB.runId);
    expectOnlyRuns(session, [runA.runId, runB.runId], 'a connection with two runs');
    expectCorrectAnswer(a, runA);
    expectCorrectAnswer(b, runB);
    await expectPersistedTurns(api, threadA.id, [{ prompt: a.prompt, run: runA }]);
    await expectPersistedTurns(api, threadB.id, [{ prompt: b.prompt, run: runB }]);
  });
});

const USERS = 3;

describe('several users at once', { tags: ['p3', 'agent', 'websocket', 'auth'] }, () => {
  test(`completes a run for each of ${USERS} users at once, each connection seeing only its own events`, async ({ crowd, budget, config, report, skip }) => {
    if (config.auth.method === 'login') {
      report.notConfigured = 'several users need E2E_BYPASS_KEY or STAGING_JWT_SECRET; STAGING_TEST_EMAIL/PASSWORD give one user';
      skip(`NOT CONFIGURED: ${report.notConfigured}`);
    }
    const users = Array.from({ length: USERS }, (_, n) => crowd.user(`p2-multi-${n + 1}`));
    const sessions = await Promise.all(users.map((user) => user.open(budget(`ws handshake ${user.label}`, config.budgets.wsHandshake))));
    const userIds = await Promise.all(users.map((user) => user.userId()));
    check(new Set(userIds).size === USERS, `${USERS} test identities map to ${new Set(userIds).size} distinct user ids (${userIds.join(', ')})`, {
      component: 'auth', layer: 'content', code: 'identities-not-distinct', evidence: { userIds },
    });
    sessions.forEach((session, i) => expect(session.userId, `connection_established.user_id of ${users[i]!.label}`).toBe(userIds[i]));

    const runBudget = budget('runs of all users', config.budgets.agentRun + config.budgets.coldStart);
    const goldens = users.map((_, i) => prompts[i % prompts.length]!);
    const runs = await Promise.all(
      sessions.map((session, i) =>
        startAgentRun(session, { userRequest: goldens[i]!.prompt, budget: runBudget.child(users[i]!.label), stallMs: config.budgets.stall }).then((run) => {
          users[i]!.adopt(run.threadId);
          return run;
        }),
      ),
    );
    runs.forEach((run) => recordTimeline(report, run));
    const barrier = budget('ping barriers', config.budgets.wsReceive);
    await Promise.all(sessions.map((session) => pingBarrier(session, barrier)));

    // Cross-talk first: a connection that got another user's events may have followed the wrong run.
    runs.forEach((run, i) => expectOnlyRuns(sessions[i]!, [run.runId], `${users[i]!.label}'s connection`));
    expect(new Set(runs.map((r) => r.runId)).size, 'distinct run_ids across users').toBe(USERS);
    for (const [i, run] of runs.entries()) {
      const user = users[i]!;
      expectCorrectAnswer(goldens[i]!, run);
      const read = await user.api.request('GET', `/api/threads/${encodeURIComponent(run.threadId)}`, { auth: true });
      expectStatus(read, 200, `GET /api/threads/:id as ${user.label}`, 'backend');
      const thread = expectFields(read, 'GET /api/threads/:id', 'backend', { user_id: 'string' });
      expect(thread.user_id, `owner of ${user.label}'s thread`).toBe(userIds[i]);
    }
  });
});
