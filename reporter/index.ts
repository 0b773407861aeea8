/**
 * The stagecheck business-impact reporter (a Vitest 4.1 custom reporter): Vitest's lifecycle,
 * handing each moment to the module that owns it.
 *
 * Registered in vitest.config.ts; acts only on runs that contain the phase1/phase2 projects.
 * - Run start: the phase-1 gate (reporter/gate.ts) is written pending and its path provided to
 *   the workers (`provide('stagecheckGate')`), where reporter/gate-setup.ts skips blocked tests;
 *   each queued and ended module moves the gate towards its decision.
 * - While it runs: the phases planned (in the banner), each phase's test count once collected,
 *   a line per finished file in CI logs, and the workers' still-waiting lines (reporter/progress.ts).
 * - Run end: records of every test (reporter/records.ts), the verdict engine
 *   (reporter/verdicts.ts), the terminal summary, and the files (reporter/outputs.ts). In
 *   `--merge-reports` mode it does the same from the blobs' task meta; in a shard or blob run it
 *   prints a partial summary and writes the gate only.
 *
 * It never fails a run: any error of its own becomes a warning and an INCONCLUSIVE result.
 */
import { join, relative, resolve } from 'node:path';
import type { Reporter, TestModule, TestSpecification, Vitest } from 'vitest/node';
import type { SerializedError, UserConsoleLog } from 'vitest';
import { loadConfig, secretValues } from '../helpers/core/config.ts';
import { redactDeep, redactSecrets, SECRET_VARIABLES } from '../helpers/core/redact.ts';
import { loadCatalog } from './catalog.ts';
import { GATE_ENV, GATE_FILE_NAME, Phase1Gate, summarizeGate, type ModuleTargetMeta } from './gate.ts';
import { annotationsWanted, githubAnnotationLines } from './github-annotations.ts';
import { historyEntry, indexHistory, isLoopback, targetKey } from './history.ts';
import { openHistoryStore, type HistoryStore } from './history-store.ts';
import { writeOutputs, writeResult } from './outputs.ts';
import { earliest, firstLine, moduleRecord, testRecords, type ModuleRecord } from './records.ts';
import { nothingRanExit } from './nothing-ran.ts';
import { renderTerminal } from './render-text.ts';
import { colorsWanted } from './kpi-lines.ts';
import { collectedFile, fileCounts, fileLinesWanted, fileProgressLine, isStillWaitingLog, PhaseCounts, phasePlanLine, type PlannedFile } from './progress.ts';
import { vitestHtmlLink, vitestHtmlReportFile, type VitestHtmlLink } from './vitest-html.ts';
import { computeTrends, markUnstable } from './trends.ts';
import { chooseBaseline, diffSinceBaseline } from './baseline.ts';
import { readTrendRuns } from '../helpers/core/trend-settings.ts';
import type { HistoryEntry } from './history.ts';
import type { BusinessImpactReport } from './schema.ts';
import { computeReport } from './verdicts.ts';
import { renderHead, targetHead, type TargetHead } from '../helpers/core/target-head.ts';

export { OUTPUT_FILES, readResultFile, type ResultFile } from './outputs.ts';

export const SUITE_PROJECTS = new Set(['phase1', 'phase2']);

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
      this.gate.start();
      this.vitest.provide('stagecheckGate', { file: this.gate.file, source: 'this-run' });
    });
  }

  onTestModuleQueued(module: TestModule): void {
    this.guard('onTestModuleQueued', () => {
      if (this.active && this.mode !== 'merge') this.showBanner();
      this.gate?.queued(module);
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
    let report: BusinessImpactReport | undefined;
    let files: string[] = [];
    let history: HistoryStore | null = null;
    try {
      this.gate?.decide();
      const catalog = loadCatalog();
      const suiteModules = testModules.filter((m) => SUITE_PROJECTS.has(m.project.name));
      const tests = suiteModules.flatMap((m) => testRecords(m, this.warnings));
      const modules = suiteModules.map((m) => moduleRecord(m));
      const secrets = this.secrets();
      const baseUrl = this.baseUrl(modules);
      const historyWarnings: string[] = [];
      const target = targetKey(baseUrl, isLoopback(baseUrl));
      // A shard neither reads nor writes the history: its merge does, once.
      history = this.mode === 'shard' ? null : this.openHistory(historyWarnings);
      const past = history ? await history.read(target) : [];
      historyWarnings.push(...(history?.drainWarnings() ?? []));
      const head = modules.map((m) => (m.target as Partial<ModuleTargetMeta> | undefined)?.head).find((h) => h !== undefined) ?? (this.mode === 'merge' ? undefined : this.currentHead());
      const runIds = [...new Set(modules.map((m) => (m.target as Partial<ModuleTargetMeta> | undefined)?.runId).filter((id): id is string => typeof id === 'string'))];
      report = computeReport({
        catalog: catalog.catalog,
        catalogPath: relative(this.root(), catalog.path) || catalog.path,
        tests,
        modules,
        unhandledErrors: unhandledErrors.map((e) => `${e.name ?? 'Error'}: ${e.message ?? String(e)}`),
        warnings: [...catalog.warnings, ...historyWarnings, ...this.warnings],
        run: {
          runId: runIds.length === 0 ? this.runId() : runIds.length === 1 ? (runIds[0] as string) : `${runIds[0]} (+${runIds.length - 1} shard run ids)`,
          mode: this.mode,
          shard: this.vitest?.config.shard ? `${this.vitest.config.shard.index}/${this.vitest.config.shard.count}` : null,
          vitestVersion: this.vitest?.version ?? null,
          projects: [...new Set(suiteModules.map((m) => m.project.name))].sort(),
          startedAt: this.mode === 'merge' ? earliest(tests) : this.startedAt.toISOString(),
          durationMs: this.mode === 'merge' ? null : Date.now() - this.startedAt.getTime(),
        },
        target: { baseUrl, snapshots: [] },
        gate: summarizeGate(tests, process.env[GATE_ENV]),
        history: indexHistory(history?.location ?? null, past),
        head: head ?? null,
        ...(head?.budgets.BUDGET_COLD_START_MS !== undefined ? { coldStartAllowanceMs: head.budgets.BUDGET_COLD_START_MS } : {}),
      });
      // A shard's report is partial: its trends and baseline diff come from the merge.
      if (this.mode !== 'shard') this.addTrendsAndBaseline(report, past, target, history !== null);
      report = redactDeep(report, secrets);
      // A shard's report is partial: its files and history line come from the merge.
      if (this.mode !== 'shard') {
        // Appended before the files are written, so a history that could not be written is a warning in them.
        if (history) {
          await history.append(redactDeep(historyEntry(report, target), secrets));
          report.warnings.push(...history.drainWarnings().map((warning) => redactSecrets(warning, secrets)));
        }
        files = writeOutputs(report, {
          dir: this.reportDir(),
          kpis: catalog.catalog.kpis,
          catalog: catalog.catalog,
          past,
          secrets,
          target,
          logError: (message) => this.vitest?.logger.error(message),
          ...this.vitestHtml(),
        });
      }
    } catch (error) {
      const message = `stagecheck reporter failed: ${(error as Error)?.stack ?? String(error)}`;
      this.vitest?.logger.error(firstLine(message));
      writeResult({ verdict: 'INCONCLUSIVE', exitCode: 2, reason: firstLine(message), mode: this.mode, reportDir: this.reportDir(), files });
      return;
    } finally {
      await history?.close();
    }
    try {
      this.vitest?.logger.log(renderTerminal(report, { colors: colorsWanted(), files: files.map((f) => relative(process.cwd(), f) || f) }));
      // One GitHub annotation per failure cause, from the whole report only: a shard's would repeat the merge's.
      const annotations = this.mode !== 'shard' && annotationsWanted() ? githubAnnotationLines(report, this.secrets()) : [];
      if (annotations.length) this.vitest?.logger.log(annotations.join('\n'));
    } catch {
      // a summary that cannot be printed is not worth failing for
    }
    writeResult({ verdict: report.verdict, exitCode: report.exitCode, reason: report.reason, mode: this.mode, reportDir: this.reportDir(), files });
    this.failWhenNothingRan(report);
  }

  /** Vitest exits 0 when every test was skipped; a run that executed no suite test must not. */
  private failWhenNothingRan(report: BusinessImpactReport): void {
    const nothing = nothingRanExit(report);
    if (!nothing || this.mode === 'merge' || this.vitest?.config.watch) return;
    this.vitest?.logger.error(nothing.message);
    if (!process.exitCode) process.exitCode = nothing.exitCode;
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

  /** The link to Vitest's own HTML report, when this run writes one (`--reporter=html`). */
  private vitestHtml(): { vitestHtml?: VitestHtmlLink } {
    const file = this.vitest ? vitestHtmlReportFile(this.vitest.config) : undefined;
    return file ? { vitestHtml: vitestHtmlLink(file, this.reportDir()) } : {};
  }

  /**
   * The trends of this target's last runs (reporter/trends.ts; only with a history) and what
   * changed since the baseline (reporter/baseline.ts: --baseline, else the history's previous run).
   */
  private addTrendsAndBaseline(report: BusinessImpactReport, past: readonly HistoryEntry[], target: string, historyOn: boolean): void {
    const { runs, problems } = readTrendRuns(process.env);
    report.warnings.push(...problems);
    if (historyOn) {
      report.trends = computeTrends([...past, historyEntry(report, target)], report, runs);
      markUnstable(report.tests, report.trends.unstable);
    }
    report.sinceBaseline = diffSinceBaseline(report, chooseBaseline({ option: process.env.STAGECHECK_BASELINE, past, historyOn, warnings: report.warnings }), past);
  }

  private root(): string {
    return this.vitest?.config.root ?? process.cwd();
  }

  reportDir(): string {
    return resolve(this.root(), this.options.reportDir ?? (process.env.STAGECHECK_REPORT_DIR || 'reports'));
  }

  /**
   * The history store (reporter/history-store.ts), or null when history is off. The platform's
   * provided env is read too: a history URL naming its database is refused here as well.
   * A store that cannot be opened is a warning, never a failed report.
   */
  private openHistory(warnings: string[]): HistoryStore | null {
    try {
      return openHistoryStore({ env: { ...process.env, ...this.providedEnv() }, root: this.root(), reportDir: this.reportDir(), historyFile: this.options.historyFile });
    } catch (error) {
      warnings.push(`history not used: ${(error as Error).message.replace(/\n\s*/g, ' ')}`);
      return null;
    }
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

  private baseUrl(modules: ModuleRecord[]): string | null {
    const env = { ...process.env, ...this.providedEnv() };
    if (env.STAGING_BASE_URL) return redactSecrets(env.STAGING_BASE_URL, []);
    for (const m of modules) {
      const url = (m.target as ModuleTargetMeta | undefined)?.baseUrl;
      if (typeof url === 'string') return url;
    }
    return null;
  }
}

export { StagecheckReporter };
