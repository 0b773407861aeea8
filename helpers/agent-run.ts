/**
 * One agent run over a WebSocket session: send `start_agent`, pick up the run's
 * `agent_started`, follow the run to its terminal event with stall detection, and check the
 * contract's sequence rules. Plus the timeline view the reporter draws.
 */
import type { Budget } from './budgets.ts';
import { CheckError } from './errors.ts';
import {
  assertRunSequence,
  checkRunSequence,
  compactFrame,
  DEFAULT_STALL_MS,
  runIdOf,
  type CapturedFrame,
  type SequenceViolation,
} from './frames.ts';
import type { WsSession } from './ws.ts';

export interface TimelineEntry {
  type: string;
  /** ms after the timeline's origin (the start_agent send, or the first event). */
  tMs: number;
  /** ms since the previous entry (for the first one: since the origin). */
  gapMs: number;
}

/** `{type, tMs, gapMs}` per event, relative to `t0` (default: the first event's receivedAt). */
export function summarizeTimeline(events: readonly CapturedFrame[], t0?: number): TimelineEntry[] {
  const origin = t0 ?? events[0]?.receivedAt ?? 0;
  let previous = 0;
  return events.map((event) => {
    const tMs = Math.round(event.receivedAt - origin);
    const entry = { type: event.type, tMs, gapMs: tMs - previous };
    previous = tMs;
    return entry;
  });
}

export interface StartAgentRunOptions {
  userRequest: string;
  /** Continue this thread; its `agent_started` must then carry this thread_id. */
  threadId?: string;
  /** Covers the whole run: agent_started and the terminal event. */
  budget: Budget;
  /** Silence between two events of the run that counts as a stall (default 15 s). */
  stallMs?: number;
  /** Throw the sequence violations as a CheckError (default true). */
  assertSequence?: boolean;
  /** An agent_error terminal is a violation (default true). */
  expectSuccess?: boolean;
}

export interface AgentRunResult {
  runId: string;
  threadId: string;
  /** The run's agent events, agent_started to the terminal event. */
  events: CapturedFrame[];
  terminal: CapturedFrame;
  /** `final_response` of agent_completed ('' when the run did not complete). */
  finalResponse: string;
  /** ms from sending start_agent. */
  durations: { toStarted: number; toCompleted: number };
  timeline: TimelineEntry[];
  /** Sequence violations (empty unless `assertSequence: false`, since they throw otherwise). */
  violations: SequenceViolation[];
  /** Session-relative ms at which start_agent was sent. */
  sentAtMs: number;
}

/**
 * Sends `start_agent`, waits for the matching `agent_started` (the first one after sending,
 * or the one for `threadId`), follows the run with `waitForRun`, and checks the sequence.
 * An `error` or `agent_error` frame instead of `agent_started` fails at once, not at the
 * end of the budget; so does a bad frame or another run's event during the run (websocket/frame,
 * from the session's waits).
 */
export function startAgentRun(session: WsSession, options: StartAgentRunOptions): Promise<AgentRunResult> {
  const payload: Record<string, unknown> = { user_request: options.userRequest };
  if (options.threadId !== undefined) payload.thread_id = options.threadId;
  return followAgentRun(session, { type: 'start_agent', payload }, options);
}

/** A client frame that starts an agent run. */
export interface RunStartFrame {
  type: 'start_agent' | 'user_message';
  payload: Record<string, unknown>;
}

/**
 * Sends `frame` and follows the run it starts, as `startAgentRun` does for start_agent (a
 * `user_message` on a thread starts one too). Without `threadId`, the first agent_started
 * after sending is taken as this run's: only for a session with one run starting at a time.
 */
export async function followAgentRun(session: WsSession, frame: RunStartFrame, options: Omit<StartAgentRunOptions, 'userRequest'>): Promise<AgentRunResult> {
  const { budget, threadId } = options;
  const stallMs = options.stallMs ?? DEFAULT_STALL_MS;
  const from = session.frames.length;
  session.send(frame);
  const sentAtMs = session.nowMs();

  const first = await session.waitFor(
    (frame) =>
      (frame.type === 'agent_started' && (threadId === undefined || frame.fields.thread_id === threadId)) ||
      frame.type === 'agent_error' ||
      frame.type === 'error',
    {
      budget,
      what: threadId === undefined ? 'agent_started' : `agent_started for thread ${threadId}`,
      fromIndex: from,
      component: 'agent',
    },
  );
  if (first.type !== 'agent_started') {
    const code = first.fields.error_code;
    const message = first.fields.message ?? first.fields.error;
    throw new CheckError(
      `${frame.type} was answered with ${first.type}${code !== undefined ? ` ${String(code)}` : ''}${message !== undefined ? `: ${String(message)}` : ''} (frame #${first.index}) instead of agent_started`,
      {
        component: 'agent',
        layer: first.type === 'error' ? 'protocol' : 'ordering',
        code: typeof code === 'string' || typeof code === 'number' ? code : first.type,
        endpoint: session.endpoint,
        elapsedMs: Math.round(first.receivedAt - sentAtMs),
        evidence: { frame: compactFrame(first, sentAtMs), raw: first.raw },
      },
    );
  }
  const runId = runIdOf(first);
  if (runId === undefined) {
    throw new CheckError(`agent_started (frame #${first.index}) has no run_id, so its run cannot be followed`, {
      component: 'agent',
      layer: 'ordering',
      code: 'missing-run-id',
      endpoint: session.endpoint,
      elapsedMs: Math.round(first.receivedAt - sentAtMs),
      evidence: { frame: compactFrame(first, sentAtMs) },
    });
  }

  const run = await session.waitForRun(runId, { budget, stallMs, fromIndex: first.index });
  const checkOptions = {
    stallMs,
    expectSuccess: options.expectSuccess ?? true,
    ...(threadId !== undefined ? { threadId } : {}),
  };
  const violations = checkRunSequence(run.events, runId, checkOptions);
  if (options.assertSequence ?? true) assertRunSequence(run.events, runId, { ...checkOptions, endpoint: session.endpoint });

  const terminal = run.terminal;
  const final = terminal.type === 'agent_completed' ? terminal.fields.final_response : undefined;
  const startedThread = first.fields.thread_id;
  return {
    runId,
    threadId: typeof startedThread === 'string' ? startedThread : (threadId ?? ''),
    events: run.events,
    terminal,
    finalResponse: typeof final === 'string' ? final : final === undefined || final === null ? '' : JSON.stringify(final),
    durations: {
      toStarted: Math.round(first.receivedAt - sentAtMs),
      toCompleted: Math.round(terminal.receivedAt - sentAtMs),
    },
    timeline: summarizeTimeline(run.events, sentAtMs),
    violations,
    sentAtMs,
  };
}
