/**
 * When the monitor alerts: a pure state machine over iteration outcomes, no I/O and no clock.
 *
 * - An incident is one cause (scripts/monitor/causes.ts: component + layer + code of failed
 *   tests, as GitHub annotations group them; or a failed KPI; or a failed latency budget).
 *   Ten tests refused by one 503 are one incident.
 * - A cause that fails `alertAfter` iterations in a row opens its incident, and the iteration
 *   that confirms it sends ONE alert naming every cause it confirmed. A cause already open is
 *   never alerted again, however long it stays.
 * - An open incident recovers when an iteration runs its checks to a verdict and the cause is
 *   gone: ONE recovery names every cause that recovered in that iteration. A cause whose checks
 *   did not run (blocked by a failed phase 1, filtered) is neither failing nor recovered: it
 *   keeps its state, as does a pending streak.
 * - An INCONCLUSIVE iteration (exit 2: harness or configuration error, target version changed
 *   during the run, no verdict) is not a product result: it changes nothing. Streaks are neither
 *   extended nor broken, open incidents stay open. It is counted, so the caller can say how many
 *   came in a row.
 *
 * Bounded: at most {@link MAX_TRACKED} causes are tracked (pending and open together) and each
 * keeps at most {@link CHECKS_PER_CAUSE} checks; nothing is kept per iteration.
 */
import type { Cause } from './causes.ts';

export const MAX_TRACKED = 200;
export const CHECKS_PER_CAUSE = 20;

export interface Observation {
  iteration: number;
  /** When the iteration started (ISO 8601). */
  at: string;
  /** 0 healthy, 1 product failure, 2 inconclusive (e2e's exit codes). */
  exitCode: number;
  causes: readonly Cause[];
  /** Checks that ran to a product verdict in this iteration. */
  observed: ReadonlySet<string>;
}

export interface TrackedCause extends Cause {
  firstFailedAt: string;
  firstFailedIteration: number;
  lastFailedIteration: number;
  /** Iterations with a product verdict in which it failed, since it first did. */
  failingIterations: number;
}

export interface OpenIncident extends TrackedCause {
  alertedAt: string;
  alertedIteration: number;
}

export interface RecoveredIncident extends OpenIncident {
  recoveredAt: string;
  recoveredIteration: number;
}

export interface IncidentState {
  readonly pending: ReadonlyMap<string, TrackedCause>;
  readonly open: ReadonlyMap<string, OpenIncident>;
  /** Inconclusive iterations in a row, up to this one. */
  readonly inconclusiveStreak: number;
}

export interface Step {
  state: IncidentState;
  /** Causes confirmed by this iteration: one alert. */
  alerted: OpenIncident[];
  /** Open incidents whose cause is gone in this iteration: one recovery. */
  recovered: RecoveredIncident[];
  /** The iteration was inconclusive and changed nothing. */
  inconclusive: boolean;
}

export function initialState(): IncidentState {
  return { pending: new Map(), open: new Map(), inconclusiveStreak: 0 };
}

/** Whether the iteration could have shown the cause: one of its checks ran to a verdict. */
function seen(cause: Pick<Cause, 'checks'>, observed: ReadonlySet<string>): boolean {
  return cause.checks.some((check) => observed.has(check));
}

function mergedChecks(a: readonly string[], b: readonly string[]): string[] {
  return [...new Set([...b, ...a])].slice(0, CHECKS_PER_CAUSE);
}

export function nextState(state: IncidentState, observation: Observation, rule: { alertAfter: number }): Step {
  if (observation.exitCode !== 0 && observation.exitCode !== 1) {
    return { state: { ...state, inconclusiveStreak: state.inconclusiveStreak + 1 }, alerted: [], recovered: [], inconclusive: true };
  }
  const pending = new Map(state.pending);
  const open = new Map(state.open);
  const alerted: OpenIncident[] = [];
  const recovered: RecoveredIncident[] = [];
  const failing = new Map(observation.causes.map((cause) => [cause.key, cause]));

  for (const cause of failing.values()) {
    const known = open.get(cause.key);
    if (known) {
      // Still failing: the incident stays open and silent; its evidence is the latest.
      open.set(cause.key, { ...known, ...cause, checks: mergedChecks(known.checks, cause.checks), lastFailedIteration: observation.iteration, failingIterations: known.failingIterations + 1 });
      continue;
    }
    const before = pending.get(cause.key);
    if (!before && pending.size + open.size >= MAX_TRACKED) continue;
    const tracked: TrackedCause = before
      ? { ...before, ...cause, checks: mergedChecks(before.checks, cause.checks), lastFailedIteration: observation.iteration, failingIterations: before.failingIterations + 1 }
      : { ...cause, checks: cause.checks.slice(0, CHECKS_PER_CAUSE), firstFailedAt: observation.at, firstFailedIteration: observation.iteration, lastFailedIteration: observation.iteration, failingIterations: 1 };
    if (tracked.failingIterations >= rule.alertAfter) {
      pending.delete(cause.key);
      const incident: OpenIncident = { ...tracked, alertedAt: observation.at, alertedIteration: observation.iteration };
      open.set(cause.key, incident);
      alerted.push(incident);
    } else {
      pending.set(cause.key, tracked);
    }
  }

  for (const [key, tracked] of pending) {
    // A streak is broken only by an iteration that ran the checks and saw no failure.
    if (!failing.has(key) && seen(tracked, observation.observed)) pending.delete(key);
  }
  for (const [key, incident] of open) {
    if (failing.has(key) || !seen(incident, observation.observed)) continue;
    open.delete(key);
    recovered.push({ ...incident, recoveredAt: observation.at, recoveredIteration: observation.iteration });
  }
  return { state: { pending, open, inconclusiveStreak: 0 }, alerted, recovered, inconclusive: false };
}
