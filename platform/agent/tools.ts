import { createHash } from 'node:crypto';
import type { PlatformContext } from '../context.ts';
import { readAgentCache, writeAgentCache } from '../storage/agent-cache.ts';
import { lookupFact } from '../storage/knowledge.ts';
import { listMessages } from '../storage/threads.ts';
import { withTimeout } from '../util/time.ts';
import { evaluate, formatNumber } from './arithmetic.ts';

const REDIS_TOOL_TIMEOUT_MS = 1500;

/** Which store a tool depends on: names the agent_error code when it fails. */
export type ToolStore = 'postgres' | 'redis' | 'none';

export interface Tool<A, R> {
  name: string;
  store: ToolStore;
  run(context: PlatformContext, args: A): Promise<R>;
}

export function cacheKeyFor(parts: string[]): string {
  return createHash('sha256').update(parts.join('\u0000').toLowerCase()).digest('hex').slice(0, 32);
}

export const cacheLookup: Tool<{ key: string }, { key: string; hit: boolean; cached_answer: string | null }> = {
  name: 'cache_lookup',
  store: 'redis',
  async run(context, { key }) {
    const cached = await withTimeout(readAgentCache(context.redis, key), REDIS_TOOL_TIMEOUT_MS, 'redis cache_lookup');
    return { key: `agent_cache:${key}`, hit: cached !== null, cached_answer: cached };
  },
};

export const cacheStore: Tool<{ key: string; answer: string }, { key: string; stored: true; ttl_seconds: number }> = {
  name: 'cache_store',
  store: 'redis',
  async run(context, { key, answer }) {
    await withTimeout(writeAgentCache(context.redis, key, answer), REDIS_TOOL_TIMEOUT_MS, 'redis cache_store');
    return { key: `agent_cache:${key}`, stored: true, ttl_seconds: 600 };
  },
};

export interface HistoryResult {
  thread_id: string;
  message_count: number;
  previous_user_messages: string[];
}

/** The thread's earlier messages from PostgreSQL, excluding the run's own. */
export const threadHistory: Tool<{ thread_id: string; run_id: string }, HistoryResult> = {
  name: 'thread_history',
  store: 'postgres',
  async run(context, { thread_id, run_id }) {
    const earlier = (await listMessages(context.sql, thread_id)).filter((message) => message.run_id !== run_id);
    return {
      thread_id,
      message_count: earlier.length,
      previous_user_messages: earlier.filter((message) => message.role === 'user').map((message) => message.content),
    };
  },
};

export const knowledgeLookup: Tool<{ subject: string; relation: string }, { subject: string; relation: string; found: boolean; answer: string | null }> = {
  name: 'knowledge_lookup',
  store: 'postgres',
  async run(context, { subject, relation }) {
    const fact = await lookupFact(context.sql, subject, relation);
    return { subject: fact?.subject ?? subject, relation, found: Boolean(fact), answer: fact?.object ?? null };
  },
};

export const calculator: Tool<{ expression: string }, { expression: string; value: string | null; error: string | null }> = {
  name: 'calculator',
  store: 'none',
  async run(_context, { expression }) {
    try {
      return { expression, value: formatNumber(evaluate(expression).value), error: null };
    } catch (error) {
      return { expression, value: null, error: (error as Error).message };
    }
  },
};
