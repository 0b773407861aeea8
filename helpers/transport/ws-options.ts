/**
 * What opening a WebSocket session takes (helpers/transport/ws-handshake.ts opens it,
 * helpers/transport/ws.ts holds it): the URL, the way of authenticating, the budget and the
 * frame limits.
 */
import type { Budget } from '../core/budgets.ts';

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
  /** Trusted CAs for wss (default: STAGING_CA_FILE beside the system store, or Node's default store). */
  ca?: string | Buffer | Array<string | Buffer>;
}

/** Above the classification limit so that a frame of a few MB is still measured exactly. */
export const DEFAULT_HARD_MAX_FRAME_BYTES = 16 * 1024 * 1024;

export interface FrameLimits {
  maxFrameBytes: number;
  hardMaxFrameBytes: number;
}
