/**
 * Tier P1: the golden path in its smallest form. One agent run must emit the five critical
 * events in contract order, answer the request correctly (a canned fallback does not), and
 * leave both messages readable over HTTP, the stored answer carrying the same facts.
 */
import { describe, test } from '../../../fixtures/index.ts';
import { CHECK_IDS, DESCRIBES } from '../../check-ids.ts';
import { expectCorrectAnswer, loadGoldenPrompts } from '../../../fixtures/golden-prompts.ts';
import { assertRunSequence } from '../../../helpers/contract/agent-events.ts';
import { expectPersistedTurns } from '../../../helpers/contract/threads.ts';

describe(DESCRIBES.agentRun, { tags: ['p1', 'agent', 'websocket'], concurrent: true }, () => {
  test('emits the five critical events in order with a correct answer, persisted as messages', { meta: { checkId: CHECK_IDS.agentRun } }, async ({ runAgent, api, config }) => {
    const golden = loadGoldenPrompts()[0]!;
    const run = await runAgent(golden.prompt);

    assertRunSequence(run.events, run.runId, { stallMs: config.budgets.stall });
    expectCorrectAnswer(golden, run);
    await expectPersistedTurns(api, run.threadId, [{ prompt: golden.prompt, run, facts: golden.expect }], { component: 'agent' });
  });
});
