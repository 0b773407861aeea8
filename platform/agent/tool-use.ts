import type { PlatformContext } from '../context.ts';
import { newId } from '../util/ids.ts';
import { isStoreUnavailable } from '../util/store-errors.ts';
import { errorMessage } from '../util/time.ts';
import { RunHalted } from './misbehaviour.ts';
import type { Tool } from './tools.ts';

/** A tool that failed: the run ends with agent_error `code` after that tool's tool_completed {success:false}. */
export class ToolFailure extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

export function errorCodeFor(store: string, error: unknown): string {
  if (store === 'postgres') return 'DATABASE_UNAVAILABLE';
  if (store === 'redis') return 'CACHE_UNAVAILABLE';
  return isStoreUnavailable(error) ? 'SERVICE_UNAVAILABLE' : 'TOOL_FAILED';
}

/** Sends one event of the run (the runner adds type, run_id and correlation_id). */
export type RunEvent = (type: string, fields: Record<string, unknown>) => void;

/** Runs a tool between its tool_executing and tool_completed events; `extra` goes on both (e.g. a sub-agent's agent_name). */
export type UseTool = <A extends object, R extends object>(tool: Tool<A, R>, args: A, extra?: Record<string, unknown>) => Promise<R>;

export function toolUser(context: PlatformContext, event: RunEvent, think: () => Promise<void>): UseTool {
  return async (tool, args, extra = {}) => {
    const executionId = newId();
    await think();
    event('tool_executing', { tool_name: tool.name, tool_args: args, execution_id: executionId, ...extra });
    const started = performance.now();
    try {
      const results = await tool.run(context, args);
      await think();
      event('tool_completed', { tool_name: tool.name, execution_id: executionId, results, execution_time: Math.round(performance.now() - started), success: true, ...extra });
      return results;
    } catch (error) {
      if (error instanceof RunHalted) throw error;
      event('tool_completed', { tool_name: tool.name, execution_id: executionId, results: { error: errorMessage(error) }, execution_time: Math.round(performance.now() - started), success: false, ...extra });
      throw new ToolFailure(errorCodeFor(tool.store, error), `${tool.name} failed: ${errorMessage(error)}`);
    }
  };
}
