/**
 * WebSocket frames as the contract pins them (pure functions, no I/O).
 *
 * - `normalizeFrame` turns whatever the server sent into one shape, accepting the flat form
 *   and the `data`/`payload`-wrapped form; anything that is not a JSON text object with a
 *   string `type` becomes a classified FrameError (component 'websocket', layer 'frame').
 * - `checkRunSequence` applies the contract's ordering and content rules to one agent run
 *   and lists every violation with a stable rule id; `assertRunSequence` throws them as one
 *   CheckError with the run's frames as evidence.
 */
import { CheckError, type Layer } from './errors.ts';

/** Frames over this size are classified as too large (no contract frame comes near it). */
export const DEFAULT_MAX_FRAME_BYTES = 1024 * 1024;
/** `raw` in a normalized frame (evidence) is truncated to this many bytes. */
export const RAW_EVIDENCE_BYTES = 2048;
/** Preview length in FrameError evidence. */
export const PREVIEW_BYTES = 200;
/** Contract: a gap over 15 s between two events of a run is a stall. */
export const DEFAULT_STALL_MS = 15_000;
/** `type` of a captured frame that could not be normalized. */
export const INVALID_FRAME_TYPE = '<invalid>';

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

export interface NormalizedFrame {
  type: string;
  /** Root fields, with the fields of a `data`/`payload` wrapper merged up (root keys win). */
  fields: Record<string, unknown>;
  /** Where the event's fields were found. */
  wrapped: 'flat' | 'data' | 'payload';
  /** The frame text, truncated to RAW_EVIDENCE_BYTES, for evidence. */
  raw: string;
  sizeBytes: number;
}

/** A frame as a WsSession captured it. */
export interface CapturedFrame extends NormalizedFrame {
  /** Position in the session's capture (0 = first frame received). */
  index: number;
  /** ms since the session started connecting. */
  receivedAt: number;
  /** Epoch ms. */
  receivedAtEpoch: number;
  /** Set (and `type` is '<invalid>') when the frame could not be normalized. */
  error?: FrameError;
}

/** `ws-protocol`: the WebSocket framing itself was broken (invalid UTF-8, bad opcode, ...). */
export type FrameProblem = 'binary' | 'too-large' | 'not-json' | 'not-object' | 'missing-type' | 'ws-protocol';

/** The server sent a frame the contract does not allow. */
export class FrameError extends CheckError {
  readonly problem: FrameProblem;
  readonly preview: string;
  readonly sizeBytes: number;

  constructor(problem: FrameProblem, message: string, preview: string, sizeBytes: number) {
    super(message, {
      component: 'websocket',
      layer: 'frame',
      code: `FRAME_${problem.toUpperCase().replaceAll('-', '_')}`,
      evidence: { problem, sizeBytes, preview },
    });
    this.name = 'FrameError';
    this.problem = problem;
    this.preview = preview;
    this.sizeBytes = sizeBytes;
  }
}

type RawFrame = string | Buffer | ArrayBuffer | Buffer[];

function toBuffer(raw: Exclude<RawFrame, string>): Buffer {
  if (Array.isArray(raw)) return Buffer.concat(raw);
  if (Buffer.isBuffer(raw)) return raw;
  return Buffer.from(raw);
}

/** Truncates text to `maxBytes` UTF-8 bytes, saying how much was cut. */
export function truncateText(text: string, maxBytes: number): string {
  const size = Buffer.byteLength(text, 'utf8');
  if (size <= maxBytes) return text;
  const head = Buffer.from(text, 'utf8').subarray(0, maxBytes).toString('utf8').replace(/\uFFFD+$/, '');
  return `${head}… (+${size - Buffer.byteLength(head, 'utf8')} bytes)`;
}

/** `512 bytes`, `12.5 KiB`, `10.0 MiB`: sizes in messages people read. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

/** `10.0 MiB (10485800 bytes)`: readable, and exact. */
function exactSize(bytes: number): string {
  return bytes < 1024 ? formatBytes(bytes) : `${formatBytes(bytes)} (${bytes} bytes)`;
}

/** The message of a frame over `maxBytes`, naming both sizes. */
function tooLargeMessage(sizeBytes: number, maxBytes: number): string {
  return `received a frame of ${exactSize(sizeBytes)} that exceeds the ${exactSize(maxBytes)} frame limit`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

/**
 * Parses one server frame. Never throws anything but a FrameError for target misbehaviour:
 * binary frames, frames over `maxBytes`, non-JSON text, JSON that is not an object, and a
 * missing or non-string `type` are all classified.
 */
export function normalizeFrame(
  raw: RawFrame,
  isBinary: boolean,
  options: { maxBytes?: number } = {},
): NormalizedFrame {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_FRAME_BYTES;
  if (isBinary) {
    const buffer = typeof raw === 'string' ? Buffer.from(raw, 'utf8') : toBuffer(raw);
    const hex = buffer.subarray(0, 32).toString('hex');
    const preview = `<binary ${buffer.length} bytes: ${hex}${buffer.length > 32 ? '…' : ''}>`;
    return fail('binary', `received a binary frame of ${buffer.length} bytes; the contract allows only JSON text frames`, preview, buffer.length);
  }

  let text: string;
  let sizeBytes: number;
  if (typeof raw === 'string') {
    text = raw;
    sizeBytes = Buffer.byteLength(raw, 'utf8');
  } else {
    const buffer = toBuffer(raw);
    sizeBytes = buffer.length;
    if (sizeBytes > maxBytes) {
      const preview = truncateText(buffer.subarray(0, PREVIEW_BYTES + 4).toString('utf8'), PREVIEW_BYTES);
      return fail('too-large', tooLargeMessage(sizeBytes, maxBytes), preview, sizeBytes);
    }
    text = buffer.toString('utf8');
  }
  if (sizeBytes > maxBytes) {
    return fail('too-large', tooLargeMessage(sizeBytes, maxBytes), truncateText(text.slice(0, PREVIEW_BYTES * 2), PREVIEW_BYTES), sizeBytes);
  }

  const preview = truncateText(text, PREVIEW_BYTES);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return fail('not-json', `received a non-JSON frame (${(error as Error).message})`, preview, sizeBytes);
  }
  if (!isPlainObject(parsed)) {
    return fail('not-object', `received a JSON frame that is ${describeValue(parsed)}, not an object`, preview, sizeBytes);
  }
  const type = parsed.type;
  if (typeof type !== 'string' || type === '') {
    const what = type === undefined ? 'no "type"' : type === '' ? 'an empty "type"' : `a "type" that is ${describeValue(type)}`;
    return fail('missing-type', `received a frame without type (a JSON object with ${what}); every frame needs a string type`, preview, sizeBytes);
  }

  let wrapped: NormalizedFrame['wrapped'] = 'flat';
  let fields: Record<string, unknown> = { ...parsed };
  for (const key of ['data', 'payload'] as const) {
    const inner = parsed[key];
    if (isPlainObject(inner)) {
      wrapped = key;
      // Root keys win: the flat form is preferred when a field appears in both places.
      fields = { ...inner, ...parsed };
      break;
    }
  }
  return { type, fields, wrapped, raw: truncateText(text, RAW_EVIDENCE_BYTES), sizeBytes };
}

function fail(problem: FrameProblem, message: string, preview: string, sizeBytes: number): never {
  throw new FrameError(problem, message, preview, sizeBytes);
}

/** The frame's run id, when it carries a usable one (string or number). */
export function runIdOf(frame: Pick<NormalizedFrame, 'fields'>): string | undefined {
  const value = frame.fields.run_id;
  if (typeof value === 'string' && value !== '') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
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

function fmt(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = (ms / 1000).toFixed(1);
  return `${s.endsWith('.0') ? s.slice(0, -2) : s} s`;
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
      add('stall', `run ${runId} stalled ${fmt(gap)} between ${at(previous)} and ${at(current)}, over the ${fmt(stallMs)} limit`, current);
    }
  }
  const last = run[run.length - 1];
  if (!terminal && last && options.observedUntilMs !== undefined) {
    const gap = options.observedUntilMs - last.receivedAt;
    if (gap > stallMs) {
      add('stall', `run ${runId} stalled: no event for ${fmt(gap)} after ${at(last)}, over the ${fmt(stallMs)} limit`, last);
    }
  }
  return violations;
}

const KEY_FIELDS = ['run_id', 'thread_id', 'execution_id', 'tool_name', 'success', 'status', 'error_code', 'message', 'final_response', 'connection_id', 'received_type'] as const;

export interface CompactFrame {
  i: number;
  type: string;
  /** ms after `t0` (the first frame listed, unless given). */
  t: number;
  [field: string]: unknown;
}

/** A small evidence view of a frame: index, type, time offset and the key fields, truncated. */
export function compactFrame(frame: CapturedFrame, t0 = 0): CompactFrame {
  const out: CompactFrame = { i: frame.index, type: frame.type, t: Math.round(frame.receivedAt - t0) };
  for (const key of KEY_FIELDS) {
    const value = frame.fields[key];
    if (value === undefined) continue;
    out[key] = typeof value === 'string' ? truncateText(value, 120) : value;
  }
  if (frame.error) out.error = frame.error.message;
  return out;
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
