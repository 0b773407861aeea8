/**
 * WebSocket sessions against the platform, as the contract pins them. Opening one (the
 * handshake, `connectWs`/`probeHandshake`, its classification) is helpers/ws-handshake.ts.
 *
 * - A `WsSession` captures every frame from the moment of connection (subscribe before
 *   acting), offers budgeted waits that say what they waited for, follows one agent run with
 *   fail-fast stall detection, and dumps what it saw for failure evidence.
 * - Bad frames from the target (not JSON, binary, over the size limit, without `type`, broken
 *   WebSocket framing, another run's `run_id` inside a run) fail the wait in progress at once
 *   with a classified CheckError (component 'websocket', layer 'frame'): never a crash, a
 *   silent pass, or a wait that runs into its budget.
 *
 * Tokens never reach evidence: the `jwt.<token>` subprotocol is recorded as `jwt.<redacted>`,
 * a `?ticket=` value as `<redacted>`.
 */
import type { IncomingMessage } from 'node:http';
import { performance } from 'node:perf_hooks';
import WebSocket, { type RawData } from 'ws';
import { Budget, DEFAULT_BUDGETS, formatMs } from './budgets.ts';
import { CheckError, type CheckErrorDetails, type Component } from './errors.ts';
import {
  compactFrame,
  formatBytes,
  FrameError,
  INVALID_FRAME_TYPE,
  isAgentEventType,
  isTerminalEventType,
  normalizeFrame,
  runIdOf,
  truncateText,
  type CapturedFrame,
} from './frames.ts';

// The run helper lives in agent-run.ts (it only needs this module's types); re-exported here for convenience.
export { startAgentRun, summarizeTimeline, type AgentRunResult, type StartAgentRunOptions, type TimelineEntry } from './agent-run.ts';

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

export interface RunWaitOptions {
  budget: Budget;
  /** Silence between two events of the run that counts as a stall (default 15 s). */
  stallMs?: number;
  /** With a run id target: where the run's window starts in the capture (default 0). */
  fromIndex?: number;
}

export interface RunCapture {
  runId: string;
  /** The run's agent events (its run_id, or none at all), up to and including the terminal. */
  events: CapturedFrame[];
  terminal: CapturedFrame;
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

/** `jwt.<token>` → `jwt.<redacted>`; anything else unchanged. */
export function redactProtocol(protocol: string): string {
  return protocol.startsWith('jwt.') ? 'jwt.<redacted>' : protocol;
}

export function redactText(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (secret) out = out.split(secret).join('<redacted>');
  return out.replace(/\bjwt\.[A-Za-z0-9\-_.~+/=]+/g, 'jwt.<redacted>');
}

export function describeClose(code: number, reason: string): string {
  const meaning = CLOSE_CODE_MEANINGS[code];
  return `code ${code}${meaning ? ` (${meaning})` : ''}${reason ? ` "${reason}"` : ''}`;
}

export function errorCode(error: Error): string | undefined {
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  if (error instanceof AggregateError) {
    for (const inner of error.errors) {
      const innerCode = (inner as { code?: unknown }).code;
      if (typeof innerCode === 'string') return innerCode;
    }
  }
  return undefined;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
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
  /** Negotiated subprotocol, redacted (`jwt.<redacted>`), '' when none. */
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
  /** run_id → index of the `agent_started` that opened it on this connection. */
  readonly #startedRuns = new Map<string, number>();
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
          evidence: { closeInfo: info, lastFrames: this.#lastFrames(5) },
        });
      }
      throw new Error(`cannot send ${type}: the WebSocket is not open (readyState ${this.#ws.readyState}); the suite closed it or never opened it`);
    }
    const size = typeof data === 'string' ? Buffer.byteLength(data) : data.length;
    const preview = typeof data === 'string' ? truncateText(redactText(data, this.#secrets), 300) : `<binary ${data.length} bytes>`;
    this.#sent.push({ type, atMs: Math.round(this.nowMs()), sizeBytes: size, preview });
    this.#ws.send(data, (error) => {
      if (error) this.#lastError = error;
    });
  }

  /**
   * The first frame (already captured, or arriving later) matching `predicate`. Rejects with
   * a CheckError naming `what`, the budget and the last frame seen when the budget runs out
   * (layer 'budget') or the server closes the socket (layer 'ws-close', code = close code).
   */
  waitFor(predicate: (frame: CapturedFrame, index: number) => boolean, options: WaitOptions): Promise<CapturedFrame> {
    const from = options.fromIndex ?? 0;
    const component = options.component ?? 'websocket';
    const started = this.nowMs();
    return options.budget.step(
      `wait ${options.what}`,
      (signal) =>
        new Promise<CapturedFrame>((resolve, reject) => {
          let unsubscribe: () => void = () => undefined;
          let settled = false;
          const onAbort = (): void => {
            settled = true;
            unsubscribe();
          };
          const settle = (fn: () => void): void => {
            if (settled) return;
            settled = true;
            unsubscribe();
            signal.removeEventListener('abort', onAbort);
            fn();
          };
          /** Settles on a match or a throwing predicate; returns true once settled. */
          const consider = (frame: CapturedFrame): boolean => {
            if (frame.index < from) return false;
            if (frame.error) {
              settle(() => reject(this.#badFrameError(frame, `while waiting for ${options.what}`, started)));
              return true;
            }
            let matched: boolean;
            try {
              matched = predicate(frame, frame.index);
            } catch (error) {
              settle(() => reject(error));
              return true;
            }
            if (matched) settle(() => resolve(frame));
            return matched;
          };
          for (const frame of this.#frames) {
            if (consider(frame)) return;
          }
          if (this.#closeInfo) return settle(() => reject(this.#closedError(options.what, started)));
          signal.addEventListener('abort', onAbort, { once: true });
          unsubscribe = this.subscribe((event) => {
            if (settled) return;
            if (event.kind === 'frame') consider(event.frame);
            else settle(() => reject(this.#closedError(options.what, started)));
          });
        }),
      {
        component,
        endpoint: this.endpoint,
        context: () => `waiting for ${options.what}; last frame seen: ${this.#describeLast()}`,
        evidence: () => ({ waitingFor: options.what, lastFrames: this.#lastFrames(10) }),
      },
    );
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
  waitForRun(target: string | { after: number }, options: RunWaitOptions): Promise<RunCapture> {
    const stallMs = options.stallMs ?? DEFAULT_BUDGETS.stall;
    const budget = options.budget;
    const label = typeof target === 'string' ? target : `after frame #${target.after}`;
    const started = this.nowMs();
    let runId: string | undefined = typeof target === 'string' ? target : undefined;
    const events: CapturedFrame[] = [];

    return budget.step(
      `wait run ${label} terminal event`,
      (signal) =>
        new Promise<RunCapture>((resolve, reject) => {
          let windowStart = typeof target === 'string' ? (options.fromIndex ?? 0) : target.after;
          let stallTimer: NodeJS.Timeout | undefined;
          let unsubscribe: () => void = () => undefined;
          let settled = false;
          const settle = (fn: () => void): void => {
            if (settled) return;
            settled = true;
            clearTimeout(stallTimer);
            unsubscribe();
            signal.removeEventListener('abort', onAbort);
            fn();
          };
          const onAbort = (): void => {
            settled = true;
            clearTimeout(stallTimer);
            unsubscribe();
          };

          const stallError = (last: CapturedFrame, gap: number): CheckError => {
            const types = events.map((e) => e.type).join(', ');
            return new CheckError(
              `agent run ${runId} stalled: no event for ${formatMs(gap)} after ${last.type} (frame #${last.index} at t+${formatMs(last.receivedAt)}), over the ${formatMs(stallMs)} stall limit; ${plural(events.length, 'event')} so far (${types}); budget '${budget.path}' still had ${formatMs(budget.remainingMs())}`,
              {
                component: 'agent',
                layer: 'budget',
                code: 'stall',
                endpoint: this.endpoint,
                elapsedMs: Math.round(this.nowMs() - started),
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

          const armStall = (): void => {
            clearTimeout(stallTimer);
            const last = events[events.length - 1];
            if (!last) return; // no stall clock before the run's first event
            const gap = this.nowMs() - last.receivedAt;
            if (gap > stallMs) {
              settle(() => reject(stallError(last, gap)));
              return;
            }
            stallTimer = setTimeout(armStall, Math.max(1, Math.ceil(stallMs - gap) + 1));
          };

          /** Returns true when the run is over (resolved or rejected). */
          const consider = (frame: CapturedFrame): boolean => {
            if (frame.index < windowStart) return false;
            if (frame.error) {
              settle(() => reject(this.#badFrameError(frame, `while waiting for the terminal event of run ${runId ?? label}`, started, events)));
              return true;
            }
            if (!isAgentEventType(frame.type)) return false;
            const id = runIdOf(frame);
            if (runId === undefined) {
              if (frame.type !== 'agent_started') return false;
              if (id === undefined) {
                settle(() =>
                  reject(
                    new CheckError(`agent_started (frame #${frame.index}) has no run_id, so its run cannot be followed`, {
                      component: 'agent',
                      layer: 'ordering',
                      code: 'missing-run-id',
                      endpoint: this.endpoint,
                      evidence: { frame: compactFrame(frame) },
                    }),
                  ),
                );
                return true;
              }
              runId = id;
              windowStart = frame.index;
            } else if (id !== undefined && id !== runId) {
              if (this.#startedHere(id, frame.index)) return false; // another run of this connection
              const followed = runId;
              settle(() => reject(this.#foreignRunError(frame, id, followed, started, events)));
              return true;
            }
            events.push(frame);
            if (isTerminalEventType(frame.type)) {
              const finalRunId = runId;
              settle(() => resolve({ runId: finalRunId, events: [...events], terminal: frame }));
              return true;
            }
            return false;
          };

          for (const frame of this.#frames) {
            if (consider(frame)) return;
          }
          if (this.#closeInfo) {
            settle(() => reject(this.#closedError(`the terminal event of run ${runId ?? label}`, started)));
            return;
          }
          signal.addEventListener('abort', onAbort, { once: true });
          unsubscribe = this.subscribe((event) => {
            if (settled) return;
            if (event.kind === 'close') {
              settle(() => reject(this.#closedError(`the terminal event of run ${runId ?? label}`, started, events)));
              return;
            }
            const before = events.length;
            if (!consider(event.frame) && events.length > before) armStall();
          });
          armStall();
        }),
      {
        component: 'agent',
        endpoint: this.endpoint,
        context: () =>
          `waiting for the terminal event of run ${runId ?? label}; ${plural(events.length, 'event')} of the run so far; last frame seen: ${this.#describeLast()}`,
        evidence: () => ({ runId, events: events.map((e) => compactFrame(e)), lastFrames: this.#lastFrames(10) }),
      },
    );
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
      text: `#${String(f.index).padEnd(4)} t+${String(Math.round(f.receivedAt)).padStart(6)} ms  <- ${f.type}  ${truncateText(redactText(f.error ? `${f.error.message} | ${f.raw}` : f.raw, this.#secrets), maxChars)}`,
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
    const runId = frame.type === 'agent_started' ? runIdOf(frame) : undefined;
    if (runId !== undefined && !this.#startedRuns.has(runId)) this.#startedRuns.set(runId, frame.index);
    this.#emit({ kind: 'frame', frame });
  }

  /** Run `runId` was opened by an agent_started on this connection at or before `index`. */
  #startedHere(runId: string, index: number): boolean {
    const at = this.#startedRuns.get(runId);
    return at !== undefined && at <= index;
  }

  /** The wait in progress fails on a bad frame: classified by its FrameError, with where it came. */
  #badFrameError(frame: CapturedFrame, context: string, startedMs: number, runEvents?: CapturedFrame[]): CheckError {
    const error = frame.error!;
    const preview = redactText(error.preview, this.#secrets);
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
          lastFrames: this.#lastFrames(10),
        },
      },
      { cause: error },
    );
  }

  #foreignRunError(frame: CapturedFrame, foreignRunId: string, runId: string, startedMs: number, runEvents: CapturedFrame[]): CheckError {
    const started = [...this.#startedRuns].filter(([, at]) => at <= frame.index).map(([id]) => id);
    return new CheckError(
      `${frame.type} (frame #${frame.index} at t+${formatMs(frame.receivedAt)}) carries run_id ${foreignRunId}, the run_id of another run: this connection started ${started.length === 1 ? 'only run' : 'runs'} ${started.join(', ')} and was following run ${runId}; every event must carry its own run's run_id`,
      {
        component: 'websocket',
        layer: 'frame',
        code: 'foreign-run-id',
        endpoint: this.endpoint,
        elapsedMs: Math.max(0, Math.round(this.nowMs() - startedMs)),
        evidence: {
          runId,
          foreignRunId,
          startedRuns: started,
          frame: compactFrame(frame),
          runEvents: runEvents.map((e) => compactFrame(e)),
          lastFrames: this.#lastFrames(10),
        },
      },
    );
  }

  #emit(event: SessionEvent): void {
    for (const listener of [...this.#listeners]) listener(event);
  }

  #describeLast(): string {
    const last = this.#frames[this.#frames.length - 1];
    if (!last) return 'none';
    return `#${last.index} ${last.type} at t+${formatMs(last.receivedAt)}`;
  }

  #lastFrames(n: number): ReturnType<typeof compactFrame>[] {
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
        lastFrames: this.#lastFrames(10),
      },
    };
    return new CheckError(
      `the server closed the WebSocket (${describeClose(info.code, info.reason)}) at t+${formatMs(info.atMs)} while waiting for ${what}; last frame seen: ${this.#describeLast()}`,
      details,
    );
  }
}
