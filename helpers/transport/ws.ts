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
import { CheckError } from '../core/errors.ts';
import { errorCode } from '../core/network-errors.ts';
import { redactSecrets } from '../core/redact.ts';
import { recordRequest, upgradePath } from '../core/request-log.ts';
import { compactFrame, FrameError, normalizeFrame, type CapturedFrame } from '../core/frames.ts';
import { truncateText } from '../core/format.ts';
import { badFrameError, closedError, describeLastFrame, dumpSession, invalidFrame, recentFrames, sendAfterCloseError, unreadableFrameError, type CloseInfo, type SentFrame, type SessionView } from './ws-evidence.ts';
import type { FrameLimits } from './ws-options.ts';
import type { SessionEvent, SessionWaitOptions, WaitOptions, WaitOutcome, WaitStep } from './ws-wait.ts';

export { CLOSE_CODE_MEANINGS, describeClose, type CloseInfo, type SentFrame } from './ws-evidence.ts';
export { DEFAULT_HARD_MAX_FRAME_BYTES, type ConnectOptions, type FrameLimits, type WsAuth } from './ws-options.ts';

export type { SessionEvent, SessionWaitOptions, WaitOptions, WaitOutcome, WaitStep } from './ws-wait.ts';

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
  #failedBy: Error | undefined;
  #waiting = 0;

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
      // The upgrade answered: the WebSocket component's request timing (its cold start, helpers/core/request-log.ts).
      recordRequest({ component: 'websocket', endpoint: `GET ${upgradePath(ws.url)} (upgrade)`, startedAt: this.startedAtEpoch, ms: this.nowMs(), status: 101 });
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

  /**
   * Ends the wait in progress, and every later one, with `error`: the server behind the session
   * is confirmed down (transport/component-watch.ts), so nothing more will arrive.
   */
  failWaits(error: Error): void {
    if (this.#failedBy) return;
    this.#failedBy = error;
    this.#emit({ kind: 'fail', error });
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
      if (info && info.by === 'server') throw sendAfterCloseError(this.#view(), info, type);
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
    this.#waiting += 1;
    return this.#wait(step, options).finally(() => (this.#waiting -= 1));
  }

  /** Waits in progress on this session: a test is waiting for the server to say something. */
  get waiting(): number {
    return this.#waiting;
  }

  #wait<T>(step: WaitStep<T>, options: SessionWaitOptions): Promise<T> {
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
          if (this.#failedBy) return settle(() => reject(this.#failedBy));
          if (this.#closeInfo) return settle(() => reject(this.#closedError(what(), started, related())));
          signal.addEventListener('abort', onAbort, { once: true });
          unsubscribe = this.subscribe((event) => {
            if (settled) return;
            if (event.kind === 'fail') return settle(() => reject(event.error));
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
      frame = invalidFrame(error, index, receivedAt, receivedAtEpoch);
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
    const frameError = unreadableFrameError(error, this.#limits.hardMaxFrameBytes);
    const frame = invalidFrame(frameError, this.#frames.length, this.nowMs(), Date.now());
    this.#brokenFrame = frame;
    this.#record(frame);
  }

  #record(frame: CapturedFrame): void {
    this.#frames.push(frame);
    this.#emit({ kind: 'frame', frame });
  }

  #emit(event: SessionEvent): void {
    for (const listener of [...this.#listeners]) listener(event);
  }

  #closedError(what: string, startedMs: number, runEvents?: CapturedFrame[]): Error {
    return closedError(this.#view(), this.#brokenFrame, what, startedMs, runEvents);
  }

  #badFrameError(frame: CapturedFrame, context: string, startedMs: number, runEvents?: CapturedFrame[]): CheckError {
    return badFrameError(this.#view(), frame, context, startedMs, runEvents);
  }

  /** Readable text of everything captured (and sent), for failure evidence. */
  dump(options: { maxFrames?: number; maxChars?: number } = {}): string {
    return dumpSession(this.#view(), options);
  }

  /** `#12 agent_thinking at t+850 ms`, or `none`: for wait errors. */
  describeLastFrame(): string {
    return describeLastFrame(this.#frames);
  }

  /** The last `n` frames in their small evidence form. */
  recentFrames(n: number): ReturnType<typeof compactFrame>[] {
    return recentFrames(this.#frames, n);
  }

  #view(): SessionView {
    return {
      endpoint: this.endpoint,
      protocol: this.protocol,
      connectionId: this.connectionId,
      userId: this.userId,
      frames: this.#frames,
      sent: this.#sent,
      closeInfo: this.#closeInfo,
      lastError: this.#lastError,
      secrets: this.#secrets,
      nowMs: () => this.nowMs(),
    };
  }
}
