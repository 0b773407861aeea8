import { describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { Budget, BudgetExceededError, DEFAULT_BUDGETS } from '../../helpers/core/budgets.ts';
import { validateBudgets } from '../../helpers/core/budget-rules.ts';
import { CheckError } from '../../helpers/core/errors.ts';
import { rejectionOf } from '../support/net.ts';

/**
 * A duration as the messages print it: `250 ms` under a second, `1 s` / `1.2 s` from there on.
 * Measured durations are matched with this; the relations that matter are asserted on numbers.
 */
const DURATION = String.raw`(?:\d+ ms|\d+(?:\.\d)? s)`;

describe('Budget', () => {
  it('records ok and error steps in its ledger with offsets and durations', async () => {
    const budget = new Budget('run', 2_000);
    await expect(budget.step('first', async () => { await sleep(40); return 7; })).resolves.toBe(7);
    const boom = new Error('boom');
    await expect(budget.step('second', async () => { throw boom; })).rejects.toBe(boom);

    const ledger = budget.ledger();
    expect(ledger.map((e) => [e.label, e.path, e.outcome])).toEqual([
      ['first', 'run › first', 'ok'],
      ['second', 'run › second', 'error'],
    ]);
    // Offsets are relative to the budget's start (the step began in the same tick), not absolute.
    expect(ledger[0]!.startMs).toBeLessThan(1_000);
    expect(ledger[0]!.durationMs).toBeGreaterThanOrEqual(35);
    expect(ledger[1]!.startMs).toBeGreaterThanOrEqual(ledger[0]!.durationMs - 2);
    expect(ledger[1]!.error).toBe('Error: boom');
  });

  it('aborts the step and throws a BudgetExceededError naming the path, the budget and the greediest step', async () => {
    // 1 s, of which 'connect' takes ~30 ms: the wait is the greediest step unless 'connect' lags by ~0.5 s.
    const budget = new Budget('agent-run', 1_000, undefined, { component: 'agent' });
    await budget.step('connect', async () => { await sleep(30); });
    let abortedWith: unknown;
    const started = performance.now();
    const error = await rejectionOf(
      budget.step('wait agent_completed', (signal) => new Promise((_, reject) => {
        signal.addEventListener('abort', () => { abortedWith = signal.reason; reject(new Error('aborted by signal')); });
      }), { context: () => 'waiting for agent_completed' }),
    );
    const waited = performance.now() - started;

    expect(error).toBeInstanceOf(BudgetExceededError);
    expect(error).toBeInstanceOf(CheckError);
    const e = error as BudgetExceededError;
    expect(abortedWith, 'the signal is aborted with the same error').toBe(e);
    // Timers fire up to ~1 ms before performance.now() reaches them (libuv's clock is in whole ms).
    expect(e.details.elapsedMs, 'ran to the end of the budget').toBeGreaterThanOrEqual(998);
    expect(waited, 'stopped by the budget: the step itself never settles').toBeLessThan(10_000);
    expect(e.message).toMatch(
      new RegExp(`^Budget exhausted at 'agent-run › wait agent_completed': budget 'agent-run' \\(1 s\\) ran out after ${DURATION}; step 'wait agent_completed' used ${DURATION} of 1 s; waiting for agent_completed$`),
    );
    expect(e.details.component).toBe('agent');
    expect(e.details.layer).toBe('budget');
    expect(e.budgetPath).toBe('agent-run');
    expect(e.stepLabel).toBe('wait agent_completed');
    expect(e.greediestStep?.label).toBe('wait agent_completed');
    const ledger = e.details.evidence?.ledger as { label: string; outcome: string }[];
    expect(ledger.map((l) => `${l.label}:${l.outcome}`)).toEqual(['connect:ok', 'wait agent_completed:exhausted']);
    expect(budget.ledger().map((l) => l.outcome)).toEqual(['ok', 'exhausted']);
  });

  it('defaults the blamed component to network and lets a step override it', async () => {
    const budget = new Budget('b', 50);
    const plain = (await rejectionOf(budget.step('x', () => sleep(200)))) as CheckError;
    expect(plain.details.component).toBe('network');
    const budget2 = new Budget('b2', 50);
    const ws = (await rejectionOf(budget2.step('y', () => sleep(200), { component: 'websocket', endpoint: 'ws://h/ws' }))) as CheckError;
    expect(ws.details.component).toBe('websocket');
    expect(ws.details.endpoint).toBe('ws://h/ws');
  });

  it('names the step that ate the time when a later step starts with nothing left', async () => {
    // The step ends well inside the budget (700 ms to spare); untracked time then spends the rest.
    const budget = new Budget('probe', 1_000);
    await budget.step('slow query', () => sleep(300));
    while (!budget.isExhausted()) await sleep(budget.remainingMs() + 1);
    const error = (await rejectionOf(budget.step('next', async () => 'never'))) as BudgetExceededError;
    expect(error).toBeInstanceOf(BudgetExceededError);
    expect(error.message).toMatch(new RegExp(`^Budget exhausted at 'probe › next': budget 'probe' \\(1 s\\) ran out after ${DURATION}; step 'slow query' used ${DURATION} of 1 s$`));
    expect(error.greediestStep?.label).toBe('slow query');
    expect(error.greediestStep?.durationMs).toBeGreaterThanOrEqual(298);
    expect(budget.ledger().map((e) => `${e.label}:${e.outcome}:${e.durationMs === 0 ? 0 : 'n'}`)).toEqual([
      'slow query:ok:n',
      'next:exhausted:0',
    ]);
  });

  it('caps a child by the parent remaining time and reports the cap', async () => {
    const parent = new Budget('suite', 1_000);
    await sleep(60);
    const leftBefore = parent.remainingMs();
    const child = parent.child('handshake', 10_000);
    const leftAfter = parent.remainingMs();
    expect(child.requestedMs).toBe(10_000);
    expect(child.capped).toBe(true);
    // Exactly what the parent had left at that moment, however long the sleep took.
    expect(child.ms).toBeLessThanOrEqual(leftBefore);
    expect(child.ms).toBeGreaterThanOrEqual(leftAfter);
    expect(child.ms).toBeLessThanOrEqual(1_000 - 59);
    expect(child.deadline).toBe(parent.deadline);
    expect(child.path).toBe('suite › handshake');
    const error = (await rejectionOf(child.step('upgrade', () => sleep(5_000)))) as BudgetExceededError;
    expect(error.message).toMatch(new RegExp(`budget 'suite › handshake' \\(${DURATION}\\)`));
    expect(error.message).toContain('(asked for 10 s, capped by its parent)');
    expect(error.budgetPath).toBe('suite › handshake');
  });

  it('gives a child all the remaining time by default and a smaller one when asked', () => {
    const parent = new Budget('p', 60_000);
    expect(parent.ms).toBe(60_000);
    expect(parent.capped).toBe(false);
    const leftBefore = parent.remainingMs();
    const all = parent.child('all');
    const leftAfter = parent.remainingMs();
    expect(all.ms).toBeLessThanOrEqual(leftBefore);
    expect(all.ms).toBeGreaterThanOrEqual(leftAfter);
    expect(all.capped).toBe(false);
    expect(all.deadline).toBeLessThanOrEqual(parent.deadline);
    expect(parent.child('small', 100).ms).toBe(100);
    expect(parent.child('big', 120_000).capped).toBe(true);
  });

  it('shows child steps in the parent ledger under a nested label', async () => {
    const root = new Budget('agent-run', 30_000);
    await root.step('send', async () => undefined);
    const connect = root.child('connect', 10_000);
    await connect.step('ws handshake', () => sleep(20));
    const deep = connect.child('auth');
    await deep.step('ticket', async () => undefined);
    await root.step('wait', () => sleep(10));

    expect(root.ledger().map((e) => e.label)).toEqual(['send', 'connect › ws handshake', 'connect › auth › ticket', 'wait']);
    expect(root.ledger().map((e) => e.path)).toEqual([
      'agent-run › send',
      'agent-run › connect › ws handshake',
      'agent-run › connect › auth › ticket',
      'agent-run › wait',
    ]);
    expect(connect.ledger().map((e) => e.label)).toEqual(['ws handshake', 'auth › ticket']);
    // startMs is relative to the budget whose ledger it is.
    const inRoot = root.ledger()[1]!;
    const inChild = connect.ledger()[0]!;
    expect(inRoot.startMs).toBeGreaterThanOrEqual(inChild.startMs);
    expect(root.formatLedger().split('\n')).toHaveLength(4);
  });

  it('marks a parent step exhausted when a nested budget inside it ran out', async () => {
    const root = new Budget('root', 30_000);
    const error = await rejectionOf(
      root.step('outer', async () => {
        const inner = root.child('inner', 50);
        await inner.step('slow', () => sleep(5_000));
      }),
    );
    expect(error).toBeInstanceOf(BudgetExceededError);
    expect((error as BudgetExceededError).budgetPath).toBe('root › inner');
    expect(root.ledger().map((e) => `${e.label}:${e.outcome}`)).toEqual(['outer:exhausted', 'inner › slow:exhausted']);
  });

  it('aborts its own signal when the time is up, with a BudgetExceededError reason', async () => {
    const budget = new Budget('sig', 60);
    const signal = budget.signal;
    expect(signal.aborted).toBe(false);
    await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
    expect(signal.reason).toBeInstanceOf(BudgetExceededError);
    // The abort timer may fire up to ~1 ms before performance.now() reaches the deadline.
    expect(budget.elapsedMs()).toBeGreaterThanOrEqual(58);
    while (budget.remainingMs() > 0) await sleep(1);
    expect(budget.remainingMs()).toBe(0);
    expect(budget.isExhausted()).toBe(true);
    expect(budget.elapsedMs()).toBeGreaterThanOrEqual(60);
  });

  it('rejects nonsense sizes as harness bugs', () => {
    expect(() => new Budget('x', -1)).toThrow(/ms must be a finite number >= 0/);
    expect(() => new Budget('x', Number.NaN)).toThrow(/ms must be a finite number >= 0/);
  });
});

describe('validateBudgets', () => {
  it('accepts the defaults with the catalog KPI', () => {
    expect(validateBudgets({ ...DEFAULT_BUDGETS }, { dbResponseP95: 3_000 })).toEqual([]);
  });

  it('flags a WS receive budget not above the agent budget', () => {
    expect(validateBudgets({ wsReceive: 30_000, agentRun: 30_000 }, {})).toEqual([
      "budget 'wsReceive' (30000 ms) must be greater than budget 'agentRun' (30000 ms): the contract requires the WS receive budget to exceed the agent budget",
    ]);
  });

  it('flags a budget at or below its own KPI threshold, by budget name or through a link', () => {
    expect(validateBudgets({ dbProbe: 3_000 }, { dbResponseP95: 3_000 })).toEqual([
      "budget 'dbProbe' (3000 ms) must be greater than its KPI threshold 'dbResponseP95' (3000 ms): a probe cut off at the threshold cannot measure the KPI",
    ]);
    expect(validateBudgets({ httpRequest: 2_000 }, { httpRequest: 2_500 })).toHaveLength(1);
    expect(validateBudgets({ storeQuery: 2_000 }, { dbP95: 3_000 }, { storeQuery: 'dbP95' })).toEqual([
      "budget 'storeQuery' (2000 ms) must be greater than its KPI threshold 'dbP95' (3000 ms): a probe cut off at the threshold cannot measure the KPI",
    ]);
  });

  it('names budgets the way the caller asks (config passes its env variable names)', () => {
    expect(validateBudgets({ wsReceive: 1_000, agentRun: 2_000 }, {}, {}, (key) => `BUDGET_${key.toUpperCase()}`)).toEqual([
      'BUDGET_WSRECEIVE (1000 ms) must be greater than BUDGET_AGENTRUN (2000 ms): the contract requires the WS receive budget to exceed the agent budget',
    ]);
  });

  it('flags non-positive budgets, a stall not below the agent budget and a largest tier below the base', () => {
    expect(validateBudgets({ agentRun: 30_000, stall: 30_000, agentRunLargest: 20_000, httpRequest: 0 }, {})).toEqual([
      "budget 'httpRequest' must be a finite number of ms > 0, got 0",
      "budget 'agentRunLargest' (20000 ms) must not be below budget 'agentRun' (30000 ms)",
      "budget 'stall' (30000 ms) must be less than budget 'agentRun' (30000 ms), or a stall can never be detected before the run budget ends",
    ]);
  });
});
