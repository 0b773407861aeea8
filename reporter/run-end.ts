/**
 * The business-impact reporter's run end (reporter/index.ts hands it the run): records of every
 * test, the verdict engine, history, trends and the baseline diff, the terminal summary and the
 * files. A module of its own because it is most of the reporter's code: the reporter imports it
 * while the workers run, not before the first test (docs/performance.md).
 */
import { relative } from 'node:path';
import type { TestModule, Vitest } from 'vitest/node';
import type { SerializedError } from 'vitest';
import { redactDeep, redactSecrets } from '../helpers/core/redact.ts';
import { readTrendRuns } from '../helpers/core/trend-settings.ts';
import type { TargetHead } from '../helpers/core/target-head.ts';
import { chooseBaseline, diffSinceBaseline } from './baseline.ts';
import { loadCatalog } from './catalog.ts';
import { GATE_ENV, summarizeGate, type ModuleTargetMeta, type Phase1Gate } from './gate.ts';
import { annotationsWanted, githubAnnotationLines } from './github-annotations.ts';
import { historyEntry, indexHistory, isLoopback, targetKey, type HistoryEntry } from './history.ts';
import { openHistoryStore, type HistoryStore } from './history-store.ts';
import { colorsWanted } from './kpi-lines.ts';
import { nothingRanExit } from './nothing-ran.ts';
import { SUITE_PROJECTS } from './progress.ts';
import { writeOutputs, writeResult } from './outputs.ts';
import { earliest, firstLine, moduleRecord, testRecords, type ModuleRecord } from './records.ts';
import { renderTerminal } from './render-text.ts';
import type { BusinessImpactReport } from './schema.ts';
import { computeTrends, markUnstable } from './trends.ts';
import { computeReport } from './verdicts.ts';
import { vitestHtmlLink, vitestHtmlReportFile } from './vitest-html.ts';

/** What the reporter knows of the run when it ends. */
export interface RunEnd {
  testModules: ReadonlyArray<TestModule>;
  unhandledErrors: ReadonlyArray<SerializedError>;
  vitest: Vitest | undefined;
  mode: BusinessImpactReport['run']['mode'];
  startedAt: Date;
  gate: Phase1Gate | undefined;
  /** The reporter's own warnings so far; records add theirs. */
  warnings: string[];
  root: string;
  reportDir: string;
  /** The reporter option (reporter/index.ts `StagecheckReporterOptions.historyFile`). */
  historyFile: string | false | undefined;
  /** process.env with what global setup provided to the workers (the local platform's env). */
  env: NodeJS.ProcessEnv;
  secrets: string[];
  runId: string | null;
  /** What the configuration targets (the banner's head), for a run whose modules carry none. */
  currentHead: () => TargetHead | undefined;
}

export async function finishRun(run: RunEnd): Promise<void> {
  let report: BusinessImpactReport | undefined;
  let files: string[] = [];
  let history: HistoryStore | null = null;
  const { mode, secrets } = run;
  try {
    run.gate?.decide();
    const catalog = await loadCatalog();
    const suiteModules = run.testModules.filter((m) => SUITE_PROJECTS.has(m.project.name));
    const tests = suiteModules.flatMap((m) => testRecords(m, run.warnings));
    const modules = suiteModules.map((m) => moduleRecord(m));
    const baseUrl = targetBaseUrl(run.env, modules);
    const historyWarnings: string[] = [];
    const target = targetKey(baseUrl, isLoopback(baseUrl));
    // A shard neither reads nor writes the history: its merge does, once.
    history = mode === 'shard' ? null : openHistory(run, historyWarnings);
    const past = history ? await history.read(target) : [];
    historyWarnings.push(...(history?.drainWarnings() ?? []));
    const head = modules.map((m) => (m.target as Partial<ModuleTargetMeta> | undefined)?.head).find((h) => h !== undefined) ?? (mode === 'merge' ? undefined : run.currentHead());
    const runIds = [...new Set(modules.map((m) => (m.target as Partial<ModuleTargetMeta> | undefined)?.runId).filter((id): id is string => typeof id === 'string'))];
    report = computeReport({
      catalog: catalog.catalog,
      catalogPath: relative(run.root, catalog.path) || catalog.path,
      tests,
      modules,
      unhandledErrors: run.unhandledErrors.map((e) => `${e.name ?? 'Error'}: ${e.message ?? String(e)}`),
      warnings: [...catalog.warnings, ...historyWarnings, ...run.warnings],
      run: {
        runId: runIds.length === 0 ? run.runId : runIds.length === 1 ? (runIds[0] as string) : `${runIds[0]} (+${runIds.length - 1} shard run ids)`,
        mode,
        shard: run.vitest?.config.shard ? `${run.vitest.config.shard.index}/${run.vitest.config.shard.count}` : null,
        vitestVersion: run.vitest?.version ?? null,
        projects: [...new Set(suiteModules.map((m) => m.project.name))].sort(),
        startedAt: mode === 'merge' ? earliest(tests) : run.startedAt.toISOString(),
        durationMs: mode === 'merge' ? null : Date.now() - run.startedAt.getTime(),
      },
      target: { baseUrl, snapshots: [] },
      gate: summarizeGate(tests, process.env[GATE_ENV]),
      history: indexHistory(history?.location ?? null, past),
      head: head ?? null,
      ...(head?.budgets.BUDGET_COLD_START_MS !== undefined ? { coldStartAllowanceMs: head.budgets.BUDGET_COLD_START_MS } : {}),
    });
    // A shard's report is partial: its trends and baseline diff come from the merge.
    if (mode !== 'shard') addTrendsAndBaseline(report, past, target, history !== null);
    report = redactDeep(report, secrets);
    // A shard's report is partial: its files and history line come from the merge.
    if (mode !== 'shard') {
      // Appended before the files are written, so a history that could not be written is a warning in them.
      if (history) {
        await history.append(redactDeep(historyEntry(report, target), secrets));
        report.warnings.push(...history.drainWarnings().map((warning) => redactSecrets(warning, secrets)));
      }
      const vitestHtml = run.vitest ? vitestHtmlReportFile(run.vitest.config) : undefined;
      files = writeOutputs(report, {
        dir: run.reportDir,
        kpis: catalog.catalog.kpis,
        catalog: catalog.catalog,
        past,
        secrets,
        target,
        logError: (message) => run.vitest?.logger.error(message),
        ...(vitestHtml ? { vitestHtml: vitestHtmlLink(vitestHtml, run.reportDir) } : {}),
      });
    }
  } catch (error) {
    const message = `stagecheck reporter failed: ${(error as Error)?.stack ?? String(error)}`;
    run.vitest?.logger.error(firstLine(message));
    writeResult({ verdict: 'INCONCLUSIVE', exitCode: 2, reason: firstLine(message), mode, reportDir: run.reportDir, files });
    return;
  } finally {
    await history?.close();
  }
  try {
    run.vitest?.logger.log(renderTerminal(report, { colors: colorsWanted(), files: files.map((f) => relative(process.cwd(), f) || f) }));
    // One GitHub annotation per failure cause, from the whole report only: a shard's would repeat the merge's.
    const annotations = mode !== 'shard' && annotationsWanted() ? githubAnnotationLines(report, secrets) : [];
    if (annotations.length) run.vitest?.logger.log(annotations.join('\n'));
  } catch {
    // a summary that cannot be printed is not worth failing for
  }
  writeResult({ verdict: report.verdict, exitCode: report.exitCode, reason: report.reason, mode, reportDir: run.reportDir, files });
  failWhenNothingRan(run, report);
}

/** Vitest exits 0 when every test was skipped; a run that executed no suite test must not. */
function failWhenNothingRan(run: RunEnd, report: BusinessImpactReport): void {
  const nothing = nothingRanExit(report);
  if (!nothing || run.mode === 'merge' || run.vitest?.config.watch) return;
  run.vitest?.logger.error(nothing.message);
  if (!process.exitCode) process.exitCode = nothing.exitCode;
}

/**
 * The trends of this target's last runs (reporter/trends.ts; only with a history) and what
 * changed since the baseline (reporter/baseline.ts: --baseline, else the history's previous run).
 */
function addTrendsAndBaseline(report: BusinessImpactReport, past: readonly HistoryEntry[], target: string, historyOn: boolean): void {
  const { runs, problems } = readTrendRuns(process.env);
  report.warnings.push(...problems);
  if (historyOn) {
    report.trends = computeTrends([...past, historyEntry(report, target)], report, runs);
    markUnstable(report.tests, report.trends.unstable);
  }
  report.sinceBaseline = diffSinceBaseline(report, chooseBaseline({ option: process.env.STAGECHECK_BASELINE, past, historyOn, warnings: report.warnings }), past);
}

/**
 * The history store (reporter/history-store.ts), or null when history is off. The platform's
 * provided env is read too: a history URL naming its database is refused here as well.
 * A store that cannot be opened is a warning, never a failed report.
 */
function openHistory(run: RunEnd, warnings: string[]): HistoryStore | null {
  try {
    return openHistoryStore({ env: run.env, root: run.root, reportDir: run.reportDir, historyFile: run.historyFile });
  } catch (error) {
    warnings.push(`history not used: ${(error as Error).message.replace(/\n\s*/g, ' ')}`);
    return null;
  }
}

function targetBaseUrl(env: NodeJS.ProcessEnv, modules: ModuleRecord[]): string | null {
  if (env.STAGING_BASE_URL) return redactSecrets(env.STAGING_BASE_URL, []);
  for (const m of modules) {
    const url = (m.target as ModuleTargetMeta | undefined)?.baseUrl;
    if (typeof url === 'string') return url;
  }
  return null;
}
