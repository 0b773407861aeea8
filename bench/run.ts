/**
 * stagecheck benchmark: how close the suite's time to verdict is to the floor, on this machine.
 *
 *   npx tsx bench/run.ts                 # 1 warm-up + 5 measured runs of everything (~6-8 min)
 *   npx tsx bench/run.ts --runs 7        # more runs
 *   npx tsx bench/run.ts --quick         # smoke check: 1 run, no warm-up (~1.5 min)
 *   npx tsx bench/run.ts --only fast,staging --explore
 *
 * Scenarios (`--only` takes a comma-separated subset; default: all but `explore`):
 *   ready      the reference platform's CLI (`platform/cli.ts --json`): spawn → ready line, SIGTERM → exit
 *   fast       phase 1 against one running default platform vs bench/floor.ts, alternating, same platform
 *   staging    the same with the agent at ~5 s a run (--think-ms) and +50 ms on every client→server
 *              chunk to the backend and auth ports (bench/delay-proxy.ts)
 *   cold       `vitest run --project phase1 --project phase2` with nothing configured (platform start included)
 *   faults     time to verdict: redis_silent, agent_stall (when the platform has it), target down
 *   overheads  process start-up costs: node, node+tsx, vitest --version, npx vitest --version
 *   explore    phase 1 with Vitest flags (--no-isolate, --maxWorkers, --pool=threads, --sequence.concurrent)
 *              on the fast platform and with redis_silent; not in the default run (adds ~6 min)
 *
 * Options: --runs N (measured runs, default 5), --warmup N (default 1), --quick (runs 1, warm-up 0),
 * --think-ms N (staging agent pause, default 450 → ~5 s run), --latency-ms N (default 50),
 * --stall-ms N (BUDGET_STALL_MS for agent_stall, default 3000), --out DIR (default reports),
 * --write-docs (also put the table into docs/performance.md, between its `bench` markers).
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
import { haveGnuTime, runTimed, type TreeMemory } from './proc.ts';
import { formatKb, formatMs, formatRatio, spread, type Spread } from './stats.ts';
import { cleanEnv, closedPort, faultCatalog, ROOT, startLatencyProxy, startPlatform, TSX_LOADER } from './targets.ts';
import { findTest, runVitest, splitWall, VITEST, type VitestDuration, type VitestRun, type WallSplit } from './vitest-run.ts';
import { CHECK_IDS, type CheckId } from '../tests/check-ids.ts';
import { docsFile, writeGeneratedSection } from '../scripts/docs-section.ts';

const FLOOR = fileURLToPath(new URL('./floor.ts', import.meta.url));
const SCENARIOS = ['ready', 'fast', 'staging', 'cold', 'faults', 'overheads', 'explore'] as const;
type Scenario = (typeof SCENARIOS)[number];

interface Args {
  runs: number;
  warmup: number;
  quick: boolean;
  thinkMs: number;
  latencyMs: number;
  stallMs: number;
  scenarios: Scenario[];
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
  if (values.only) {
    const wanted = values.only.split(',').map((s) => s.trim());
    const unknown = wanted.filter((s) => !(SCENARIOS as readonly string[]).includes(s));
    if (unknown.length > 0) throw new Error(`--only: unknown scenario(s) ${unknown.join(', ')}; known: ${SCENARIOS.join(', ')}`);
    scenarios = wanted as Scenario[];
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
  let parsed: Partial<FloorResult> = {};
  try {
    parsed = JSON.parse(line) as FloorResult;
  } catch {
    parsed = { ok: false, failures: [`no JSON result (exit ${run.exitCode}): ${run.stderr.slice(-500)}`] };
  }
  const sample: FloorSample = { wallMs: run.wallMs, exitCode: run.exitCode, ok: parsed.ok === true && run.exitCode === 0, failures: parsed.failures ?? [] };
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

async function benchPair(args: Args, name: string, platformArgs: string[], latencyMs: number): Promise<PairScenario> {
  const scenario: PairScenario = { name, platformArgs, latencyMs, suite: [], floor: [] };
  const platform = await startPlatform({ args: platformArgs });
  const proxy = latencyMs > 0 ? await startLatencyProxy(platform.env, latencyMs) : undefined;
  const env = proxy?.env ?? platform.env;
  log(`${name}: platform ready in ${formatMs(platform.readyMs)}${proxy ? `; +${latencyMs} ms proxy on backend :${proxy.ports.backend}, auth :${proxy.ports.auth}` : ''}`);
  try {
    for (let i = 0; i < args.warmup + args.runs; i++) {
      const warm = i < args.warmup;
      const label = warm ? 'warm-up' : `${i - args.warmup + 1}/${args.runs}`;
      // Alternate who goes first, so a slow moment of the machine does not always hit the same side.
      for (const who of i % 2 === 0 ? (['suite', 'floor'] as const) : (['floor', 'suite'] as const)) {
        if (who === 'suite') {
          const runId = nextRunId(name);
          const run = await runVitest(['--project', 'phase1'], cleanEnv({ ...env, STAGECHECK_RUN_ID: runId }), { measureMemory: true });
          const sample = suiteSample(run, runId);
          log(`${name} ${label} suite: ${describeSuite(sample)}`);
          if (!warm) scenario.suite.push(sample);
        } else {
          const sample = await runFloorProcess(cleanEnv({ ...env, STAGECHECK_RUN_ID: nextRunId(`${name}-floor`) }));
          log(`${name} ${label} floor: ${formatMs(sample.wallMs)} ${sample.ok ? 'ok' : `FAILED ${sample.failures.join('; ')}`}${sample.agentRunMs ? `, agent run ${formatMs(sample.agentRunMs)}` : ''}`);
          if (!warm) scenario.floor.push(sample);
        }
      }
    }
  } finally {
    await proxy?.stop();
    await platform.stop();
  }
  return scenario;
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
    met: target && s.median !== null ? (target.ok(s.median) ? 'yes' : 'NO') : '',
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

function pairRows(section: string, scenario: PairScenario, ratioTarget: number, withAgent: boolean): Row[] {
  const suite = spread(scenario.suite.map((s) => s.wallMs));
  const floor = spread(scenario.floor.map((s) => s.wallMs));
  const perPair = scenario.suite.map((s, i) => (scenario.floor[i] ? s.wallMs / scenario.floor[i].wallMs : Number.NaN));
  const ratioSpread = spread(perPair);
  const ratio = suite.median !== null && floor.median !== null ? suite.median / floor.median : null;
  const rows: Row[] = [];
  if (withAgent) rows.push(timeRow(section, 'agent run, start_agent → agent_completed (floor)', spread(scenario.floor.map((f) => f.agentRunMs))));
  rows.push(
    timeRow(section, 'phase 1 suite wall (spawn → exit)', suite),
    textRow(section, '  suite results', passRate(scenario.suite)),
    timeRow(section, 'floor wall (bench/floor.ts, spawn → exit)', floor),
    textRow(section, '  floor results', `all 24 checks ok in ${scenario.floor.filter((f) => f.ok).length} of ${scenario.floor.length}`),
    {
      section,
      measure: 'ratio suite / floor (of medians; min/max per pair)',
      median: formatRatio(ratio),
      min: formatRatio(ratioSpread.min),
      max: formatRatio(ratioSpread.max),
      n: String(ratioSpread.n),
      target: `≤ ${ratioTarget}×`,
      met: ratio === null ? '' : ratio <= ratioTarget ? 'yes' : 'NO',
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
    timeRow(section, '  floor: process start → first request (node, tsx, imports)', spread(scenario.floor.map((f) => f.startupMs))),
    timeRow(section, '  floor: first request → verdict', spread(scenario.floor.map((f) => f.probesMs))),
    timeRow(section, '  floor: clean-up (threads deleted, sockets closed)', spread(scenario.floor.map((f) => f.cleanupMs))),
  );
  return rows;
}

function memoryRows(section: string, samples: SuiteSample[]): Row[] {
  return [
    memRow(section, 'max RSS of one process (/usr/bin/time -v)', spread(samples.map((s) => s.maxRssKb))),
    memRow(section, 'peak summed RSS of the process tree (/proc, 200 ms)', spread(samples.map((s) => s.tree?.peakRssKb))),
    memRow(section, 'peak summed PSS of the process tree (/proc, 200 ms)', spread(samples.map((s) => s.tree?.peakPssKb))),
    textRow(section, '  processes in the tree at most', String(spread(samples.map((s) => s.tree?.peakProcesses)).max ?? '–')),
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
  if (results.fast) rows.push(...pairRows('phase 1, fast platform', results.fast, 3, false));
  if (results.staging) rows.push(...pairRows(`phase 1, staging-like (think ${results.args.thinkMs} ms, +${results.args.latencyMs} ms)`, results.staging, 1.5, true));
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
  if (args.scenarios.includes('cold')) results.cold = await benchCold(args);
  if (args.scenarios.includes('faults')) await benchFaults(args, results);
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
  process.stdout.write(`\n${heading.join('\n')}\n\n${table}\n`);

  mkdirSync(args.outDir, { recursive: true });
  writeFileSync(join(args.outDir, 'bench.json'), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(args.outDir, 'bench.md'), `# stagecheck benchmark\n\n${heading.map((l) => `${l}  `).join('\n')}\n\n${table}\n`);
  log(`written ${join(args.outDir, 'bench.md')} and bench.json`);
  if (args.writeDocs) {
    writeGeneratedSection(docsFile('performance.md'), 'bench', `${heading.map((l) => `${l}  `).join('\n')}\n\n${table}`);
    log('written the bench section of docs/performance.md');
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
