/**
 * The contract's agent events (pure functions, no I/O): the event types, the fields each must
 * carry, and the ordering and content rules of one run. `checkRunSequence` lists every
 * violation with a stable rule id; `assertRunSequence` throws them as one CheckError with the
 * run's frames as evidence. Frames themselves (normalisation, evidence view) are
 * helpers/core/frames.ts.
 */
import { DEFAULT_BUDGETS } from '../core/budgets.ts';
import { formatMs } from '../core/format.ts';
import { CheckError, type Layer } from '../core/errors.ts';
import { compactFrame, isPlainObject, runIdOf, type CapturedFrame } from '../core/frames.ts';
import { textOf } from './text.ts';

/** Contract: a gap over 15 s between two events of a run is a stall (the `stall` budget). */
export const DEFAULT_STALL_MS = DEFAULT_BUDGETS.stall;

/** The five events every successful run must emit. */
export const CRITICAL_EVENTS = ['agent_started', 'agent_thinking', 'tool_executing', 'tool_completed', 'agent_completed'] as const;
export type CriticalEventType = (typeof CRITICAL_EVENTS)[number];
export const TERMINAL_EVENTS = ['agent_completed', 'agent_error'] as const;
export type TerminalEventType = (typeof TERMINAL_EVENTS)[number];
/** Every event type that belongs to a run. */
export const AGENT_EVENT_TYPES = [...CRITICAL_EVENTS, 'agent_error'] as const;
export type AgentEventType = (typeof AGENT_EVENT_TYPES)[number];

/**
 * Fields each agent event of the run's own agent must carry (besides `run_id`, checked by its
 * own rule). A list is a set of alternatives: the contract lets an agent nest its fields in
 * `data` under the names of the platform it comes from (`data.parameters` for `tool_args`,
 * `data.result` for `results`, the answer as a structured `result` instead of `final_response`).
 * The `data`/`payload` wrapper itself is unwrapped by core/frames.ts.
 */
export const REQUIRED_FIELDS: Readonly<Record<AgentEventType, readonly (string | readonly string[])[]>> = {
  agent_started: ['thread_id', 'agent_name', 'task_description'],
  agent_thinking: ['reasoning'],
  tool_executing: ['tool_name', ['tool_args', 'parameters'], 'execution_id'],
  tool_completed: ['tool_name', 'execution_id', ['results', 'result'], 'execution_time', 'success'],
  agent_completed: ['status', ['final_response', 'result']],
  agent_error: ['error_code', 'message'],
};

/** A tool's results: `results`, or the wrapped form's `result`. */
export function toolResultsOf(frame: Pick<CapturedFrame, 'fields'>): unknown {
  return frame.fields.results ?? frame.fields.result;
}

/** A tool's arguments: `tool_args`, or the wrapped form's `parameters`. */
export function toolArgsOf(frame: Pick<CapturedFrame, 'fields'>): unknown {
  return frame.fields.tool_args ?? frame.fields.parameters;
}

/**
 * The answer an `agent_completed` carries, as text: `final_response` as text, or the text of a
 * structured `result` (`{response: ...}`); a structure without a text field as JSON, so its
 * facts can still be read. '' when it carries none.
 */
export function answerOf(frame: Pick<CapturedFrame, 'fields'>): string {
  const value = frame.fields.final_response ?? frame.fields.result;
  if (value === undefined || value === null) return '';
  return textOf(value) ?? (JSON.stringify(value) ?? '');
}

/** Lifecycle events a sub-agent may report inside a run (with its own `agent_name`). */
const SUB_AGENT_TYPES: readonly string[] = ['agent_started', 'agent_thinking', 'agent_completed', 'agent_error'];

/** The run's own agent: the `agent_name` of the run's first `agent_started` (contract). */
export function runAgentOf(run: readonly CapturedFrame[]): string | undefined {
  const started = run.find((frame) => frame.type === 'agent_started');
  const name = started?.fields.agent_name;
  return typeof name === 'string' && name !== '' ? name : undefined;
}

/**
 * A sub-agent's lifecycle event: it names an agent other than the run's own. Without a known
 * run agent, or without an `agent_name`, an event is the run agent's.
 */
export function isSubAgentEvent(frame: Pick<CapturedFrame, 'type' | 'fields'>, runAgent: string | undefined): boolean {
  if (runAgent === undefined || !SUB_AGENT_TYPES.includes(frame.type)) return false;
  const name = frame.fields.agent_name;
  return typeof name === 'string' && name !== '' && name !== runAgent;
}

/** A terminal event that ends the run: agent_completed/agent_error of the run's own agent. */
export function isRunTerminal(frame: Pick<CapturedFrame, 'type' | 'fields'>, runAgent: string | undefined): boolean {
  return isTerminalEventType(frame.type) && !isSubAgentEvent(frame, runAgent);
}

export function isAgentEventType(type: string): type is AgentEventType {
  return (AGENT_EVENT_TYPES as readonly string[]).includes(type);
}

export function isTerminalEventType(type: string): type is TerminalEventType {
  return type === 'agent_completed' || type === 'agent_error';
}

// ---------------------------------------------------------------------------------------
// Run sequence rules

export type SequenceRule =
  | 'started-first'
  | 'started-repeated'
  | 'tool-unmatched'
  | 'tool-name-mismatch'
  | 'terminal-count'
  | 'after-terminal'
  | 'missing-run-id'
  | 'missing-field'
  | 'completed-status'
  | 'thread-mismatch'
  | 'missing-event'
  | 'agent-error'
  | 'empty-final-response'
  | 'empty-results'
  | 'stall';

/** The layer each rule blames when it fails. */
export const RULE_LAYERS: Readonly<Record<SequenceRule, Layer>> = {
  'started-first': 'ordering',
  'started-repeated': 'ordering',
  'tool-unmatched': 'ordering',
  'tool-name-mismatch': 'ordering',
  'terminal-count': 'ordering',
  'after-terminal': 'ordering',
  'missing-run-id': 'ordering',
  'missing-field': 'ordering',
  'completed-status': 'ordering',
  'thread-mismatch': 'ordering',
  'missing-event': 'ordering',
  'agent-error': 'content',
  'empty-final-response': 'content',
  'empty-results': 'content',
  stall: 'budget',
};

export interface SequenceViolation {
  rule: SequenceRule;
  message: string;
  /** `index` of the offending frame in the session capture. */
  frameIndex?: number;
}

export interface RunCheckOptions {
  /** A gap longer than this between two consecutive events of the run is a stall (default 15000). */
  stallMs?: number;
  /**
   * The caller needs a successful run (default true): an `agent_error` terminal is then a
   * violation ('agent-error'), and a run without a terminal must still list its missing events.
   */
  expectSuccess?: boolean;
  /** When given, `agent_started.thread_id` must equal it. */
  threadId?: string;
  /**
   * `receivedAt` (ms) up to which the capture was watched. With no terminal event, a silence
   * from the last event to this moment longer than `stallMs` is a stall.
   */
  observedUntilMs?: number;
}

/** Absent: `undefined` or `null`. */
function isAbsent(value: unknown): boolean {
  return value === undefined || value === null;
}

/** Present but carrying nothing: blank string, empty array, empty object. */
function isEmptyValue(value: unknown): boolean {
  if (typeof value === 'string') return value.trim() === '';
  if (Array.isArray(value)) return value.length === 0;
  if (isPlainObject(value)) return Object.keys(value).length === 0;
  return false;
}

function str(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value) ?? String(value);
}

/**
 * The frames of run `runId` among `events`: agent events carrying that run id, plus agent
 * events without any run id up to the run's terminal event (they are counted against this
 * run, as 'missing-run-id'). A sub-agent's `agent_completed` does not end the run; only the
 * run agent's terminal does. Frames of other runs and non-agent frames are skipped (see
 * `runActivity` for every frame of the run, other event types included).
 * Pass the frames captured from the moment the run was started.
 */
export function selectRunFrames(events: readonly CapturedFrame[], runId: string): CapturedFrame[] {
  const out: CapturedFrame[] = [];
  let terminalSeen = false;
  let runAgent: string | undefined;
  for (const frame of events) {
    if (!isAgentEventType(frame.type)) continue;
    const id = runIdOf(frame);
    if (id === undefined) {
      if (terminalSeen) continue;
    } else if (id !== runId) {
      continue;
    }
    out.push(frame);
    if (frame.type === 'agent_started' && runAgent === undefined) runAgent = runAgentOf([frame]);
    if (isRunTerminal(frame, runAgent)) terminalSeen = true;
  }
  return out;
}

/**
 * Every frame that is an event of run `runId`: its agent events (as `selectRunFrames`) and the
 * other event types carrying its run id (progress, partial results, status updates), in order.
 * A gap between two of these is what the stall rule measures.
 */
export function runActivity(events: readonly CapturedFrame[], runId: string): CapturedFrame[] {
  const agent = new Set(selectRunFrames(events, runId));
  return events.filter((frame) => agent.has(frame) || (!isAgentEventType(frame.type) && runIdOf(frame) === runId));
}

/**
 * Applies the contract's rules to one run. Returns every violation (empty list: the run is
 * valid), grouped by rule in the order: missing-run-id, started-first/started-repeated,
 * missing-field/completed-status/thread-mismatch, tool pairing, terminal-count,
 * after-terminal, missing-event, agent-error, empty-final-response, empty-results, stall.
 */
export function checkRunSequence(events: readonly CapturedFrame[], runId: string, options: RunCheckOptions = {}): SequenceViolation[] {
  const stallMs = options.stallMs ?? DEFAULT_STALL_MS;
  const expectSuccess = options.expectSuccess ?? true;
  const run = selectRunFrames(events, runId);
  const runAgent = runAgentOf(run);
  const own = (frame: CapturedFrame): boolean => !isSubAgentEvent(frame, runAgent);
  const violations: SequenceViolation[] = [];
  const add = (rule: SequenceRule, message: string, frame?: CapturedFrame): void => {
    violations.push(frame ? { rule, message, frameIndex: frame.index } : { rule, message });
  };
  const at = (frame: CapturedFrame): string => `${frame.type} (frame #${frame.index})`;

  // run_id on every event
  for (const frame of run) {
    if (runIdOf(frame) === undefined) add('missing-run-id', `${at(frame)} has no run_id`, frame);
  }

  // agent_started first, exactly once for the run's own agent (sub-agents announce themselves too)
  const first = run[0];
  if (first && first.type !== 'agent_started') {
    add('started-first', `the first event of run ${runId} is ${at(first)}, not agent_started`, first);
  }
  let startedSeen = false;
  for (const frame of run) {
    if (frame.type !== 'agent_started' || !own(frame)) continue;
    if (startedSeen) add('started-repeated', `agent_started repeated at frame #${frame.index}; it must open the run once`, frame);
    startedSeen = true;
  }

  // required fields per event type (a sub-agent's lifecycle event needs only its own agent_name)
  for (const frame of run) {
    if (!own(frame)) continue;
    const type = frame.type as AgentEventType;
    const missing = REQUIRED_FIELDS[type]
      .filter((field) => (typeof field === 'string' ? [field] : field).every((name) => isAbsent(frame.fields[name])))
      .map((field) => (typeof field === 'string' ? field : field.join(' or ')));
    if (missing.length > 0) add('missing-field', `${at(frame)} lacks ${missing.join(', ')}`, frame);
    if (type === 'agent_completed' && !isAbsent(frame.fields.status) && frame.fields.status !== 'success') {
      add('completed-status', `${at(frame)} has status ${str(frame.fields.status)}, expected "success"`, frame);
    }
    if (type === 'agent_started' && options.threadId !== undefined && !isAbsent(frame.fields.thread_id) && frame.fields.thread_id !== options.threadId) {
      add('thread-mismatch', `${at(frame)} has thread_id ${str(frame.fields.thread_id)}, expected ${options.threadId}`, frame);
    }
  }

  // tool_executing ↔ tool_completed by execution_id
  const open = new Map<string, CapturedFrame>();
  const done = new Set<string>();
  for (const frame of run) {
    if (frame.type !== 'tool_executing' && frame.type !== 'tool_completed') continue;
    const id = frame.fields.execution_id;
    if (isAbsent(id)) continue; // reported as missing-field
    const key = str(id);
    if (frame.type === 'tool_executing') {
      if (open.has(key) || done.has(key)) {
        add('tool-unmatched', `tool_executing (frame #${frame.index}) reuses execution_id ${key}`, frame);
        continue;
      }
      open.set(key, frame);
    } else {
      const executing = open.get(key);
      if (!executing) {
        const why = done.has(key) ? 'is a second completion of' : 'has no preceding tool_executing for';
        add('tool-unmatched', `tool_completed (frame #${frame.index}) ${why} execution_id ${key}`, frame);
        continue;
      }
      open.delete(key);
      done.add(key);
      const before = executing.fields.tool_name;
      const after = frame.fields.tool_name;
      if (!isAbsent(before) && !isAbsent(after) && before !== after) {
        add('tool-name-mismatch', `tool_completed (frame #${frame.index}) names tool ${str(after)} but its tool_executing (frame #${executing.index}) named ${str(before)}`, frame);
      }
    }
  }
  for (const [key, frame] of open) {
    add('tool-unmatched', `tool_executing (frame #${frame.index}) ${str(frame.fields.tool_name)} with execution_id ${key} was never followed by tool_completed`, frame);
  }

  // exactly one terminal of the run's own agent, nothing after it
  const terminals = run.filter((frame) => isRunTerminal(frame, runAgent));
  const terminal = terminals[0];
  if (!terminal) {
    add('terminal-count', `run ${runId} has no terminal event (agent_completed or agent_error)`);
  } else if (terminals.length > 1) {
    add('terminal-count', `run ${runId} has ${terminals.length} terminal events (frames ${terminals.map((f) => `#${f.index}`).join(', ')}); exactly one is allowed`, terminals[1]);
  }
  if (terminal) {
    for (const frame of run.slice(run.indexOf(terminal) + 1)) {
      if (isRunTerminal(frame, runAgent)) continue; // counted by terminal-count
      add('after-terminal', `${at(frame)} arrived after the terminal ${at(terminal)}`, frame);
    }
  }

  // all five critical events for a successful run
  const hasCompleted = terminals.some((frame) => frame.type === 'agent_completed');
  const errorFrame = terminals.find((frame) => frame.type === 'agent_error');
  if (hasCompleted || (expectSuccess && !errorFrame)) {
    // A sub-agent's completion is not the run's: agent_completed counts only from the run's agent.
    const present = new Set(run.filter((frame) => frame.type !== 'agent_completed' || own(frame)).map((frame) => frame.type));
    const missing = CRITICAL_EVENTS.filter((type) => !present.has(type));
    if (missing.length > 0) add('missing-event', `run ${runId} lacks ${missing.join(', ')}`);
  }
  if (expectSuccess && errorFrame) {
    add('agent-error', `run ${runId} ended with agent_error ${str(errorFrame.fields.error_code)}: ${str(errorFrame.fields.message)}`, errorFrame);
  }

  // content: a canned fallback emits the names with nothing in them
  for (const frame of run) {
    const answer = frame.fields.final_response ?? frame.fields.result;
    if (frame.type === 'agent_completed' && own(frame) && !isAbsent(answer) && (isEmptyValue(answer) || answerOf(frame).trim() === '')) {
      add('empty-final-response', `${at(frame)} has an empty final_response`, frame);
    }
    const results = toolResultsOf(frame);
    if (frame.type === 'tool_completed' && !isAbsent(results) && isEmptyValue(results)) {
      add('empty-results', `${at(frame)} for tool ${str(frame.fields.tool_name)} has empty results`, frame);
    }
  }

  // stalls: between any two events of the run, progress and other event types included
  const activity = runActivity(events, runId);
  for (let i = 1; i < activity.length; i++) {
    const previous = activity[i - 1]!;
    const current = activity[i]!;
    const gap = current.receivedAt - previous.receivedAt;
    if (gap > stallMs) {
      add('stall', `run ${runId} stalled ${formatMs(gap)} between ${at(previous)} and ${at(current)}, over the ${formatMs(stallMs)} limit`, current);
    }
  }
  const last = activity[activity.length - 1];
  if (!terminal && last && options.observedUntilMs !== undefined) {
    const gap = options.observedUntilMs - last.receivedAt;
    if (gap > stallMs) {
      add('stall', `run ${runId} stalled: no event for ${formatMs(gap)} after ${at(last)}, over the ${formatMs(stallMs)} limit`, last);
    }
  }
  return violations;
}

/**
 * Throws a CheckError (component 'agent') listing every violation of `checkRunSequence`.
 * Layer: 'ordering' if any ordering rule broke, else 'budget' for a stall, else 'content'
 * (empty answer/results, agent_error). `code` is the first violation's rule in that layer.
 */
export function assertRunSequence(
  events: readonly CapturedFrame[],
  runId: string,
  options: RunCheckOptions & { endpoint?: string } = {},
): void {
  const violations = checkRunSequence(events, runId, options);
  if (violations.length === 0) return;
  const layers = new Set(violations.map((v) => RULE_LAYERS[v.rule]));
  const layer: Layer = layers.has('ordering') ? 'ordering' : layers.has('budget') ? 'budget' : 'content';
  const primary = violations.find((v) => RULE_LAYERS[v.rule] === layer) ?? violations[0]!;
  const run = selectRunFrames(events, runId);
  const t0 = run[0]?.receivedAt ?? 0;
  const lastFrame = run[run.length - 1];
  const count = violations.length === 1 ? '1 violation' : `${violations.length} violations`;
  const message = `agent run ${runId} broke the event contract (${count}):\n${violations.map((v) => `  - [${v.rule}] ${v.message}`).join('\n')}`;
  throw new CheckError(message, {
    component: 'agent',
    layer,
    code: primary.rule,
    ...(options.endpoint !== undefined ? { endpoint: options.endpoint } : {}),
    ...(lastFrame ? { elapsedMs: Math.round(lastFrame.receivedAt - t0) } : {}),
    evidence: {
      runId,
      violations,
      frames: run.map((frame) => compactFrame(frame, t0)),
    },
  });
}
