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

/** Fields each agent event must carry (besides `run_id`, checked by its own rule). */
export const REQUIRED_FIELDS: Readonly<Record<AgentEventType, readonly string[]>> = {
  agent_started: ['thread_id', 'agent_name', 'task_description'],
  agent_thinking: ['reasoning'],
  tool_executing: ['tool_name', 'tool_args', 'execution_id'],
  tool_completed: ['tool_name', 'execution_id', 'results', 'execution_time', 'success'],
  agent_completed: ['status', 'final_response'],
  agent_error: ['error_code', 'message'],
};

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
 * events without any run id up to the run's first terminal event (they are counted against
 * this run, as 'missing-run-id'). Frames of other runs and non-agent frames are skipped.
 * Pass the frames captured from the moment the run was started.
 */
export function selectRunFrames(events: readonly CapturedFrame[], runId: string): CapturedFrame[] {
  const out: CapturedFrame[] = [];
  let terminalSeen = false;
  for (const frame of events) {
    if (!isAgentEventType(frame.type)) continue;
    const id = runIdOf(frame);
    if (id === undefined) {
      if (terminalSeen) continue;
    } else if (id !== runId) {
      continue;
    }
    out.push(frame);
    if (isTerminalEventType(frame.type)) terminalSeen = true;
  }
  return out;
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
  const violations: SequenceViolation[] = [];
  const add = (rule: SequenceRule, message: string, frame?: CapturedFrame): void => {
    violations.push(frame ? { rule, message, frameIndex: frame.index } : { rule, message });
  };
  const at = (frame: CapturedFrame): string => `${frame.type} (frame #${frame.index})`;

  // run_id on every event
  for (const frame of run) {
    if (runIdOf(frame) === undefined) add('missing-run-id', `${at(frame)} has no run_id`, frame);
  }

  // agent_started first, exactly once
  const first = run[0];
  if (first && first.type !== 'agent_started') {
    add('started-first', `the first event of run ${runId} is ${at(first)}, not agent_started`, first);
  }
  let startedSeen = false;
  for (const frame of run) {
    if (frame.type !== 'agent_started') continue;
    if (startedSeen) add('started-repeated', `agent_started repeated at frame #${frame.index}; it must open the run once`, frame);
    startedSeen = true;
  }

  // required fields per event type
  for (const frame of run) {
    const type = frame.type as AgentEventType;
    const missing = REQUIRED_FIELDS[type].filter((field) => isAbsent(frame.fields[field]));
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

  // exactly one terminal, nothing after it
  const terminals = run.filter((frame) => isTerminalEventType(frame.type));
  const terminal = terminals[0];
  if (!terminal) {
    add('terminal-count', `run ${runId} has no terminal event (agent_completed or agent_error)`);
  } else if (terminals.length > 1) {
    add('terminal-count', `run ${runId} has ${terminals.length} terminal events (frames ${terminals.map((f) => `#${f.index}`).join(', ')}); exactly one is allowed`, terminals[1]);
  }
  if (terminal) {
    for (const frame of run.slice(run.indexOf(terminal) + 1)) {
      if (isTerminalEventType(frame.type)) continue; // counted by terminal-count
      add('after-terminal', `${at(frame)} arrived after the terminal ${at(terminal)}`, frame);
    }
  }

  // all five critical events for a successful run
  const hasCompleted = run.some((frame) => frame.type === 'agent_completed');
  const errorFrame = run.find((frame) => frame.type === 'agent_error');
  if (hasCompleted || (expectSuccess && !errorFrame)) {
    const present = new Set(run.map((frame) => frame.type));
    const missing = CRITICAL_EVENTS.filter((type) => !present.has(type));
    if (missing.length > 0) add('missing-event', `run ${runId} lacks ${missing.join(', ')}`);
  }
  if (expectSuccess && errorFrame) {
    add('agent-error', `run ${runId} ended with agent_error ${str(errorFrame.fields.error_code)}: ${str(errorFrame.fields.message)}`, errorFrame);
  }

  // content: a canned fallback emits the names with nothing in them
  for (const frame of run) {
    if (frame.type === 'agent_completed' && !isAbsent(frame.fields.final_response) && isEmptyValue(frame.fields.final_response)) {
      add('empty-final-response', `${at(frame)} has an empty final_response`, frame);
    }
    if (frame.type === 'tool_completed' && !isAbsent(frame.fields.results) && isEmptyValue(frame.fields.results)) {
      add('empty-results', `${at(frame)} for tool ${str(frame.fields.tool_name)} has empty results`, frame);
    }
  }

  // stalls
  for (let i = 1; i < run.length; i++) {
    const previous = run[i - 1]!;
    const current = run[i]!;
    const gap = current.receivedAt - previous.receivedAt;
    if (gap > stallMs) {
      add('stall', `run ${runId} stalled ${formatMs(gap)} between ${at(previous)} and ${at(current)}, over the ${formatMs(stallMs)} limit`, current);
    }
  }
  const last = run[run.length - 1];
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
