import type { PlatformContext } from '../context.ts';
import { addMessage, createThread, findOwnedThread, type Thread } from '../storage/threads.ts';
import { recordRunEnd, recordRunStart } from '../storage/runs.ts';
import { isUuid, newId } from '../util/ids.ts';
import { isStoreUnavailable } from '../util/store-errors.ts';
import { ToolFailure, toolUser, type UseTool } from './tool-use.ts';
import { errorMessage } from '../util/time.ts';
import { classify, type Intent } from './intents.ts';
import { LLM_AGENT_NAME, runLlmAgent } from './llm-run.ts';
import { emitFaultsOf, faultyEmitter, Pacer, RunHalted, type Emit } from './misbehaviour.ts';
import { Phrasebook } from './wording.ts';
import { cacheKeyFor, cacheLookup, cacheStore, calculator, knowledgeLookup, threadHistory } from './tools.ts';

export const AGENT_NAME = 'reference_agent';

export interface RunRequest {
  userId: string;
  text: string;
  threadId: string | undefined;
  correlationId: string;
}

/** Sends one server frame to the connection that started the run (and only to it). */
export type { Emit } from './misbehaviour.ts';

/** What fault `agent_canned` answers, whatever was asked. */
export const CANNED_RESPONSE = 'Your request has been processed successfully.';

function titleFrom(text: string): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > 60 ? `${oneLine.slice(0, 57)}...` : oneLine || 'New conversation';
}

function describe(intent: Intent): string {
  switch (intent.kind) {
    case 'arithmetic':
      return `This is arithmetic: I will evaluate ${intent.expression}.`;
    case 'capital':
      return `This asks for the capital of ${intent.country}: I will look it up in the knowledge base.`;
    case 'previous_question':
      return 'This asks about the conversation: I will read the thread history.';
    case 'unknown':
      return 'I do not recognise this request; I will check my knowledge base anyway.';
  }
}

/**
 * The deterministic agent: real tools against real stores, the contract's event sequence,
 * answers that can be checked. Every event carries the run's id; a tool failure ends the run
 * with agent_error after that tool's tool_completed {success:false}.
 */
export class AgentRunner {
  private readonly context: PlatformContext;
  /** The two most recent run ids (for `frame_garbage` foreign_run_id). */
  private recentRunIds: string[] = [];
  /** The LLM-style agent's wording, rotating per topic over the platform's life. */
  private readonly phrases = new Phrasebook();

  constructor(context: PlatformContext) {
    this.context = context;
  }

  /** The id of a run other than `runId` (the most recent one), or a fresh id when there is none. */
  otherRunId(runId: string): string {
    return this.recentRunIds.find((id) => id !== runId) ?? newId();
  }

  /**
   * One run. Agent faults are read here, once: `agent_stall`, `agent_out_of_order`,
   * `agent_tool_unmatched` and `agent_double_terminal` reshape what is emitted, `agent_slow`
   * paces it, `agent_canned` replaces the work, `answer_not_persisted` skips the answer's write.
   */
  async run(request: RunRequest, emit: Emit): Promise<void> {
    const runId = newId();
    this.recentRunIds = [runId, ...this.recentRunIds].slice(0, 2);
    const behaviour = this.context.behaviour;
    const out = faultyEmitter(emit, emitFaultsOf(behaviour));
    const event = (type: string, fields: Record<string, unknown>): void => {
      out({ type, run_id: runId, ...fields, correlation_id: request.correlationId });
    };
    const llm = this.context.config.agentStyle === 'llm';
    // An LLM agent's events come about (not exactly) a gap apart: ±25%.
    const pacer = new Pacer(this.context.config.agentThinkMs, behaviour.get('agent_slow')?.ms ?? 0, llm ? 0.25 : 0);
    const options = { canned: behaviour.has('agent_canned'), persistAnswer: !behaviour.has('answer_not_persisted') };
    try {
      await this.execute(request, runId, event, pacer, options);
    } catch (error) {
      // agent_stall: the run just stops. Its row stays "running", like a hung worker's.
      if (error instanceof RunHalted) return;
      throw error;
    }
  }

  private async execute(
    request: RunRequest,
    runId: string,
    event: (type: string, fields: Record<string, unknown>) => void,
    pacer: Pacer,
    options: { canned: boolean; persistAnswer: boolean },
  ): Promise<void> {
    const { sql } = this.context;
    const think = (final = false): Promise<void> => pacer.think(final);
    const llm = this.context.config.agentStyle === 'llm';
    const agentName = llm ? LLM_AGENT_NAME : AGENT_NAME;
    /**
     * A run refused before any work. The deterministic agent answers with agent_error alone; the
     * LLM-style one starts first (agent_started echoing the requested thread), then refuses. Both
     * are the contract's; neither stores anything.
     */
    const refuse = async (threadId: string, fields: Record<string, unknown>): Promise<void> => {
      if (llm) {
        event('agent_started', { thread_id: threadId, agent_name: agentName, task_description: request.text });
        await think();
        event('agent_error', { thread_id: threadId, agent_name: agentName, ...fields });
        return;
      }
      event('agent_error', { thread_id: threadId, ...fields });
    };

    let thread: Thread | undefined;
    try {
      if (request.threadId) {
        thread = isUuid(request.threadId) ? await findOwnedThread(sql, request.userId, request.threadId) : undefined;
        if (!thread) {
          await refuse(request.threadId, { error_code: 'THREAD_NOT_FOUND', message: 'thread not found' });
          return;
        }
      } else {
        thread = await createThread(sql, request.userId, titleFrom(request.text));
      }
      await addMessage(sql, thread.id, 'user', request.text, runId);
      await recordRunStart(sql, runId, thread.id, request.userId);
    } catch (error) {
      if (error instanceof RunHalted) throw error;
      // Not a refusal: the run could not start at all (no agent_started in either style).
      event('agent_error', { thread_id: thread?.id ?? request.threadId ?? null, ...(llm ? { agent_name: agentName } : {}), error_code: 'DATABASE_UNAVAILABLE', message: `could not record the run: ${errorMessage(error)}` });
      return;
    }

    const threadId = thread.id;
    event('agent_started', { thread_id: threadId, agent_name: agentName, task_description: request.text });
    if (options.canned) {
      await this.canned(runId, threadId, event, think, options.persistAnswer);
      return;
    }
    const useTool = toolUser(this.context, event, () => think());

    if (llm) {
      try {
        await runLlmAgent({ context: this.context, phrases: this.phrases, runId, threadId, text: request.text, event, think, useTool, persistAnswer: options.persistAnswer });
      } catch (error) {
        if (error instanceof RunHalted) throw error;
        const code = error instanceof ToolFailure ? error.code : isStoreUnavailable(error) ? 'DATABASE_UNAVAILABLE' : 'AGENT_FAILED';
        event('agent_error', { thread_id: threadId, agent_name: agentName, error_code: code, message: errorMessage(error) });
        await recordRunEnd(sql, runId, 'error', code).catch(() => undefined);
      }
      return;
    }

    try {
      const intent = classify(request.text);
      await think();
      event('agent_thinking', { reasoning: describe(intent) });
      const key = cacheKeyFor(intent.kind === 'previous_question' ? [intent.kind, threadId] : [intent.kind, request.text.trim()]);
      const cached = await useTool(cacheLookup, { key });
      const history = await useTool(threadHistory, { thread_id: threadId, run_id: runId });
      const answer = await this.answer(intent, request.text, history.previous_user_messages, useTool);
      await think();
      event('agent_thinking', { reasoning: cached.hit && intent.kind !== 'previous_question' ? 'Answer confirmed against the cache.' : 'Composing the answer.' });
      await useTool(cacheStore, { key, answer });
      if (options.persistAnswer) await addMessage(sql, threadId, 'assistant', answer, runId);
      await recordRunEnd(sql, runId, 'success');
      await think(true);
      event('agent_completed', { thread_id: threadId, status: 'success', final_response: answer });
    } catch (error) {
      if (error instanceof RunHalted) throw error;
      const code = error instanceof ToolFailure ? error.code : isStoreUnavailable(error) ? 'DATABASE_UNAVAILABLE' : 'AGENT_FAILED';
      event('agent_error', { thread_id: threadId, error_code: code, message: errorMessage(error) });
      await recordRunEnd(sql, runId, 'error', code).catch(() => undefined);
    }
  }

  /**
   * Fault agent_canned: a fallback handler. The five event names in order, a "tool" that never
   * runs (empty results), and a fixed answer to any request. The thread and messages are real.
   */
  private async canned(
    runId: string,
    threadId: string,
    event: (type: string, fields: Record<string, unknown>) => void,
    think: (final?: boolean) => Promise<void>,
    persistAnswer: boolean,
  ): Promise<void> {
    const { sql } = this.context;
    await think();
    event('agent_thinking', { reasoning: 'Processing your request.' });
    const executionId = newId();
    await think();
    event('tool_executing', { tool_name: 'default_handler', tool_args: {}, execution_id: executionId });
    await think();
    event('tool_completed', { tool_name: 'default_handler', execution_id: executionId, results: {}, execution_time: 0, success: true });
    try {
      if (persistAnswer) await addMessage(sql, threadId, 'assistant', CANNED_RESPONSE, runId);
      await recordRunEnd(sql, runId, 'success');
    } catch (error) {
      event('agent_error', { thread_id: threadId, error_code: 'DATABASE_UNAVAILABLE', message: errorMessage(error) });
      return;
    }
    await think(true);
    event('agent_completed', { thread_id: threadId, status: 'success', final_response: CANNED_RESPONSE });
  }

  private async answer(
    intent: Intent,
    text: string,
    previousQuestions: string[],
    useTool: UseTool,
  ): Promise<string> {
    switch (intent.kind) {
      case 'arithmetic': {
        const result = await useTool(calculator, { expression: intent.expression });
        return result.value !== null ? `${intent.expression} = ${result.value}` : `I cannot compute ${intent.expression}: ${result.error}.`;
      }
      case 'capital': {
        const fact = await useTool(knowledgeLookup, { subject: intent.country, relation: 'capital' });
        return fact.found ? `The capital of ${fact.subject} is ${fact.answer}.` : `I don't know the capital of ${intent.country}: it is not in my knowledge base.`;
      }
      case 'previous_question': {
        const previous = previousQuestions.at(-1);
        return previous ? `Your previous question was: "${previous}"` : 'This is your first question in this conversation.';
      }
      case 'unknown': {
        await useTool(knowledgeLookup, { subject: text.trim().slice(0, 200), relation: 'answer' });
        return `I don't know how to answer "${text.trim()}" yet. I can do arithmetic, name the capital of a country, and recall your previous question.`;
      }
    }
  }
}
