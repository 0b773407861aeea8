import { config as loadDotenv } from 'dotenv';
import { defineConfig } from 'vitest/config';
import { SUITE_TAGS } from './tests/tags.ts';
import { parseConcurrencyCap, suiteWorkers } from './helpers/core/concurrency.ts';
import { keepReporter } from './reporter/keep-reporter.ts';
import { STILL_WAITING_PREFIX } from './helpers/core/progress.ts';
import { GateFriendlySequencer } from './tests/sequencer.ts';
import { mainProcessModulesUncached } from './tests/module-cache.ts';
import { nativeStack, twinOrSource } from './tests/native-stack.ts';
import { fileURLToPath } from 'node:url';

// Workers inherit this process's environment, so .env is read once, here.
loadDotenv({ quiet: true });

/**
 * Files of the project's own tests (unit, platform, fast self-tests) run side by side: Vitest
 * needs one worker count for projects that share a group. Three on two cores, because the
 * self-test files mostly wait on the child runs they start.
 */
const OWN_TESTS_WORKERS = 3;

/** Whole-suite runs too long for `npm test` (the fast tier); `npm run test:slow` runs them. */
const SLOW_SELFTESTS = [
  'selftest/runs/fault-matrix.test.ts',
  'selftest/runs/contract-variations.test.ts',
  'selftest/runs/staging-profile.test.ts',
  'selftest/runs/nginx.test.ts',
  'selftest/runs/identities.test.ts',
  'selftest/runs/tls.test.ts',
  'selftest/runs/shards.test.ts',
  // doctor through a proxy, against a port that never answers and against TLS (a second platform,
  // the staging profile): its healthy, refused, wrong-key and partial-target runs stay in npm test.
  'selftest/runs/doctor-network.test.ts',
  // A whole run of both phases with the backend dying mid-phase-2 (issue 14 §1).
  'selftest/runs/fail-fast.test.ts',
  // Eight npm run e2e runs (verdicts and exit codes under faults, the report in Chromium): the
  // fast tier's longest file (78 s of wall in a quiet clean-clone CI run that took 3 min 47 s).
  'selftest/runs/reporter.test.ts',
  // Whole-suite slices under frame faults and the secret sentinels (44 s and 39 s of wall there):
  // with reporter.test.ts, what keeps npm test under 3 minutes since the fast tier gained the
  // Vitest-behaviour, workflow and doctor checks (3 min 31 s quiet with them in).
  'selftest/runs/bad-frames.test.ts',
  'selftest/runs/secrets.test.ts',
  // Ctrl-C on npm run e2e against its own platform and a staging (35 s there): in a clean-clone CI
  // run the fast tier took 2 min 48 s of Vitest time with it, over 3 minutes with the type check.
  'selftest/runs/interrupt.test.ts',
  // Two whole phase-2 runs (healthy with its leftover check, and 3 s tokens held open over three
  // lifetimes): the fast tier still measured 3 min 1 s of Vitest time in a clean clone without it.
  'selftest/runs/phase2.test.ts',
  // One e2e run whose heartbeat wait lasts 15 s on purpose (still-waiting lines): about 40 s.
  'selftest/runs/progress.test.ts',
  // Three phase-1 slice e2e runs against one platform, a fault switched on after the first: the
  // baseline diff names the newly failing check (issue 16 §3).
  'selftest/runs/baseline.test.ts',
  // npm run monitor (issue 16 §1): ten phase-1 iterations 2 s apart with a fault in the middle,
  // three from the command line, and Ctrl-C in an iteration.
  'selftest/runs/monitor.test.ts',
  // Five phase-1 e2e runs against one platform with the history in its PostgreSQL (issue 16 §5):
  // 15 s quiet, 44 s while other self-tests ran.
  'selftest/runs/history-postgres.test.ts',
  // Three phase-1 e2e runs in a row (Redis silent, silent with --open-issue, healthy): incident.md
  // written, dated back through the history, filed through a fake gh, then removed (about 40 s).
  'selftest/runs/incident.test.ts',
];

/** The project root: this file's folder. */
const ROOT = fileURLToPath(new URL('.', import.meta.url));

/**
 * The business-impact reporter, named by path (see `reporters` below): its compiled twin
 * (tests/native-stack.ts), which Node loads as it is, so the main process neither transforms it
 * nor runs into Vitest's module-cache fault (tests/module-cache.ts).
 */
const BUSINESS_IMPACT_REPORTER_SOURCE = './reporter/index.ts';
const BUSINESS_IMPACT_REPORTER = twinOrSource(ROOT, BUSINESS_IMPACT_REPORTER_SOURCE);

/**
 * What a bare `vitest run` (no `--project`) runs: the suite, never the project's own tests,
 * which take minutes and are selected by name (`npm test`, `npm run test:slow`). Vitest 4.1
 * reads `project` from the config as the default of `--project`, and any `--project` on the
 * command line replaces it (proven by selftest/runs/vitest-surprises.test.ts); it is not in
 * the config's type, hence the cast.
 */
const DEFAULT_PROJECTS = { project: ['phase1', 'phase2'] } as object;

/**
 * What every project shares, spread into each rather than inherited with `extends: true`: a
 * project that extends the root makes Vitest load this file once more (7 evaluations per run
 * instead of 1), which cost a phase-1 run about 0.35 s (docs/performance.md).
 */
const PROJECT_SHARED = {
  pool: 'forks' as const,
  tags: SUITE_TAGS,
  strictTags: true,
  // A suite that collects nothing must fail, never pass quietly.
  passWithNoTests: false,
  // Still-waiting lines from the workers (helpers/core/progress.ts) are printed by the
  // business-impact reporter as one line each; Vitest's own would add a header naming
  // whichever concurrent test it saw last.
  onConsoleLog: (log: string) => (log.startsWith(STILL_WAITING_PREFIX) ? false : undefined),
  // Transformed TypeScript is kept between runs in node_modules/.experimental-vitest-cache (keyed
  // by each file's content and the config; cleared when the lockfile changes, or by
  // `vitest --clearCache`): test and setup files, and the project's own tests, are not transformed
  // again on every run (the helper stack is compiled apart, tests/native-stack.ts). It took about
  // 0.7 s off a phase-1 run on the fast platform (docs/performance.md).
  experimental: { fsModuleCache: true },
};

/** The suite against a target: phase 1 (infrastructure) and phase 2 (business functions). */
const suiteProject = (name: 'phase1' | 'phase2') => ({
  // Vitest calls a plugin's configureVitest for the projects' plugins, not the root's: here they
  // keep the business-impact reporter when a reporter is named on the command line, keep the main
  // process's modules out of the module cache, and load the helper stack as compiled JavaScript.
  plugins: [keepReporter(BUSINESS_IMPACT_REPORTER, BUSINESS_IMPACT_REPORTER_SOURCE), mainProcessModulesUncached(), nativeStack()],
  test: {
    ...PROJECT_SHARED,
    name,
    include: [`tests/${name}/**/*.test.ts`],
    // Its compiled twin, as the reporter's (tests/native-stack.ts).
    globalSetup: [twinOrSource(ROOT, 'tests/global-setup.ts')],
    // Target version snapshots around every module; phase 1 asks for its token while its checks
    // load; phase 2 reads the phase-1 gate.
    setupFiles: name === 'phase1' ? ['fixtures/identity-warm-up.ts', 'reporter/target-setup.ts'] : ['reporter/target-setup.ts', 'reporter/gate-setup.ts'],
    // Budgets inside the tests decide failures; these only stop a hung harness.
    testTimeout: 150_000,
    hookTimeout: 60_000,
    // The checks wait on the network, not the CPU: run files side by side and the tests of a
    // file concurrently, so a broken target costs one timeout, not one per test in a row. (In
    // 4.1.12 `sequence.concurrent` set per project does not reach the tests, so every suite
    // describe also says `concurrent: true`.)
    // STAGECHECK_MAX_CONCURRENCY caps agent runs across the run: fewer workers, and a share of
    // the cap per worker (helpers/core/concurrency.ts). Unset: 4.
    maxWorkers: suiteWorkers(parseConcurrencyCap(process.env.STAGECHECK_MAX_CONCURRENCY)),
    // One module graph per worker, not per file: the helpers load once, and a worker's clients
    // and tokens serve every file it runs (measured: README, Performance). Files share
    // no mutable module state; each test's data carries its own ids.
    isolate: false,
    // Both phases in one group (1; the project's own tests are 0 and 3): phase 2's files start
    // beside phase 1's and their tests wait for the gate the reporter writes when phase 1 ends
    // (reporter/gate-setup.ts), except a long necessary wait that overlaps phase 1
    // (fixtures/gate.ts). Phase 1's file starts first (tests/sequencer.ts).
    sequence: { concurrent: true, groupOrder: 1 },
  },
});

export default defineConfig({
  test: {
    ...DEFAULT_PROJECTS,
    ...PROJECT_SHARED,
    // The business-impact reporter acts only on runs of phase1/phase2 (README "Reports").
    // Named by path, not imported: importing the reporter here cost time on every run, when
    // Vitest still evaluated this config once per project (docs/performance.md).
    reporters: ['default', BUSINESS_IMPACT_REPORTER],
    // Phase 1's file first, then the files with a long necessary wait (the heartbeat test)
    // (tests/sequencer.ts). The sequencer is the run's, not a project's: Vitest reads it from the root only.
    sequence: { sequencer: GateFriendlySequencer },
    projects: [
      suiteProject('phase1'),
      suiteProject('phase2'),
      {
        plugins: [mainProcessModulesUncached()],
        test: { ...PROJECT_SHARED, name: 'unit', include: ['selftest/unit/**/*.test.ts'], testTimeout: 30_000, maxWorkers: OWN_TESTS_WORKERS },
      },
      {
        plugins: [mainProcessModulesUncached()],
        test: { ...PROJECT_SHARED, name: 'platform', include: ['platform/test/**/*.test.ts'], testTimeout: 60_000, hookTimeout: 60_000, maxWorkers: OWN_TESTS_WORKERS },
      },
      // The suite run end to end against healthy and faulted reference platforms. The fast tier
      // (`npm test`) runs its files side by side: each starts its own platforms on ephemeral
      // ports and keeps its reports in a temp dir, and most of their time is spent waiting on
      // child runs. The slow tier (`npm run test:slow`) holds what cannot fit in 3 minutes.
      {
        plugins: [mainProcessModulesUncached()],
        test: {
          ...PROJECT_SHARED,
          name: 'selftest',
          include: ['selftest/runs/**/*.test.ts'],
          exclude: SLOW_SELFTESTS,
          testTimeout: 180_000,
          hookTimeout: 60_000,
          maxWorkers: OWN_TESTS_WORKERS,
        },
      },
      {
        plugins: [mainProcessModulesUncached()],
        test: {
          ...PROJECT_SHARED,
          name: 'selftest-slow',
          include: SLOW_SELFTESTS,
          testTimeout: 600_000,
          hookTimeout: 120_000,
          maxWorkers: 2,
          sequence: { groupOrder: 3 },
        },
      },
    ],
  },
});
