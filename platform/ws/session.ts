import WebSocket from 'ws';
import type { AgentRunner } from '../agent/runner.ts';
import type { FrameStyle } from '../config.ts';
import type { PlatformContext } from '../context.ts';
import type { BehaviourSwitches, GarbageKind } from '../faults/behaviour.ts';
import type { Logger } from '../util/log.ts';
import { newId } from '../util/ids.ts';
import { errorMessage } from '../util/time.ts';
import { garbageFrame, renderFrame } from './frames.ts';

export interface SessionUser {
  id: string;
  email: string;
}

/**
 * One authenticated connection. Events of runs it starts go to it alone. Client silence longer
 * than the heartbeat interval is answered with a heartbeat frame; idle connections are never
 * closed by the server.
 */
export class Session {
  readonly id = newId();
  readonly user: SessionUser;
  private readonly socket: WebSocket;
  private readonly agent: AgentRunner;
  private readonly log: Logger;
  private readonly behaviour: BehaviourSwitches;
  private readonly heartbeatMs: number;
  private heartbeat: NodeJS.Timeout | undefined;
  private readonly frameStyle: FrameStyle;
  /** Server WebSocket pings while a run is active (0: none). */
  private readonly pingMs: number;
  private pinger: NodeJS.Timeout | undefined;
  private activeRuns = 0;

  constructor(socket: WebSocket, user: SessionUser, agent: AgentRunner, context: PlatformContext) {
    this.socket = socket;
    this.user = user;
    this.agent = agent;
    this.log = context.log;
    this.behaviour = context.behaviour;
    this.heartbeatMs = context.config.wsHeartbeatS * 1000;
    this.frameStyle = context.config.frameStyle;
    this.pingMs = context.config.wsPingMs;
    socket.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    socket.on('close', () => {
      clearTimeout(this.heartbeat);
      clearInterval(this.pinger);
    });
    socket.on('error', () => undefined);
    // The wrapped (staging-like) form also advertises the heartbeat interval, as real servers often do.
    this.send('connection_established', {
      connection_id: this.id,
      user_id: user.id,
      ...(this.frameStyle === 'wrapped' ? { heartbeat_interval_s: context.config.wsHeartbeatS } : {}),
    });
    this.armHeartbeat();
  }

  private armHeartbeat(): void {
    clearTimeout(this.heartbeat);
    this.heartbeat = setTimeout(() => {
      // Fault no_heartbeat: the timer still runs, the frame is never sent.
      if (!this.behaviour.has('no_heartbeat')) this.send('heartbeat');
      this.armHeartbeat();
    }, this.heartbeatMs);
  }

  send(type: string, fields: Record<string, unknown> = {}): void {
    if (this.socket.readyState === WebSocket.OPEN) this.socket.send(renderFrame(this.frameStyle, type, fields));
  }

  private ping(): void {
    if (this.socket.readyState === WebSocket.OPEN) this.socket.ping();
  }

  /** Pings now and every `pingMs` while at least one run of this connection is active. */
  private runStarted(): void {
    this.activeRuns += 1;
    if (this.pingMs <= 0 || this.pinger) return;
    this.ping();
    this.pinger = setInterval(() => this.ping(), this.pingMs);
  }

  private runEnded(): void {
    this.activeRuns = Math.max(0, this.activeRuns - 1);
    if (this.activeRuns > 0 || !this.pinger) return;
    clearInterval(this.pinger);
    this.pinger = undefined;
  }

  private sendError(code: string, message: string, correlationId?: string): void {
    this.send('error', { error_code: code, message, correlation_id: correlationId });
  }

  private onMessage(data: WebSocket.RawData, isBinary: boolean): void {
    this.armHeartbeat();
    if (isBinary) {
      this.sendError('BINARY_NOT_SUPPORTED', 'binary frames are not supported; send JSON text frames');
      return;
    }
    let message: unknown;
    try {
      message = JSON.parse(data.toString());
    } catch (error) {
      this.sendError('JSON_PARSE_ERROR', `frame is not valid JSON: ${errorMessage(error)}`);
      return;
    }
    if (typeof message !== 'object' || message === null || Array.isArray(message) || typeof (message as { type?: unknown }).type !== 'string') {
      this.sendError('INVALID_MESSAGE', 'a frame must be a JSON object with a string "type"');
      return;
    }
    const { type, payload, data: wrapped, correlation_id } = message as { type: string; payload?: unknown; data?: unknown; correlation_id?: unknown };
    const correlationId = typeof correlation_id === 'string' && correlation_id ? correlation_id : undefined;
    switch (type) {
      case 'ping':
        // Fault no_pong: the ping is read and left unanswered.
        if (!this.behaviour.has('no_pong')) this.send('pong', { correlation_id: correlationId });
        return;
      case 'start_agent':
        this.startRun(payload ?? wrapped ?? message, 'user_request', correlationId);
        return;
      case 'user_message':
        this.startRun(payload ?? wrapped ?? message, 'message', correlationId);
        return;
      default:
        this.send('ack', { received_type: type, correlation_id: correlationId });
    }
  }

  private startRun(payload: unknown, textField: 'user_request' | 'message', correlationId: string | undefined): void {
    // `payload` is the contract's form; `data`-wrapped or flat fields are accepted too.
    const body = (typeof payload === 'object' && payload !== null ? payload : {}) as Record<string, unknown>;
    const text = body[textField];
    const threadId = body.thread_id;
    if (typeof text !== 'string' || !text.trim() || (threadId !== undefined && threadId !== null && typeof threadId !== 'string')) {
      this.sendError('INVALID_MESSAGE', `payload.${textField} must be a non-empty string and payload.thread_id a string when given`, correlationId);
      return;
    }
    const request = { userId: this.user.id, text: text.trim(), threadId: threadId || undefined, correlationId: correlationId ?? newId() };
    // Fault frame_garbage: one malformed frame right after this run's agent_started.
    let garbage: GarbageKind | undefined = this.behaviour.get('frame_garbage')?.kind;
    this.runStarted();
    this.agent
      .run(request, (event) => {
        const { type, ...fields } = event;
        this.send(String(type), fields);
        if (garbage && type === 'agent_started') {
          this.sendGarbage(garbage, String(event.run_id));
          garbage = undefined;
        }
      })
      .catch((error: unknown) => this.log.warn(`agent run crashed: ${errorMessage(error)}`))
      .finally(() => this.runEnded());
  }

  private sendGarbage(kind: GarbageKind, runId: string): void {
    if (this.socket.readyState !== WebSocket.OPEN) return;
    const { data, binary } = garbageFrame(kind, runId, this.agent.otherRunId(runId));
    this.socket.send(data, { binary });
  }

  close(code: number, reason: string): void {
    clearTimeout(this.heartbeat);
    clearInterval(this.pinger);
    this.socket.close(code, reason);
  }
}
