/**
 * User isolation: one user's conversations and agent events never reach another user.
 *
 * Tier P1: a user who can read, delete or watch another user's conversations is a data breach,
 * which ends the product's trust at once, whatever else works.
 *
 * User A is the worker's identity (its threads are deleted by the `threads` fixture); user B is
 * a `crowd` user of the test's own. Every refusal is checked against a control: A still gets
 * the thread, so B's 404 is isolation, not a missing thread.
 */
import { randomUUID } from 'node:crypto';
import type { TestContext } from 'vitest';
import { expectPersistedTurns, readMessages } from '../../helpers/contract/threads.ts';
import { pingBarrier } from '../../helpers/contract/session-checks.ts';
import { describe, expect, test, type Crowd, type CrowdUser } from '../../fixtures/index.ts';
import { CHECK_IDS } from '../check-ids.ts';
import { loadGoldenPrompts } from '../../fixtures/golden-prompts.ts';
import { expectRunRefused } from '../../helpers/contract/refusals.ts';
import { check, expectFields } from '../../helpers/contract/body.ts';
import type { SuiteConfig } from '../../helpers/core/config.ts';
import { CheckError } from '../../helpers/core/errors.ts';
import { compactFrame, runIdOf, type CapturedFrame } from '../../helpers/core/frames.ts';
import { isAgentEventType } from '../../helpers/contract/agent-events.ts';
import { type HttpClient, type HttpResult } from '../../helpers/transport/http.ts';
import { expectStatus } from '../../helpers/contract/http-checks.ts';
import type { StagecheckMeta } from '../../helpers/core/meta.ts';
import type { TokenSession } from '../../helpers/auth/tokens.ts';

const prompts = loadGoldenPrompts();

/**
 * B must get exactly 404: 200 hands over A's data, 403 confirms the thread exists. The body
 * must not carry any of `mustNotShow` (A's title, messages, run id).
 */
function expectHiddenFromOther(result: HttpResult, what: string, mustNotShow: readonly string[]): void {
  const endpoint = `${result.method} ${result.url}`;
  if (result.status >= 200 && result.status < 300) {
    throw new CheckError(`${what}: another user's request was answered ${result.status}: the thread is not isolated`, {
      component: 'backend', layer: 'content', endpoint, code: 'cross-user-access', correlationId: result.correlationId,
      evidence: { status: result.status, body: result.body.slice(0, 500) },
    });
  }
  if (result.status === 403) {
    throw new CheckError(`${what}: answered 403, which tells another user the thread exists; the contract requires 404`, {
      component: 'backend', layer: 'http-status', endpoint, code: 403, correlationId: result.correlationId,
      evidence: { body: result.body.slice(0, 500) },
    });
  }
  expectStatus(result, 404, what, 'backend');
  const shown = mustNotShow.filter((secret) => secret !== '' && result.body.includes(secret));
  check(shown.length === 0, `${what}: the 404 body quotes the owner's data (${shown.map((s) => `"${s.slice(0, 40)}"`).join(', ')})`, {
    component: 'backend', layer: 'content', endpoint, code: 'leak-in-404', evidence: { body: result.body.slice(0, 500) },
  });
}

/**
 * A second user beside the worker's identity: a stable test user (test-auth or minting) or, with
 * login, the second account (STAGING_TEST_EMAIL_2). Without one the test is NOT CONFIGURED.
 */
async function otherUser(crowd: Crowd, label: string, identity: TokenSession, config: SuiteConfig, skip: TestContext['skip'], report: StagecheckMeta): Promise<CrowdUser> {
  const missing = crowd.missing(1, { besideIdentity: true });
  if (missing) {
    report.notConfigured = missing;
    return skip(`NOT CONFIGURED: ${missing}`);
  }
  const user = crowd.user(label, { besideIdentity: true });
  const [mine, theirs] = await Promise.all([identity.pair(), user.userId()]);
  check(mine.userId !== theirs, `the second test identity maps to the first one's user id ${theirs}`, {
    component: 'auth', layer: 'content', code: 'identities-not-distinct', evidence: { userIds: [mine.userId, theirs] },
  });
  return user;
}

async function expectOwnerStillHas(api: HttpClient, threadId: string, title: string): Promise<void> {
  const read = await api.request('GET', `/api/threads/${encodeURIComponent(threadId)}`, { auth: true });
  expectStatus(read, 200, "GET /api/threads/:id by its owner (control)", 'backend');
  const thread = expectFields(read, 'GET /api/threads/:id', 'backend', { id: 'string', title: 'string' });
  expect(thread.id, 'the owner reads back the same thread').toBe(threadId);
  expect(thread.title, 'the owner reads back the same title').toBe(title);
}

describe('another user\'s thread over HTTP', { tags: ['p1', 'backend', 'auth'], concurrent: true }, () => {
  test('answers 404 to another user reading the thread, never 403 and never the thread', { meta: { checkId: CHECK_IDS.isolationRead } }, async ({ crowd, identity, config, skip, report, threads, api }) => {
    const other = await otherUser(crowd, 'p2-iso-reader', identity, config, skip, report);
    const thread = await threads.create('iso-read');
    const result = await other.api.request('GET', `/api/threads/${encodeURIComponent(thread.id)}`, { auth: true });
    expectHiddenFromOther(result, "GET /api/threads/:id of another user's thread", [thread.title, thread.user_id]);
    await expectOwnerStillHas(api, thread.id, thread.title);
  });

  test('answers 404 to another user listing the thread\'s messages, and never the messages', { meta: { checkId: CHECK_IDS.isolationMessages } }, async ({ runAgent, crowd, identity, config, skip, report, threads, api }) => {
    const other = await otherUser(crowd, 'p2-iso-messages', identity, config, skip, report);
    const golden = prompts[0]!;
    const run = await runAgent(golden.prompt, { label: 'owner run' });
    // Control: the thread holds both messages for its owner.
    await expectPersistedTurns(api, run.threadId, [{ prompt: golden.prompt, run, facts: golden.expect }]);

    const result = await other.api.request('GET', `/api/threads/${encodeURIComponent(run.threadId)}/messages`, { auth: true });
    expectHiddenFromOther(result, "GET /api/threads/:id/messages of another user's thread", [golden.prompt, run.finalResponse, run.runId]);
  });

  test('answers 404 to another user deleting the thread, and the thread survives', { meta: { checkId: CHECK_IDS.isolationDelete } }, async ({ crowd, identity, config, skip, report, threads, api }) => {
    const other = await otherUser(crowd, 'p2-iso-deleter', identity, config, skip, report);
    const thread = await threads.create('iso-delete');
    const result = await other.api.request('DELETE', `/api/threads/${encodeURIComponent(thread.id)}`, { auth: true });
    expectHiddenFromOther(result, "DELETE /api/threads/:id of another user's thread", [thread.title]);
    await expectOwnerStillHas(api, thread.id, thread.title);
  });
});

describe('another user\'s agent events over WebSocket', { tags: ['p1', 'websocket', 'agent'], concurrent: true }, () => {
  test('never delivers one user\'s agent events to another user\'s connection', { meta: { checkId: CHECK_IDS.isolationEvents } }, async ({ runAgent, crowd, identity, config, skip, report, budget }) => {
    const other = await otherUser(crowd, 'p2-iso-listener', identity, config, skip, report);
    // B listens first, so anything sent its way while A's run goes on is captured.
    const listener = await other.open(budget('listener handshake', config.budgets.wsHandshake));
    const run = await runAgent(prompts[0]!.prompt, { label: 'owner run' });
    // A pong on B's connection comes after anything the server queued for B during A's run.
    await pingBarrier(listener, budget('listener barrier', config.budgets.pong));

    const carriesRun = (frame: CapturedFrame): boolean =>
      runIdOf(frame) === run.runId || frame.fields.thread_id === run.threadId || frame.raw.includes(run.runId) || frame.raw.includes(run.threadId);
    const leaked = listener.frames.filter((frame) => carriesRun(frame) || isAgentEventType(frame.type));
    check(leaked.length === 0, `the other user's connection received ${leaked.length} frame(s) of a run it did not start (run ${run.runId}, thread ${run.threadId}): ${leaked.slice(0, 5).map((f) => `${f.type} #${f.index}`).join(', ')}`, {
      component: 'websocket', layer: 'frame', code: 'cross-user-events', endpoint: listener.endpoint,
      evidence: { runId: run.runId, threadId: run.threadId, leaked: leaked.slice(0, 20).map((f) => compactFrame(f)) },
    });
    // Control: A did receive its run, so the listener's silence is not an idle platform.
    expect(run.events.length, "the owner's connection received the run's events").toBeGreaterThanOrEqual(2);
  });

  test('does not let another user start a run on the thread: refused like an unknown thread, no event on it, no message added', { meta: { checkId: CHECK_IDS.isolationRun } }, async ({ crowd, identity, config, skip, report, threads, api, budget }) => {
    const other = await otherUser(crowd, 'p2-iso-intruder', identity, config, skip, report);
    const thread = await threads.create('iso-intrude');
    const session = await other.open(budget('intruder handshake', config.budgets.wsHandshake));
    // Refused as the contract allows (agent_error, alone or after agent_started), with no work done.
    const foreign = await expectRunRefused(session, {
      userRequest: prompts[0]!.prompt,
      threadId: thread.id,
      budget: budget('answer to start_agent on a foreign thread', config.budgets.agentRun),
      barrierBudget: budget('intruder barrier', config.budgets.pong),
      what: "another user's thread",
    });
    // The refusal must read like the one for a thread that does not exist at all.
    const unknown = await expectRunRefused(session, {
      userRequest: prompts[0]!.prompt,
      threadId: randomUUID(),
      budget: budget('answer to start_agent on an unknown thread', config.budgets.agentRun),
      barrierBudget: budget('intruder barrier (unknown thread)', config.budgets.pong),
      what: 'an unknown thread',
    });
    const shape = (r: typeof foreign): string => `${r.started ? 'agent_started then ' : ''}agent_error ${r.errorCode}`;
    check(shape(foreign) === shape(unknown),
      `start_agent on another user's thread answers ${shape(foreign)}, on an unknown thread ${shape(unknown)}: the difference tells the thread exists`, {
        component: 'agent', layer: 'content', code: 'existence-leak', endpoint: session.endpoint,
        evidence: { foreign: foreign.frames.map((f) => compactFrame(f)), unknown: unknown.frames.map((f) => compactFrame(f)) },
      });
    // Nothing but the refusal itself (its agent_started may echo the requested thread_id) names the thread.
    const refusal = new Set([foreign.error, foreign.started]);
    const onThread = session.frames.filter((frame) => frame.fields.thread_id === thread.id && !refusal.has(frame) && frame.type !== 'error');
    check(onThread.length === 0, `another user's connection received ${onThread.length} event(s) on the owner's thread`, {
      component: 'agent', layer: 'content', code: 'cross-user-write', endpoint: session.endpoint, evidence: { frames: onThread.map((f) => compactFrame(f)) },
    });
    const messages = await readMessages(api, thread.id);
    check(messages.length === 0, `another user's start_agent added ${messages.length} message(s) to the owner's thread`, {
      component: 'backend', layer: 'content', code: 'cross-user-write', endpoint: 'GET /api/threads/:id/messages',
      evidence: { messages: messages.map((m) => `${m.role}: ${m.content.slice(0, 80)}`) },
    });
    await expectOwnerStillHas(api, thread.id, thread.title);
  });
});
