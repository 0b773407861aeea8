/**
 * Named, hierarchical time budgets with a ledger of where the time went.
 *
 * Style rule: every wait has a named budget, says what it waited for, and stops when its
 * time is up. A `Budget` starts counting when it is constructed. `step()` runs one named
 * piece of work against the time that is left, records it in the ledger and, when the time
 * runs out, aborts the step's signal and throws a `BudgetExceededError` that names the
 * budget path, the elapsed time and the step that ate most of the budget.
 *
 * Child budgets are capped by their parent's remaining time, and their steps also appear in
 * every ancestor's ledger under a nested label (`connect › ws handshake`).
 *
 * Real timers only: one `setTimeout` per running step, no polling; a step allowed over 10 s also
 * says it is still waiting every 10 s while it lasts (helpers/core/progress.ts).
 */
import { performance } from 'node:perf_hooks';
import { CheckError, type CheckErrorDetails, type Component } from './errors.ts';
import { formatMs } from './format.ts';
import { watchWait } from './progress.ts';

/** Separator used in budget paths: `agent-run › wait agent_completed`. */
export const PATH_SEPARATOR = ' › ';

/**
 * Default budgets in milliseconds, from the budgets seen in staging (platform contract,
 * "WebSocket" section) and the KPI table of the product brief.
 */
export const DEFAULT_BUDGETS = {
  /** Longest silence tolerated while receiving WS frames (staging WS receive budget: 35 s). Must exceed `agentRun`. */
  wsReceive: 35_000,
  /** One agent run, start_agent → terminal event (staging agent execution budget: 30 s base). */
  agentRun: 30_000,
  /** One agent run on the largest tier (staging: 120 s). */
  agentRunLargest: 120_000,
  /** Extra time allowed for a Cloud Run cold start on the first request (staging: +3–4 s). */
  coldStart: 4_000,
  /** A gap longer than this between two events of one run is a stall (contract: 15 s). */
  stall: 15_000,
  /** One HTTP request to the API (threads, messages, tickets), connect to last body byte. */
  httpRequest: 10_000,
  /**
   * One request to a health endpoint: no work behind it but the store checks, so just above
   * the catalog's 5 s failure line for them (a dead probe is a verdict in 6 s, not 10 s).
   */
  httpHealth: 6_000,
  /** One request to the auth service's token endpoints: login and test-auth hash a password (catalog: 8 s failure line). */
  httpAuth: 10_000,
  /** WS upgrade plus the `connection_established` frame. */
  wsHandshake: 10_000,
  /**
   * A pong after a ping: the server answers it at once, with no work behind it, so 5 s is ample
   * even through a busy load balancer, and a missing pong is a verdict in about 5 s, not after
   * the 35 s receive budget.
   */
  pong: 5_000,
  /** Connecting to PostgreSQL/Redis: a silent store must be detected in seconds, not minutes. */
  storeConnect: 3_000,
  /**
   * One database probe query, measured against the DB p95 KPI (target < 3 s, degraded 3–5 s).
   * Set above the degraded band so a 3–5 s answer is measured as DEGRADED, not cut off.
   */
  dbProbe: 6_000,
} as const satisfies Record<string, number>;

export type BudgetName = keyof typeof DEFAULT_BUDGETS;

export type StepOutcome = 'ok' | 'error' | 'exhausted';

export interface LedgerEntry {
  /** Step label relative to the budget whose ledger this is (`child › step` for a child's step). */
  label: string;
  /** Full path from the root budget: `agent-run › connect › ws handshake`. */
  path: string;
  /** Offset in ms from the start of the budget whose ledger this is. */
  startMs: number;
  durationMs: number;
  outcome: StepOutcome;
  /** Short error message for outcome 'error'/'exhausted'. */
  error?: string;
}

export interface BudgetOptions {
  /** Component blamed when this budget runs out (default: inherited from the parent, else 'network'). */
  component?: Component;
  /** Who waits, named in still-waiting lines: the test's full name (default: inherited from the parent). */
  subject?: string;
}

export interface StepOptions {
  /** Component blamed if this step exhausts the budget (default: the budget's component). */
  component?: Component;
  /** Endpoint the step talked to, for the error details. */
  endpoint?: string;
  /** Appended to the exhaustion message, e.g. "waiting for agent_completed; last frame seen: …". */
  context?: () => string | undefined;
  /** Merged into the exhaustion error's evidence. */
  evidence?: () => Record<string, unknown>;
}

export interface BudgetExceededInfo {
  budgetPath: string;
  budgetMs: number;
  elapsedMs: number;
  stepLabel: string | undefined;
  greediestStep: { label: string; durationMs: number } | undefined;
}

/** The budget ran out. A target failure (CheckError, layer 'budget'): the target did not answer in time. */
export class BudgetExceededError extends CheckError {
  readonly budgetPath: string;
  readonly budgetMs: number;
  readonly stepLabel: string | undefined;
  readonly greediestStep: { label: string; durationMs: number } | undefined;

  constructor(message: string, details: CheckErrorDetails, info: BudgetExceededInfo) {
    super(message, details);
    this.name = 'BudgetExceededError';
    this.budgetPath = info.budgetPath;
    this.budgetMs = info.budgetMs;
    this.stepLabel = info.stepLabel;
    this.greediestStep = info.greediestStep;
  }
}

interface RawEntry {
  label: string;
  owner: Budget;
  startAbs: number;
  durationMs: number;
  outcome: StepOutcome;
  error?: string;
}

function shortMessage(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

export class Budget {
  readonly name: string;
  readonly parent: Budget | undefined;
  /** The ms asked for. */
  readonly requestedMs: number;
  /** The ms actually granted (requested, capped by the parent's remaining time). */
  readonly ms: number;
  readonly component: Component;
  /** performance.now() at construction. */
  readonly startedAt: number;
  /** performance.now() at which the budget runs out. */
  readonly deadline: number;
  /** True when the parent's remaining time was less than the ms asked for. */
  readonly capped: boolean;
  /** Who waits (the test), for still-waiting lines; undefined when nobody said. */
  readonly subject: string | undefined;

  readonly #entries: RawEntry[] = [];
  readonly #children: Budget[] = [];
  #controller: AbortController | undefined;

  constructor(name: string, ms: number, parent?: Budget, options: BudgetOptions = {}) {
    if (!name) throw new Error('Budget needs a name');
    if (!Number.isFinite(ms) || ms < 0) throw new Error(`Budget '${name}': ms must be a finite number >= 0, got ${ms}`);
    this.name = name;
    this.parent = parent;
    this.requestedMs = ms;
    this.startedAt = performance.now();
    const own = this.startedAt + ms;
    // Half a millisecond of slack: `child(name)` asks for exactly what is left, which float
    // arithmetic can put a hair past the parent's deadline.
    this.capped = parent !== undefined && parent.deadline < own - 0.5;
    this.deadline = parent ? Math.min(own, parent.deadline) : own;
    this.ms = this.capped ? Math.max(0, this.deadline - this.startedAt) : ms;
    this.component = options.component ?? parent?.component ?? 'network';
    this.subject = options.subject ?? parent?.subject;
    if (parent) parent.#children.push(this);
  }

  /** A child budget of `ms` (default: all that is left), capped by this budget's remaining time. */
  child(name: string, ms?: number, options: BudgetOptions = {}): Budget {
    return new Budget(name, ms ?? this.remainingMs(), this, options);
  }

  /** Root-to-here names joined by ` › `. */
  get path(): string {
    return this.parent ? `${this.parent.path}${PATH_SEPARATOR}${this.name}` : this.name;
  }

  remainingMs(): number {
    return Math.max(0, this.deadline - performance.now());
  }

  elapsedMs(): number {
    return performance.now() - this.startedAt;
  }

  isExhausted(): boolean {
    return this.remainingMs() <= 0;
  }

  /**
   * Aborted (reason: BudgetExceededError) when the budget runs out. Created on first access;
   * its timer is unref'd so an unused budget never keeps the process alive.
   */
  get signal(): AbortSignal {
    if (!this.#controller) {
      const controller = new AbortController();
      this.#controller = controller;
      const fire = (): void => {
        if (!controller.signal.aborted) controller.abort(this.#exhaustedError(undefined, {}));
      };
      const left = this.remainingMs();
      if (left <= 0) fire();
      else setTimeout(fire, left).unref();
    }
    return this.#controller.signal;
  }

  /**
   * Runs `fn` against the remaining time and records it in the ledger. When the time runs
   * out first, aborts `fn`'s signal and throws BudgetExceededError. Errors thrown by `fn`
   * are recorded (outcome 'error', or 'exhausted' for a nested BudgetExceededError) and rethrown.
   */
  async step<T>(label: string, fn: (signal: AbortSignal) => Promise<T>, options: StepOptions = {}): Promise<T> {
    const startAbs = performance.now();
    const left = this.deadline - startAbs;
    if (left <= 0) {
      // Never started: it took no time (measuring it would show scheduling lag on a busy machine).
      const entry = this.#record(label, startAbs, 'exhausted', 0);
      const error = this.#exhaustedError(label, options);
      entry.error = shortMessage(error);
      throw error;
    }

    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const entry = this.#record(label, startAbs, 'exhausted');
        const error = this.#exhaustedError(label, options);
        entry.error = shortMessage(error);
        // Reject first so the race settles with the budget error, then let `fn` see the abort.
        reject(error);
        controller.abort(error);
      }, left);
    });

    let work: Promise<T>;
    try {
      work = Promise.resolve(fn(controller.signal));
    } catch (error) {
      work = Promise.reject(error);
    }
    // Once the budget has run out, a late rejection of `work` must not become unhandled.
    work.catch(() => undefined);
    // A long wait tells the person watching that it is still waiting (only over 10 s).
    const stopWatch = watchWait({ label, budgetPath: this.path, allowedMs: left, ...(this.subject ? { subject: this.subject } : {}) });

    try {
      const value = await Promise.race([work, timeout]);
      this.#record(label, startAbs, 'ok');
      return value;
    } catch (error) {
      // The timeout path has already recorded itself; whatever `fn` did after the abort, the
      // budget error is the answer.
      if (controller.signal.aborted) throw controller.signal.reason;
      const entry = this.#record(label, startAbs, error instanceof BudgetExceededError ? 'exhausted' : 'error');
      entry.error = shortMessage(error);
      throw error;
    } finally {
      clearTimeout(timer);
      stopWatch();
    }
  }

  /** Steps of this budget and of all its descendants, ordered by start. */
  ledger(): LedgerEntry[] {
    const raw: RawEntry[] = [];
    const collect = (budget: Budget): void => {
      raw.push(...budget.#entries);
      for (const child of budget.#children) collect(child);
    };
    collect(this);
    raw.sort((a, b) => a.startAbs - b.startAbs);
    return raw.map((entry) => {
      const relative = this.#relativePath(entry.owner);
      const out: LedgerEntry = {
        label: relative ? `${relative}${PATH_SEPARATOR}${entry.label}` : entry.label,
        path: `${entry.owner.path}${PATH_SEPARATOR}${entry.label}`,
        startMs: Math.round(entry.startAbs - this.startedAt),
        durationMs: Math.round(entry.durationMs),
        outcome: entry.outcome,
      };
      if (entry.error !== undefined) out.error = entry.error;
      return out;
    });
  }

  /** One line per ledger entry, for failure evidence and reports. */
  formatLedger(): string {
    return this.ledger()
      .map((e) => `+${e.startMs} ms  ${e.label}  ${formatMs(e.durationMs)}  ${e.outcome}${e.error ? `  (${e.error})` : ''}`)
      .join('\n');
  }

  #relativePath(owner: Budget): string {
    const names: string[] = [];
    for (let b: Budget | undefined = owner; b && b !== this; b = b.parent) names.unshift(b.name);
    return names.join(PATH_SEPARATOR);
  }

  #record(label: string, startAbs: number, outcome: StepOutcome, durationMs = performance.now() - startAbs): RawEntry {
    const entry: RawEntry = { label, owner: this, startAbs, durationMs, outcome };
    this.#entries.push(entry);
    return entry;
  }

  #exhaustedError(stepLabel: string | undefined, options: StepOptions): BudgetExceededError {
    const elapsed = this.elapsedMs();
    const ledger = this.ledger();
    let greediest: LedgerEntry | undefined;
    for (const entry of ledger) if (!greediest || entry.durationMs > greediest.durationMs) greediest = entry;

    const at = stepLabel === undefined ? this.path : `${this.path}${PATH_SEPARATOR}${stepLabel}`;
    let message = `Budget exhausted at '${at}': budget '${this.path}' (${formatMs(this.ms)}) ran out after ${formatMs(elapsed)}`;
    if (this.capped) message += ` (asked for ${formatMs(this.requestedMs)}, capped by its parent)`;
    message += greediest
      ? `; step '${greediest.label}' used ${formatMs(greediest.durationMs)} of ${formatMs(this.ms)}`
      : '; no step had finished';
    const context = options.context?.();
    if (context) message += `; ${context}`;

    const details: CheckErrorDetails = {
      component: options.component ?? this.component,
      layer: 'budget',
      elapsedMs: Math.round(elapsed),
      evidence: {
        budget: this.path,
        budgetMs: Math.round(this.ms),
        requestedMs: this.requestedMs,
        step: stepLabel,
        ledger,
        ...options.evidence?.(),
      },
    };
    if (options.endpoint !== undefined) details.endpoint = options.endpoint;
    return new BudgetExceededError(message, details, {
      budgetPath: this.path,
      budgetMs: this.ms,
      elapsedMs: elapsed,
      stepLabel,
      greediestStep: greediest ? { label: greediest.label, durationMs: greediest.durationMs } : undefined,
    });
  }
}
