/**
 * `npm run e2e`: the main job. Validates the configuration, runs Vitest over phase 1 and
 * phase 2 in one run (phase 2 gated on phase 1) with the business-impact reporter, JUnit XML
 * and, when sharded, a blob report; then exits with the run's verdict:
 *
 *   0  healthy: PASS, or DEGRADED (works, a KPI or a tier within its allowance is degraded)
 *   1  product failure: FAIL (phase-2 tests blocked by a failed phase 1 count here)
 *   2  inconclusive or configuration error: INCONCLUSIVE, nothing ran, target version
 *      changed, harness error, invalid configuration, or no verdict at all
 *
 * Interrupted (Ctrl-C, SIGTERM): Vitest ends its workers without their fixtures' teardowns, so
 * e2e removes what the run's tests in flight left on the target (scripts/cleanup.ts), prints
 * the run id and, if anything may be left, `npm run cleanup -- --run-id <id>`; exit code 2.
 *
 * Own options (everything else goes to Vitest unchanged, e.g. --tags-filter p1, -t name,
 * --project phase1, --merge-reports .vitest-reports; `--shard k/n` only with `--project phase2`
 * and a phase-1 gate, see shardingProblems):
 *   --local              test the bundled reference platform on purpose (STAGECHECK_TARGET=local); needed in CI
 *   --target T           local or staging (STAGECHECK_TARGET): staging without STAGING_BASE_URL is a config error,
 *                        as is CI=true without STAGING_BASE_URL or --local (helpers/core/target-choice.ts)
 *   --allow-production   test a host outside STAGING_HOST_PATTERN (STAGECHECK_ALLOW_PRODUCTION=true)
 *   --phase1-gate FILE   phase-1 gate of an earlier run (STAGECHECK_PHASE1_GATE), for phase-2 shards in CI
 *   --blob               also write a blob report (implied by --shard), to merge later
 *   --blob-dir DIR       where blob reports go (default .vitest-reports/, Vitest's merge default)
 *   --report-dir DIR     where reports go (STAGECHECK_REPORT_DIR, default reports/)
 *   --baseline FILE      compare with this business-impact.json (STAGECHECK_BASELINE; `none`: no baseline);
 *                        default: the previous run of the target in the history (reporter/baseline.ts)
 *   --open-issue         after a FAIL run, file its incident.md as a GitHub issue with the gh CLI
 *                        (STAGECHECK_OPEN_ISSUE=true; scripts/open-issue.ts); never changes the exit code
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { config as loadDotenv } from 'dotenv';
import { assertConfigValid, ConfigError, generateRunId } from '../helpers/core/config.ts';
import { withinOneEdit } from '../helpers/core/config-parsers.ts';
import { tagsFilterProblems } from '../helpers/core/tags-filter.ts';
import { SUITE_TAGS } from '../tests/tags.ts';
import { readResultFile } from '../reporter/outputs.ts';
import { GATE_FILE_NAME } from '../reporter/gate.ts';
import { openIssueAfterRun, openIssueSetting } from './open-issue.ts';
import { baselineOptionProblem, NO_BASELINE } from '../reporter/baseline.ts';
import { readTrendRuns } from '../helpers/core/trend-settings.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const VITEST = join(ROOT, 'node_modules', 'vitest', 'vitest.mjs');
const REPORTER = join(ROOT, 'reporter', 'index.ts');

export const EXIT = { healthy: 0, productFailure: 1, inconclusive: 2 } as const;

export interface E2eArgs {
  vitestArgs: string[];
  env: Record<string, string>;
  merge: boolean;
  help: boolean;
  /** `--shard k/n` as given, and the `--project` names: what {@link shardingProblems} judges. */
  shard?: string;
  projects: string[];
}

/** Splits e2e's own options from Vitest's. */
export function parseArgs(argv: readonly string[]): E2eArgs {
  const env: Record<string, string> = {};
  const rest: string[] = [];
  let blob = false;
  let blobDir = join(ROOT, '.vitest-reports');
  let help = false;
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i] as string;
    const [name, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = (): string => {
      if (inline !== undefined && inline !== '') return inline;
      const next = argv[i + 1];
      if (inline !== undefined || next === undefined || next.startsWith('--')) throw new ConfigError([`${name} needs a value: ${OPTION_VALUES[name] ?? 'see --help'}`]);
      i += 1;
      return next;
    };
    if (name === '--allow-production') env.STAGECHECK_ALLOW_PRODUCTION = 'true';
    else if (name === '--local') env.STAGECHECK_TARGET = 'local';
    else if (name === '--target') env.STAGECHECK_TARGET = value();
    else if (name === '--phase1-gate') env.STAGECHECK_PHASE1_GATE = resolve(value());
    else if (name === '--report-dir') env.STAGECHECK_REPORT_DIR = resolve(value());
    else if (name === '--baseline') env.STAGECHECK_BASELINE = value();
    else if (name === '--open-issue') env.STAGECHECK_OPEN_ISSUE = 'true';
    else if (name === '--blob') blob = true;
    else if (name === '--blob-dir') blobDir = resolve(value());
    else if (name === '--help' || name === '-h') help = true;
    else {
      checkNotMisspeltOwnOption(name);
      rest.push(arg);
    }
  }
  checkTagsFilters(rest);
  const merge = rest.some((a) => a === '--merge-reports' || a.startsWith('--merge-reports='));
  const shardArg = rest.find((a, i) => a.startsWith('--shard=') || rest[i - 1] === '--shard');
  const shard = shardArg?.replace(/^--shard=/, '');
  const projects = rest.flatMap((a, i) => (a.startsWith('--project=') ? [a.slice(10)] : rest[i - 1] === '--project' ? [a] : []));

  const reportDir = env.STAGECHECK_REPORT_DIR ?? resolve(ROOT, process.env.STAGECHECK_REPORT_DIR || 'reports');
  const vitestArgs = ['run'];
  if (!merge && projects.length === 0) vitestArgs.push('--project', 'phase1', '--project', 'phase2');
  vitestArgs.push('--reporter=default', `--reporter=${REPORTER}`, '--reporter=junit', `--outputFile.junit=${join(reportDir, 'junit.xml')}`);
  if (!merge && (blob || shard)) {
    const label = [projects.length ? projects.join('+') : 'phase1+phase2', shard?.replace('/', '-')].filter(Boolean).join('-');
    vitestArgs.push('--reporter=blob', `--outputFile.blob=${join(blobDir, `blob-${label}.json`)}`);
  }
  vitestArgs.push(...rest);
  return { vitestArgs, env, merge, help, projects, ...(shard ? { shard } : {}) };
}

/**
 * Sharding splits test modules, and phase 1 is one module: a shard without it would run its
 * phase-2 modules ungated. So a shard runs phase 2 alone, behind the gate of a phase-1 run
 * (`gate`: --phase1-gate or STAGECHECK_PHASE1_GATE), as the CI workflow does. One message names
 * the two commands that do it.
 */
export function shardingProblems(args: Pick<E2eArgs, 'shard' | 'projects' | 'merge'>, gate: string | undefined): string[] {
  const { shard, projects } = args;
  if (!shard || args.merge) return [];
  const phase2Alone = projects.length > 0 && projects.every((p) => p === 'phase2');
  if (phase2Alone && gate) return [];
  const why = !phase2Alone
    ? `--shard ${shard}${projects.length ? ` with --project ${projects.join(' --project ')}` : ' without --project'} would run phase 2 ungated on the shards that lack phase 1 (one test module, never split)`
    : `--shard ${shard} of phase 2 needs the phase-1 gate (--phase1-gate): without it, its tests run even when phase 1 failed`;
  return [
    `${why}. Run phase 1 once, then each phase-2 shard behind its gate:\n` +
      `      npm run e2e -- --project phase1\n` +
      `      npm run e2e -- --project phase2 --shard ${shard} --phase1-gate reports/${GATE_FILE_NAME}`,
  ];
}

const OWN_OPTIONS = ['--allow-production', '--local', '--target', '--phase1-gate', '--report-dir', '--baseline', '--open-issue', '--blob', '--blob-dir', '--help'];

/**
 * Anything e2e does not know goes to Vitest, so a misspelt e2e option (`--allow-prod`) would
 * end in Vitest's stack trace, or worse be accepted by it: named here instead, before any start.
 */
function checkNotMisspeltOwnOption(name: string): void {
  if (!name.startsWith('--')) return;
  const meant = OWN_OPTIONS.find((own) => (name.length >= 7 && own.startsWith(name)) || withinOneEdit(name, own));
  if (meant) throw new ConfigError([`unknown option ${name}: did you mean ${meant}? (npm run e2e -- --help lists e2e's own options)`]);
}

/** What each of e2e's own valued options expects, for the message when the value is missing. */
const OPTION_VALUES: Record<string, string> = {
  '--target': 'local (the bundled reference platform) or staging (the deployment STAGING_BASE_URL names)',
  '--phase1-gate': 'the phase-1 gate file written by an earlier run',
  '--report-dir': 'the directory the reports are written to',
  '--baseline': 'the business-impact.json of the run to compare with, or none',
  '--blob-dir': 'the directory blob reports are written to',
};

/**
 * Unknown tags and broken `--tags-filter` expressions are configuration errors, reported before
 * Vitest starts (Vitest reports them per test file, with stack traces, after setup). The
 * arguments stay in `vitestArgs`: Vitest still applies the filter.
 */
function checkTagsFilters(vitestArgs: readonly string[]): void {
  const expressions: string[] = [];
  for (let i = 0; i < vitestArgs.length; i += 1) {
    const arg = vitestArgs[i] as string;
    const name = /^--(tags-filter|tagsFilter)(?==|$)/.exec(arg)?.[0];
    if (!name) continue;
    const value = arg.length > name.length ? arg.slice(name.length + 1) : vitestArgs[i + 1];
    if (value === undefined || (arg.length === name.length && value.startsWith('--'))) {
      throw new ConfigError([`${name} needs a value: a tag expression such as "p1 || p2" or "redis"`]);
    }
    expressions.push(value);
  }
  const problems = tagsFilterProblems(expressions, SUITE_TAGS.map((tag) => tag.name));
  if (problems.length > 0) throw new ConfigError(problems);
}

/**
 * The report's own options: the baseline file (missing, unreadable or not a report) and the trend
 * window. A relative STAGECHECK_BASELINE is made absolute here (Vitest runs from the project root).
 */
export function reportOptionProblems(env: Record<string, string | undefined>): string[] {
  const baseline = env.STAGECHECK_BASELINE?.trim();
  if (baseline && baseline !== NO_BASELINE) env.STAGECHECK_BASELINE = resolve(baseline);
  const problem = baselineOptionProblem(env.STAGECHECK_BASELINE);
  return [...(problem ? [problem] : []), ...readTrendRuns(env).problems];
}

async function main(): Promise<number> {
  let args: E2eArgs;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      return EXIT.inconclusive;
    }
    throw error;
  }
  if (args.help) {
    process.stdout.write(`usage: npm run e2e -- [--local | --target local|staging] [--allow-production] [--phase1-gate FILE] [--blob] [--blob-dir DIR] [--report-dir DIR] [--baseline FILE|none] [--open-issue] [vitest options]\n` +
      `exit codes: 0 healthy (PASS or DEGRADED), 1 product failure, 2 inconclusive or configuration error\n`);
    return 0;
  }
  loadDotenv({ quiet: true, path: join(ROOT, '.env') });
  const env: Record<string, string | undefined> = { ...process.env, ...args.env };

  // The baseline and the trend window are read at the end of the run, also of a merge: checked now, before anything starts.
  const reportProblems = reportOptionProblems(env);
  if (reportProblems.length > 0) {
    process.stderr.write(`${new ConfigError(reportProblems).message}\n`);
    return EXIT.inconclusive;
  }
  const openIssue = openIssueSetting(env);
  if (openIssue.problem) {
    process.stderr.write(`${openIssue.problem}\n`);
    return EXIT.inconclusive;
  }

  if (!args.merge) {
    try {
      const gate = env.STAGECHECK_PHASE1_GATE;
      const sharding = shardingProblems(args, gate);
      if (sharding.length > 0) throw new ConfigError(sharding);
      if (gate && !existsSync(gate)) throw new ConfigError([`STAGECHECK_PHASE1_GATE (--phase1-gate): ${gate} does not exist; phase 2 cannot know whether phase 1 passed`]);
      assertConfigValid(env);
    } catch (error) {
      if (error instanceof ConfigError) {
        // The message names every problem and its variable; a stack trace would add nothing.
        process.stderr.write(`${error.message}\n`);
        return EXIT.inconclusive;
      }
      throw error;
    }
  }

  // Fixed here rather than in Vitest's global setup, so an interrupted run can name what it may have left.
  if (!args.merge) env.STAGECHECK_RUN_ID ||= generateRunId();

  // Loaded now, beside Vitest's start, and used only after an interrupt: Ctrl-C also ends tsx's
  // esbuild service (same process group), after which no TypeScript module can be loaded.
  const cleanupModule = import('./cleanup.ts');
  cleanupModule.catch(() => undefined);

  const dir = mkdtempSync(join(tmpdir(), 'stagecheck-e2e-'));
  const resultFile = join(dir, 'result.json');
  try {
    const child = spawn(process.execPath, [VITEST, ...args.vitestArgs], {
      cwd: ROOT,
      env: { ...env, STAGECHECK_RESULT_FILE: resultFile },
      stdio: 'inherit',
    });
    let interrupted: NodeJS.Signals | undefined;
    let interruptedAt = 0;
    const forward = (signal: NodeJS.Signals) => {
      if (!interrupted) interruptedAt = performance.now();
      interrupted ??= signal;
      child.kill(signal);
    };
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
      child.once('exit', (c, s) => done({ code: c, signal: s })),
    );
    // Ctrl-C reaches Vitest and this process at once. On a busy machine Vitest's exit can be
    // seen before our own SIGINT handler has run: its exit status says it was interrupted too,
    // and when it left no verdict a short pause lets a signal already on its way arrive.
    interrupted ??= interruptionOf(code, signal);
    if (!interrupted && !existsSync(resultFile)) interrupted = await signalArriving(() => interrupted);
    if (interrupted && !args.merge) {
      // The handlers stay until the process exits: npm relays the terminal's Ctrl-C to its script
      // a moment later, and that copy must not end this process before it has said what the run
      // left.
      const cleanup = await cleanupModule.catch(() => undefined);
      if (cleanup) await cleanup.afterInterrupt(env, interrupted, { interruptedAt: interruptedAt || performance.now() });
      else {
        const runId = env.STAGECHECK_RUN_ID ?? 'unknown';
        process.stderr.write(`\nstagecheck: interrupted (${interrupted}): run ${runId} stopped before a verdict.\n` +
          `  It may have left data on its target. Remove it with:\n    npm run cleanup -- --run-id ${runId}\n`);
      }
      return EXIT.inconclusive;
    }
    process.off('SIGINT', forward);
    process.off('SIGTERM', forward);
    const result = readResultFile(resultFile);
    if (!result) {
      process.stderr.write(`stagecheck: no verdict (Vitest ended with ${code ?? 'a signal'} before the business-impact reporter produced one): inconclusive\n`);
      return EXIT.inconclusive;
    }
    // A FAIL run's incident.md filed through gh, or one message why not; the exit code stays the run's.
    const filed = openIssue.wanted ? await openIssueAfterRun(result, { env: env as NodeJS.ProcessEnv }).catch(() => undefined) : undefined;
    if (filed) (filed.status === 'filed' ? process.stdout : process.stderr).write(`${filed.message}\n`);
    return result.exitCode;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The signal a child's exit status reports: killed by it, or exited with 128 + its number as Vitest does. */
export function interruptionOf(code: number | null, signal: NodeJS.Signals | null): NodeJS.Signals | undefined {
  if (signal === 'SIGINT' || signal === 'SIGTERM') return signal;
  if (code === 130) return 'SIGINT';
  if (code === 143) return 'SIGTERM';
  return undefined;
}

/** Waits up to `ms` for `seen()` to report a signal this process was sent alongside its child. */
async function signalArriving(seen: () => NodeJS.Signals | undefined, ms = 100): Promise<NodeJS.Signals | undefined> {
  const end = performance.now() + ms;
  while (!seen() && performance.now() < end) await new Promise((tick) => setTimeout(tick, 10));
  return seen();
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`stagecheck: ${(error as Error)?.message ?? String(error)}\n`);
      process.exit(EXIT.inconclusive);
    },
  );
}
