import { afterEach, describe, expect, it, vi } from 'vitest';
import { Budget } from '../../helpers/core/budgets.ts';
import { setProgressSink, STILL_WAITING_EVERY_MS, stillWaitingLine, watchWait, type ProgressClock } from '../../helpers/core/progress.ts';

/** A clock whose time moves only when told, with the intervals it was asked for. */
function fakeClock(): ProgressClock & { advance(ms: number): void; live(): number } {
  let now = 0;
  const intervals = new Map<number, { fn: () => void; every: number; next: number }>();
  let ids = 0;
  return {
    now: () => now,
    setInterval: (fn, every) => {
      ids += 1;
      intervals.set(ids, { fn, every, next: now + every });
      return { id: ids, unref: () => undefined } as unknown as { unref(): unknown };
    },
    clearInterval: (handle) => intervals.delete((handle as { id: number }).id),
    advance(ms) {
      const end = now + ms;
      for (;;) {
        const due = [...intervals.values()].filter((i) => i.next <= end).sort((a, b) => a.next - b.next)[0];
        if (!due) break;
        now = due.next;
        due.next += due.every;
        due.fn();
      }
      now = end;
    },
    live: () => intervals.size,
  };
}

afterEach(() => {
  setProgressSink(undefined);
  vi.useRealTimers();
});

describe('still-waiting line', () => {
  it('names the time against the allowance, what is awaited, its budget and the test', () => {
    expect(stillWaitingLine({
      label: 'wait a heartbeat after 35 s of client silence',
      budgetPath: 'first heartbeat',
      subject: 'tests/phase2/realtime.test.ts > WebSocket idle connection > sends a heartbeat',
      elapsedMs: 20_004,
      allowedMs: 43_750,
    })).toBe('stagecheck: still waiting 20 s of 44 s: wait a heartbeat after 35 s of client silence (budget first heartbeat) — tests/phase2/realtime.test.ts > WebSocket idle connection > sends a heartbeat');
  });

  it('leaves the test out when nobody named it', () => {
    expect(stillWaitingLine({ label: 'ws handshake', budgetPath: 'connect', elapsedMs: 10_000, allowedMs: 12_000 })).toBe('stagecheck: still waiting 10 s of 12 s: ws handshake (budget connect)');
  });
});

describe('watchWait', () => {
  it('says it is still waiting every 10 s while the wait lasts, and never after it stopped', () => {
    const clock = fakeClock();
    const lines: string[] = [];
    setProgressSink((line) => lines.push(line));
    const stop = watchWait({ label: 'wait x', budgetPath: 'b', allowedMs: 35_000 }, clock);
    clock.advance(STILL_WAITING_EVERY_MS - 1);
    expect(lines, 'nothing before 10 s').toEqual([]);
    clock.advance(1);
    clock.advance(15_000);
    expect(lines).toEqual(['stagecheck: still waiting 10 s of 35 s: wait x (budget b)', 'stagecheck: still waiting 20 s of 35 s: wait x (budget b)']);
    stop();
    stop();
    expect(clock.live(), 'its timer is cleared').toBe(0);
    clock.advance(60_000);
    expect(lines).toHaveLength(2);
  });

  it('does not watch a wait allowed 10 s or less, nor any wait without a sink', () => {
    const clock = fakeClock();
    const lines: string[] = [];
    watchWait({ label: 'no sink', budgetPath: 'b', allowedMs: 60_000 }, clock);
    setProgressSink((line) => lines.push(line));
    watchWait({ label: 'short', budgetPath: 'b', allowedMs: STILL_WAITING_EVERY_MS }, clock);
    expect(clock.live()).toBe(0);
    clock.advance(60_000);
    expect(lines).toEqual([]);
  });

  it('keeps the wait going when the sink throws', () => {
    const clock = fakeClock();
    setProgressSink(() => { throw new Error('sink broke'); });
    const stop = watchWait({ label: 'x', budgetPath: 'b', allowedMs: 30_000 }, clock);
    expect(() => clock.advance(25_000)).not.toThrow();
    stop();
  });
});

describe('Budget.step progress', () => {
  it('reports a long step every 10 s with the test that waits, and stops reporting when the step ends', async () => {
    vi.useFakeTimers();
    const lines: string[] = [];
    setProgressSink((line) => lines.push(line));
    const budget = new Budget('first heartbeat', 35_000, undefined, { subject: 'realtime > sends a heartbeat' });
    const step = budget.child('waits').step('wait a heartbeat', () => new Promise<string>((resolve) => setTimeout(() => resolve('beat'), 25_000)));
    await vi.advanceTimersByTimeAsync(25_000);
    await expect(step).resolves.toBe('beat');
    expect(lines).toEqual([
      'stagecheck: still waiting 10 s of 35 s: wait a heartbeat (budget first heartbeat › waits) — realtime > sends a heartbeat',
      'stagecheck: still waiting 20 s of 35 s: wait a heartbeat (budget first heartbeat › waits) — realtime > sends a heartbeat',
    ]);
    expect(vi.getTimerCount(), 'no timer left behind').toBe(0);
  });

  it('says nothing of a step allowed 10 s, and clears its watch when the budget runs out', async () => {
    vi.useFakeTimers();
    const lines: string[] = [];
    setProgressSink((line) => lines.push(line));
    const short = new Budget('short', 10_000).step('quick wait', () => new Promise((resolve) => setTimeout(resolve, 9_000)));
    await vi.advanceTimersByTimeAsync(9_000);
    await short;
    const long = new Budget('long', 12_000).step('never answers', () => new Promise(() => undefined));
    const outcome = long.catch((error: Error) => error.name);
    await vi.advanceTimersByTimeAsync(12_000);
    await expect(outcome).resolves.toBe('BudgetExceededError');
    expect(lines).toEqual(['stagecheck: still waiting 10 s of 12 s: never answers (budget long)']);
    expect(vi.getTimerCount(), 'no timer left behind').toBe(0);
  });
});
