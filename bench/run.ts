/**
 * stagecheck benchmark: how close the suite's time to verdict is to the floor, on this machine.
 *
 *   npx tsx bench/run.ts                 # 1 warm-up + 5 measured runs of everything (~22 min)
 *   npx tsx bench/run.ts --runs 3 --write-docs          # what docs/performance.md shows (~14 min)
 *   npx tsx bench/run.ts --skip staging-profile,verdict # without the two slow scenarios (~6 min)
 *   npx tsx bench/run.ts --quick         # smoke check: 1 run, no warm-up
 *   npx tsx bench/run.ts --only fast,staging --explore
 *
 * Scenarios (`--only` takes a comma-separated subset, `--skip` leaves some out; default: all but `explore`):
 *   ready      the reference platform's CLI (`platform/cli.ts --json`): spawn → ready line, SIGTERM → exit
 *   fast       phase 1 against one running default platform, alternating with two floors measured in
 *              the same run: the floor process (bench/bare-floor.ts → floor.ts, spawn → exit), which
 *              also reports the bare-probe floor (library imports + probes + clean-up, in-process),
 *              and Vitest's own floor (`vitest run` of one empty test in a scratch project, bench/vitest-floor.ts)
 *   staging    the same with the agent at ~5 s a run (--think-ms) and +50 ms on every client→server
 *              chunk to the backend and auth ports (bench/delay-proxy.ts)
 *   staging-profile
 *              phase 1 + 2 against `platform/cli.ts --profile staging` (HTTPS with its own CA, 35 s
 *              heartbeat, LLM-like agent): wall vs the heartbeat test's own duration (2 × 35 s of
 *              silence), memory of the suite's tree and the platform's; ~2 min a run, no warm-up
 *   cold       `vitest run --project phase1 --project phase2` with nothing configured (platform start included)
 *   faults     time to verdict: redis_silent, agent_stall (when the platform has it), target down
 *   verdict    time to verdict of bench/time-to-verdict.ts's cases (refused, blackholed, backend-dies,
 *              no-pong), `--runs` times each, no warm-up; `--verdict-cases` narrows them
 *   overheads  process start-up costs: node, node+tsx, vitest --version, npx vitest --version
 *   explore    phase 1 with Vitest flags (--no-isolate, --maxWorkers, --pool=threads, --sequence.concurrent)
 *              on the fast platform and with redis_silent; not in the default run (adds ~6 min)
 *
 * Options: --runs N (measured runs, default 5), --warmup N (default 1), --quick (runs 1, warm-up 0),
 * --think-ms N (staging agent pause, default 450 → ~5 s run), --latency-ms N (default 50),
 * --stall-ms N (BUDGET_STALL_MS for agent_stall, default 3000), --out DIR (default reports),
 * --write-docs (also put the tables into docs/performance.md, between its `bench` and
 * `bench-verdict` markers).
 *
 * Prints one table and writes it to <out>/bench.md, with every raw sample in <out>/bench.json.
 * The suite is run as `node node_modules/vitest/vitest.mjs run ...` (what `npx vitest` runs;
 * npx's own start-up is measured apart under `overheads`), wrapped in `/usr/bin/time -v` for
 * peak memory when that exists.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { FloorResult } from './floor.ts';
import { haveGnuTime, runTimed, sampleTree, type TreeMemory } from './proc.ts';
import { formatKb, formatMs, formatRatio, spread, type Spread } from './stats.ts';
import { cleanEnv, closedPort, faultCatalog, ROOT, startLatencyProxy, startPlatform, TSX_LOADER } from './targets.ts';
import { caseNames, measureCase, verdictTable, type Sample as TtvSample } from './time-to-verdict.ts';
import { createScratchProject, type ScratchProject } from './vitest-floor.ts';
import { findTest, runVitest, splitWall, VITEST, type VitestDuration, type VitestRun, type WallSplit } from './vitest-run.ts';
import { CHECK_IDS, type CheckId } from '../tests/check-ids.ts';
import { docsFile, writeGeneratedSection } from '../scripts/docs-section.ts';

const FLOOR = fileURLToPath(new URL('./bare-floor.ts', import.meta.url));
const PROMPT_FILE = join(ROOT, 'fixtures', 'prompts', 'llm-agent.example.json');
const SCENARIOS = ['ready', 'fast', 'staging', 'staging-profile', 'cold', 'faults', 'verdict', 'overheads', 'explore'] as const;
type Scenario = (typeof SCENARIOS)[number];

interface Args {
  runs: number;
  warmup: number;
  quick: boolean;
  thinkMs: number;
  latencyMs: number;
  stallMs: number;
  scenarios: Scenario[];
  verdictCases: string[];
  outDir: string;
  writeDocs: boolean;
}

function parseCli(): Args {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string' },
      warmup: { type: 'string' },
      quick: { type: 'boolean', default: false },
      'think-ms': { type: 'string', default: '450' },
      'latency-ms': { type: 'string', default: '50' },
      'stall-ms': { type: 'string', default: '3000' },
      only: { type: 'string' },
      skip: { type: 'string' },
      'verdict-cases': { type: 'string' },
      explore: { type: 'boolean', default: false },
      out: { type: 'string', default: 'reports' },
      'write-docs': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${readHelp()}\n`);
    process.exit(0);
  }
  const int = (name: string, raw: string | undefined, fallback: number, min: number): number => {
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be a whole number >= ${min}, got "${raw}"`);
    return n;
  };
  const quick = values.quick ?? false;
  let scenarios: Scenario[] = SCENARIOS.filter((s) => s !== 'explore');
  const named = (flag: string, list: string): Scenario[] => {
    const wanted = list.split(',').map((s) => s.trim()).filter(Boolean);
    const unknown = wanted.filter((s) => !(SCENARIOS as readonly string[]).includes(s));
    if (unknown.length > 0) throw new Error(`--${flag}: unknown scenario(s) ${unknown.join(', ')}; known: ${SCENARIOS.join(', ')}`);
    return wanted as Scenario[];
  };
  if (values.only) scenarios = named('only', values.only);
  if (values.skip) {
    const skipped = named('skip', values.skip);
    scenarios = scenarios.filter((s) => !skipped.includes(s));
  }
  if (values.explore && !scenarios.includes('explore')) scenarios.push('explore');
  return {
    runs: int('runs', values.runs, quick ? 1 : 5, 1),
    warmup: int('warmup', values.warmup, quick ? 0 : 1, 0),
    quick,
    thinkMs: int('think-ms', values['think-ms'], 450, 0),
    latencyMs: int('latency-ms', values['latency-ms'], 50, 0),
    stallMs: int('stall-ms', values['stall-ms'], 3000, 1),
    scenarios,
    verdictCases: caseNames(values['verdict-cases']),
    outDir: resolve(ROOT, values.out ?? 'reports'),
    writeDocs: values['write-docs'] ?? false,
  };
}

function readHelp(): string {
  const text = readFileSync(fileURLToPath(import.meta.url), 'utf8');
  const doc = /\/\*\*([\s\S]*?)\*\//.exec(text)?.[1] ?? '';
  return doc.split('\n').map((l) => l.replace(/^ \* ?/, '')).join('\n').trim();
}

// ---------------------------------------------------------------------------------------------
// Samples

interface SuiteSample {
  runId: string;
  wallMs: number;
  exitCode: number | null;
  passed: number;
  failed: number;
  skipped: number;
  total: number;
  duration: VitestDuration | null;
  split: WallSplit | null;
  maxRssKb?: number;
  tree?: TreeMemory;
  stderrTail?: string;
}

interface FloorSample {
  wallMs: number;
  exitCode: number | null;
  ok: boolean;
  /** Loading postgres, ioredis, ws and floor.ts (bench/bare-floor.ts). */
  importMs?: number;
  /** The bare-probe floor: importMs + probesMs + cleanupMs. */
  bareMs?: number;
  startupMs?: number;
  probesMs?: number;
  cleanupMs?: number;
  agentRunMs?: number;
  failures: string[];
}

interface PairScenario {
  name: string;
  platformArgs: string[];
  latencyMs: number;
  suite: SuiteSample[];
  floor: FloorSample[];
  /** Vitest's own floor: `vitest run` of one empty test in a scratch project. */
  vitestFloor: SuiteSample[];
}

interface StagingProfileSample {
  wallMs: number;
  exitCode: number | null;
  verdict: string | null;
  passed: number;
  failed: number;
  total: number;
  /** The heartbeat test's own duration (Vitest JSON) and its place in the run (business-impact report). */
  heartbeat?: { status: string; durationMs: number | null; spawnToStartMs: number | null; endToExitMs: number | null; intervals: number[] };
  /** Phase 1's last test end, phase 2's first test start (ms after spawn). */
  phase1EndMs?: number;
  phase2StartMs?: number;
  /** Every test: ms after spawn it started, its duration (raw data in bench.json, for where the time goes). */
  timeline?: { project: string; fullName: string; startMs: number; durationMs: number }[];
  maxRssKb?: number;
  tree?: TreeMemory;
  platformTree?: TreeMemory;
  stderrTail?: string;
}

interface VerdictSample {
  wallMs: number;
  exitCode: number | null;
  failed: number;
  total: number;
  /** The test the scenario is about. */
  test?: { fullName: string; status: string; durationMs: number | null; spawnToEndMs: number | null };
  /** When no test ran: what Vitest said. */
  stderrTail?: string;
}

interface Results {
  startedAt: string;
  args: Args;
  machine: Record<string, unknown>;
  ready?: { readyMs: number; startMs: number; stopMs: number }[];
  fast?: PairScenario;
  staging?: PairScenario;
  stagingProfile?: { heartbeatS: number; platformReadyMs: number; samples: StagingProfileSample[] };
  verdict?: { name: string; samples: TtvSample[] }[];
  cold?: SuiteSample[];
  redisSilent?: VerdictSample[];
  agentStall?: { available: boolean; catalog: string[]; samples: VerdictSample[] };
  down?: VerdictSample[];
  overheads?: Record<string, number[]>;
  explore?: { fast: Record<string, SuiteSample[]>; redisSilent: Record<string, VerdictSample[]> };
  benchWallMs?: number;
}

const benchStarted = performance.now();
/** 1-minute load average every 5 s: how busy the 2-core machine was while we measured. */
const loadSamples: number[] = [];
setInterval(() => loadSamples.push(loadavg()[0] ?? Number.NaN), 5_000).unref();
function log(message: string): void {
  process.stderr.write(`[bench ${((performance.now() - benchStarted) / 1000).toFixed(0).padStart(4)} s] ${message}\n`);
}

function suiteSample(run: VitestRun, runId: string): SuiteSample {
  const sample: SuiteSample = {
    runId,
    wallMs: run.wallMs,
    exitCode: run.exitCode,
    passed: run.passed,
    failed: run.failed,
    skipped: run.skipped,
    total: run.total,
    duration: run.duration,
    split: splitWall(run),
  };
  if (run.maxRssKb !== undefined) sample.maxRssKb = run.maxRssKb;
  if (run.tree) sample.tree = run.tree;
  if (run.exitCode !== 0) sample.stderrTail = run.stderr.slice(-1500);
  return sample;
}

function describeSuite(s: SuiteSample): string {
  return `${formatMs(s.wallMs)} exit ${s.exitCode} ${s.passed}/${s.total} passed${s.failed ? `, ${s.failed} failed` : ''}`;
}

async function runFloorProcess(env: NodeJS.ProcessEnv): Promise<FloorSample> {
  const run = await runTimed(process.execPath, ['--import', TSX_LOADER, FLOOR], { cwd: ROOT, env, timeoutMs: 120_000 });
  const line = run.stdout.trim().split('\n').pop() ?? '';
  let parsed: Partial<FloorResult & { importMs: number; bareMs: number }> = {};
  try {
    parsed = JSON.parse(line) as FloorResult;
  } catch {
    parsed = { ok: false, failures: [`no JSON result (exit ${run.exitCode}): ${run.stderr.slice(-500)}`] };
  }
  const sample: FloorSample = { wallMs: run.wallMs, exitCode: run.exitCode, ok: parsed.ok === true && run.exitCode === 0, failures: parsed.failures ?? [] };
  if (parsed.importMs !== undefined) sample.importMs = parsed.importMs;
  if (parsed.bareMs !== undefined) sample.bareMs = parsed.bareMs;
  if (parsed.startupMs !== undefined) sample.startupMs = parsed.startupMs;
  if (parsed.probesMs !== undefined) sample.probesMs = parsed.probesMs;
  if (parsed.cleanupMs !== undefined) sample.cleanupMs = parsed.cleanupMs;
  if (parsed.agentRunMs !== undefined) sample.agentRunMs = parsed.agentRunMs;
  return sample;
}

const stamp = new Date().toISOString().replace(/[-:T]/g, '').slice(4, 14);
let runCounter = 0;
function nextRunId(label: string): string {
  runCounter += 1;
  // The suite accepts 4-64 letters, digits or dashes.
  return `bench-${stamp}-${label.replace(/[^A-Za-z0-9]+/g, '-')}-${runCounter}`.slice(0, 64);
}

// ---------------------------------------------------------------------------------------------
// Scenarios

async function benchReady(args: Args): Promise<NonNullable<Results['ready']>> {
  const samples: NonNullable<Results['ready']> = [];
  for (let i = 0; i < args.warmup + args.runs; i++) {
    const platform = await startPlatform();
    const stopMs = await platform.stop();
    const warm = i < args.warmup;
    log(`ready ${warm ? 'warm-up' : `${i - args.warmup + 1}/${args.runs}`}: ready line after ${formatMs(platform.readyMs)} (platform startMs ${platform.startMs}), stopped in ${formatMs(stopMs)}`);
    if (!warm) samples.push({ readyMs: platform.readyMs, startMs: platform.startMs, stopMs });
  }
  return samples;
}

/** Vitest's own floor, once: `vitest run` of the scratch project's one empty test. */
async function runVitestFloor(scratch: ScratchProject): Promise<SuiteSample> {
  const run = await runVitest([], cleanEnv(), { cwd: scratch.dir, measureMemory: true, timeoutMs: 60_000 });
  return suiteSample(run, '(scratch)');
}

async function benchPair(args: Args, name: string, platformArgs: string[], latencyMs: number): Promise<PairScenario> {
  const scenario: PairScenario = { name, platformArgs, latencyMs, suite: [], floor: [], vitestFloor: [] };
  const scratch = createScratchProject();
  const platform = await startPlatform({ args: platformArgs });
  const proxy = latencyMs > 0 ? await startLatencyProxy(platform.env, latencyMs) : undefined;
  const env = proxy?.env ?? platform.env;
  log(`${name}: platform ready in ${formatMs(platform.readyMs)}${proxy ? `; +${latencyMs} ms proxy on backend :${proxy.ports.backend}, auth :${proxy.ports.auth}` : ''}`);
  try {
    for (let i = 0; i < args.warmup + args.runs; i++) {
      const warm = i < args.warmup;
      const label = warm ? 'warm-up' : `${i - args.warmup + 1}/${args.runs}`;
      // Rotate who goes first, so a slow moment of the machine does not always hit the same side.
      const order = (['suite', 'floor', 'vitest-floor'] as const).map((_, k, all) => all[(k + i) % all.length]!);
      for (const who of order) {
        if (who === 'vitest-floor') {
          const sample = await runVitestFloor(scratch);
          log(`${name} ${label} Vitest floor: ${describeSuite(sample)}`);
          if (sample.exitCode !== 0) log(`Vitest floor failed:\n${sample.stderrTail ?? ''}`);
          if (!warm) scenario.vitestFloor.push(sample);
        } else if (who === 'suite') {
          const runId = nextRunId(name);
          const run = await runVitest(['--project', 'phase1'], cleanEnv({ ...env, STAGECHECK_RUN_ID: runId }), { measureMemory: true });
          const sample = suiteSample(run, runId);
          log(`${name} ${label} suite: ${describeSuite(sample)}`);
          if (!warm) scenario.suite.push(sample);
        } else {
          const sample = await runFloorProcess(cleanEnv({ ...env, STAGECHECK_RUN_ID: nextRunId(`${name}-floor`) }));
          log(`${name} ${label} floor: ${formatMs(sample.wallMs)} (bare ${formatMs(sample.bareMs)}) ${sample.ok ? 'ok' : `FAILED ${sample.failures.join('; ')}`}${sample.agentRunMs ? `, agent run ${formatMs(sample.agentRunMs)}` : ''}`);
          if (!warm) scenario.floor.push(sample);
        }
      }
    }
  } finally {
    await proxy?.stop();
    await platform.stop();
    scratch.remove();
  }
  return scenario;
}

/**
 * Phase 1 + 2 against the staging profile, as selftest/runs/staging-profile.test.ts points the
 * suite at it (its CA through NODE_EXTRA_CA_CERTS, the 35 s heartbeat, the example LLM prompt
 * file), but with the shipped catalog: a DEGRADED verdict here is what the run measured.
 */
async function benchStagingProfile(args: Args): Promise<NonNullable<Results['stagingProfile']>> {
  const heartbeatS = 35;
  const platform = await startPlatform({ args: ['--profile', 'staging'] });
  const ca = platform.env.STAGING_CA_FILE;
  log(`staging-profile: platform ready in ${formatMs(platform.readyMs)}${ca ? '' : ' (no STAGING_CA_FILE printed!)'}`);
  const out: NonNullable<Results['stagingProfile']> = { heartbeatS, platformReadyMs: platform.readyMs, samples: [] };
  try {
    for (let i = 0; i < args.runs; i++) {
      const runId = nextRunId('staging-profile');
      const env = cleanEnv({ ...platform.env, NODE_EXTRA_CA_CERTS: ca ?? '', STAGING_WS_HEARTBEAT_S: String(heartbeatS), GOLDEN_PROMPTS_FILE: PROMPT_FILE, STAGECHECK_RUN_ID: runId });
      const platformSampler = platform.pid !== undefined ? sampleTree(platform.pid) : undefined;
      const run = await runVitest(['--project', 'phase1', '--project', 'phase2'], env, { measureMemory: true, timeoutMs: 420_000 });
      const platformTree = await platformSampler?.stop();
      const sample: StagingProfileSample = {
        wallMs: run.wallMs,
        exitCode: run.exitCode,
        verdict: run.report?.verdict ?? null,
        passed: run.passed,
        failed: run.failed,
        total: run.total,
      };
      const test = findTest(run, CHECK_IDS.heartbeat);
      const entry = run.report?.tests.find((t) => t.checkId === CHECK_IDS.heartbeat);
      if (test) {
        const startEpoch = entry?.startedAt ? Date.parse(entry.startedAt) : null;
        const exitEpoch = run.spawnedAtEpoch + run.wallMs;
        sample.heartbeat = {
          status: test.status,
          durationMs: test.durationMs,
          spawnToStartMs: startEpoch !== null ? startEpoch - run.spawnedAtEpoch : null,
          endToExitMs: startEpoch !== null && test.durationMs !== null ? exitEpoch - (startEpoch + test.durationMs) : null,
          intervals: entry?.measurements?.find((m) => m.name.startsWith('WebSocket heartbeat interval'))?.samples ?? [],
        };
      }
      const timeline = (run.report?.tests ?? [])
        .filter((t) => t.startedAt && t.durationMs !== null)
        .map((t) => ({ project: t.project, fullName: t.fullName, startMs: Date.parse(t.startedAt!) - run.spawnedAtEpoch, durationMs: t.durationMs! }))
        .sort((a, b) => a.startMs - b.startMs);
      if (timeline.length > 0) {
        sample.timeline = timeline;
        const p1 = timeline.filter((t) => t.project === 'phase1');
        const p2 = timeline.filter((t) => t.project === 'phase2');
        if (p1.length) sample.phase1EndMs = Math.max(...p1.map((t) => t.startMs + t.durationMs));
        if (p2.length) sample.phase2StartMs = Math.min(...p2.map((t) => t.startMs));
      }
      if (run.maxRssKb !== undefined) sample.maxRssKb = run.maxRssKb;
      if (run.tree) sample.tree = run.tree;
      if (platformTree) sample.platformTree = platformTree;
      if (run.exitCode !== 0) sample.stderrTail = `${run.stdout.slice(-2000)}\n${run.stderr.slice(-1500)}`;
      const hb = sample.heartbeat;
      log(`staging-profile ${i + 1}/${args.runs}: wall ${formatMs(sample.wallMs)} exit ${sample.exitCode} ${sample.verdict ?? 'no report'} ${sample.passed}/${sample.total} passed; heartbeat test ${hb ? `${hb.status} in ${formatMs(hb.durationMs)}, started ${formatMs(hb.spawnToStartMs)} after spawn` : 'not found'}`);
      if (sample.stderrTail) log(`staging-profile: output tail:\n${sample.stderrTail}`);
      out.samples.push(sample);
    }
  } finally {
    await platform.stop();
  }
  return out;
}

async function benchVerdict(args: Args): Promise<NonNullable<Results['verdict']>> {
  const out: NonNullable<Results['verdict']> = [];
  for (const name of args.verdictCases) {
    const samples = await measureCase(name, args.runs, (sample, i) =>
      log(`verdict ${name} ${i + 1}/${args.runs}: verdict after ${formatMs(sample.verdictMs)}, wall ${formatMs(sample.wallMs)}, ${sample.verdict}, ${sample.failed} failed`),
    );
    out.push({ name, samples });
  }
  return out;
}

async function benchCold(args: Args): Promise<SuiteSample[]> {
  const samples: SuiteSample[] = [];
  for (let i = 0; i < args.warmup + args.runs; i++) {
    const warm = i < args.warmup;
    const run = await runVitest(['--project', 'phase1', '--project', 'phase2'], cleanEnv(), { measureMemory: true, timeoutMs: 300_000 });
    const sample = suiteSample(run, '(generated)');
    log(`cold ${warm ? 'warm-up' : `${i - args.warmup + 1}/${args.runs}`}: ${describeSuite(sample)}`);
    if (!warm) samples.push(sample);
  }
  return samples;
}

function verdictSample(run: VitestRun, checkId: CheckId): VerdictSample {
  const sample: VerdictSample = { wallMs: run.wallMs, exitCode: run.exitCode, failed: run.failed, total: run.total };
  if (run.total === 0) sample.stderrTail = `${run.stdout.slice(-1000)}\n${run.stderr.slice(-1500)}`;
  const test = findTest(run, checkId);
  if (test) {
    sample.test = {
      fullName: test.fullName,
      status: test.status,
      durationMs: test.durationMs,
      // Tests of a file run concurrently, so each starts about when its file's first test does.
      spawnToEndMs: test.fileStartEpoch !== null && test.durationMs !== null ? test.fileStartEpoch + test.durationMs - run.spawnedAtEpoch : null,
    };
  }
  return sample;
}

function describeVerdict(s: VerdictSample): string {
  const t = s.test ? `; ${s.test.status} after ${formatMs(s.test.durationMs)} (spawn → end ≈ ${formatMs(s.test.spawnToEndMs)})` : '; test not found';
  return `wall ${formatMs(s.wallMs)} exit ${s.exitCode}, ${s.failed}/${s.total} failed${t}`;
}

const REDIS_TEST = CHECK_IDS.redisProbe;
const AGENT_TEST = CHECK_IDS.agentRun;

async function benchFaultedPhase1(
  args: Args,
  name: string,
  platformEnv: Record<string, string>,
  suiteExtra: Record<string, string>,
  checkId: CheckId,
): Promise<{ samples: VerdictSample[]; catalog: string[] }> {
  const platform = await startPlatform({ env: platformEnv });
  const samples: VerdictSample[] = [];
  const catalog = await faultCatalog(platform.env);
  try {
    for (let i = 0; i < args.warmup + args.runs; i++) {
      const warm = i < args.warmup;
      const run = await runVitest(['--project', 'phase1'], cleanEnv({ ...platform.env, ...suiteExtra, STAGECHECK_RUN_ID: nextRunId(name) }));
      const sample = verdictSample(run, checkId);
      log(`${name} ${warm ? 'warm-up' : `${i - args.warmup + 1}/${args.runs}`}: ${describeVerdict(sample)}`);
      if (sample.stderrTail) log(`${name}: no test ran:\n${sample.stderrTail}`);
      if (!warm) samples.push(sample);
    }
  } finally {
    await platform.stop();
  }
  return { samples, catalog };
}

async function benchFaults(args: Args, results: Results): Promise<void> {
  const silent = await benchFaultedPhase1(args, 'redis_silent', { PLATFORM_FAULTS: 'redis_silent' }, {}, REDIS_TEST);
  results.redisSilent = silent.samples;

  // agent_stall is being added to the platform by another engineer: measured once the catalog has it.
  const available = silent.catalog.includes('agent_stall');
  results.agentStall = { available, catalog: silent.catalog, samples: [] };
  if (available) {
    const stall = await benchFaultedPhase1(args, 'agent_stall', { PLATFORM_FAULTS: 'agent_stall' }, { BUDGET_STALL_MS: String(args.stallMs) }, AGENT_TEST);
    results.agentStall.samples = stall.samples;
  } else {
    log(`agent_stall: not in the platform's fault catalog (${silent.catalog.join(', ') || 'catalog unreadable'}): not measurable yet`);
  }

  const port = await closedPort();
  const deadEnv = {
    STAGING_BASE_URL: `http://127.0.0.1:${port}`,
    STAGING_AUTH_URL: `http://127.0.0.1:${port}`,
    STAGING_WS_URL: `ws://127.0.0.1:${port}/ws`,
    STAGING_DATABASE_URL: `postgres://probe@127.0.0.1:${port}/app`,
    STAGING_REDIS_URL: `redis://127.0.0.1:${port}`,
    E2E_BYPASS_KEY: 'bench-not-a-real-key',
  };
  results.down = [];
  for (let i = 0; i < args.warmup + args.runs; i++) {
    const warm = i < args.warmup;
    const run = await runVitest(['--project', 'phase1'], cleanEnv({ ...deadEnv, STAGECHECK_RUN_ID: nextRunId('down') }));
    const sample = verdictSample(run, CHECK_IDS.health);
    log(`down ${warm ? 'warm-up' : `${i - args.warmup + 1}/${args.runs}`}: ${describeVerdict(sample)}`);
    if (!warm) results.down.push(sample);
  }
}

async function benchOverheads(args: Args): Promise<Record<string, number[]>> {
  const commands: Record<string, [string, string[]]> = {
    'node -e 0': [process.execPath, ['-e', '0']],
    'node --import tsx -e 0': [process.execPath, ['--import', TSX_LOADER, '-e', '0']],
    'node vitest.mjs --version': [process.execPath, [VITEST, '--version']],
    'npx vitest --version': ['npx', ['--no-install', 'vitest', '--version']],
  };
  const out: Record<string, number[]> = {};
  for (const [name, [command, argv]] of Object.entries(commands)) {
    out[name] = [];
    for (let i = 0; i < args.warmup + args.runs; i++) {
      const run = await runTimed(command, argv, { cwd: ROOT, env: cleanEnv(), timeoutMs: 60_000 });
      if (i >= args.warmup) out[name].push(run.exitCode === 0 ? run.wallMs : Number.NaN);
    }
    log(`overheads: ${name}: median ${formatMs(spread(out[name]).median)}`);
  }
  return out;
}

/** Phase 1 variants by CLI flag only (the config is not touched), as evidence for the findings. */
const EXPLORE_FAST: Record<string, string[]> = {
  'as configured (forks, isolate, maxWorkers 4)': [],
  '--no-isolate': ['--no-isolate'],
  '--maxWorkers=2': ['--maxWorkers=2'],
  '--maxWorkers=7 (one wave for 7 files)': ['--maxWorkers=7'],
  '--pool=threads': ['--pool=threads'],
  '--sequence.concurrent': ['--sequence.concurrent'],
  '--no-isolate --maxWorkers=2 --sequence.concurrent': ['--no-isolate', '--maxWorkers=2', '--sequence.concurrent'],
};
const EXPLORE_REDIS: Record<string, string[]> = {
  'as configured': [],
  '--sequence.concurrent': ['--sequence.concurrent'],
  '--no-isolate --sequence.concurrent': ['--no-isolate', '--sequence.concurrent'],
};

async function benchExplore(args: Args): Promise<NonNullable<Results['explore']>> {
  const out: NonNullable<Results['explore']> = { fast: {}, redisSilent: {} };
  const fast = await startPlatform();
  try {
    for (let i = 0; i < args.warmup + args.runs; i++) {
      for (const [name, extra] of Object.entries(EXPLORE_FAST)) {
        const runId = nextRunId('explore');
        const run = await runVitest(['--project', 'phase1', ...extra], cleanEnv({ ...fast.env, STAGECHECK_RUN_ID: runId }));
        const sample = suiteSample(run, runId);
        log(`explore fast ${name} ${i < args.warmup ? 'warm-up' : `${i - args.warmup + 1}/${args.runs}`}: ${describeSuite(sample)}`);
        if (i >= args.warmup) (out.fast[name] ??= []).push(sample);
      }
    }
  } finally {
    await fast.stop();
  }
  const silent = await startPlatform({ env: { PLATFORM_FAULTS: 'redis_silent' } });
  try {
    for (let i = 0; i < args.warmup + args.runs; i++) {
      for (const [name, extra] of Object.entries(EXPLORE_REDIS)) {
        const run = await runVitest(['--project', 'phase1', ...extra], cleanEnv({ ...silent.env, STAGECHECK_RUN_ID: nextRunId('explore-redis') }));
        const sample = verdictSample(run, REDIS_TEST);
        log(`explore redis_silent ${name} ${i < args.warmup ? 'warm-up' : `${i - args.warmup + 1}/${args.runs}`}: ${describeVerdict(sample)}`);
        if (i >= args.warmup) (out.redisSilent[name] ??= []).push(sample);
      }
    }
  } finally {
    await silent.stop();
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The table

interface Row {
  section: string;
  measure: string;
  median: string;
  min: string;
  max: string;
  n: string;
  target: string;
  met: string;
}

function timeRow(section: string, measure: string, s: Spread, target?: { text: string; ok: (median: number) => boolean }): Row {
  return {
    section,
    measure,
    median: formatMs(s.median),
    min: formatMs(s.min),
    max: formatMs(s.max),
    n: String(s.n),
    target: target?.text ?? '',
    met: target && s.median !== null ? (target.ok(s.median) ? 'met' : 'NOT MET') : '',
  };
}

function memRow(section: string, measure: string, s: Spread): Row {
  return { section, measure, median: formatKb(s.median), min: formatKb(s.min), max: formatKb(s.max), n: String(s.n), target: '', met: '' };
}

function textRow(section: string, measure: string, text: string, n = ''): Row {
  return { section, measure, median: text, min: '', max: '', n, target: '', met: '' };
}

function passRate(samples: { passed?: number; total?: number; exitCode: number | null }[]): string {
  const clean = samples.filter((s) => s.exitCode === 0).length;
  const totals = [...new Set(samples.map((s) => `${s.passed}/${s.total}`))].join(', ');
  return `${totals} passed; exit 0 in ${clean} of ${samples.length}`;
}

/** Row of a difference: median and min/max of per-iteration values, with an optional target on the median. */
function diffRow(section: string, measure: string, median: number | null, perRun: number[], target?: { text: string; ok: (median: number) => boolean }): Row {
  const s = spread(perRun);
  return {
    section,
    measure,
    median: formatMs(median),
    min: formatMs(s.min),
    max: formatMs(s.max),
    n: String(s.n),
    target: target?.text ?? '',
    met: target && median !== null ? (target.ok(median) ? 'met' : 'NOT MET') : '',
  };
}

function pairRows(section: string, scenario: PairScenario, ratioTarget: { ratio: number; label: string }, withAgent: boolean, overheadTargetMs?: number): Row[] {
  const suite = spread(scenario.suite.map((s) => s.wallMs));
  const floor = spread(scenario.floor.map((s) => s.wallMs));
  const vitestFloor = spread(scenario.vitestFloor.map((s) => s.wallMs));
  const bare = spread(scenario.floor.map((s) => s.bareMs));
  const overhead = suite.median !== null && vitestFloor.median !== null && bare.median !== null ? suite.median - (vitestFloor.median + bare.median) : null;
  const overheadPerRun = scenario.suite.map((s, i) => {
    const v = scenario.vitestFloor[i]?.wallMs;
    const b = scenario.floor[i]?.bareMs;
    return v !== undefined && b !== undefined ? s.wallMs - v - b : Number.NaN;
  });
  const perPair = scenario.suite.map((s, i) => (scenario.floor[i] ? s.wallMs / scenario.floor[i].wallMs : Number.NaN));
  const ratioSpread = spread(perPair);
  const ratio = suite.median !== null && floor.median !== null ? suite.median / floor.median : null;
  const rows: Row[] = [];
  if (withAgent) rows.push(timeRow(section, 'agent run, start_agent → agent_completed (floor)', spread(scenario.floor.map((f) => f.agentRunMs))));
  rows.push(
    timeRow(section, 'phase 1 suite wall (spawn → exit)', suite),
    textRow(section, '  suite results', passRate(scenario.suite)),
    timeRow(section, 'Vitest floor: `vitest run` of one empty test (scratch project, forks; spawn → exit)', vitestFloor),
    textRow(section, '  Vitest floor results', `exit 0 in ${scenario.vitestFloor.filter((v) => v.exitCode === 0 && v.passed === 1).length} of ${scenario.vitestFloor.length}`),
    timeRow(section, 'bare-probe floor: probe libraries loaded + first request → verdict + clean-up, one process', bare),
    timeRow(section, '  of which loading postgres, ioredis, ws, floor.ts', spread(scenario.floor.map((f) => f.importMs))),
    diffRow(section, 'suite wall − (Vitest floor + bare-probe floor) (of medians; min/max per run)', overhead, overheadPerRun, overheadTargetMs !== undefined ? { text: `≤ ${formatMs(overheadTargetMs)}`, ok: (m) => m <= overheadTargetMs } : undefined),
    timeRow(section, 'floor process wall (bench/bare-floor.ts → floor.ts, spawn → exit)', floor),
    textRow(section, '  floor results', `all 24 checks ok in ${scenario.floor.filter((f) => f.ok).length} of ${scenario.floor.length}`),
    {
      section,
      measure: 'ratio suite / floor process (of medians; min/max per pair)',
      median: formatRatio(ratio),
      min: formatRatio(ratioSpread.min),
      max: formatRatio(ratioSpread.max),
      n: String(ratioSpread.n),
      target: ratioTarget.label,
      met: ratio === null ? '' : ratio <= ratioTarget.ratio ? 'met' : 'NOT MET',
    },
    timeRow(section, '  suite: spawn → Vitest run start (node, vitest, config)', spread(scenario.suite.map((s) => s.split?.bootMs))),
    timeRow(section, '  suite: run start → first test (global setup, forks, imports)', spread(scenario.suite.map((s) => s.split?.toFirstTestMs))),
    timeRow(section, '  suite: first test start → last test end', spread(scenario.suite.map((s) => s.split?.testSpanMs))),
    timeRow(section, '  suite: last test end → exit (teardown, reporters)', spread(scenario.suite.map((s) => s.split?.exitMs))),
    timeRow(section, '  Vitest "Duration" (its own clock)', spread(scenario.suite.map((s) => s.duration?.totalMs))),
  );
  for (const part of ['transform', 'import', 'tests']) {
    rows.push(timeRow(section, `    Vitest ${part} (summed over files)`, spread(scenario.suite.map((s) => s.duration?.parts[part]))));
  }
  rows.push(
    timeRow(section, '  Vitest floor: spawn → Vitest run start', spread(scenario.vitestFloor.map((s) => s.split?.bootMs))),
    timeRow(section, '  Vitest floor: run start → first test (fork, empty file)', spread(scenario.vitestFloor.map((s) => s.split?.toFirstTestMs))),
    timeRow(section, '  Vitest floor: last test end → exit', spread(scenario.vitestFloor.map((s) => s.split?.exitMs))),
    timeRow(section, '  floor: process start → first request (node, tsx, imports)', spread(scenario.floor.map((f) => f.startupMs))),
    timeRow(section, '  floor: first request → verdict', spread(scenario.floor.map((f) => f.probesMs))),
    timeRow(section, '  floor: clean-up (threads deleted, sockets closed)', spread(scenario.floor.map((f) => f.cleanupMs))),
  );
  return rows;
}

/** Peak RSS per process: per label, the largest process of that kind in each run (with how many there were). */
function perProcessRows(section: string, trees: (TreeMemory | undefined)[], prefix = ''): Row[] {
  const labels = new Map<string, { peaks: number[]; counts: number[] }>();
  for (const tree of trees) {
    if (!tree) continue;
    const byLabel = new Map<string, number[]>();
    for (const p of tree.perProcess) {
      // The time wrapper, and a process seen only as it exited (no command line left).
      if (p.label === '/usr/bin/time' || p.label === '?') continue;
      byLabel.set(p.label, [...(byLabel.get(p.label) ?? []), p.peakRssKb]);
    }
    for (const [label, peaks] of byLabel) {
      const entry = labels.get(label) ?? { peaks: [], counts: [] };
      entry.peaks.push(Math.max(...peaks));
      entry.counts.push(peaks.length);
      labels.set(label, entry);
    }
  }
  return [...labels.entries()]
    .sort((a, b) => (spread(b[1].peaks).median ?? 0) - (spread(a[1].peaks).median ?? 0))
    .map(([label, { peaks, counts }]) => {
      const most = Math.max(...counts);
      return memRow(section, `  ${prefix}peak RSS, ${label}${most > 1 ? ` (largest of up to ${most})` : ''}`, spread(peaks));
    });
}

function memoryRows(section: string, samples: { maxRssKb?: number; tree?: TreeMemory }[]): Row[] {
  return [
    memRow(section, 'max RSS of one process (/usr/bin/time -v)', spread(samples.map((s) => s.maxRssKb))),
    ...perProcessRows(section, samples.map((s) => s.tree)),
    memRow(section, 'peak summed RSS of the process tree (/proc, 200 ms)', spread(samples.map((s) => s.tree?.peakRssKb))),
    memRow(section, 'peak summed PSS of the process tree (/proc, 200 ms)', spread(samples.map((s) => s.tree?.peakPssKb))),
    textRow(section, '  processes in the tree at most', String(spread(samples.map((s) => s.tree?.peakProcesses)).max ?? '–')),
  ];
}

function lastTests(sample: StagingProfileSample | undefined): string {
  const ended = [...(sample?.timeline ?? [])].sort((a, b) => b.startMs + b.durationMs - (a.startMs + a.durationMs)).slice(0, 3);
  return ended.map((t) => `${t.fullName.slice(0, 70)} (${formatMs(t.startMs)} → ${formatMs(t.startMs + t.durationMs)})`).join('; ') || '–';
}

function stagingProfileRows(results: NonNullable<Results['stagingProfile']>): Row[] {
  const section = `phase 1 + 2, staging profile (HTTPS, ${results.heartbeatS} s heartbeat)`;
  const samples = results.samples;
  const wall = spread(samples.map((s) => s.wallMs));
  const hb = spread(samples.map((s) => s.heartbeat?.durationMs));
  const ratio = wall.median !== null && hb.median !== null ? wall.median / hb.median : null;
  const perRun = spread(samples.map((s) => (s.heartbeat?.durationMs ? s.wallMs / s.heartbeat.durationMs : null)));
  const necessaryMs = 2 * results.heartbeatS * 1000;
  return [
    timeRow(section, 'suite wall (spawn → exit)', wall),
    textRow(section, '  results', `${[...new Set(samples.map((s) => `${s.passed}/${s.total}`))].join(', ')} passed; verdicts ${[...new Set(samples.map((s) => s.verdict ?? 'none'))].join(', ')}; exit codes ${[...new Set(samples.map((s) => s.exitCode))].join(', ')}`),
    timeRow(section, `heartbeat test's own duration (its waits: 2 × ${results.heartbeatS} s of client silence)`, hb),
    textRow(section, '  heartbeat intervals it measured (first run)', samples[0]?.heartbeat?.intervals.map((ms) => formatMs(ms)).join(', ') ?? '–'),
    timeRow(section, '  spawn → heartbeat test start (boot, phase 1, phase 2 start)', spread(samples.map((s) => s.heartbeat?.spawnToStartMs))),
    timeRow(section, '    of which spawn → phase 1\'s last test end', spread(samples.map((s) => s.phase1EndMs))),
    timeRow(section, '    of which spawn → phase 2\'s first test start', spread(samples.map((s) => s.phase2StartMs))),
    timeRow(section, '  heartbeat test end → exit (tests still running, teardown, reporters)', spread(samples.map((s) => s.heartbeat?.endToExitMs))),
    textRow(section, '  tests ending last (first run; ms after spawn)', lastTests(samples[0])),
    {
      section,
      measure: 'ratio suite wall / heartbeat test (of medians; min/max per run)',
      median: formatRatio(ratio),
      min: formatRatio(perRun.min),
      max: formatRatio(perRun.max),
      n: String(perRun.n),
      target: '≤ 1.1×',
      met: ratio === null ? '' : ratio <= 1.1 ? 'met' : 'NOT MET',
    },
    textRow(section, `  ratio suite wall / ${necessaryMs / 1000} s (the silence alone)`, formatRatio(wall.median !== null ? wall.median / necessaryMs : null)),
    timeRow(section, 'platform start → ready line (`--profile staging`, once)', spread([results.platformReadyMs])),
  ];
}

function verdictRows(section: string, samples: VerdictSample[], what: string): Row[] {
  const failedRuns = samples.filter((s) => s.test?.status === 'failed').length;
  return [
    timeRow(section, `${what}: test duration to failure (Vitest JSON)`, spread(samples.map((s) => (s.test?.status === 'failed' ? s.test.durationMs : null)))),
    timeRow(section, `${what}: spawn → test failed (≈ file start + duration)`, spread(samples.map((s) => (s.test?.status === 'failed' ? s.test.spawnToEndMs : null)))),
    timeRow(section, `${what}: phase 1 wall`, spread(samples.map((s) => s.wallMs))),
    textRow(section, `  ${what}: outcome`, `test failed in ${failedRuns} of ${samples.length} runs; exit codes ${[...new Set(samples.map((s) => s.exitCode))].join(', ')}; failed tests ${[...new Set(samples.map((s) => `${s.failed}/${s.total}`))].join(', ')}`),
  ];
}

function buildRows(results: Results): Row[] {
  const rows: Row[] = [];
  if (results.ready) {
    const s = 'platform';
    rows.push(
      timeRow(s, 'start → ready line (spawn `cli.ts --json` → {"ready":true})', spread(results.ready.map((r) => r.readyMs)), { text: '≤ 3 s', ok: (m) => m <= 3000 }),
      timeRow(s, '  of which the platform\'s own startMs (stores, servers)', spread(results.ready.map((r) => r.startMs))),
      timeRow(s, 'SIGTERM → exit', spread(results.ready.map((r) => r.stopMs))),
    );
  }
  if (results.fast) rows.push(...pairRows('phase 1, fast platform', results.fast, { ratio: 3, label: '≤ 3× (issue 7)' }, false, 300));
  if (results.staging) rows.push(...pairRows(`phase 1, staging-like (think ${results.args.thinkMs} ms, +${results.args.latencyMs} ms)`, results.staging, { ratio: 1.1, label: '≤ 1.1×' }, true));
  if (results.stagingProfile) rows.push(...stagingProfileRows(results.stagingProfile));
  if (results.cold) {
    const s = 'phase 1 + 2, cold';
    rows.push(
      timeRow(s, 'wall, platform start included', spread(results.cold.map((r) => r.wallMs)), { text: '< 60 s', ok: (m) => m < 60_000 }),
      textRow(s, '  results', passRate(results.cold)),
      timeRow(s, '  spawn → first test (boot, platform start, forks, imports)', spread(results.cold.map((r) => (r.split ? r.split.bootMs + r.split.toFirstTestMs : null)))),
      timeRow(s, '  first test start → last test end', spread(results.cold.map((r) => r.split?.testSpanMs))),
      timeRow(s, '  last test end → exit (platform stop included)', spread(results.cold.map((r) => r.split?.exitMs))),
    );
  }
  if (results.redisSilent) rows.push(...verdictRows('time to verdict', results.redisSilent, 'redis_silent, Redis probe'));
  if (results.agentStall) {
    if (results.agentStall.available) rows.push(...verdictRows('time to verdict', results.agentStall.samples, `agent_stall (BUDGET_STALL_MS=${results.args.stallMs}), agent run`));
    else rows.push(textRow('time to verdict', 'agent_stall', `not measurable yet: no agent_stall fault in the platform (has ${results.agentStall.catalog.join(', ') || '?'})`));
  }
  if (results.down) {
    rows.push(
      timeRow('time to verdict', 'platform down (closed loopback port): phase 1 wall', spread(results.down.map((r) => r.wallMs))),
      textRow('time to verdict', '  down: outcome', `exit codes ${[...new Set(results.down.map((s) => s.exitCode))].join(', ')}; failed ${[...new Set(results.down.map((s) => `${s.failed}/${s.total}`))].join(', ')}`),
    );
  }
  if (results.fast) rows.push(...memoryRows('memory, phase 1 (running platform)', results.fast.suite));
  if (results.cold) rows.push(...memoryRows('memory, phase 1 + 2 cold (platform, PostgreSQL, Redis included)', results.cold));
  if (results.stagingProfile) {
    const section = 'memory, phase 1 + 2 staging profile (suite tree; platform apart)';
    const samples = results.stagingProfile.samples;
    rows.push(
      ...memoryRows(section, samples),
      ...perProcessRows(section, samples.map((s) => s.platformTree), 'platform tree: '),
      memRow(section, 'platform tree (node, PostgreSQL, Redis): peak summed RSS (/proc, 200 ms)', spread(samples.map((s) => s.platformTree?.peakRssKb))),
      memRow(section, 'platform tree: peak summed PSS (/proc, 200 ms)', spread(samples.map((s) => s.platformTree?.peakPssKb))),
    );
  }
  if (results.overheads) {
    for (const [name, values] of Object.entries(results.overheads)) rows.push(timeRow('process overheads', name, spread(values)));
  }
  if (results.explore) {
    const section = 'explore: phase 1 by CLI flag';
    for (const [name, samples] of Object.entries(results.explore.fast)) {
      rows.push(timeRow(section, `fast: ${name}: wall`, spread(samples.map((s) => s.wallMs))));
      rows.push(timeRow(section, '  first test start → last test end', spread(samples.map((s) => s.split?.testSpanMs))));
    }
    for (const [name, samples] of Object.entries(results.explore.redisSilent)) {
      rows.push(timeRow(section, `redis_silent: ${name}: spawn → Redis test failed`, spread(samples.map((s) => (s.test?.status === 'failed' ? s.test.spawnToEndMs : null)))));
      rows.push(timeRow(section, '  phase 1 wall', spread(samples.map((s) => s.wallMs))));
    }
  }
  return rows;
}

function renderTable(rows: Row[]): string {
  const header: Row = { section: 'section', measure: 'measure', median: 'median', min: 'min', max: 'max', n: 'n', target: 'target', met: 'met' };
  const keys = Object.keys(header) as (keyof Row)[];
  const all = [header, ...rows];
  const width = Object.fromEntries(keys.map((k) => [k, Math.max(...all.map((r) => r[k].length))])) as Record<keyof Row, number>;
  const line = (r: Row): string => `| ${keys.map((k) => r[k].padEnd(width[k])).join(' | ')} |`;
  const rule = `|${keys.map((k) => '-'.repeat(width[k] + 2)).join('|')}|`;
  let previous = '';
  const body = rows.map((r) => {
    const shown = r.section === previous ? { ...r, section: '' } : r;
    previous = r.section;
    return line(shown);
  });
  return [line(header), rule, ...body].join('\n');
}

function machine(): Record<string, unknown> {
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
  } catch {
    // not a git checkout
  }
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryMb: Math.round(totalmem() / 1024 / 1024),
    node: process.version,
    commit,
    gnuTime: haveGnuTime(),
    loadAvgAtStart: loadavg().map((l) => Number(l.toFixed(2))),
  };
}

async function main(): Promise<void> {
  const args = parseCli();
  const results: Results = { startedAt: new Date().toISOString(), args, machine: machine() };
  const command = `npx tsx bench/run.ts ${process.argv.slice(2).join(' ')}`.trim();
  log(`${command}: scenarios ${args.scenarios.join(', ')}; ${args.warmup} warm-up + ${args.runs} measured run(s) each`);
  if (!haveGnuTime()) log('/usr/bin/time not found: max RSS column will be empty (tree sampling still works)');

  if (args.scenarios.includes('ready')) results.ready = await benchReady(args);
  if (args.scenarios.includes('fast')) results.fast = await benchPair(args, 'fast', [], 0);
  if (args.scenarios.includes('staging')) results.staging = await benchPair(args, 'staging', ['--think-ms', String(args.thinkMs)], args.latencyMs);
  if (args.scenarios.includes('staging-profile')) results.stagingProfile = await benchStagingProfile(args);
  if (args.scenarios.includes('cold')) results.cold = await benchCold(args);
  if (args.scenarios.includes('faults')) await benchFaults(args, results);
  if (args.scenarios.includes('verdict')) results.verdict = await benchVerdict(args);
  if (args.scenarios.includes('overheads')) results.overheads = await benchOverheads(args);
  if (args.scenarios.includes('explore')) results.explore = await benchExplore(args);
  results.benchWallMs = performance.now() - benchStarted;
  (results.machine as Record<string, unknown>).loadAvgAtEnd = loadavg().map((l) => Number(l.toFixed(2)));
  const load = spread(loadSamples);
  (results.machine as Record<string, unknown>).loadAvg1mDuringRun = { ...load, samples: loadSamples };

  const table = renderTable(buildRows(results));
  const m = results.machine;
  const heading = [
    `stagecheck benchmark, ${results.startedAt} (commit ${String(m.commit)})`,
    `${String(m.cpus)} × ${String(m.cpuModel)}, ${String(m.memoryMb)} MB, Node ${String(m.node)}; 1-min load average during the run: median ${load.median?.toFixed(2) ?? '–'} (${load.min?.toFixed(2) ?? '–'}–${load.max?.toFixed(2) ?? '–'}, every 5 s)`,
    `${args.warmup} warm-up + ${args.runs} measured run(s) per row (n = samples); medians with min/max; other work on the machine may have run concurrently (a load above ${String(m.cpus)} means it did).`,
    `Command: ${command}; bench wall ${formatMs(results.benchWallMs)}`,
  ];
  const ttv = results.verdict ? verdictTable(results.verdict) : undefined;
  process.stdout.write(`\n${heading.join('\n')}\n\n${table}\n${ttv ? `\nTime to verdict (bench/time-to-verdict.ts cases, ${args.runs} run(s) each):\n\n${ttv}\n` : ''}`);

  mkdirSync(args.outDir, { recursive: true });
  writeFileSync(join(args.outDir, 'bench.json'), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(args.outDir, 'bench.md'), `# stagecheck benchmark\n\n${heading.map((l) => `${l}  `).join('\n')}\n\n${table}\n${ttv ? `\n## Time to verdict\n\n${ttv}\n` : ''}`);
  log(`written ${join(args.outDir, 'bench.md')} and bench.json`);
  if (args.writeDocs) {
    writeGeneratedSection(docsFile('performance.md'), 'bench', `${heading.map((l) => `${l}  `).join('\n')}\n\n${table}`);
    if (ttv) writeGeneratedSection(docsFile('performance.md'), 'bench-verdict', `Results of the \`verdict\` scenario in the same run (${args.runs} run(s) per case):\n\n${ttv}`);
    log(`written the bench${ttv ? ' and bench-verdict sections' : ' section'} of docs/performance.md`);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
