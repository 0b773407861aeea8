/**
 * One WebSocket frame as the session captures it (pure functions, no I/O): the WebSocket
 * capture needs this before it knows anything of the contract's events.
 *
 * - `normalizeFrame` turns whatever the server sent into one shape, accepting the flat form
 *   and the `data`/`payload`-wrapped form; anything that is not a JSON text object with a
 *   string `type` becomes a classified FrameError (component 'websocket', layer 'frame').
 * - `compactFrame` is the small evidence view of a frame; `runIdOf` reads its run id.
 *
 * The contract's rules on agent events (types, fields, ordering) are
 * helpers/contract/agent-events.ts.
 */
import { CheckError } from './errors.ts';
import { formatBytes, truncateText } from './format.ts';

/** Frames over this size are classified as too large (no contract frame comes near it). */
export const DEFAULT_MAX_FRAME_BYTES = 1024 * 1024;
/** `raw` in a normalized frame (evidence) is truncated to this many bytes. */
export const RAW_EVIDENCE_BYTES = 2048;
/** Preview length in FrameError evidence. */
export const PREVIEW_BYTES = 200;
/** `type` of a captured frame that could not be normalized. */
export const INVALID_FRAME_TYPE = '<invalid>';

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

/** `10.0 MiB (10485800 bytes)`: readable, and exact. */
function exactSize(bytes: number): string {
  return bytes < 1024 ? formatBytes(bytes) : `${formatBytes(bytes)} (${bytes} bytes)`;
}

/** The message of a frame over `maxBytes`, naming both sizes. */
function tooLargeMessage(sizeBytes: number, maxBytes: number): string {
  return `received a frame of ${exactSize(sizeBytes)} that exceeds the ${exactSize(maxBytes)} frame limit`;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
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
