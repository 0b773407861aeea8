/**
 * Tier P2: the catalog's rate KPIs, measured. One good run proves the path exists; a KPI
 * proves it holds for most users (a 1-in-10 failure is high-impact, not total loss, hence P2).
 *
 * Each KPI takes its minimum number of samples (product brief), at most CONCURRENCY at a time,
 * bounded in count and time, attaches them to `report.kpis` with their denominator, and fails
 * with a CheckError listing every failed sample's reason when the target is missed.
 */
import { assertKpi, describe, expectCorrectAnswer, expectPersistedTurns, recordTimeline, sampleConcurrently, test } from '../../fixtures/agent.ts';
import { loadGoldenPrompts } from '../../fixtures/golden-prompts.ts';
import { startAgentRun } from '../../helpers/agent-run.ts';

const prompts = loadGoldenPrompts();
const CONCURRENCY = 4;
/** Minimum samples from the product brief's KPI table. */
const MIN_WS_HANDSHAKES = 20;
const MIN_AGENT_RUNS = 10;
const MIN_GOLDEN_PATHS = 5;

/** How many waves `count` samples take at CONCURRENCY at a time. */
const waves = (count: number): number => Math.ceil(count / CONCURRENCY);

describe('KPI: WebSocket connection success', { tags: ['p2', 'websocket'] }, () => {
  test('establishes at least 95% of the sampled WebSocket connections', async ({ ws, budget, config, report }) => {
    const count = Math.max(MIN_WS_HANDSHAKES, config.samples.wsHandshakes);
    const perSample = config.budgets.wsHandshake;
    const result = await sampleConcurrently({
      count,
      concurrency: CONCURRENCY,
      overall: budget('ws-connection-success samples', waves(count) * perSample),
      perSampleMs: () => perSample,
      sample: async (_index, sampleBudget) => {
        const session = await ws.open({ budget: sampleBudget });
        const ms = session.handshakeMs ?? Math.round(session.nowMs());
        await session.close();
        return ms;
      },
    });
    report.measurements.push({ name: 'ws connect to connection_established', unit: 'ms', samples: result.outcomes.filter((o) => o.ok).map((o) => o.value!) });
    assertKpi(report, 'ws-connection-success', result, { target: 0.95, minSamples: count, component: 'websocket', what: 'WebSocket connection success' });
  });
});

describe('KPI: agent execution success', { tags: ['p2', 'agent', 'websocket'] }, () => {
  test('completes at least 90% of the sampled agent runs with all five events, in order, within budget', async ({ ws, threads, budget, config, report }) => {
    const count = MIN_AGENT_RUNS;
    // The first wave may meet a cold instance; later runs get the base agent budget.
    const runMs = (index: number) => config.budgets.agentRun + (index < CONCURRENCY ? config.budgets.coldStart : 0);
    const result = await sampleConcurrently({
      count,
      concurrency: CONCURRENCY,
      overall: budget('agent-execution-success samples', waves(count) * (config.budgets.wsHandshake + runMs(0))),
      perSampleMs: (index) => config.budgets.wsHandshake + runMs(index),
      sample: async (index, sampleBudget) => {
        const session = await ws.open({ budget: sampleBudget.child('ws handshake', config.budgets.wsHandshake) });
        try {
          const run = await startAgentRun(session, {
            userRequest: prompts[index % prompts.length]!.prompt,
            budget: sampleBudget.child('agent run', runMs(index)),
            stallMs: config.budgets.stall,
          });
          threads.adopt(run.threadId);
          recordTimeline(report, run);
          return run.durations.toCompleted;
        } finally {
          await session.close();
        }
      },
    });
    report.measurements.push({ name: 'agent run to terminal event', unit: 'ms', samples: result.outcomes.filter((o) => o.ok).map((o) => o.value!) });
    assertKpi(report, 'agent-execution-success', result, { target: 0.9, minSamples: count, component: 'agent', what: 'agent execution success' });
  });
});

describe('KPI: golden path completion', { tags: ['p2', 'agent', 'websocket', 'backend', 'postgres'] }, () => {
  test('completes at least 90% of the sampled golden paths: run, correct answer, messages persisted', async ({ ws, threads, api, budget, config, report }) => {
    const count = MIN_GOLDEN_PATHS;
    const perSample = config.budgets.wsHandshake + config.budgets.agentRun + config.budgets.coldStart + config.budgets.httpRequest;
    const result = await sampleConcurrently({
      count,
      concurrency: CONCURRENCY,
      overall: budget('golden-path-completion samples', waves(count) * perSample),
      perSampleMs: () => perSample,
      sample: async (index, sampleBudget) => {
        const golden = prompts[index % prompts.length]!;
        const session = await ws.open({ budget: sampleBudget.child('ws handshake', config.budgets.wsHandshake) });
        try {
          const run = await startAgentRun(session, {
            userRequest: golden.prompt,
            budget: sampleBudget.child('agent run', config.budgets.agentRun + config.budgets.coldStart),
            stallMs: config.budgets.stall,
          });
          threads.adopt(run.threadId);
          recordTimeline(report, run);
          expectCorrectAnswer(golden, run);
          await sampleBudget.step('read messages', () => expectPersistedTurns(api, run.threadId, [{ prompt: golden.prompt, run }]), { component: 'backend' });
          return Math.round(sampleBudget.elapsedMs());
        } finally {
          await session.close();
        }
      },
    });
    report.measurements.push({ name: 'golden path, handshake to messages read', unit: 'ms', samples: result.outcomes.filter((o) => o.ok).map((o) => o.value!) });
    assertKpi(report, 'golden-path-completion', result, { target: 0.9, minSamples: count, component: 'agent', what: 'golden path completion' });
  });
});
