import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import {
  acquireAgentRunSlot,
  agentRunSemaphore,
  configureAgentRunCap,
  parseConcurrencyCap,
  permitsPerWorker,
  Semaphore,
  suiteWorkers,
} from '../../helpers/core/concurrency.ts';

afterEach(() => configureAgentRunCap(undefined));

describe('STAGECHECK_MAX_CONCURRENCY across workers', () => {
  it('keeps workers x permits per worker within the cap, for every cap', () => {
    for (let cap = 1; cap <= 20; cap += 1) {
      const workers = suiteWorkers(cap);
      const permits = permitsPerWorker(cap);
      expect(workers * permits, `cap ${cap}: ${workers} workers x ${permits}`).toBeLessThanOrEqual(cap);
      expect(workers, `cap ${cap}`).toBeGreaterThanOrEqual(1);
      expect(permits, `cap ${cap}`).toBeGreaterThanOrEqual(1);
    }
    expect([suiteWorkers(1), permitsPerWorker(1)]).toEqual([1, 1]);
    expect([suiteWorkers(2), permitsPerWorker(2)]).toEqual([2, 1]);
    expect([suiteWorkers(8), permitsPerWorker(8)]).toEqual([4, 2]);
  });

  it('changes nothing without a cap: 4 workers, no semaphore', () => {
    expect(suiteWorkers(undefined)).toBe(4);
    expect(permitsPerWorker(undefined)).toBe(Number.POSITIVE_INFINITY);
    configureAgentRunCap(undefined);
    expect(agentRunSemaphore()).toBeUndefined();
  });

  it('reads the variable leniently (validation reports a bad value elsewhere)', () => {
    expect(parseConcurrencyCap('3')).toBe(3);
    expect(parseConcurrencyCap(undefined)).toBeUndefined();
    expect(parseConcurrencyCap('0')).toBeUndefined();
    expect(parseConcurrencyCap('two')).toBeUndefined();
  });
});

describe('the agent-run semaphore', () => {
  it('never lets more than the cap run at once, and every run gets its turn', async () => {
    configureAgentRunCap(2, 1);
    let running = 0;
    let peak = 0;
    const run = async (ms: number): Promise<void> => {
      const release = await acquireAgentRunSlot(5_000);
      running += 1;
      peak = Math.max(peak, running);
      await sleep(ms);
      running -= 1;
      release();
    };
    await Promise.all([30, 10, 20, 5, 15, 25].map(run));
    expect(peak).toBe(2);
    expect(agentRunSemaphore()?.peak).toBe(2);
    expect(agentRunSemaphore()?.held).toBe(0);
  });

  it('serves waiters first come, first served', async () => {
    const semaphore = new Semaphore(1);
    const order: number[] = [];
    const first = await semaphore.acquire();
    const waiters = [1, 2, 3].map((n) => semaphore.acquire().then((release) => {
      order.push(n);
      release();
    }));
    first();
    await Promise.all(waiters);
    expect(order).toEqual([1, 2, 3]);
  });

  it('gives up on a slot that does not come within the run budget, as a harness error naming the cap', async () => {
    configureAgentRunCap(1, 1);
    const held = await acquireAgentRunSlot(1_000);
    const started = performance.now();
    const error = await acquireAgentRunSlot(100).then(() => undefined, (e: unknown) => e as Error);
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(error?.message).toMatch(/^STAGECHECK_MAX_CONCURRENCY=1: no agent-run slot came free within the run's budget/);
    expect(error?.name, 'not a CheckError: the target did nothing wrong').toBe('Error');
    // The one that gave up took nothing: the next one gets the slot once it is released.
    held();
    const next = await acquireAgentRunSlot(100);
    expect(agentRunSemaphore()?.held).toBe(1);
    next();
    next();
    expect(agentRunSemaphore()?.held, 'release is idempotent').toBe(0);
  });
});
