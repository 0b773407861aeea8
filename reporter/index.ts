/**
 * The stagecheck business-impact reporter (a Vitest 4.1 custom reporter): Vitest's lifecycle,
 * handing each moment to the module that owns it.
 *
 * Registered in vitest.config.ts; acts only on runs that contain the phase1/phase2 projects.
 * - Run start: the phase-1 gate (reporter/gate.ts) is written pending and its path provided to
 *   the workers (`provide('stagecheckGate')`), where reporter/gate-setup.ts skips blocked tests;
 *   it is decided when the last of the run's phase-1 modules ends.
 * - While it runs: the phases planned (in the banner), each phase's test count once collected,
 *   a line per finished file in CI logs, and the workers' still-waiting lines (reporter/progress.ts).
 * - Run end (reporter/run-end.ts, imported once the first test has started): records of every
 *   test (reporter/records.ts), the verdict engine (reporter/verdicts.ts), the terminal summary,
 *   and the files (reporter/outputs.ts). In `--merge-reports` mode it does the same from the
 *   blobs' task meta; in a shard or blob run it prints a partial summary and writes the gate only.
 *
 * It never fails a run: any error of its own becomes a warning and an INCONCLUSIVE result.
 */
import { join, resolve } from 'node:path';
import type { Reporter, TestModule, TestSpecification, Vitest } from 'vitest/node';
import type { SerializedError, UserConsoleLog } from 'vitest';
import { loadConfig, secretValues } from '../helpers/core/config.ts';
import { redactSecrets, SECRET_VARIABLES } from '../helpers/core/redact.ts';
import { GATE_ENV, GATE_FILE_NAME, Phase1Gate } from './gate.ts';
import { collectedFile, fileCounts, fileLinesWanted, fileProgressLine, isStillWaitingLog, PhaseCounts, phasePlanLine, SUITE_PROJECTS, type PlannedFile } from './progress.ts';
import type { BusinessImpactReport } from './schema.ts';
import { renderHead, targetHead, type TargetHead } from '../helpers/core/target-head.ts';
import type { finishRun } from './run-end.ts';

type FinishRun = typeof finishRun;


export interface StagecheckReporterOptions {
  /** Default: STAGECHECK_REPORT_DIR, else `reports` under the Vitest root. */
  reportDir?: string;
  /**
   * Default: STAGECHECK_HISTORY_URL (PostgreSQL), else STAGECHECK_HISTORY_FILE, else
   * `<reportDir>/history.jsonl` (reporter/history-store.ts); a file given here wins; `false` turns history off.
   */
  historyFile?: string | false;
}

export default class StagecheckReporter implements Reporter {
  private vitest?: Vitest;
  private active = false;
  private mode: BusinessImpactReport['run']['mode'] = 'run';
  private startedAt = new Date();
  private gate?: Phase1Gate;
  private readonly warnings: string[] = [];
  private bannerShown = false;
  private planned: PlannedFile[] = [];
  private phaseCounts?: PhaseCounts;
  private runEndModule?: Promise<{ finishRun: FinishRun }>;

  constructor(private readonly options: StagecheckReporterOptions = {}) {}

  onInit(vitest: Vitest): void {
    this.vitest = vitest;
    this.startedAt = new Date();
    const config = vitest.config;
    const blob = (config.reporters ?? []).some((entry) => (Array.isArray(entry) ? entry[0] : entry) === 'blob');
    this.mode = config.mergeReports ? 'merge' : config.shard || blob ? 'shard' : 'run';
  }

  /**
   * Watch mode: every rerun is a run of its own. Its run id is new (tests/global-setup.ts), and
   * here its gate, start time, warnings and banner start afresh.
   */
  onWatcherRerun(): void {
    this.startedAt = new Date();
    this.active = false;
    this.gate = undefined;
    this.warnings.length = 0;
    this.bannerShown = false;
    this.planned = [];
    this.phaseCounts = undefined;
  }

  onTestRunStart(specifications: ReadonlyArray<TestSpecification>): void {
    this.guard('onTestRunStart', () => {
      this.active = specifications.some((spec) => SUITE_PROJECTS.has(spec.project.name));
      if (!this.active || this.mode === 'merge' || !this.vitest) return;
      this.planned = specifications.filter((spec) => SUITE_PROJECTS.has(spec.project.name)).map((spec) => ({ project: spec.project.name, moduleId: spec.moduleId }));
      this.phaseCounts = new PhaseCounts(this.planned);
      // A configured target is known now; the bundled platform once global setup has started it.
      this.showBanner();
      const external = process.env[GATE_ENV];
      if (external) {
        this.vitest.provide('stagecheckGate', { file: resolve(external), source: 'file' });
        return;
      }
      if (!specifications.some((spec) => spec.project.name === 'phase1')) {
        this.vitest.provide('stagecheckGate', null);
        return;
      }
      this.gate = new Phase1Gate(join(this.reportDir(), GATE_FILE_NAME), {
        runId: () => this.runId(),
        redact: (text) => redactSecrets(text, this.secrets()),
      });
      this.gate.start(specifications.filter((spec) => spec.project.name === 'phase1').map((spec) => spec.moduleId));
      this.vitest.provide('stagecheckGate', { file: this.gate.file, source: 'this-run' });
    });
  }

  onTestModuleQueued(): void {
    this.guard('onTestModuleQueued', () => {
      if (this.active && this.mode !== 'merge') this.showBanner();
    });
  }

  /** The start banner (helpers/core/target-head.ts), once, as soon as the configuration names the target. */
  private showBanner(): void {
    if (this.bannerShown) return;
    const head = this.currentHead();
    if (!head) return;
    this.bannerShown = true;
    this.vitest?.logger.log(['', ...renderHead(head), phasePlanLine(this.planned), ''].join('\n'));
  }

  /** What this process's configuration (and global setup's provided env) targets; undefined while unknown. */
  private currentHead(): TargetHead | undefined {
    const env = { ...process.env, ...this.providedEnv() };
    try {
      return targetHead(loadConfig(env), { profile: env.STAGECHECK_PLATFORM_PROFILE });
    } catch {
      return undefined;
    }
  }

  /**
   * The first test has started: the worker has loaded its modules and mostly waits on the
   * network now, so the run end's modules load beside the tests (earlier, they slowed the
   * worker's own imports, which this process serves; later, the run's end waited for them).
   */
  onTestCaseReady(): void {
    // A failed import is reported by onTestRunEnd, which awaits the same promise.
    if (this.active) this.runEnd().catch(() => {});
  }

  /** Each phase's test count, once its last file is collected. */
  onTestModuleCollected(module: TestModule): void {
    this.guard('onTestModuleCollected', () => this.countPhase(module));
  }

  onTestModuleEnd(module: TestModule): void {
    this.guard('onTestModuleEnd', () => {
      this.gate?.ended(module);
      // A file that failed to load is never collected: its phase is counted when it ends.
      this.countPhase(module);
      if (this.active && this.mode !== 'merge' && SUITE_PROJECTS.has(module.project.name) && fileLinesWanted()) {
        this.vitest?.logger.log(fileProgressLine(fileCounts(module, this.root())));
      }
    });
  }

  /** A worker's still-waiting line (helpers/core/progress.ts), as one line of its own. */
  onUserConsoleLog(log: UserConsoleLog): void {
    this.guard('onUserConsoleLog', () => {
      if (this.active && isStillWaitingLog(log.content)) this.vitest?.logger.log(log.content.trimEnd());
    });
  }

  private countPhase(module: TestModule): void {
    if (!this.active || this.mode === 'merge') return;
    const line = this.phaseCounts?.collected(collectedFile(module));
    if (line) this.vitest?.logger.log(line);
  }

  async onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<SerializedError>): Promise<void> {
    if (!this.active) return;
    let finishRun: FinishRun;
    try {
      ({ finishRun } = await this.runEnd());
    } catch (error) {
      // Without its run end the reporter has no verdict to give: the run is INCONCLUSIVE, never green.
      this.vitest?.logger.error(`stagecheck reporter failed: its run end (reporter/run-end.ts) could not be loaded: ${(error as Error)?.message ?? String(error)}`);
      process.exitCode = 2;
      return;
    }
    await finishRun({
      testModules,
      unhandledErrors,
      vitest: this.vitest,
      mode: this.mode,
      startedAt: this.startedAt,
      gate: this.gate,
      warnings: this.warnings,
      root: this.root(),
      reportDir: this.reportDir(),
      historyFile: this.options.historyFile,
      env: { ...process.env, ...this.providedEnv() },
      secrets: this.secrets(),
      runId: this.runId(),
      currentHead: () => this.currentHead(),
    });
  }

  /**
   * The run end's module (reporter/run-end.ts), most of the reporter's code: imported when the
   * first test starts (onTestCaseReady), or at the end of a run that started none.
   */
  private runEnd(): Promise<{ finishRun: FinishRun }> {
    this.runEndModule ??= import('./run-end.ts');
    return this.runEndModule;
  }

  // -------------------------------------------------------------------------------------
  // Where things are, from the options, the environment and what the workers were given

  private guard(where: string, fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.warnings.push(`reporter ${where}: ${(error as Error)?.message ?? String(error)}`);
    }
  }

  private root(): string {
    return this.vitest?.config.root ?? process.cwd();
  }

  reportDir(): string {
    return resolve(this.root(), this.options.reportDir ?? (process.env.STAGECHECK_REPORT_DIR || 'reports'));
  }

  private providedEnv(): Record<string, string> {
    const env: Record<string, string> = {};
    for (const project of this.vitest?.projects ?? []) {
      try {
        Object.assign(env, (project.getProvidedContext() as { stagecheckEnv?: Record<string, string> }).stagecheckEnv ?? {});
      } catch {
        // no provided context yet
      }
    }
    return env;
  }

  private runId(): string | null {
    return this.providedEnv().STAGECHECK_RUN_ID ?? process.env.STAGECHECK_RUN_ID ?? null;
  }

  /** Every secret this process knows of: the configured ones and the local platform's. */
  private secrets(): string[] {
    const env = { ...process.env, ...this.providedEnv() };
    const secrets: string[] = SECRET_VARIABLES.map((name) => env[name]).filter((v): v is string => typeof v === 'string' && v.length > 0);
    try {
      secrets.push(...secretValues(loadConfig(env)));
    } catch {
      // merge mode or an invalid config: the variables above are all there is
    }
    return [...new Set(secrets)];
  }

}

export { StagecheckReporter };
