/**
 * The shapes of a WebSocket session's waits (ws.ts runs them; helpers/contract/agent-run.ts
 * builds its run-following on them): what a wait is given, and what one frame does to it.
 */
import type { Budget } from '../core/budgets.ts';
import type { Component } from '../core/errors.ts';
import type { CapturedFrame } from '../core/frames.ts';
import type { CloseInfo } from './ws-evidence.ts';

export type SessionEvent = { kind: 'frame'; frame: CapturedFrame } | { kind: 'close'; info: CloseInfo } | { kind: 'fail'; error: Error };

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
