import type { FrameStyle } from '../config.ts';
import type { GarbageKind } from '../faults/behaviour.ts';
import { isoNow } from '../util/time.ts';

/** Server frames are flat JSON: `{type, ...fields, timestamp, correlation_id?}`. */
export function frame(type: string, fields: Record<string, unknown> = {}): string {
  const { correlation_id, ...rest } = fields;
  return JSON.stringify({ type, ...rest, timestamp: isoNow(), ...(correlation_id ? { correlation_id } : {}) });
}

/** Agent events whose fields the `wrapped` style nests in `data`, as the platform the contract comes from does. */
const NESTED_AGENT_EVENTS = new Set(['agent_thinking', 'tool_executing', 'tool_completed', 'agent_completed', 'agent_progress', 'partial_result']);
/** Kept at the root of a nested agent event (the contract keeps type, run_id and tool_name there). */
const ROOT_FIELDS = new Set(['run_id', 'tool_name', 'agent_name']);
/** Field names of the nested form: `data.parameters`, `data.result`. */
const NESTED_NAMES: Record<string, string> = { tool_args: 'parameters', results: 'result' };

/**
 * A server frame in the connection's style. `flat` is `frame()`. `wrapped`: a frame without a
 * `run_id` (connection_established, pong, ack, heartbeat, error) carries its fields in `data`;
 * an agent event of a nesting type keeps `type`, `run_id`, `tool_name` and `agent_name` at the
 * root and the rest in `data` (`tool_args` as `parameters`, `results` as `result`);
 * `agent_started` and `agent_error` stay flat. `timestamp` and `correlation_id` stay at the root.
 */
export function renderFrame(style: FrameStyle, type: string, fields: Record<string, unknown> = {}): string {
  if (style === 'flat') return frame(type, fields);
  const { correlation_id, ...rest } = fields;
  const tail = { timestamp: isoNow(), ...(correlation_id ? { correlation_id } : {}) };
  if (!('run_id' in rest)) return JSON.stringify({ type, data: rest, ...tail });
  if (!NESTED_AGENT_EVENTS.has(type)) return frame(type, fields);
  const root: Record<string, unknown> = {};
  const data: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(rest)) {
    if (ROOT_FIELDS.has(key)) root[key] = value;
    else data[NESTED_NAMES[key] ?? key] = value;
  }
  return JSON.stringify({ type, ...root, data, ...tail });
}

export const CLOSE = {
  NORMAL: 1000,
  GOING_AWAY: 1001,
  UNSUPPORTED_DATA: 1003,
  POLICY_VIOLATION: 1008,
  INTERNAL_ERROR: 1011,
} as const;

/** Close reasons are limited to 123 bytes by the protocol. */
export function closeReason(text: string): string {
  let reason = text;
  while (Buffer.byteLength(reason) > 123) reason = reason.slice(0, -1);
  return reason;
}

/** Size of the `huge` garbage frame: about 10 MB of text. */
export const HUGE_FRAME_BYTES = 10 * 1024 * 1024;

/**
 * The malformed frame fault `frame_garbage` adds to a run: truncated JSON, a binary frame, a
 * ~10 MB text frame, a JSON object without `type`, or an agent event of another run.
 */
export function garbageFrame(kind: GarbageKind, runId: string, foreignRunId: string): { data: string | Buffer; binary: boolean } {
  switch (kind) {
    case 'non_json':
      return { data: frame('agent_thinking', { run_id: runId, reasoning: 'Looking at the request' }).slice(0, 40), binary: false };
    case 'binary':
      return { data: Buffer.from([0x82, 0xa4, 0x74, 0x79, 0x70, 0x65, 0xff, 0x00, 0xfe, 0x01, 0xc1, 0x9f]), binary: true };
    case 'huge': {
      const head = frame('agent_thinking', { run_id: runId, reasoning: '' });
      return { data: head.replace('"reasoning":""', `"reasoning":"${'x'.repeat(HUGE_FRAME_BYTES)}"`), binary: false };
    }
    case 'no_type':
      return { data: JSON.stringify({ run_id: runId, reasoning: 'Looking at the request', timestamp: isoNow() }), binary: false };
    case 'foreign_run_id':
      return { data: frame('agent_thinking', { run_id: foreignRunId, reasoning: 'Working on another request' }), binary: false };
  }
}
