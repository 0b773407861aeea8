/**
 * Tier P1: the golden path in its smallest form. One agent run must emit the five critical
 * events in contract order, answer the request correctly (a canned fallback does not), and
 * leave both messages readable over HTTP.
 */
import { describe, expect, test } from '../../../fixtures/index.ts';
import { DEFAULT_GOLDEN_PROMPTS, loadGoldenPrompts, missedExpectations } from '../../../fixtures/golden-prompts.ts';
import { assertRunSequence } from '../../../helpers/contract/agent-events.ts';
import { expectStatus } from '../../../helpers/contract/http-checks.ts';
import { CheckError } from '../../../helpers/core/errors.ts';

describe('agent run over WebSocket', { tags: ['p1', 'agent', 'websocket'], concurrent: true }, () => {
  test('emits the five critical events in order with a correct answer, persisted as messages', async ({ runAgent, api, threads, config }) => {
    const golden = loadGoldenPrompts()[0] ?? DEFAULT_GOLDEN_PROMPTS[0]!;
    const run = await runAgent(golden.prompt);

    assertRunSequence(run.events, run.runId, { stallMs: config.budgets.stall });
    const missed = missedExpectations(golden, run.finalResponse);
    if (missed.length > 0) {
      throw new CheckError(`the agent's answer to "${golden.prompt}" is wrong: missing ${missed.join(', ')} in "${run.finalResponse.slice(0, 200)}"`, {
        component: 'agent',
        layer: 'content',
        evidence: { prompt: golden.prompt, finalResponse: run.finalResponse.slice(0, 500) },
      });
    }

    const messages = await api.request('GET', `/api/threads/${run.threadId}/messages`, { auth: true });
    expectStatus(messages, 200, 'GET /api/threads/:id/messages', 'backend');
    const list = messages.json as { role: string; content: string; run_id?: string }[];
    const user = list.find((m) => m.role === 'user' && m.content === golden.prompt);
    const assistant = list.find((m) => m.role === 'assistant' && m.content === run.finalResponse);
    expect(user, 'the user message is persisted').toBeDefined();
    expect(assistant, 'the assistant answer is persisted').toBeDefined();
    expect(list.indexOf(user!), 'messages are oldest first').toBeLessThan(list.indexOf(assistant!));
  });
});
