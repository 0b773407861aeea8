/**
 * Tier P1: the golden path is chat itself (about 90% of the platform's value): a user who
 * cannot get a correct, persisted answer from an agent over the WebSocket cannot use the product.
 *
 * Each golden prompt runs the whole path: authenticate, open a WebSocket, start an agent on a
 * new thread, receive the five events in order within the run budget (plus the cold-start
 * allowance) without stalls, get the right answer, read both messages back over HTTP.
 */
import { expectPersistedTurns } from '../../helpers/contract/threads.ts';
import { expectCorrectAnswer, loadGoldenPrompts } from '../../fixtures/golden-prompts.ts';
import { describe, expect, test } from '../../fixtures/index.ts';
import { CHECK_IDS } from '../check-ids.ts';
import { expectFields } from '../../helpers/contract/body.ts';
import { expectStatus } from '../../helpers/contract/http-checks.ts';

const prompts = loadGoldenPrompts();

describe('golden path: chat with an agent', { tags: ['p1', 'agent', 'websocket', 'backend', 'postgres'], concurrent: true }, () => {
  test.for(prompts)('answers $prompt correctly after the five events in order, and persists both messages', { meta: { checkId: CHECK_IDS.goldenAnswers } }, async (golden, { runAgent, report, api }) => {
    const run = await runAgent(golden.prompt);
    report.measurements.push({ name: 'agent run to agent_completed', unit: 'ms', samples: [run.durations.toCompleted] });

    expectCorrectAnswer(golden, run);
    await expectPersistedTurns(api, run.threadId, [{ prompt: golden.prompt, run, facts: golden.expect }]);
  });

  test('creates a thread owned by the caller for a run started without thread_id', { meta: { checkId: CHECK_IDS.goldenNewThread } }, async ({ runAgent, threads, api, identity }) => {
    const golden = prompts[0]!;
    const run = await runAgent(golden.prompt, { serverThread: true });

    const read = await api.request('GET', `/api/threads/${encodeURIComponent(run.threadId)}`, { auth: true });
    expectStatus(read, 200, 'GET /api/threads/:id of the thread agent_started reported', 'backend');
    const thread = expectFields(read, 'GET /api/threads/:id', 'backend', { id: 'string', user_id: 'string', title: 'string', created_at: 'string' });
    expect(thread.id, 'thread id read back').toBe(run.threadId);
    expect(thread.user_id, 'owner of the thread the run created').toBe((await identity.pair()).userId);
  });

  test('deletes a conversation: DELETE answers 204, then the thread and its messages answer 404', { meta: { checkId: CHECK_IDS.goldenDelete } }, async ({ runAgent, threads, api }) => {
    const golden = prompts[prompts.length - 1]!;
    const run = await runAgent(golden.prompt);
    await expectPersistedTurns(api, run.threadId, [{ prompt: golden.prompt, run, facts: golden.expect }]);

    const path = `/api/threads/${encodeURIComponent(run.threadId)}`;
    expectStatus(await api.request('DELETE', path, { auth: true }), 204, 'DELETE /api/threads/:id', 'backend');
    expectStatus(await api.request('GET', path, { auth: true }), 404, 'GET /api/threads/:id after DELETE', 'backend');
    expectStatus(await api.request('GET', `${path}/messages`, { auth: true }), 404, 'GET /api/threads/:id/messages after DELETE', 'backend');
  });
});
