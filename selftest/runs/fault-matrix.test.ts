/**
 * Issue 6, the fault matrix: for every fault of the reference platform, the suite (run as
 * `npm run e2e` over the slice of it that the fault concerns) must catch the fault in the tests
 * that exist for it, blame the right component and layer, put exactly the right business
 * functions and tiers at risk, and keep passing the checks the fault does not touch.
 *
 * `frame_garbage` is covered by bad-frames.test.ts, the DEGRADED band of `pg_slow` by
 * reporter.test.ts. The whole suite under every fault is `npm run fault-matrix` (docs/fault-matrix.md).
 *
 * Two lanes run side by side: store faults each get a platform of their own with the fault
 * set at start (a store that recovers under a live pool is another test); behaviour faults are
 * switched on and off over the admin endpoint of one shared platform, one after another.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { BusinessImpactReport } from '../../reporter/schema.ts';
import { CHECK_IDS as ID, titlePattern, type CheckId } from '../../tests/check-ids.ts';
import { childEnv } from '../support/child-env.ts';
import { FAULT_SCENARIOS, type FaultScenario } from '../support/fault-scenarios.ts';
import { lane } from '../support/lane.ts';
import { ROOT, runE2e, tailOf, type E2eRun } from '../support/run-e2e.ts';
import { docsFile, readGeneratedSection } from '../../scripts/docs-section.ts';
import { startTargetPlatform, type TargetPlatform } from '../support/target-platform.ts';

type Blame = { component: string; layer: string | readonly string[] };

interface Expectation {
  scenario: string;
  /** `npm run e2e` arguments selecting the slice that concerns the fault. */
  slice: readonly string[];
  /** Checks (ids, tests/check-ids.ts) that must FAIL, and whom their evidence must blame. */
  caught: Partial<Record<CheckId, Blame>>;
  /** Checks (ids) of the slice the fault does not concern: they must PASS. */
  stillPass: readonly CheckId[];
  /** Exactly the business functions and tiers the report must put at risk. */
  functions: readonly string[];
  tiers: readonly string[];
  /** Time to verdict: these tests must fail within this many ms of their start. */
  failWithinMs?: Partial<Record<CheckId, number>>;
  /** Time to verdict from the agent run's start_agent: the failure's elapsed time must stay under this. */
  runVerdictWithinMs?: Partial<Record<CheckId, number>>;
  /** More checks on the report. */
  also?: (run: E2eRun) => void;
}

const PHASE1 = ['--project', 'phase1'];
const AGENT_SLICE = ['--project', 'phase1', '-t', titlePattern('agentRun', 'threadsApi')];

/** Phase-1 checks that need neither store (the auth service's health and network path report its database). */
const PHASE1_NO_STORE_NEEDED = [ID.health, ID.networkBackend, ID.wsNoCredentials, ID.backendNoToken, ID.testAuthWrongKey];

const EXPECTATIONS: Expectation[] = [
  {
    scenario: 'pg_down',
    slice: PHASE1,
    caught: {
      [ID.pgProbe]: { component: 'postgres', layer: 'tcp' },
      [ID.ready]: { component: 'postgres', layer: 'http-status' },
      [ID.apiHealth]: { component: 'postgres', layer: 'content' },
      [ID.authHealth]: { component: 'auth', layer: 'http-status' },
    },
    stillPass: [...PHASE1_NO_STORE_NEEDED, ID.redisProbe],
    functions: ['agent-orchestration', 'api-responsiveness', 'chat', 'real-time', 'user-auth'],
    tiers: ['p1', 'p2'],
  },
  {
    scenario: 'pg_slow:ms=3500',
    slice: PHASE1,
    caught: { [ID.pgProbe]: { component: 'postgres', layer: ['tcp', 'budget'] } },
    stillPass: [...PHASE1_NO_STORE_NEEDED, ID.redisProbe],
    functions: ['agent-orchestration', 'api-responsiveness', 'chat', 'real-time', 'user-auth'],
    tiers: ['p1', 'p2'],
  },
  {
    scenario: 'health_lies',
    slice: PHASE1,
    // The health endpoints lie, so the deeper checks must be the ones that catch it.
    caught: { [ID.pgProbe]: { component: 'postgres', layer: 'tcp' }, [ID.threadCreate]: { component: 'auth', layer: 'http-status' } },
    stillPass: [ID.health, ID.ready, ID.apiHealth, ID.wsHealth, ID.authHealth, ID.redisProbe, ID.networkBackend, ID.wsNoCredentials],
    // The health endpoints still answer, so API responsiveness is not what is at risk.
    functions: ['agent-orchestration', 'chat', 'real-time', 'user-auth'],
    tiers: ['p1'],
  },
  {
    scenario: 'redis_refused',
    slice: PHASE1,
    caught: {
      [ID.redisProbe]: { component: 'redis', layer: ['tcp', 'protocol'] },
      [ID.ready]: { component: 'redis', layer: 'content' },
      [ID.apiHealth]: { component: 'redis', layer: 'content' },
    },
    stillPass: [...PHASE1_NO_STORE_NEEDED, ID.pgProbe, ID.authHealth, ID.networkAuth],
    functions: ['agent-orchestration', 'api-responsiveness', 'chat', 'real-time', 'user-auth'],
    tiers: ['p1'],
  },
  {
    scenario: 'redis_silent',
    slice: PHASE1,
    caught: {
      [ID.redisProbe]: { component: 'redis', layer: ['tcp', 'budget'] },
      [ID.ready]: { component: 'redis', layer: ['content', 'budget'] },
    },
    stillPass: [...PHASE1_NO_STORE_NEEDED, ID.pgProbe, ID.authHealth, ID.networkAuth],
    functions: ['agent-orchestration', 'api-responsiveness', 'chat', 'real-time', 'user-auth'],
    tiers: ['p1'],
    // A silent Redis is reported within 5 s, not after a client's default timeout.
    failWithinMs: { [ID.redisProbe]: 5_000, [ID.ready]: 5_000 },
  },
  {
    scenario: 'backend_503',
    slice: PHASE1,
    caught: {
      [ID.health]: { component: 'backend', layer: 'http-status' },
      // A 503 that names no store is the backend's, not PostgreSQL's.
      [ID.ready]: { component: 'backend', layer: 'http-status' },
      [ID.networkBackend]: { component: 'backend', layer: 'http-status' },
      [ID.threadCreate]: { component: 'backend', layer: 'http-status' },
      [ID.wsHeader]: { component: 'websocket', layer: 'ws-handshake' },
    },
    stillPass: [ID.authHealth, ID.testAuthIssues, ID.testAuthWrongKey, ID.verifyValid, ID.verifyTampered, ID.networkAuth, ID.pgProbe, ID.redisProbe],
    functions: ['agent-orchestration', 'api-responsiveness', 'chat', 'real-time', 'user-auth'],
    tiers: ['p1', 'p2'],
  },
  {
    scenario: 'ws_reject_503:rate=0.2',
    slice: ['--project', 'phase2', 'tests/phase2/kpi-samples.test.ts', '-t', titlePattern('kpiWsConnections')],
    caught: { [ID.kpiWsConnections]: { component: 'websocket', layer: 'ws-handshake' } },
    stillPass: [],
    functions: ['real-time'],
    tiers: ['p2'],
    also: (run) => {
      // Deterministic: exactly every fifth handshake of the run is refused.
      expect(run.report!.kpis.find((k) => k.id === 'ws-connection-success')).toMatchObject({ verdict: 'FAIL', rate: { successes: 16, total: 20 } });
    },
  },
  {
    scenario: 'ws_close_1011',
    slice: ['--project', 'phase1', '-t', titlePattern('wsHandshake', 'wsMessaging', 'health', 'ready', 'apiHealth', 'wsHealth')],
    caught: {
      [ID.wsSubprotocol]: { component: 'websocket', layer: 'ws-close' },
      [ID.wsHeader]: { component: 'websocket', layer: 'ws-close' },
      [ID.wsTicket]: { component: 'websocket', layer: 'ws-close' },
      [ID.wsPing]: { component: 'websocket', layer: 'ws-close' },
    },
    stillPass: [ID.wsNoCredentials, ID.wsTampered, ID.health, ID.ready, ID.apiHealth, ID.wsHealth],
    functions: ['real-time'],
    tiers: ['p1'],
  },
  {
    scenario: 'ws_accept_invalid_tokens',
    slice: ['--project', 'phase1', '-t', titlePattern('wsHandshake', 'wsMessaging')],
    caught: { [ID.wsTampered]: { component: 'websocket', layer: 'ws-handshake' } },
    stillPass: [ID.wsSubprotocol, ID.wsHeader, ID.wsTicket, ID.wsNoCredentials, ID.wsPing],
    functions: ['real-time'],
    tiers: ['p1'],
  },
  {
    scenario: 'bypass_key_ignored',
    slice: ['--project', 'phase1', '-t', titlePattern('authHealth', 'testAuth', 'verify', 'backendAuth')],
    caught: { [ID.testAuthWrongKey]: { component: 'auth', layer: 'http-status' } },
    stillPass: [ID.authHealth, ID.testAuthIssues, ID.verifyValid, ID.verifyTampered, ID.backendNoToken],
    functions: ['user-auth'],
    tiers: ['p1'],
  },
  {
    scenario: 'auth_input_unchecked',
    slice: ['--project', 'phase2', 'tests/phase2/auth-flows.test.ts'],
    caught: {
      [ID.refreshMissingField]: { component: 'auth', layer: 'http-status' },
      [ID.testAuthMalformed]: { component: 'auth', layer: 'http-status' },
      [ID.loginMalformed]: { component: 'auth', layer: 'http-status' },
    },
    stillPass: [
      ID.refreshRotates,
      ID.loginWrongPassword,
      ID.testAuthNoKey,
      ID.logoutRevokesHttp,
    ],
    functions: ['user-auth'],
    tiers: ['p2'],
  },
  {
    scenario: 'revocation_ignored',
    slice: ['--project', 'phase2', 'tests/phase2/auth-flows.test.ts'],
    caught: {
      [ID.logoutRevokesHttp]: { component: 'auth', layer: 'http-status' },
      [ID.logoutRevokesWs]: { component: 'websocket', layer: 'ws-handshake' },
    },
    stillPass: [
      ID.refreshReused,
      ID.tamperedToken,
      ID.loginWrongPassword,
    ],
    functions: ['user-auth'],
    tiers: ['p1'],
  },
  {
    scenario: 'agent_stall:after=tool_executing',
    slice: AGENT_SLICE,
    caught: { [ID.agentRun]: { component: 'agent', layer: 'budget' } },
    stillPass: [ID.threadCreate, ID.threadDelete],
    functions: ['agent-orchestration', 'chat'],
    tiers: ['p1'],
    // From start_agent: within the stall threshold (3 s here) plus 2 s, not the whole agent budget.
    runVerdictWithinMs: { [ID.agentRun]: 3_000 + 2_000 },
  },
  ...(['agent_canned', 'agent_out_of_order', 'agent_tool_unmatched'] as const).map(
    (scenario): Expectation => ({
      scenario,
      slice: AGENT_SLICE,
      caught: { [ID.agentRun]: { component: 'agent', layer: scenario === 'agent_canned' ? 'content' : 'ordering' } },
      stillPass: [ID.threadCreate, ID.threadDelete],
      functions: ['agent-orchestration', 'chat'],
      tiers: ['p1'],
    }),
  ),
  {
    scenario: 'agent_double_terminal',
    slice: ['--project', 'phase2', 'tests/phase2/agent-pipeline.test.ts'],
    caught: {
      [ID.agentOneTerminal]: { component: 'agent', layer: 'ordering' },
      [ID.agentUnknownThread]: { component: 'agent', layer: 'ordering' },
    },
    stillPass: [ID.agentThreadId],
    functions: ['agent-orchestration', 'real-time'],
    tiers: ['p2'],
  },
  {
    scenario: 'answer_not_persisted',
    slice: AGENT_SLICE,
    caught: { [ID.agentRun]: { component: 'agent', layer: 'content' } },
    stillPass: [ID.threadCreate, ID.threadDelete],
    functions: ['agent-orchestration', 'chat'],
    tiers: ['p1'],
  },
  {
    scenario: 'thread_leak',
    slice: ['--project', 'phase2', 'tests/phase2/isolation.test.ts'],
    caught: {
      [ID.isolationRead]: { component: 'backend', layer: 'content' },
      [ID.isolationMessages]: { component: 'backend', layer: 'content' },
    },
    stillPass: [
      ID.isolationDelete,
      ID.isolationEvents,
    ],
    functions: ['user-auth'],
    tiers: ['p1'],
  },
  {
    scenario: 'agent_slow:ms=6000',
    slice: AGENT_SLICE,
    caught: { [ID.agentRun]: { component: 'agent', layer: 'budget' } },
    stillPass: [ID.threadCreate, ID.threadDelete],
    functions: ['agent-orchestration', 'chat'],
    tiers: ['p1'],
  },
  {
    // Time to verdict (issue 14 §2): a missing pong is judged by the 5 s pong budget, not the 35 s receive budget.
    scenario: 'no_pong',
    slice: ['--project', 'phase1', '-t', titlePattern('wsMessaging', 'wsHandshake')],
    caught: { [ID.wsPing]: { component: 'websocket', layer: 'budget' } },
    failWithinMs: { [ID.wsPing]: 7_000 },
    stillPass: [ID.wsSubprotocol, ID.wsHeader, ID.wsTicket],
    functions: ['real-time'],
    tiers: ['p1'],
  },
  {
    scenario: 'no_heartbeat',
    slice: ['--project', 'phase2', 'tests/phase2/realtime.test.ts'],
    caught: { [ID.heartbeat]: { component: 'websocket', layer: 'budget' } },
    stillPass: [
      ID.unknownType,
      ID.pingLatency,
      ID.ticketReused,
    ],
    functions: ['real-time'],
    tiers: ['p4'],
  },
];

const STORE_FAULTS = new Set(['pg_down', 'pg_slow', 'health_lies', 'redis_refused', 'redis_silent']);

const storeLane = lane();
/** Two shared platforms, each with its own lane: the runs wait on the network more than the CPU. */
const behaviourLanes = [lane(), lane()];
const sharedPlatforms: (Promise<TargetPlatform> | undefined)[] = [undefined, undefined];
const reportDirs: string[] = [];

afterAll(async () => {
  for (const platform of sharedPlatforms) await (await platform?.catch(() => undefined))?.stop();
  for (const dir of reportDirs) rmSync(dir, { recursive: true, force: true });
});

/** The run's endpoint and cold-start verdicts that are not PASS, each with its reason. */
function latencyProblems(report: BusinessImpactReport): string[] {
  const latency = report.latency;
  if (!latency) return [];
  return [...latency.endpoints, ...latency.coldStarts].filter((item) => item.verdict !== 'PASS' && item.verdict !== 'NOT RUN').map((item) => `${item.verdict}: ${item.reason}`);
}

function scenarioOf(id: string): FaultScenario {
  const scenario = FAULT_SCENARIOS.find((s) => s.id === id);
  if (!scenario) throw new Error(`no fault scenario "${id}" in selftest/support/fault-scenarios.ts`);
  return scenario;
}

async function runUnderFault(expectation: Expectation): Promise<E2eRun> {
  const scenario = scenarioOf(expectation.scenario);
  const reportDir = mkdtempSync(join(tmpdir(), 'stagecheck-fault-'));
  reportDirs.push(reportDir);
  const run = (platform: TargetPlatform) => runE2e(expectation.slice, { reportDir, env: platform.suiteEnv(scenario.env), timeoutMs: 120_000 });

  if (STORE_FAULTS.has(scenario.fault.name)) {
    return storeLane(async () => {
      const platform = await startTargetPlatform({ atStart: [scenario.fault] });
      try {
        return await run(platform);
      } finally {
        await platform.stop();
      }
    });
  }
  const index = EXPECTATIONS.indexOf(expectation) % behaviourLanes.length;
  return behaviourLanes[index]!(async () => {
    sharedPlatforms[index] ??= startTargetPlatform();
    const platform = await sharedPlatforms[index]!;
    await platform.setFault(scenario.fault);
    try {
      return await run(platform);
    } finally {
      await platform.clearFault(scenario.fault);
    }
  });
}

/** The suite's tests as `vitest list` names them: `phase1 › describe > test`. */
async function suiteTests(): Promise<string[]> {
  const stdout = await new Promise<string>((resolve, reject) =>
    // A child run like every other: the clean environment, explicit about its (local) target, so
    // CI=true does not refuse it.
    execFile(process.execPath, [join(ROOT, 'node_modules', 'vitest', 'vitest.mjs'), 'list', '--project', 'phase1', '--project', 'phase2', '--json'], { cwd: ROOT, env: childEnv(), maxBuffer: 16 << 20 }, (error, out) =>
      error ? reject(error) : resolve(out),
    ),
  );
  return (JSON.parse(stdout) as { name: string; projectName: string }[]).map((t) => `${t.projectName} › ${t.name}`);
}

/** The per-test table of docs/fault-matrix.md (written by `npm run fault-matrix -- --write-docs`): test → faults. */
function docsMatrix(): Map<string, string> {
  const section = readGeneratedSection(docsFile('fault-matrix.md'), 'fault-matrix');
  const rows = section.split('\n').filter((line) => /^\| phase[12] › /.test(line));
  return new Map(rows.map((line) => {
    const cells = line.split(' | ');
    return [cells[0]!.slice(2), cells.at(-1)!.replace(/ \|$/, '')];
  }));
}

describe('fault matrix in docs/fault-matrix.md', () => {
  it('lists every test of the suite with at least one fault that makes it fail', async () => {
    const [tests, matrix] = [await suiteTests(), docsMatrix()];
    expect(tests.length).toBeGreaterThanOrEqual(75);
    expect(tests.filter((name) => !matrix.has(name)), 'tests missing from the docs/fault-matrix.md table (run npm run fault-matrix -- --write-docs)').toEqual([]);
    expect([...matrix].filter(([, faults]) => !faults.includes('`')).map(([name]) => name), 'tests no fault makes fail').toEqual([]);
  });
});

describe.concurrent('fault matrix: every fault caught, blamed right, nothing else broken', () => {
  it('covers every fault of the platform catalog except the ones other self-tests cover', () => {
    const covered = new Set(EXPECTATIONS.map((e) => scenarioOf(e.scenario).fault.name));
    const elsewhere = new Set(['frame_garbage']);
    const all = new Set(FAULT_SCENARIOS.map((s) => s.fault.name));
    expect([...all].filter((name) => !covered.has(name) && !elsewhere.has(name))).toEqual([]);
  });

  for (const expectation of EXPECTATIONS) {
    it(`${expectation.scenario}: ${scenarioOf(expectation.scenario).means}`, async () => {
      const run = await runUnderFault(expectation);
      expect(run.exitCode, tailOf(run)).toBe(1);
      const report = run.report!;
      expect(report.verdict, report.reason).toBe('FAIL');
      const byCheck = new Map(report.tests.map((t) => [t.checkId, t]));

      for (const [name, blame] of Object.entries(expectation.caught) as [CheckId, Blame][]) {
        const test = byCheck.get(name);
        expect(test, `${name} is in the slice`).toBeDefined();
        expect(test!.verdict, `${name}: ${test!.reason}`).toBe('FAIL');
        const failure = test!.failure!;
        expect({ component: failure.component, harnessError: failure.harnessError ?? false }, `${name}: ${failure.message}`).toEqual({ component: blame.component, harnessError: false });
        expect([blame.layer].flat(), `${name} layer (${failure.message})`).toContain(failure.layer);
        const bound = expectation.failWithinMs?.[name];
        if (bound !== undefined) expect(test!.durationMs, `${name}: time to verdict`).toBeLessThan(bound);
        const runBound = expectation.runVerdictWithinMs?.[name];
        if (runBound !== undefined) expect(failure.elapsedMs, `${name}: start_agent → verdict (${failure.message})`).toBeLessThan(runBound);
      }
      for (const name of expectation.stillPass) {
        const test = byCheck.get(name);
        expect(test, `${name} is in the slice`).toBeDefined();
        expect(test!.verdict, `${name} must not be touched by the fault: ${test!.failure?.message ?? test!.reason}`).toBe('PASS');
      }
      const atRisk = (items: { id: string; verdict: string }[]) => items.filter((i) => i.verdict === 'FAIL' || i.verdict === 'DEGRADED').map((i) => i.id).sort();
      // Why each function is at risk, and the latency verdicts that can put one there, if the list is not the expected one.
      const why = [...report.functions.filter((f) => f.verdict !== 'PASS').map((f) => `${f.id}: ${f.reason}`), ...latencyProblems(report)].join('; ');
      expect(JSON.stringify(atRisk(report.functions)), `functions at risk (${why})`).toBe(JSON.stringify([...expectation.functions].sort()));
      expect(JSON.stringify(atRisk(report.tiers)), 'tiers at risk').toBe(JSON.stringify([...expectation.tiers].sort()));
      expectation.also?.(run);
    });
  }
});
