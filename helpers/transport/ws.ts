/**
 * WebSocket sessions against the platform, as the contract pins them. Opening one (the
 * handshake, `connectWs`/`probeHandshake`, its classification) is helpers/transport/ws-handshake.ts.
 *
 * - A `WsSession` is transport only: it connects, sends, captures every frame from the moment
 *   of connection (subscribe before acting), offers one budgeted wait (`wait`, with `waitFor`
 *   on top) that says what it waited for, and dumps what it saw for failure evidence. What an
 *   agent run is, and how to follow one, is helpers/contract/agent-run.ts, built on `wait`.
 * - Bad frames from the target (not JSON, binary, over the size limit, without `type`, broken
 *   WebSocket framing) fail the wait in progress at once with a classified CheckError
 *   (component 'websocket', layer 'frame'): never a crash, a silent pass, or a wait that runs
 *   into its budget.
 *
 * Tokens never reach evidence: frames, sent frames and the dump go through the one redactor
 * (core/redact.ts), so the `jwt.<token>` subprotocol reads `jwt.[redacted]`.
 */
import type { IncomingMessage } from 'node:http';
import { performance } from 'node:perf_hooks';
import WebSocket, { type RawData } from 'ws';
import { Budget } from '../core/budgets.ts';
import { CheckError, type CheckErrorDetails, type Component } from '../core/errors.ts';
import { errorCode } from '../core/network-errors.ts';
import { redactSecrets } from '../core/redact.ts';
import { compactFrame, FrameError, INVALID_FRAME_TYPE, normalizeFrame, type CapturedFrame } from '../core/frames.ts';
import { formatBytes, formatMs, plural, truncateText } from '../core/format.ts';

export type WsAuth =
  | { method: 'subprotocol'; token: string }
  | { method: 'header'; token: string }
  | { method: 'ticket'; ticketId: string }
  | { method: 'none' };

export interface ConnectOptions {
  url: string;
  auth: WsAuth;
  /** Covers the upgrade and the `connection_established` frame. */
  budget: Budget;
  /** Replaces the offered subprotocols (e.g. to provoke close 1003). */
  protocols?: string[];
  headers?: Record<string, string>;
  /** Frames over this size are captured as invalid, with their exact size (default 1 MiB). */
  maxFrameBytes?: number;
  /**
   * Frames over this size are not even read (ws `maxPayload`): the client closes with 1009 and
   * captures an invalid frame naming the cap, so no frame can exhaust the worker's memory
   * (default 16 MiB; never below `maxFrameBytes`).
   */
  hardMaxFrameBytes?: number;
}

/** Above the classification limit so that a frame of a few MB is still measured exactly. */
export const DEFAULT_HARD_MAX_FRAME_BYTES = 16 * 1024 * 1024;

export interface FrameLimits {
  maxFrameBytes: number;
  hardMaxFrameBytes: number;
}

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

export type SessionEvent = { kind: 'frame'; frame: CapturedFrame } | { kind: 'close'; info: CloseInfo };

export interface WaitOptions {
  budget: Budget;
  /** What is awaited, for the ledger and the error ("pong after ping"). */
  what: string;
  /** Only frames with `index >= fromIndex` can match (default 0: already captured frames count). */
  fromIndex?: number;
  /** Component blamed when the budget runs out (default 'websocket'). */
  component?: Component;
}

/** What one frame does to a wait: nothing (`undefined`: keep waiting), end it with a value, or fail it. */
export type WaitOutcome<T> = undefined | { value: T } | { error: Error };
export type WaitStep<T> = (frame: CapturedFrame) => WaitOutcome<T>;

export interface SessionWaitOptions extends Omit<WaitOptions, 'what'> {
  /** What is awaited; a function when it is learnt during the wait (a run id). */
  what: string | (() => string);
  /** The budget step's name in the ledger (default `wait <what>`). */
  label?: string;
  /** Fails the wait when nothing happened for `limitMs` since `lastActivityMs()` (session ms; undefined: clock not started). */
  silence?: { limitMs: number; lastActivityMs: () => number | undefined; error: (gapMs: number) => Error };
  /** Frames the wait has collected so far, added to bad-frame and close errors as `runEvents`. */
  related?: () => CapturedFrame[];
  /** Said after `what` when the budget runs out ("3 events of the run so far"). */
  progress?: () => string;
  /** Merged into the budget error's evidence. */
  evidence?: () => Record<string, unknown>;
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

/**
 * One WebSocket connection and everything it received. Made by `connectWs` (or
 * `probeHandshake`); frames are captured from the first byte, so frames that arrive between
 * an action and a `waitFor` are never lost.
 */
export class WsSession {
  /** URL with secrets removed. */
  readonly endpoint: string;
  /** performance.now() when connecting started; frame `receivedAt` is relative to it. */
  readonly startedAt: number;
  readonly startedAtEpoch: number;
  /** Negotiated subprotocol, redacted (`jwt.[redacted]`), '' when none. */
  protocol = '';
  connectionId: string | undefined;
  userId: string | undefined;
  /** ms from connecting to `connection_established`. */
  handshakeMs: number | undefined;
  /** The server answered the upgrade request with 101. */
  upgraded = false;
  /** The raw subprotocol header the server echoed (not redacted: internal use only). */
  #echoedProtocol: string | null = null;
  #lastError: Error | undefined;

  readonly #ws: WebSocket;
  readonly #secrets: readonly string[];
  readonly #limits: FrameLimits;
  readonly #frames: CapturedFrame[] = [];
  /** The frame ws refused to read (over the hard cap, broken framing); the client then closed. */
  #brokenFrame: CapturedFrame | undefined;
  readonly #sent: SentFrame[] = [];
  readonly #listeners = new Set<(event: SessionEvent) => void>();
  #closeInfo: CloseInfo | undefined;
  #closing = false;
  #closePromise: Promise<void> | undefined;

  /** @internal Use `connectWs`/`probeHandshake`. */
  constructor(ws: WebSocket, endpoint: string, secrets: readonly string[], limits: FrameLimits) {
    this.#ws = ws;
    this.endpoint = endpoint;
    this.#secrets = secrets;
    this.#limits = limits;
    this.startedAt = performance.now();
    this.startedAtEpoch = Date.now();
    ws.on('message', (data: RawData, isBinary: boolean) => this.#capture(data, isBinary));
    ws.on('upgrade', (response: IncomingMessage) => {
      this.upgraded = true;
      const header = response.headers['sec-websocket-protocol'];
      this.#echoedProtocol = typeof header === 'string' ? header : null;
    });
    ws.on('error', (error: Error) => {
      this.#lastError = error;
      // ws raises WS_ERR_* only from its frame parser: the server sent a frame it cannot read.
      if (errorCode(error)?.startsWith('WS_ERR_')) this.#captureUnreadable(error);
    });
    ws.on('close', (code: number, reason: Buffer) => {
      this.#closeInfo = {
        code,
        reason: reason.toString('utf8'),
        atMs: Math.round(this.nowMs()),
        by: this.#closing || this.#brokenFrame ? 'client' : 'server',
      };
      this.#emit({ kind: 'close', info: this.#closeInfo });
    });
  }

  /** @internal */
  get socket(): WebSocket {
    return this.#ws;
  }

  /** @internal The echoed subprotocol, unredacted. */
  get echoedProtocol(): string | null {
    return this.#echoedProtocol;
  }

  /** Every frame received so far, in order; `frames[i].index === i`. */
  get frames(): readonly CapturedFrame[] {
    return this.#frames;
  }

  /** Frames sent by the suite, for the dump. */
  get sent(): readonly SentFrame[] {
    return this.#sent;
  }

  /** Set once the socket has closed. */
  get closeInfo(): CloseInfo | undefined {
    return this.#closeInfo;
  }

  get lastError(): Error | undefined {
    return this.#lastError;
  }

  get isOpen(): boolean {
    return this.#ws.readyState === WebSocket.OPEN;
  }

  /** ms since the session started connecting (the time base of `receivedAt`). */
  nowMs(): number {
    return performance.now() - this.startedAt;
  }

  /** Listens to frames and the close; returns the unsubscribe function. */
  subscribe(listener: (event: SessionEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Sends `obj` as JSON text. */
  send(obj: unknown): void {
    const text = JSON.stringify(obj);
    const type = typeof obj === 'object' && obj !== null && typeof (obj as { type?: unknown }).type === 'string' ? (obj as { type: string }).type : '<untyped>';
    this.#write(text, type);
  }

  /** Sends a raw text or binary frame (for malformed-input checks). */
  sendRaw(data: string | Buffer): void {
    this.#write(data, typeof data === 'string' ? '<raw text>' : '<raw binary>');
  }

  #write(data: string | Buffer, type: string): void {
    if (this.#ws.readyState !== WebSocket.OPEN) {
      if (this.#brokenFrame) throw this.#badFrameError(this.#brokenFrame, `and the client closed the connection over it, so ${type} cannot be sent`, this.nowMs());
      const info = this.#closeInfo;
      if (info && info.by === 'server') {
        throw new CheckError(`cannot send ${type}: the server closed the WebSocket (${describeClose(info.code, info.reason)}) at t+${formatMs(info.atMs)}`, {
          component: 'websocket',
          layer: 'ws-close',
          endpoint: this.endpoint,
          code: info.code,
          evidence: { closeInfo: info, lastFrames: this.recentFrames(5) },
        });
      }
      throw new Error(`cannot send ${type}: the WebSocket is not open (readyState ${this.#ws.readyState}); the suite closed it or never opened it`);
    }
    const size = typeof data === 'string' ? Buffer.byteLength(data) : data.length;
    const preview = typeof data === 'string' ? truncateText(redactSecrets(data, this.#secrets), 300) : `<binary ${data.length} bytes>`;
    this.#sent.push({ type, atMs: Math.round(this.nowMs()), sizeBytes: size, preview });
    this.#ws.send(data, (error) => {
      if (error) this.#lastError = error;
    });
  }

  /**
   * The one wait of a session: feeds `step` every frame from `fromIndex` on (already captured,
   * then as they arrive) until it returns `{ value }` (resolve) or `{ error }` (reject);
   * `undefined` keeps waiting. A throwing `step` rejects with what it threw. Whatever the step
   * says, a bad frame in the window, the server closing the socket, the budget running out and
   * `silence` (no activity for `silence.limitMs`) end the wait with a classified error.
   */
  wait<T>(step: WaitStep<T>, options: SessionWaitOptions): Promise<T> {
    const from = options.fromIndex ?? 0;
    const what = (): string => (typeof options.what === 'string' ? options.what : options.what());
    const related = (): CapturedFrame[] | undefined => options.related?.();
    const started = this.nowMs();
    return options.budget.step(
      options.label ?? `wait ${what()}`,
      (signal) =>
        new Promise<T>((resolve, reject) => {
          let unsubscribe: () => void = () => undefined;
          let silenceTimer: NodeJS.Timeout | undefined;
          let settled = false;
          const stop = (): void => {
            settled = true;
            clearTimeout(silenceTimer);
            unsubscribe();
          };
          const onAbort = (): void => stop();
          const settle = (fn: () => void): void => {
            if (settled) return;
            stop();
            signal.removeEventListener('abort', onAbort);
            fn();
          };
          /** Re-arms the silence clock from the last activity; fails the wait once it is over the limit. */
          const watchSilence = (): void => {
            const silence = options.silence;
            if (!silence || settled) return;
            clearTimeout(silenceTimer);
            const last = silence.lastActivityMs();
            if (last === undefined) return; // no clock before the first activity
            const gap = this.nowMs() - last;
            if (gap > silence.limitMs) return settle(() => reject(silence.error(gap)));
            silenceTimer = setTimeout(watchSilence, Math.max(1, Math.ceil(silence.limitMs - gap) + 1));
          };
          /** Returns true once the wait is settled. */
          const consider = (frame: CapturedFrame): boolean => {
            if (frame.index < from) return false;
            if (frame.error) {
              settle(() => reject(this.#badFrameError(frame, `while waiting for ${what()}`, started, related())));
              return true;
            }
            let outcome: WaitOutcome<T>;
            try {
              outcome = step(frame);
            } catch (error) {
              settle(() => reject(error));
              return true;
            }
            if (outcome === undefined) return false;
            settle(() => ('error' in outcome ? reject(outcome.error) : resolve(outcome.value)));
            return true;
          };
          for (const frame of this.#frames) {
            if (consider(frame)) return;
          }
          if (this.#closeInfo) return settle(() => reject(this.#closedError(what(), started, related())));
          signal.addEventListener('abort', onAbort, { once: true });
          unsubscribe = this.subscribe((event) => {
            if (settled) return;
            if (event.kind === 'close') return settle(() => reject(this.#closedError(what(), started, related())));
            if (!consider(event.frame)) watchSilence();
          });
          watchSilence();
        }),
      {
        component: options.component ?? 'websocket',
        endpoint: this.endpoint,
        context: () => `waiting for ${what()}${options.progress ? `; ${options.progress()}` : ''}; last frame seen: ${this.describeLastFrame()}`,
        evidence: () => ({ waitingFor: what(), ...options.evidence?.(), lastFrames: this.recentFrames(10) }),
      },
    );
  }

  /**
   * The first frame (already captured, or arriving later) matching `predicate`. Rejects with
   * a CheckError naming `what`, the budget and the last frame seen when the budget runs out
   * (layer 'budget') or the server closes the socket (layer 'ws-close', code = close code).
   */
  waitFor(predicate: (frame: CapturedFrame, index: number) => boolean, options: WaitOptions): Promise<CapturedFrame> {
    return this.wait((frame) => (predicate(frame, frame.index) ? { value: frame } : undefined), options);
  }

  /**
   * Closes the socket (code 1000) and resolves once it is closed; after `timeoutMs` without
   * the server's close frame the socket is terminated. Idempotent.
   */
  close(timeoutMs = 2_000): Promise<void> {
    if (this.#closePromise) return this.#closePromise;
    this.#closing = true;
    this.#closePromise = new Promise<void>((resolve) => {
      if (this.#closeInfo) return resolve();
      let fallback: NodeJS.Timeout | undefined;
      const timer = setTimeout(() => {
        this.#ws.terminate();
        // 'close' follows terminate() almost at once; never hang on it.
        fallback = setTimeout(resolve, 500);
      }, timeoutMs);
      this.#ws.once('close', () => {
        clearTimeout(timer);
        clearTimeout(fallback);
        resolve();
      });
      const state = this.#ws.readyState;
      if (state === WebSocket.CONNECTING) this.#ws.terminate();
      else if (state === WebSocket.OPEN) this.#ws.close(1000, 'stagecheck: done');
    });
    return this.#closePromise;
  }

  /** Readable text of everything captured (and sent), for failure evidence. */
  dump(options: { maxFrames?: number; maxChars?: number } = {}): string {
    const maxFrames = options.maxFrames ?? 200;
    const maxChars = options.maxChars ?? 300;
    const header = `WebSocket ${this.endpoint}${this.protocol ? ` protocol ${this.protocol}` : ''}${this.connectionId ? ` connection ${this.connectionId}` : ''}${this.userId ? ` user ${this.userId}` : ''}: ${plural(this.#frames.length, 'frame')} received, ${this.#sent.length} sent`;
    type Line = { t: number; text: string };
    const received: Line[] = this.#frames.map((f) => ({
      t: f.receivedAt,
      text: `#${String(f.index).padEnd(4)} t+${String(Math.round(f.receivedAt)).padStart(6)} ms  <- ${f.type}  ${truncateText(redactSecrets(f.error ? `${f.error.message} | ${f.raw}` : f.raw, this.#secrets), maxChars)}`,
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
    const sent: Line[] = this.#sent.map((s) => ({ t: s.atMs, text: `      t+${String(s.atMs).padStart(6)} ms  -> ${s.type}  ${truncateText(s.preview, maxChars)}` }));
    const lines = [...shown, ...sent].sort((a, b) => a.t - b.t).map((l) => l.text);
    const info = this.#closeInfo;
    const footer = info
      ? `closed by ${info.by} at t+${info.atMs} ms: ${describeClose(info.code, info.reason)}${this.#lastError ? `; last error: ${this.#lastError.message}` : ''}`
      : 'still open';
    return [header, ...lines, footer].join('\n');
  }

  #capture(data: RawData, isBinary: boolean): void {
    const receivedAt = this.nowMs();
    const receivedAtEpoch = Date.now();
    const index = this.#frames.length;
    let frame: CapturedFrame;
    try {
      const normalized = normalizeFrame(data, isBinary, { maxBytes: this.#limits.maxFrameBytes });
      frame = { ...normalized, index, receivedAt, receivedAtEpoch };
    } catch (error) {
      if (!(error instanceof FrameError)) throw error;
      frame = this.#invalidFrame(error, index, receivedAt, receivedAtEpoch);
    }
    this.#record(frame);
  }

  /**
   * ws stopped reading a frame (over the hard cap, or broken framing such as invalid UTF-8) and
   * closes with 1009/1007/1002. It is captured like any bad frame, so the wait in progress fails
   * on it, classified, instead of on the close that follows.
   */
  #captureUnreadable(error: Error): void {
    if (this.#brokenFrame) return;
    const code = errorCode(error);
    const cap = this.#limits.hardMaxFrameBytes;
    const frameError =
      code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' || code === 'WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH'
        ? new FrameError(
          'too-large',
          `received a frame that exceeds the client's ${formatBytes(cap)} hard cap (${cap} bytes); the client stopped reading it at its header and closed the connection with 1009 (message too big)`,
          `<not read: over ${cap} bytes>`,
          cap + 1, // a lower bound: the frame was never read
        )
        : new FrameError('ws-protocol', `received a broken WebSocket frame (${error.message}); the client closed the connection`, '<not read>', 0); // size unknown
    const frame = this.#invalidFrame(frameError, this.#frames.length, this.nowMs(), Date.now());
    this.#brokenFrame = frame;
    this.#record(frame);
  }

  #invalidFrame(error: FrameError, index: number, receivedAt: number, receivedAtEpoch: number): CapturedFrame {
    return { type: INVALID_FRAME_TYPE, fields: {}, wrapped: 'flat', raw: error.preview, sizeBytes: error.sizeBytes, index, receivedAt, receivedAtEpoch, error };
  }

  #record(frame: CapturedFrame): void {
    this.#frames.push(frame);
    this.#emit({ kind: 'frame', frame });
  }

  /** The wait in progress fails on a bad frame: classified by its FrameError, with where it came. */
  #badFrameError(frame: CapturedFrame, context: string, startedMs: number, runEvents?: CapturedFrame[]): CheckError {
    const error = frame.error!;
    const preview = redactSecrets(error.preview, this.#secrets);
    // The preview shows what the text was; for an oversize or unread frame it says nothing new.
    const shown = error.problem === 'too-large' || error.problem === 'ws-protocol' ? '' : `; frame: ${preview}`;
    return new CheckError(
      `the server sent a bad frame (#${frame.index} at t+${formatMs(frame.receivedAt)}) ${context}: ${error.message}${shown}`,
      {
        ...error.details,
        endpoint: this.endpoint,
        elapsedMs: Math.max(0, Math.round(this.nowMs() - startedMs)),
        evidence: {
          ...error.details.evidence,
          preview,
          frameIndex: frame.index,
          ...(runEvents ? { runEvents: runEvents.map((e) => compactFrame(e)) } : {}),
          lastFrames: this.recentFrames(10),
        },
      },
      { cause: error },
    );
  }

  #emit(event: SessionEvent): void {
    for (const listener of [...this.#listeners]) listener(event);
  }

  /** `#12 agent_thinking at t+850 ms`, or `none`: for wait errors. */
  describeLastFrame(): string {
    const last = this.#frames[this.#frames.length - 1];
    if (!last) return 'none';
    return `#${last.index} ${last.type} at t+${formatMs(last.receivedAt)}`;
  }

  /** The last `n` frames in their small evidence form. */
  recentFrames(n: number): ReturnType<typeof compactFrame>[] {
    return this.#frames.slice(-n).map((f) => compactFrame(f));
  }

  #closedError(what: string, startedMs: number, runEvents?: CapturedFrame[]): Error {
    // The client closed over a frame it could not read: that frame is the failure, not the close.
    if (this.#brokenFrame) return this.#badFrameError(this.#brokenFrame, `while waiting for ${what}`, startedMs, runEvents);
    const info = this.#closeInfo!;
    if (info.by === 'client') {
      return new Error(`the suite closed the WebSocket session while still waiting for ${what}`);
    }
    const details: CheckErrorDetails = {
      component: 'websocket',
      layer: 'ws-close',
      code: info.code,
      endpoint: this.endpoint,
      elapsedMs: Math.round(this.nowMs() - startedMs),
      evidence: {
        closeInfo: info,
        ...(this.#lastError ? { lastError: `${this.#lastError.name}: ${this.#lastError.message}` } : {}),
        ...(runEvents ? { runEvents: runEvents.map((e) => compactFrame(e)) } : {}),
        lastFrames: this.recentFrames(10),
      },
    };
    return new CheckError(
      `the server closed the WebSocket (${describeClose(info.code, info.reason)}) at t+${formatMs(info.atMs)} while waiting for ${what}; last frame seen: ${this.describeLastFrame()}`,
      details,
    );
  }
}
