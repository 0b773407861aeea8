/**
 * What a WebSocket session (helpers/transport/ws.ts) says when something goes wrong: the close
 * codes' meanings, the readable dump of everything it captured and sent, and the classified
 * errors for a bad frame and for a server close during a wait. Secrets go through the one
 * redactor (core/redact.ts).
 */
import { CheckError, type CheckErrorDetails } from '../core/errors.ts';
import { compactFrame, FrameError, INVALID_FRAME_TYPE, type CapturedFrame } from '../core/frames.ts';
import { errorCode } from '../core/network-errors.ts';
import { formatBytes, formatMs, plural, truncateText } from '../core/format.ts';
import { redactSecrets } from '../core/redact.ts';

export interface CloseInfo {
  code: number;
  reason: string;
  /** ms since the session started connecting. */
  atMs: number;
  /** Who started the closing handshake. */
  by: 'client' | 'server';
}

export interface SentFrame {
  type: string;
  atMs: number;
  sizeBytes: number;
  preview: string;
}

/** What the dump and the error builders read of a session. */
export interface SessionView {
  endpoint: string;
  protocol: string;
  connectionId: string | undefined;
  userId: string | undefined;
  frames: readonly CapturedFrame[];
  sent: readonly SentFrame[];
  closeInfo: CloseInfo | undefined;
  lastError: Error | undefined;
  secrets: readonly string[];
  /** ms since the session started connecting. */
  nowMs(): number;
}

/** Close codes the contract gives a meaning to. */
export const CLOSE_CODE_MEANINGS: Readonly<Record<number, string>> = {
  1000: 'normal closure',
  1001: 'going away',
  1002: 'protocol error',
  1003: 'unsupported subprotocol',
  1006: 'abnormal closure, no close frame',
  1008: 'policy violation: authentication failed',
  1009: 'message too big',
  1011: 'server error: service not ready',
  1012: 'service restart',
  1013: 'try again later',
};

export function describeClose(code: number, reason: string): string {
  const meaning = CLOSE_CODE_MEANINGS[code];
  return `code ${code}${meaning ? ` (${meaning})` : ''}${reason ? ` "${reason}"` : ''}`;
}

/** `#12 agent_thinking at t+850 ms`, or `none`: for wait errors. */
export function describeLastFrame(frames: readonly CapturedFrame[]): string {
  const last = frames[frames.length - 1];
  if (!last) return 'none';
  return `#${last.index} ${last.type} at t+${formatMs(last.receivedAt)}`;
}

/** The last `n` frames in their small evidence form. */
export function recentFrames(frames: readonly CapturedFrame[], n: number): ReturnType<typeof compactFrame>[] {
  return frames.slice(-n).map((f) => compactFrame(f));
}

/** Readable text of everything captured (and sent), for failure evidence. */
export function dumpSession(view: SessionView, options: { maxFrames?: number; maxChars?: number } = {}): string {
  const maxFrames = options.maxFrames ?? 200;
  const maxChars = options.maxChars ?? 300;
  const header = `WebSocket ${view.endpoint}${view.protocol ? ` protocol ${view.protocol}` : ''}${view.connectionId ? ` connection ${view.connectionId}` : ''}${view.userId ? ` user ${view.userId}` : ''}: ${plural(view.frames.length, 'frame')} received, ${view.sent.length} sent`;
  type Line = { t: number; text: string };
  const received: Line[] = view.frames.map((f) => ({
    t: f.receivedAt,
    text: `#${String(f.index).padEnd(4)} t+${String(Math.round(f.receivedAt)).padStart(6)} ms  <- ${f.type}  ${truncateText(redactSecrets(f.error ? `${f.error.message} | ${f.raw}` : f.raw, view.secrets), maxChars)}`,
  }));
  let shown = received;
  if (received.length > maxFrames) {
    const head = Math.min(20, Math.floor(maxFrames / 2));
    shown = [
      ...received.slice(0, head),
      { t: received[head]!.t, text: `      … ${received.length - maxFrames} frames omitted …` },
      ...received.slice(received.length - (maxFrames - head)),
    ];
  }
  const sent: Line[] = view.sent.map((s) => ({ t: s.atMs, text: `      t+${String(s.atMs).padStart(6)} ms  -> ${s.type}  ${truncateText(s.preview, maxChars)}` }));
  const lines = [...shown, ...sent].sort((a, b) => a.t - b.t).map((l) => l.text);
  const info = view.closeInfo;
  const footer = info
    ? `closed by ${info.by} at t+${info.atMs} ms: ${describeClose(info.code, info.reason)}${view.lastError ? `; last error: ${view.lastError.message}` : ''}`
    : 'still open';
  return [header, ...lines, footer].join('\n');
}

/** The wait in progress fails on a bad frame: classified by its FrameError, with where it came. */
export function badFrameError(view: SessionView, frame: CapturedFrame, context: string, startedMs: number, runEvents?: CapturedFrame[]): CheckError {
  const error = frame.error!;
  const preview = redactSecrets(error.preview, view.secrets);
  // The preview shows what the text was; for an oversize or unread frame it says nothing new.
  const shown = error.problem === 'too-large' || error.problem === 'ws-protocol' ? '' : `; frame: ${preview}`;
  return new CheckError(
    `the server sent a bad frame (#${frame.index} at t+${formatMs(frame.receivedAt)}) ${context}: ${error.message}${shown}`,
    {
      ...error.details,
      endpoint: view.endpoint,
      elapsedMs: Math.max(0, Math.round(view.nowMs() - startedMs)),
      evidence: {
        ...error.details.evidence,
        preview,
        frameIndex: frame.index,
        ...(runEvents ? { runEvents: runEvents.map((e) => compactFrame(e)) } : {}),
        lastFrames: recentFrames(view.frames, 10),
      },
    },
    { cause: error },
  );
}

/**
 * A wait ended by the socket closing. The client closed over a frame it could not read
 * (`brokenFrame`): that frame is the failure, not the close.
 */
export function closedError(view: SessionView, brokenFrame: CapturedFrame | undefined, what: string, startedMs: number, runEvents?: CapturedFrame[]): Error {
  if (brokenFrame) return badFrameError(view, brokenFrame, `while waiting for ${what}`, startedMs, runEvents);
  const info = view.closeInfo!;
  if (info.by === 'client') {
    return new Error(`the suite closed the WebSocket session while still waiting for ${what}`);
  }
  const details: CheckErrorDetails = {
    component: 'websocket',
    layer: 'ws-close',
    code: info.code,
    endpoint: view.endpoint,
    elapsedMs: Math.round(view.nowMs() - startedMs),
    evidence: {
      closeInfo: info,
      ...(view.lastError ? { lastError: `${view.lastError.name}: ${view.lastError.message}` } : {}),
      ...(runEvents ? { runEvents: runEvents.map((e) => compactFrame(e)) } : {}),
      lastFrames: recentFrames(view.frames, 10),
    },
  };
  return new CheckError(
    `the server closed the WebSocket (${describeClose(info.code, info.reason)}) at t+${formatMs(info.atMs)} while waiting for ${what}; last frame seen: ${describeLastFrame(view.frames)}`,
    details,
  );
}

/** `send` after the server closed the socket: the close is the failure. */
export function sendAfterCloseError(view: SessionView, info: CloseInfo, type: string): CheckError {
  return new CheckError(`cannot send ${type}: the server closed the WebSocket (${describeClose(info.code, info.reason)}) at t+${formatMs(info.atMs)}`, {
    component: 'websocket',
    layer: 'ws-close',
    endpoint: view.endpoint,
    code: info.code,
    evidence: { closeInfo: info, lastFrames: recentFrames(view.frames, 5) },
  });
}

/**
 * ws stopped reading a frame: over the hard cap `cap` (it closes with 1009), or broken framing
 * such as invalid UTF-8 (1007/1002). The FrameError it is captured as.
 */
export function unreadableFrameError(error: Error, cap: number): FrameError {
  const code = errorCode(error);
  return code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' || code === 'WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH'
    ? new FrameError(
      'too-large',
      `received a frame that exceeds the client's ${formatBytes(cap)} hard cap (${cap} bytes); the client stopped reading it at its header and closed the connection with 1009 (message too big)`,
      `<not read: over ${cap} bytes>`,
      cap + 1, // a lower bound: the frame was never read
    )
    : new FrameError('ws-protocol', `received a broken WebSocket frame (${error.message}); the client closed the connection`, '<not read>', 0); // size unknown
}

/** A captured frame standing for one the suite could not use. */
export function invalidFrame(error: FrameError, index: number, receivedAt: number, receivedAtEpoch: number): CapturedFrame {
  return { type: INVALID_FRAME_TYPE, fields: {}, wrapped: 'flat', raw: error.preview, sizeBytes: error.sizeBytes, index, receivedAt, receivedAtEpoch, error };
}
