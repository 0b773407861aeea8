/**
 * A refused agent run (start_agent on an unknown or foreign thread), as the contract allows it:
 * `agent_error {run_id, error_code, message}`, alone or after one `agent_started` of the same
 * run, and nothing else of that run: no thinking, no tool, no completion, no second terminal.
 * What a refusal must not leave behind (a thread, a message) is for the caller to read back.
 */
import type { Budget } from '../core/budgets.ts';
import { CheckError } from '../core/errors.ts';
import { compactFrame, runIdOf, type CapturedFrame } from '../core/frames.ts';
import type { WsSession } from '../transport/ws.ts';
import { isAgentEventType } from './agent-events.ts';
import { pingBarrier } from './session-checks.ts';

export interface Refusal {
  /** The refusal's agent_error. */
  error: CapturedFrame;
  /** The agent_started before it, when the deployment announces the run before refusing it. */
  started?: CapturedFrame;
  runId: string;
  errorCode: string;
  /** Every agent event (and `error` frame) the start_agent produced, up to the ping barrier. */
  frames: CapturedFrame[];
  /** thread_ids those frames name other than the requested one (a thread the refusal may have made). */
  otherThreadIds: string[];
}

export interface RefusalOptions {
  userRequest: string;
  threadId: string;
  /** Waits for the refusal. */
  budget: Budget;
  /** The ping barrier after it, so a late second terminal or late work is seen. */
  barrierBudget: Budget;
  /** 'an unknown thread', "another user's thread": for messages. */
  what: string;
}

/**
 * Sends start_agent for `threadId` and asserts the contract's refusal. Fails (component 'agent')
 * with layer 'ordering' when the run was not refused (completed, worked, two terminals, a
 * generic `error` instead of agent_error) and 'content' when the agent_error lacks a field.
 */
export async function expectRunRefused(session: WsSession, options: RefusalOptions): Promise<Refusal> {
  const { threadId, what } = options;
  const from = session.frames.length;
  session.send({ type: 'start_agent', payload: { user_request: options.userRequest, thread_id: threadId } });
  const first = await session.waitFor((f) => f.type === 'agent_error' || f.type === 'agent_completed' || f.type === 'error', {
    budget: options.budget,
    what: `agent_error for start_agent on ${what} ${threadId}`,
    fromIndex: from,
    component: 'agent',
  });
  await pingBarrier(session, options.barrierBudget);
  const frames = session.frames.filter((f) => f.index >= from && (isAgentEventType(f.type) || f.type === 'error'));
  const agentFrames = frames.filter((f) => isAgentEventType(f.type));
  const otherThreadIds = [...new Set(frames.map((f) => f.fields.thread_id).filter((id): id is string => typeof id === 'string' && id !== '' && id !== threadId))];
  const evidence = { threadId, frames: frames.map((f) => compactFrame(f)) };
  const fail = (message: string, layer: 'ordering' | 'content', code: string): never => {
    throw new CheckError(`start_agent on ${what}: ${message}`, { component: 'agent', layer, code, endpoint: session.endpoint, evidence });
  };

  if (first.type !== 'agent_error') {
    fail(`answered with ${first.type} (frame #${first.index}), expected agent_error (alone or after agent_started)`, 'ordering', first.type);
  }
  const errors = agentFrames.filter((f) => f.type === 'agent_error');
  if (errors.length !== 1) {
    fail(`produced ${errors.length} agent_error events (${errors.map((f) => `#${f.index}`).join(', ')}): exactly one terminal event is allowed`, 'ordering', 'terminal-count');
  }
  const started = agentFrames.filter((f) => f.type === 'agent_started');
  const work = agentFrames.filter((f) => f.type !== 'agent_started' && f.type !== 'agent_error');
  if (started.length > 1 || work.length > 0 || (started[0] !== undefined && started[0].index > first.index)) {
    fail(
      `produced ${agentFrames.map((f) => `${f.type} #${f.index}`).join(', ')}: a refused run is agent_error alone or agent_started then agent_error, with no work and no completion`,
      'ordering',
      'refused-run-did-work',
    );
  }
  const missing = ['error_code', 'message'].filter((k) => typeof first.fields[k] !== 'string' || first.fields[k] === '');
  const runId = runIdOf(first);
  if (runId === undefined) missing.unshift('run_id');
  if (missing.length > 0) fail(`the agent_error lacks ${missing.join(', ')}: ${first.raw.slice(0, 300)}`, 'content', 'missing-field');
  const opener = started[0];
  if (opener !== undefined && runIdOf(opener) !== runId) {
    fail(`agent_started (frame #${opener.index}) carries run_id ${String(runIdOf(opener))} but the agent_error ${String(runId)}: they must be one run`, 'ordering', 'run-id-mismatch');
  }
  return {
    error: first,
    ...(opener ? { started: opener } : {}),
    runId: runId!,
    errorCode: String(first.fields.error_code),
    frames,
    otherThreadIds,
  };
}
