/**
 * STAGECHECK_MAX_CONCURRENCY: at most N agent runs at once against a shared deployment.
 *
 * How the cap holds across the whole run, without any shared file or lock between processes:
 * - the suite projects run `suiteWorkers(N)` = min(4, N) workers (vitest.config.ts), and
 * - each worker lets `permitsPerWorker(N)` = floor(N / workers) agent runs go at once (a
 *   semaphore in this module, taken by every agent run before its first frame is sent).
 * workers × permits ≤ N. Unset: 4 workers and no semaphore, as before.
 *
 * A run waiting for a slot waits within its own budget: a slot that does not come in time fails
 * the run as a harness error (INCONCLUSIVE: the cap was too small, the target did nothing wrong).
 * A test that starts k runs at once (two runs on one connection, several users) needs a cap
 * ≥ k per worker to run them side by side; with less, they run one after the other.
 */

/** The suite projects' worker count without a cap (vitest.config.ts). */
export const SUITE_MAX_WORKERS = 4;

/** Parses STAGECHECK_MAX_CONCURRENCY leniently (config validation reports a bad value). */
export function parseConcurrencyCap(raw: string | undefined): number | undefined {
  if (raw === undefined || !/^\s*\d+\s*$/.test(raw)) return undefined;
  const value = Number(raw);
  return value >= 1 ? value : undefined;
}

/** Workers the suite projects run with under `cap`. */
export function suiteWorkers(cap: number | undefined, maxWorkers = SUITE_MAX_WORKERS): number {
  return cap === undefined ? maxWorkers : Math.max(1, Math.min(maxWorkers, cap));
}

/** Agent runs one worker may have going at once under `cap` (Infinity: no cap). */
export function permitsPerWorker(cap: number | undefined, maxWorkers = SUITE_MAX_WORKERS): number {
  if (cap === undefined) return Number.POSITIVE_INFINITY;
  return Math.max(1, Math.floor(cap / suiteWorkers(cap, maxWorkers)));
}

/** A counting semaphore, fair (first come, first served). */
export class Semaphore {
  #free: number;
  readonly #waiting: Array<() => void> = [];
  #peak = 0;
  #held = 0;

  constructor(readonly permits: number) {
    if (!(permits >= 1)) throw new RangeError(`Semaphore: permits must be at least 1, got ${permits}`);
    this.#free = permits;
  }

  /** Most permits ever held at once. */
  get peak(): number {
    return this.#peak;
  }

  get held(): number {
    return this.#held;
  }

  /**
   * Resolves with a release function once a permit is free; rejects after `timeoutMs` (or when
   * `signal` aborts) without taking one. Release is idempotent.
   */
  acquire(options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<() => void> {
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const grant = (): void => {
        if (timer) clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        this.#free -= 1;
        this.#held += 1;
        this.#peak = Math.max(this.#peak, this.#held);
        let released = false;
        resolve(() => {
          if (released) return;
          released = true;
          this.#held -= 1;
          this.#free += 1;
          this.#waiting.shift()?.();
        });
      };
      const giveUp = (reason: Error): void => {
        const index = this.#waiting.indexOf(grant);
        if (index >= 0) this.#waiting.splice(index, 1);
        if (timer) clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        reject(reason);
      };
      const onAbort = (): void => giveUp(new Error('Semaphore: aborted while waiting for a permit'));
      if (this.#free > 0 && this.#waiting.length === 0) {
        grant();
        return;
      }
      if (options.signal?.aborted) {
        reject(new Error('Semaphore: aborted while waiting for a permit'));
        return;
      }
      this.#waiting.push(grant);
      if (options.timeoutMs !== undefined) {
        timer = setTimeout(() => giveUp(new Error(`Semaphore: no permit free within ${options.timeoutMs} ms`)), Math.max(0, options.timeoutMs));
      }
      options.signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}

let agentRuns: Semaphore | undefined;
let configuredCap: number | undefined;

/** Sets this worker's agent-run cap from STAGECHECK_MAX_CONCURRENCY (the config fixture calls it). */
export function configureAgentRunCap(cap: number | undefined, maxWorkers = SUITE_MAX_WORKERS): void {
  if (cap === configuredCap && (cap === undefined) === (agentRuns === undefined)) return;
  configuredCap = cap;
  const permits = permitsPerWorker(cap, maxWorkers);
  agentRuns = Number.isFinite(permits) ? new Semaphore(permits) : undefined;
}

/** This worker's agent-run semaphore, when a cap is set. */
export function agentRunSemaphore(): Semaphore | undefined {
  return agentRuns;
}

/**
 * Takes an agent-run slot (none needed without a cap). `remainingMs` bounds the wait: a slot
 * that is not free in time throws a plain Error (a harness error, never the target's fault).
 */
export async function acquireAgentRunSlot(remainingMs?: number): Promise<() => void> {
  const semaphore = agentRuns;
  if (!semaphore) return () => {};
  try {
    return await semaphore.acquire(remainingMs === undefined ? {} : { timeoutMs: remainingMs });
  } catch {
    throw new Error(
      `STAGECHECK_MAX_CONCURRENCY=${configuredCap}: no agent-run slot came free within the run's budget (${semaphore.permits} per worker, all held by other runs); ` +
        'raise the cap or give the runs more time: the target was not asked anything',
    );
  }
}
