import type { PlatformContext } from '../context.ts';
import { addMessage, createThread, findOwnedThread, type Thread } from '../storage/threads.ts';
import { recordRunEnd, recordRunStart } from '../storage/runs.ts';
import { isUuid, newId } from '../util/ids.ts';
import { isStoreUnavailable } from '../util/store-errors.ts';
import { errorMessage, sleep } from '../util/time.ts';
import { classify, type Intent } from './intents.ts';
import { cacheKeyFor, cacheLookup, cacheStore, calculator, knowledgeLookup, threadHistory, type Tool } from './tools.ts';

export const AGENT_NAME = 'reference_agent';

export interface RunRequest {
  userId: string;
  text: string;
  threadId: string | undefined;
  correlationId: string;
}

/** Sends one server frame to the connection that started the run (and only to it). */
export type Emit = (frame: Record<string, unknown>) => void;

class ToolFailure extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

function errorCodeFor(store: string, error: unknown): string {
  if (store === 'postgres') return 'DATABASE_UNAVAILABLE';
  if (store === 'redis') return 'CACHE_UNAVAILABLE';
  return isStoreUnavailable(error) ? 'SERVICE_UNAVAILABLE' : 'TOOL_FAILED';
}

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

  constructor(context: PlatformContext) {
    this.context = context;
  }

  async run(request: RunRequest, emit: Emit): Promise<void> {
    const { sql } = this.context;
    const runId = newId();
    const event = (type: string, fields: Record<string, unknown>): void => {
      emit({ type, run_id: runId, ...fields, correlation_id: request.correlationId });
    };
    const think = (): Promise<void> => sleep(this.context.config.agentThinkMs);

    let thread: Thread | undefined;
    try {
      if (request.threadId) {
        thread = isUuid(request.threadId) ? await findOwnedThread(sql, request.userId, request.threadId) : undefined;
        if (!thread) {
          event('agent_error', { thread_id: request.threadId, error_code: 'THREAD_NOT_FOUND', message: 'thread not found' });
          return;
        }
      } else {
        thread = await createThread(sql, request.userId, titleFrom(request.text));
      }
      await addMessage(sql, thread.id, 'user', request.text, runId);
      await recordRunStart(sql, runId, thread.id, request.userId);
    } catch (error) {
      event('agent_error', { thread_id: thread?.id ?? request.threadId ?? null, error_code: 'DATABASE_UNAVAILABLE', message: `could not record the run: ${errorMessage(error)}` });
      return;
    }

    const threadId = thread.id;
    event('agent_started', { thread_id: threadId, agent_name: AGENT_NAME, task_description: request.text });
    const useTool = async <A extends object, R extends object>(tool: Tool<A, R>, args: A): Promise<R> => {
      const executionId = newId();
      await think();
      event('tool_executing', { tool_name: tool.name, tool_args: args, execution_id: executionId });
      const started = performance.now();
      try {
        const results = await tool.run(this.context, args);
        await think();
        event('tool_completed', { tool_name: tool.name, execution_id: executionId, results, execution_time: Math.round(performance.now() - started), success: true });
        return results;
      } catch (error) {
        event('tool_completed', { tool_name: tool.name, execution_id: executionId, results: { error: errorMessage(error) }, execution_time: Math.round(performance.now() - started), success: false });
        throw new ToolFailure(errorCodeFor(tool.store, error), `${tool.name} failed: ${errorMessage(error)}`);
      }
    };

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
      await addMessage(sql, threadId, 'assistant', answer, runId);
      await recordRunEnd(sql, runId, 'success');
      await think();
      event('agent_completed', { thread_id: threadId, status: 'success', final_response: answer });
    } catch (error) {
      const code = error instanceof ToolFailure ? error.code : isStoreUnavailable(error) ? 'DATABASE_UNAVAILABLE' : 'AGENT_FAILED';
      event('agent_error', { thread_id: threadId, error_code: code, message: errorMessage(error) });
      await recordRunEnd(sql, runId, 'error', code).catch(() => undefined);
    }
  }

  private async answer(
    intent: Intent,
    text: string,
    previousQuestions: string[],
    useTool: <A extends object, R extends object>(tool: Tool<A, R>, args: A) => Promise<R>,
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
