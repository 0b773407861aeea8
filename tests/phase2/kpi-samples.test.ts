/**
 * Tier P2: the catalog's rate KPIs, measured. One good run proves the path exists; a KPI
 * proves it holds for most users (a 1-in-10 failure is high-impact, not total loss, hence P2).
 *
 * Each KPI takes its minimum number of samples (product brief), at most CONCURRENCY at a time,
 * bounded in count and time, attaches them to `report.kpis` with their denominator, and fails
 * with a CheckError listing every failed sample's reason when the target is missed.
 */
import { assertKpi, sampleConcurrently } from '../../helpers/contract/kpi.ts';
import { expectPersistedTurns } from '../../helpers/contract/threads.ts';
import { expectCorrectAnswer, loadGoldenPrompts } from '../../fixtures/golden-prompts.ts';
import { describe, recordTimeline, test } from '../../fixtures/index.ts';
import { CHECK_IDS, DESCRIBES } from '../check-ids.ts';
import { rateKpiTarget } from '../../fixtures/kpi-targets.ts';
import { startAgentRun } from '../../helpers/contract/agent-run.ts';

const prompts = loadGoldenPrompts();
const CONCURRENCY = 4;
/** Targets and minimum samples as the catalog (and so the report) has them. */
const WS = rateKpiTarget('ws-connection-success');
const AGENT = rateKpiTarget('agent-execution-success');
const GOLDEN = rateKpiTarget('golden-path-completion');

/** How many waves `count` samples take at CONCURRENCY at a time. */
const waves = (count: number): number => Math.ceil(count / CONCURRENCY);

describe(DESCRIBES.kpiWsConnections, { tags: ['p2', 'websocket'], concurrent: true }, () => {
  test(`establishes at least ${WS.percent} of the sampled WebSocket connections`, { meta: { checkId: CHECK_IDS.kpiWsConnections } }, async ({ ws, budget, config, report }) => {
    const count = Math.max(WS.minSamples, config.samples.wsHandshakes);
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
    assertKpi(report, WS.id, result, { target: WS.target, minSamples: count, component: 'websocket', what: 'WebSocket connection success' });
  });
});

describe('KPI: agent execution success', { tags: ['p2', 'agent', 'websocket'], concurrent: true }, () => {
  test(`completes at least ${AGENT.percent} of the sampled agent runs with all five events, in order, within budget`, { meta: { checkId: CHECK_IDS.kpiAgentRuns } }, async ({ ws, threads, budget, config, report }) => {
    const count = AGENT.minSamples;
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
    assertKpi(report, AGENT.id, result, { target: AGENT.target, minSamples: count, component: 'agent', what: 'agent execution success' });
  });
});

describe('KPI: golden path completion', { tags: ['p2', 'agent', 'websocket', 'backend', 'postgres'], concurrent: true }, () => {
  test(`completes at least ${GOLDEN.percent} of the sampled golden paths: run, correct answer, messages persisted`, { meta: { checkId: CHECK_IDS.kpiGoldenPath } }, async ({ ws, threads, api, budget, config, report }) => {
    const count = GOLDEN.minSamples;
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
          await sampleBudget.step('read messages', () => expectPersistedTurns(api, run.threadId, [{ prompt: golden.prompt, run, facts: golden.expect }]), { component: 'backend' });
          return Math.round(sampleBudget.elapsedMs());
        } finally {
          await session.close();
        }
      },
    });
    report.measurements.push({ name: 'golden path, handshake to messages read', unit: 'ms', samples: result.outcomes.filter((o) => o.ok).map((o) => o.value!) });
    assertKpi(report, GOLDEN.id, result, { target: GOLDEN.target, minSamples: count, component: 'agent', what: 'golden path completion' });
  });
});
