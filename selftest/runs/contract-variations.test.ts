/**
 * Issue 13 §1: every item of the contract's "What varies between deployments", one scenario
 * each, gives 0 false alarms. A transforming proxy (selftest/support/contract-proxy.ts) in front of
 * one healthy reference platform (default profile) rewrites what the platform sends into the
 * other allowed form; the slice of the suite that meets that form must PASS with 0 failed and
 * exit 0. The proxy's counters prove the variation reached the suite (a scenario whose rewrite
 * never happened would prove nothing).
 *
 * Slow tier (SLOW_SELFTESTS): thirteen suite runs. Two lanes run side by side, each with its own
 * platform; the scenarios of a lane run one after another.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CHECK_IDS, DESCRIBES, type CheckId } from '../../tests/check-ids.ts';
import { startContractProxy, type ProxyVariations } from '../support/contract-proxy.ts';
import { speedBlindEnv } from '../support/speed-blind.ts';
import { lane } from '../support/lane.ts';
import { runE2e, tailOf } from '../support/run-e2e.ts';
import { startTargetPlatform, type TargetPlatform } from '../support/target-platform.ts';

interface Scenario {
  id: string;
  /** The contract's words for the variation. */
  means: string;
  variations: ProxyVariations;
  /** `npm run e2e` arguments: the slice of the suite that meets the variation. */
  slice: readonly string[];
  /** Proxy counters that must be above zero: the variation reached the suite. */
  applied: readonly string[];
  /** At least this many tests must have run (and passed). */
  minTests: number;
  /** Checks (ids, tests/check-ids.ts) that must be among the passed ones. */
  mustPass?: readonly CheckId[];
}

const PHASE1_AGENT = DESCRIBES.agentRun;
const AGENT_RUN_SLICE = ['tests/phase1/phase1.test.ts', 'tests/phase2/agent-pipeline.test.ts', '-t', `^(${PHASE1_AGENT}|agent pipeline)`];

export const SCENARIOS: Scenario[] = [
  {
    id: 'refusal-after-started',
    means: 'a run refused before any work answers agent_started followed by agent_error',
    variations: { refusalAfterStarted: true },
    slice: ['--project', 'phase2', 'tests/phase2/agent-pipeline.test.ts', 'tests/phase2/isolation.test.ts', '-t', 'refuses a run on an unknown thread|does not let another user start a run'],
    applied: ['refusalAfterStarted'],
    minTests: 2,
    mustPass: [CHECK_IDS.agentUnknownThread, CHECK_IDS.isolationRun],
  },
  {
    id: 'one-tool',
    means: 'a successful run uses one tool (one tool_executing/tool_completed pair)',
    variations: { oneTool: true },
    slice: AGENT_RUN_SLICE,
    applied: ['oneTool'],
    minTests: 7,
    mustPass: [CHECK_IDS.agentTools],
  },
  {
    id: 'extra-events-and-fields',
    means: 'other event types inside a run (progress, partial results, status updates), several agent_thinking, fields added to every frame and body',
    variations: { extraEvents: true, extraFields: true },
    slice: ['tests/phase1/phase1.test.ts', 'tests/phase2/agent-pipeline.test.ts', 'tests/phase2/golden-path.test.ts'],
    applied: ['extraEvents', 'extraFieldsWs', 'extraFieldsHttp'],
    minTests: 30,
  },
  {
    id: 'stored-answer-formatted',
    means: 'the stored assistant message carries the answer of final_response in another format',
    variations: { storedMarkdown: true },
    slice: ['tests/phase1/phase1.test.ts', 'tests/phase2/golden-path.test.ts', 'tests/phase2/message-flow.test.ts', '-t', `^(${PHASE1_AGENT}|golden path|conversation context|orchestration)`],
    applied: ['storedMarkdown'],
    minTests: 10,
  },
  {
    id: 'data-wrapped',
    means: 'agent events nest their fields in data (data.parameters, data.result), the answer inside a structured result; other frames in data',
    variations: { wrap: 'data' },
    slice: ['tests/phase1/phase1.test.ts', 'tests/phase2/agent-pipeline.test.ts', 'tests/phase2/realtime.test.ts'],
    applied: ['wrap-data'],
    minTests: 35,
  },
  {
    id: 'payload-wrapped',
    means: 'frames carry their fields in payload',
    variations: { wrap: 'payload' },
    slice: ['tests/phase1/phase1.test.ts', 'tests/phase2/agent-pipeline.test.ts', 'tests/phase2/realtime.test.ts'],
    applied: ['wrap-payload'],
    minTests: 35,
  },
  {
    id: 'sub-agents',
    means: "sub-agents report their own agent_started/agent_thinking/agent_completed inside a run, with the run's run_id and their own agent_name",
    variations: { subAgents: true },
    slice: ['tests/phase1/phase1.test.ts', 'tests/phase2/agent-pipeline.test.ts', 'tests/phase2/message-flow.test.ts', '-t', `^(${PHASE1_AGENT}|agent pipeline|conversation context|orchestration)`],
    applied: ['subAgents'],
    minTests: 10,
  },
  {
    id: 'envelope-history-text-parts',
    means: 'the message history in an envelope {messages, total, limit, offset}, each content as text parts',
    variations: { envelopeHistory: true },
    slice: ['tests/phase1/phase1.test.ts', 'tests/phase2/golden-path.test.ts', 'tests/phase2/message-flow.test.ts', 'tests/phase2/isolation.test.ts', '-t', `^(${PHASE1_AGENT}|golden path|conversation context|orchestration|another user)`],
    applied: ['envelopeHistory'],
    minTests: 15,
  },
  {
    id: 'event-gaps-1s',
    means: 'events of a real agent arrive about a second apart',
    variations: { eventGapMs: 1000 },
    slice: AGENT_RUN_SLICE,
    applied: ['eventGap'],
    minTests: 7,
  },
  {
    id: 'pings-and-heartbeats',
    means: 'servers send WebSocket pings at any time, and heartbeats during a run',
    variations: { pingsMs: 150 },
    slice: ['tests/phase1/phase1.test.ts', 'tests/phase2/agent-pipeline.test.ts', 'tests/phase2/realtime.test.ts', '-t', `^(${PHASE1_AGENT}|WebSocket|agent pipeline)`],
    applied: ['ping', 'heartbeatDuringRun'],
    minTests: 20,
  },
  {
    id: 'cold-start',
    means: 'the first request after idle takes +3-4 s (cold start)',
    variations: { coldStartMs: 3_500 },
    slice: ['--project', 'phase1'],
    applied: ['coldStart'],
    minTests: 24,
  },
  {
    id: 'tool-failure-as-agent-error',
    means: 'a request whose tool fails ends in agent_error instead of an answer that explains it (the contract allows either terminal)',
    variations: { failureAsError: /zero|cannot|undefined/i },
    slice: ['--project', 'phase2', 'tests/phase2/agent-pipeline.test.ts', '-t', 'division by zero'],
    applied: ['failureAsError'],
    minTests: 1,
  },
  {
    id: 'ticket-ttl-from-5s',
    means: 'ttl_seconds has no bounds in the contract: a deployment that answers 422 under 5 s',
    variations: { minTicketTtlS: 5 },
    slice: ['--project', 'phase2', 'tests/phase2/realtime.test.ts', '-t', 'WebSocket tickets'],
    applied: ['ticketTtl422'],
    minTests: 2,
    mustPass: [CHECK_IDS.ticketExpired],
  },
];

const lanes = [lane(), lane()];
const platforms: (Promise<TargetPlatform> | undefined)[] = [undefined, undefined];
const reportDirs: string[] = [];

afterAll(async () => {
  for (const platform of platforms) await (await platform?.catch(() => undefined))?.stop();
  for (const dir of reportDirs) rmSync(dir, { recursive: true, force: true });
});

describe.concurrent('contract variations: every allowed form of the contract passes, 0 false alarms', () => {
  SCENARIOS.forEach((scenario, index) => {
    it(`${scenario.id}: ${scenario.means}`, async () => {
      const laneIndex = index % lanes.length;
      const { run, stats } = await lanes[laneIndex]!(async () => {
        platforms[laneIndex] ??= startTargetPlatform();
        const platform = await platforms[laneIndex]!;
        const proxy = await startContractProxy(platform.env.STAGING_BASE_URL!, scenario.variations);
        const reportDir = mkdtempSync(join(tmpdir(), `stagecheck-variation-${scenario.id}-`));
        reportDirs.push(reportDir);
        try {
          const env = platform.suiteEnv({ ...speedBlindEnv(), STAGING_BASE_URL: proxy.baseUrl, STAGING_WS_URL: proxy.wsUrl });
          return { run: await runE2e(scenario.slice, { reportDir, env, timeoutMs: 240_000 }), stats: { ...proxy.stats } };
        } finally {
          await proxy.close();
        }
      });
      const report = run.report;
      expect(report, tailOf(run)).toBeDefined();
      const failed = report!.tests.filter((t) => t.verdict !== 'PASS' && t.verdict !== 'NOT RUN');
      expect(failed.map((t) => `${t.fullName}: ${t.verdict} ${(t.failure?.message ?? t.reason ?? '').slice(0, 300)}`).join('\n'), 'tests that did not pass').toBe('');
      expect(report!.verdict, report!.reason).toBe('PASS');
      expect(run.exitCode, tailOf(run)).toBe(0);
      const passed = report!.tests.filter((t) => t.verdict === 'PASS');
      expect(passed.length, `tests run in the slice ${scenario.slice.join(' ')}`).toBeGreaterThanOrEqual(scenario.minTests);
      for (const name of scenario.mustPass ?? []) {
        expect(passed.some((t) => t.checkId === name), `${name} passed`).toBe(true);
      }
      console.info(`contract variation ${scenario.id}: ${passed.length} passed, ${failed.length} failed, exit ${run.exitCode}, proxy ${JSON.stringify(stats)}`);
      for (const counter of scenario.applied) {
        expect(stats[counter] ?? 0, `the proxy applied ${counter} (${JSON.stringify(stats)})`).toBeGreaterThan(0);
      }
    });
  });
});
