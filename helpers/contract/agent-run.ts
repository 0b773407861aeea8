/**
 * One agent run over a WebSocket session: send `start_agent`, pick up the run's
 * `agent_started`, follow the run to its terminal event with stall detection (`waitForRun`,
 * on the session's one generic `wait`), and check the contract's sequence rules. Plus the
 * timeline view the reporter draws. The session knows frames; this module knows runs.
 */
import type { Budget } from '../core/budgets.ts';
import { acquireAgentRunSlot } from '../core/concurrency.ts';
import { formatMs, plural } from '../core/format.ts';
import { CheckError } from '../core/errors.ts';
import { compactFrame, runIdOf, type CapturedFrame } from '../core/frames.ts';
import { answerOf, assertRunSequence, checkRunSequence, DEFAULT_STALL_MS, isAgentEventType, isRunTerminal, runAgentOf, type SequenceViolation } from './agent-events.ts';
import type { WaitOutcome, WsSession } from '../transport/ws.ts';

export interface RunWaitOptions {
  budget: Budget;
  /** Silence between two events of the run that counts as a stall (default 15 s). */
  stallMs?: number;
  /** With a run id target: where the run's window starts in the capture (default 0). */
  fromIndex?: number;
}

export interface RunCapture {
  runId: string;
  /**
   * The run's events up to and including its terminal: agent events (its run_id, or none at
   * all), its sub-agents' events, and other event types carrying its run_id (progress, ...).
   */
  events: CapturedFrame[];
  terminal: CapturedFrame;
}

/**
 * Follows one agent run until its terminal event (agent_completed / agent_error).
 * `target`: the run id, or `{ after: index }` for the run of the first `agent_started`
 * captured at or after that index. Fails fast on a stall: as soon as no event of the run has
 * arrived for more than `stallMs`, rejects (component 'agent', layer 'budget', code 'stall')
 * without waiting out the rest of the budget. Events without a run_id inside the run's
 * window are collected (and flagged later by `checkRunSequence`). Events of other runs are
 * skipped only when their `agent_started` came on this connection before them: an event
 * carrying the run_id of a run this connection never started (another user's, a stale one)
 * fails the run at once (websocket/frame, code 'foreign-run-id', as a cross-talk check would
 * classify it). So does any bad frame in the window (websocket/frame, the FrameError's code).
 */
export function waitForRun(session: WsSession, target: string | { after: number }, options: RunWaitOptions): Promise<RunCapture> {
  const stallMs = options.stallMs ?? DEFAULT_STALL_MS;
  const budget = options.budget;
  const label = typeof target === 'string' ? target : `after frame #${target.after}`;
  const started = session.nowMs();
  let runId: string | undefined = typeof target === 'string' ? target : undefined;
  /** The run's own agent, named by its first agent_started: only its terminal ends the run. */
  let runAgent: string | undefined;
  const events: CapturedFrame[] = [];

  const stallError = (gap: number): CheckError => {
    const last = events[events.length - 1]!;
    const types = events.map((e) => e.type).join(', ');
    return new CheckError(
      `agent run ${runId} stalled: no event for ${formatMs(gap)} after ${last.type} (frame #${last.index} at t+${formatMs(last.receivedAt)}), over the ${formatMs(stallMs)} stall limit; ${plural(events.length, 'event')} so far (${types}); budget '${budget.path}' still had ${formatMs(budget.remainingMs())}`,
      {
        component: 'agent',
        layer: 'budget',
        code: 'stall',
        endpoint: session.endpoint,
        elapsedMs: Math.round(session.nowMs() - started),
        evidence: {
          runId,
          stallMs,
          gapMs: Math.round(gap),
          budget: budget.path,
          budgetRemainingMs: Math.round(budget.remainingMs()),
          lastEvent: compactFrame(last),
          events: events.map((e) => compactFrame(e)),
        },
      },
    );
  };

  const step = (frame: CapturedFrame): WaitOutcome<RunCapture> => {
    if (!isAgentEventType(frame.type)) {
      // Other event types of the run (progress, partial results) are its activity too.
      if (runId !== undefined && runIdOf(frame) === runId) events.push(frame);
      return undefined;
    }
    const id = runIdOf(frame);
    if (runId === undefined) {
      if (frame.type !== 'agent_started') return undefined;
      if (id === undefined) {
        return {
          error: new CheckError(`agent_started (frame #${frame.index}) has no run_id, so its run cannot be followed`, {
            component: 'agent',
            layer: 'ordering',
            code: 'missing-run-id',
            endpoint: session.endpoint,
            evidence: { frame: compactFrame(frame) },
          }),
        };
      }
      runId = id;
    } else if (id !== undefined && id !== runId) {
      if (startedBefore(session, id, frame.index)) return undefined; // another run of this connection
      return { error: foreignRunError(session, frame, id, runId, started, events) };
    }
    events.push(frame);
    if (frame.type === 'agent_started' && runAgent === undefined) runAgent = runAgentOf([frame]);
    if (isRunTerminal(frame, runAgent)) return { value: { runId, events: [...events], terminal: frame } };
    return undefined;
  };

  return session.wait(step, {
    budget,
    label: `wait run ${label} terminal event`,
    what: () => `the terminal event of run ${runId ?? label}`,
    fromIndex: typeof target === 'string' ? (options.fromIndex ?? 0) : target.after,
    component: 'agent',
    silence: { limitMs: stallMs, lastActivityMs: () => events[events.length - 1]?.receivedAt, error: stallError },
    related: () => events,
    progress: () => `${plural(events.length, 'event')} of the run so far`,
    evidence: () => ({ runId, events: events.map((e) => compactFrame(e)) }),
  });
}

/** Runs opened by an `agent_started` on this session at or before frame `index`. */
function runsStartedBy(session: WsSession, index: number): string[] {
  const ids: string[] = [];
  for (const frame of session.frames) {
    if (frame.index > index) break;
    const id = frame.type === 'agent_started' ? runIdOf(frame) : undefined;
    if (id !== undefined && !ids.includes(id)) ids.push(id);
  }
  return ids;
}

function startedBefore(session: WsSession, runId: string, index: number): boolean {
  return runsStartedBy(session, index).includes(runId);
}

function foreignRunError(session: WsSession, frame: CapturedFrame, foreignRunId: string, runId: string, startedMs: number, runEvents: CapturedFrame[]): CheckError {
  const started = runsStartedBy(session, frame.index);
  return new CheckError(
    `${frame.type} (frame #${frame.index} at t+${formatMs(frame.receivedAt)}) carries run_id ${foreignRunId}, the run_id of another run: this connection started ${started.length === 1 ? 'only run' : 'runs'} ${started.join(', ')} and was following run ${runId}; every event must carry its own run's run_id`,
    {
      component: 'websocket',
      layer: 'frame',
      code: 'foreign-run-id',
      endpoint: session.endpoint,
      elapsedMs: Math.max(0, Math.round(session.nowMs() - startedMs)),
      evidence: {
        runId,
        foreignRunId,
        startedRuns: started,
        frame: compactFrame(frame),
        runEvents: runEvents.map((e) => compactFrame(e)),
        lastFrames: session.recentFrames(10),
      },
    },
  );
}

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

/**
 * One line per run for people and JUnit: `agent run r-1: agent_started +40 ms · agent_thinking
 * +120 ms · agent_completed +1.2 s` (times from the start_agent send, or the first event).
 */
export function timelineText(runId: string, timeline: readonly Pick<TimelineEntry, 'type' | 'tMs'>[]): string {
  const events = timeline.map((e) => `${e.type} +${formatMs(e.tMs)}`).join(' · ');
  return `agent run ${runId}: ${events || 'no event'}`;
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
  /** The answer of agent_completed: `final_response`, or a structured `result`'s text ('' when the run did not complete). */
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
  // STAGECHECK_MAX_CONCURRENCY: a slot before the first frame goes out, given back when the run
  // has ended either way (helpers/core/concurrency.ts; no cap: no wait).
  const release = await acquireAgentRunSlot(options.budget.remainingMs());
  try {
    return await followOneRun(session, frame, options);
  } finally {
    release();
  }
}

async function followOneRun(session: WsSession, frame: RunStartFrame, options: Omit<StartAgentRunOptions, 'userRequest'>): Promise<AgentRunResult> {
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

  const run = await waitForRun(session, runId, { budget, stallMs, fromIndex: first.index });
  const checkOptions = {
    stallMs,
    expectSuccess: options.expectSuccess ?? true,
    ...(threadId !== undefined ? { threadId } : {}),
  };
  const violations = checkRunSequence(run.events, runId, checkOptions);
  if (options.assertSequence ?? true) assertRunSequence(run.events, runId, { ...checkOptions, endpoint: session.endpoint });

  const terminal = run.terminal;
  const startedThread = first.fields.thread_id;
  return {
    runId,
    threadId: typeof startedThread === 'string' ? startedThread : (threadId ?? ''),
    events: run.events,
    terminal,
    finalResponse: terminal.type === 'agent_completed' ? answerOf(terminal) : '',
    durations: {
      toStarted: Math.round(first.receivedAt - sentAtMs),
      toCompleted: Math.round(terminal.receivedAt - sentAtMs),
    },
    timeline: summarizeTimeline(run.events, sentAtMs),
    violations,
    sentAtMs,
  };
}
