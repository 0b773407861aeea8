/**
 * The LLM-style agent (`agentStyle: llm`, staging profile): the same real tools and stores as the
 * deterministic agent, but run the way an LLM agent runs within the contract. It plans one step
 * per part of the request and uses one tool per step (two for a compound request); a capital is
 * looked up by a sub-agent that reports its own agent_started/agent_thinking/agent_completed; it
 * thinks several times, reports progress and a partial result, words its answer differently from
 * run to run, ends with the answer in a structured `result`, and stores the answer as markdown.
 */
import type { PlatformContext } from '../context.ts';
import { addMessage } from '../storage/threads.ts';
import { recordRunEnd } from '../storage/runs.ts';
import type { Intent } from './intents.ts';
import { planSteps, type Step } from './plan.ts';
import type { RunEvent, UseTool } from './tool-use.ts';
import { calculator, knowledgeLookup, threadHistory } from './tools.ts';
import { markdownOf, partialOf, wording, type Answer, type Phrasebook } from './wording.ts';

export const LLM_AGENT_NAME = 'supervisor_agent';
/** The sub-agent that looks facts up (capitals) for the supervisor. */
export const RESEARCH_AGENT_NAME = 'research_agent';

export interface LlmRun {
  context: PlatformContext;
  phrases: Phrasebook;
  runId: string;
  threadId: string;
  text: string;
  event: RunEvent;
  think: (final?: boolean) => Promise<void>;
  useTool: UseTool;
  persistAnswer: boolean;
}

function topicOf(intent: Intent): string {
  switch (intent.kind) {
    case 'arithmetic':
      return `the arithmetic ${intent.expression}`;
    case 'capital':
      return `the capital of ${intent.country}`;
    case 'previous_question':
      return 'what they asked earlier in this conversation';
    case 'unknown':
      return 'something outside what I know';
  }
}

function usesSubAgent(step: Step): boolean {
  return step.intent.kind === 'capital';
}

/** One step: its tool (through a sub-agent for look-ups), and the answer to that part. */
async function answerStep(run: LlmRun, step: Step, index: number, total: number): Promise<Answer> {
  const { event, think, useTool, phrases } = run;
  const intent = step.intent;
  if (!usesSubAgent(step)) {
    await think();
    event('agent_progress', { agent_name: LLM_AGENT_NAME, message: `Step ${index + 1} of ${total}: ${topicOf(intent)}`, step: index + 1, total_steps: total });
  }
  switch (intent.kind) {
    case 'arithmetic': {
      const result = await useTool(calculator, { expression: intent.expression });
      if (result.value !== null) return wording.arithmetic(phrases, intent.expression, result.value);
      return result.error === 'division by zero' ? wording.divisionByZero(phrases, intent.expression) : wording.notComputable(phrases, intent.expression, result.error ?? 'unknown error');
    }
    case 'capital': {
      await think();
      event('agent_started', { agent_name: RESEARCH_AGENT_NAME, thread_id: run.threadId, task_description: `Find the capital of ${intent.country}`, parent_agent: LLM_AGENT_NAME });
      await think();
      event('agent_thinking', { agent_name: RESEARCH_AGENT_NAME, reasoning: `I'll look up the capital of ${intent.country} in the knowledge base.` });
      const fact = await useTool(knowledgeLookup, { subject: intent.country, relation: 'capital' }, { agent_name: RESEARCH_AGENT_NAME });
      const answer = fact.found && fact.answer ? wording.capital(phrases, fact.subject, fact.answer) : wording.capitalUnknown(phrases, intent.country);
      await think();
      event('agent_completed', { agent_name: RESEARCH_AGENT_NAME, status: 'success', final_response: answer.text });
      return answer;
    }
    case 'previous_question': {
      const history = await useTool(threadHistory, { thread_id: run.threadId, run_id: run.runId });
      const previous = history.previous_user_messages.at(-1);
      return previous ? wording.previous(phrases, previous) : wording.firstQuestion(phrases);
    }
    case 'unknown': {
      await useTool(knowledgeLookup, { subject: step.text.trim().slice(0, 200), relation: 'answer' });
      return wording.unknown(phrases, step.text.trim());
    }
  }
}

/** Everything after agent_started of a successful run; a tool failure throws (ToolFailure) for the runner's agent_error. */
export async function runLlmAgent(run: LlmRun): Promise<void> {
  const { event, think, phrases, context } = run;
  const steps = planSteps(run.text);
  await think();
  event('agent_thinking', { agent_name: LLM_AGENT_NAME, reasoning: wording.plan(phrases, steps.map((step) => topicOf(step.intent)).join(' and ')) });
  const parts: Answer[] = [];
  for (const [index, step] of steps.entries()) parts.push(await answerStep(run, step, index, steps.length));
  await think();
  event('agent_thinking', { agent_name: LLM_AGENT_NAME, reasoning: wording.compose(phrases) });
  const answer = wording.combine(phrases, parts);
  await think();
  event('partial_result', { agent_name: LLM_AGENT_NAME, content: partialOf(answer.text) });
  if (run.persistAnswer) await addMessage(context.sql, run.threadId, 'assistant', markdownOf(parts), run.runId);
  await recordRunEnd(context.sql, run.runId, 'success');
  await think(true);
  const toolsUsed = [...new Set(steps.map((step) => (step.intent.kind === 'arithmetic' ? 'calculator' : step.intent.kind === 'previous_question' ? 'thread_history' : 'knowledge_lookup')))];
  // The answer comes inside a structured result, not as final_response text (both are the contract's).
  event('agent_completed', {
    agent_name: LLM_AGENT_NAME,
    thread_id: run.threadId,
    status: 'success',
    result: { response: answer.text, steps: steps.length, tools_used: toolsUsed, sub_agents: steps.some(usesSubAgent) ? [RESEARCH_AGENT_NAME] : [] },
  });
}
