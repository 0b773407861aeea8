/**
 * Tier P3: message flow and orchestration. Follow-ups, parallel runs and many users at once
 * are how chat is used beyond the first answer; when they break, conversations degrade
 * (lost context, mixed-up answers) while single questions still work, so P3, below the P1 path.
 */
import { expectPersistedTurns } from '../../helpers/contract/threads.ts';
import { expectOnlyRuns, pingBarrier } from '../../helpers/contract/session-checks.ts';
import { expectCorrectAnswer, loadPromptSet, missedPatterns, recalls, type GoldenPrompt } from '../../fixtures/golden-prompts.ts';
import { describe, expect, recordTimeline, test } from '../../fixtures/index.ts';
import { CHECK_IDS } from '../check-ids.ts';
import { followAgentRun, startAgentRun, type AgentRunResult } from '../../helpers/contract/agent-run.ts';
import { check, expectFields } from '../../helpers/contract/body.ts';
import { expectStatus } from '../../helpers/contract/http-checks.ts';

const promptSet = loadPromptSet();
const prompts = promptSet.prompts;
const PREVIOUS_QUESTION_PROMPT = promptSet.previousQuestionPrompt;
const first = prompts[0]!;
/** A second prompt with a different text, when the prompt set has one. */
const second: GoldenPrompt | undefined = prompts.find((p) => p.prompt !== first.prompt);

/**
 * The answer to the previous-question prompt names `question` by its facts (its recall
 * patterns: its numbers and content words, or the prompt file's), not necessarily verbatim.
 */
function expectRecalls(run: AgentRunResult, question: GoldenPrompt, older?: GoldenPrompt): void {
  const missed = missedPatterns(question.recall, run.finalResponse);
  // Naming the older question as well is no fault; naming it instead of the latest one is.
  const wrong = older !== undefined && missed.length > 0 && recalls(run.finalResponse, older);
  check(missed.length === 0, `asked "${PREVIOUS_QUESTION_PROMPT}" after "${question.prompt}", the agent answered "${run.finalResponse.slice(0, 200)}", which lacks ${missed.map((p) => `/${p}/`).join(', ')}${wrong ? `, naming the older "${older.prompt}" instead` : ''}: the thread's context was lost`, {
    component: 'agent',
    layer: 'content',
    code: 'context-lost',
    evidence: { runId: run.runId, threadId: run.threadId, question: question.prompt, recall: question.recall.map((p) => p.source), finalResponse: run.finalResponse.slice(0, 500) },
  });
}

describe('conversation context across turns', { tags: ['p3', 'agent', 'websocket', 'backend', 'postgres'], concurrent: true }, () => {
  test('answers a follow-up user_message on the same thread with the previous question, messages oldest first', { meta: { checkId: CHECK_IDS.followUp } }, async ({ runAgent, ws, budget, config, report, api }) => {
    const session = await ws.open();
    const turn1 = await runAgent(first.prompt, { session, label: 'turn 1' });
    const turn2 = await followAgentRun(session, { type: 'user_message', payload: { message: PREVIOUS_QUESTION_PROMPT, thread_id: turn1.threadId } }, {
      threadId: turn1.threadId,
      budget: budget('turn 2', config.budgets.agentRun),
      stallMs: config.budgets.stall,
    });
    recordTimeline(report, turn2);

    expect(turn2.runId, 'the follow-up is a run of its own').not.toBe(turn1.runId);
    expectRecalls(turn2, first);
    await expectPersistedTurns(api, turn1.threadId, [
      { prompt: first.prompt, run: turn1, facts: first.expect },
      { prompt: PREVIOUS_QUESTION_PROMPT, run: turn2, facts: first.recall },
    ]);
  });

  test('recalls the latest question, not an older one, after three turns, with all six messages in order', { meta: { checkId: CHECK_IDS.recallLatest } }, async ({ runAgent, ws, budget, config, report, api }) => {
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
    expectRecalls(turn3, latest, older === latest ? undefined : older);
    await expectPersistedTurns(api, turn1.threadId, [
      { prompt: older.prompt, run: turn1, facts: older.expect },
      { prompt: latest.prompt, run: turn2, facts: latest.expect },
      { prompt: PREVIOUS_QUESTION_PROMPT, run: turn3, facts: latest.recall },
    ]);
  });
});

describe('orchestration on one connection', { tags: ['p3', 'agent', 'websocket'], concurrent: true }, () => {
  test('keeps the events of two concurrent runs on one connection apart', { meta: { checkId: CHECK_IDS.twoRunsOneConnection } }, async ({ ws, threads, budget, config, report, api }) => {
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
    await pingBarrier(session, budget('ping barrier', config.budgets.pong));

    expect(runA.runId, 'the two runs have distinct run_ids').not.toBe(runB.runId);
    expectOnlyRuns(session, [runA.runId, runB.runId], 'a connection with two runs');
    expectCorrectAnswer(a, runA);
    expectCorrectAnswer(b, runB);
    await expectPersistedTurns(api, threadA.id, [{ prompt: a.prompt, run: runA, facts: a.expect }]);
    await expectPersistedTurns(api, threadB.id, [{ prompt: b.prompt, run: runB, facts: b.expect }]);
  });
});

/** Users at once: 3 stable test users, or, with login, the two accounts (STAGING_TEST_EMAIL and _2). */
const MAX_USERS = 3;

describe('several users at once', { tags: ['p3', 'agent', 'websocket', 'auth'], concurrent: true }, () => {
  test(`completes a run for each of ${MAX_USERS} users at once (2 with two login accounts), each connection seeing only its own events`, { meta: { checkId: CHECK_IDS.severalUsers } }, async ({ crowd, budget, config, report, skip }) => {
    const missing = crowd.missing(2);
    if (missing) {
      report.notConfigured = missing;
      skip(`NOT CONFIGURED: ${missing}`);
    }
    const USERS = Math.min(MAX_USERS, crowd.capacity());
    const users = Array.from({ length: USERS }, (_, n) => crowd.user(`p2-multi-${n + 1}`));
    const sessions = await Promise.all(users.map((user) => user.open(budget(`ws handshake ${user.label}`, config.budgets.wsHandshake))));
    const userIds = await Promise.all(users.map((user) => user.userId()));
    check(new Set(userIds).size === USERS, `${USERS} test identities map to ${new Set(userIds).size} distinct user ids (${userIds.join(', ')})`, {
      component: 'auth', layer: 'content', code: 'identities-not-distinct', evidence: { userIds },
    });
    sessions.forEach((session, i) => expect(session.userId, `connection_established.user_id of ${users[i]!.label}`).toBe(userIds[i]));

    const runBudget = budget('runs of all users', config.budgets.agentRun + config.budgets.coldStart);
    const goldens = users.map((_, i) => prompts[i % prompts.length]!);
    // Each run on a thread of its user's titled with the run id, so an interrupted run's cleanup finds it.
    const threadIds = await Promise.all(users.map((user) => user.createThread(`p3-${user.label}`)));
    const runs = await Promise.all(
      sessions.map((session, i) =>
        startAgentRun(session, { userRequest: goldens[i]!.prompt, threadId: threadIds[i], budget: runBudget.child(users[i]!.label), stallMs: config.budgets.stall }).then((run) => {
          users[i]!.adopt(run.threadId);
          return run;
        }),
      ),
    );
    runs.forEach((run) => recordTimeline(report, run));
    const barrier = budget('ping barriers', config.budgets.pong);
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
