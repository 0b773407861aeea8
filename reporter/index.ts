/**
 * The stagecheck business-impact reporter (a Vitest 4.1 custom reporter).
 *
 * Registered in vitest.config.ts; acts only on runs that contain the phase1/phase2 projects.
 * - Phase gate: when phase 1 is part of the run, writes `<report dir>/phase1-gate.json` as
 *   pending at the start, decides it when phase 1 is over (the first phase-2 module is queued
 *   only after the phase-1 group ended, sequence.groupOrder), and hands its path to the
 *   workers with `provide('stagecheckGate')`; reporter/gate-setup.ts skips blocked tests.
 * - At the end: records of every test (TestCase.result(), meta(), tags, diagnostic()), the
 *   verdict engine (reporter/verdicts.ts), and the outputs: terminal summary, business-impact
 *   .json/.md (and $GITHUB_STEP_SUMMARY), index.html, the history store, and the result file
 *   scripts/e2e.ts maps to an exit code. In `--merge-reports` mode it does the same from the
 *   blobs' task meta; in a shard or blob run it prints a partial summary and writes the gate only.
 *
 * It never fails a run: any error of its own becomes a warning and an INCONCLUSIVE result.
 */
import { mkdirSync, readFileSync, writeFileSync, appendFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import type { Reporter, TestCase, TestModule, TestSpecification, Vitest } from 'vitest/node';
import type { SerializedError } from 'vitest';
import { loadConfig, secretValues } from '../helpers/core/config.ts';
import { redactDeep, redactSecrets, SECRET_VARIABLES } from '../helpers/core/redact.ts';
import { loadCatalog, type LoadedCatalog } from './catalog.ts';
import { GATE_ENV, GATE_FILE_NAME, readGate, sortBlocking, writeGate, type GateFailure, type GateFile, type ModuleTargetMeta } from './gate.ts';
import { appendHistory, indexHistory, readHistory, targetKey, type HistoryEntry } from './history.ts';
import { errorDetailsOf, type ModuleRecord, type TestRecord } from './records.ts';
import { renderHtml } from './render-html.ts';
import { renderMarkdown, renderTerminal } from './render-text.ts';
import type { BusinessImpactReport } from './schema.ts';
import { computeReport, firstLine, type GateSummary } from './verdicts.ts';

export const SUITE_PROJECTS = new Set(['phase1', 'phase2']);
export const OUTPUT_FILES = { json: 'business-impact.json', markdown: 'business-impact.md', html: 'index.html' } as const;

export interface StagecheckReporterOptions {
  /** Default: STAGECHECK_REPORT_DIR, else `reports` under the Vitest root. */
  reportDir?: string;
  /** Default: STAGECHECK_HISTORY_FILE, else `<reportDir>/history.jsonl`; `false` turns history off. */
  historyFile?: string | false;
}

export interface ResultFile {
  verdict: BusinessImpactReport['verdict'];
  exitCode: 0 | 1 | 2;
  reason: string;
  mode: BusinessImpactReport['run']['mode'];
  reportDir: string;
  files: string[];
}

export default class StagecheckReporter implements Reporter {
  private vitest?: Vitest;
  private active = false;
  private mode: BusinessImpactReport['run']['mode'] = 'run';
  private startedAt = new Date();
  private gateFile?: string;
  private gateDecided = false;
  private readonly phase1Open = new Set<string>();
  private readonly phase1Done: TestModule[] = [];
  private phase2Queued = false;
  private readonly warnings: string[] = [];

  constructor(private readonly options: StagecheckReporterOptions = {}) {}

  onInit(vitest: Vitest): void {
    this.vitest = vitest;
    this.startedAt = new Date();
    const config = vitest.config;
    const blob = (config.reporters ?? []).some((entry) => (Array.isArray(entry) ? entry[0] : entry) === 'blob');
    this.mode = config.mergeReports ? 'merge' : config.shard || blob ? 'shard' : 'run';
  }

  onTestRunStart(specifications: ReadonlyArray<TestSpecification>): void {
    this.guard('onTestRunStart', () => {
      this.active = specifications.some((spec) => SUITE_PROJECTS.has(spec.project.name));
      if (!this.active || this.mode === 'merge' || !this.vitest) return;
      const external = process.env[GATE_ENV];
      if (external) {
        this.vitest.provide('stagecheckGate', { file: resolve(external), source: 'file' });
        return;
      }
      if (!specifications.some((spec) => spec.project.name === 'phase1')) {
        this.vitest.provide('stagecheckGate', null);
        return;
      }
      this.gateFile = join(this.reportDir(), GATE_FILE_NAME);
      writeGate(this.gateFile, { schema: 'stagecheck.gate', v: 1, status: 'pending', runId: this.runId(), decidedAt: null, tests: 0, failed: 0, blocking: [] });
      this.vitest.provide('stagecheckGate', { file: this.gateFile, source: 'this-run' });
    });
  }

  onTestModuleQueued(module: TestModule): void {
    this.guard('onTestModuleQueued', () => {
      if (!this.gateFile || this.gateDecided) return;
      if (module.project.name === 'phase1') this.phase1Open.add(module.id);
      if (module.project.name === 'phase2') this.phase2Queued = true;
      this.maybeDecideGate();
    });
  }

  onTestModuleEnd(module: TestModule): void {
    this.guard('onTestModuleEnd', () => {
      if (!this.gateFile || this.gateDecided || module.project.name !== 'phase1') return;
      this.phase1Open.delete(module.id);
      this.phase1Done.push(module);
      this.maybeDecideGate();
    });
  }

  async onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<SerializedError>): Promise<void> {
    if (!this.active) return;
    let report: BusinessImpactReport | undefined;
    let files: string[] = [];
    let catalog: LoadedCatalog | undefined;
    try {
      if (this.gateFile && !this.gateDecided) this.decideGate();
      catalog = loadCatalog();
      const suiteModules = testModules.filter((m) => SUITE_PROJECTS.has(m.project.name));
      const tests = suiteModules.flatMap((m) => this.testRecords(m));
      const modules = suiteModules.map((m) => this.moduleRecord(m));
      const secrets = this.secrets();
      const baseUrl = this.baseUrl(modules);
      const historyFile = this.historyFile();
      const historyWarnings: string[] = [];
      const target = targetKey(baseUrl, isLoopback(baseUrl));
      const past = this.mode === 'shard' ? [] : readHistory(historyFile, target, historyWarnings);
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
        gate: this.gateSummary(tests),
        history: indexHistory(historyFile, past),
      });
      report = redactDeep(report, secrets);
      files = this.writeOutputs(report, catalog, secrets, historyFile, target);
    } catch (error) {
      const message = `stagecheck reporter failed: ${(error as Error)?.stack ?? String(error)}`;
      this.vitest?.logger.error(firstLine(message));
      report = undefined;
      this.writeResult({ verdict: 'INCONCLUSIVE', exitCode: 2, reason: firstLine(message), mode: this.mode, reportDir: this.reportDir(), files });
      return;
    }
    try {
      this.vitest?.logger.log(renderTerminal(report, { colors: process.stdout.isTTY === true, files: files.map((f) => relative(process.cwd(), f) || f) }));
    } catch {
      // a summary that cannot be printed is not worth failing for
    }
    this.writeResult({ verdict: report.verdict, exitCode: report.exitCode, reason: report.reason, mode: this.mode, reportDir: this.reportDir(), files });
  }

  // -------------------------------------------------------------------------------------

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

  private historyFile(): string | null {
    if (this.options.historyFile === false || process.env.STAGECHECK_HISTORY === 'off') return null;
    const file = this.options.historyFile ?? process.env.STAGECHECK_HISTORY_FILE;
    return file ? resolve(this.root(), file) : join(this.reportDir(), 'history.jsonl');
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

  private testRecords(module: TestModule): TestRecord[] {
    const file = module.relativeModuleId.replace(/\\/g, '/');
    const out: TestRecord[] = [];
    for (const test of module.children.allTests()) {
      try {
        out.push(testRecord(test, file));
      } catch (error) {
        this.warnings.push(`${file}: a test could not be read (${(error as Error).message}); left out`);
      }
    }
    return out;
  }

  private moduleRecord(module: TestModule): ModuleRecord {
    const file = module.relativeModuleId.replace(/\\/g, '/');
    let target: unknown;
    try {
      target = module.meta().stagecheckTarget;
    } catch {
      target = undefined;
    }
    return { project: module.project.name, file, errors: module.errors().map((e) => `${e.name ?? 'Error'}: ${e.message}`), target };
  }

  // -------------------------------------------------------------------------------------
  // Gate

  private maybeDecideGate(): void {
    if (this.phase2Queued && this.phase1Open.size === 0) this.decideGate();
  }

  private decideGate(): void {
    if (!this.gateFile || this.gateDecided) return;
    this.gateDecided = true;
    const blocking: GateFailure[] = [];
    let tests = 0;
    let failed = 0;
    for (const module of this.phase1Done) {
      for (const error of module.errors()) {
        failed += 1;
        blocking.push({ test: `${module.relativeModuleId} (failed outside any test: ${firstLine(error.message ?? '')})`, component: 'harness', layer: 'collection' });
      }
      for (const test of module.children.allTests()) {
        tests += 1;
        if (test.result().state !== 'failed') continue;
        failed += 1;
        const failure = test.meta().stagecheck?.failure;
        blocking.push({
          test: test.fullName,
          component: failure?.component ?? 'unknown',
          layer: failure?.harnessError ? 'harness' : (failure?.layer ?? 'unknown'),
          ...(failure?.code !== undefined ? { code: failure.code } : {}),
        });
      }
    }
    const gate: GateFile = {
      schema: 'stagecheck.gate',
      v: 1,
      status: failed > 0 ? 'failed' : tests > 0 ? 'passed' : 'not-run',
      runId: this.runId(),
      decidedAt: new Date().toISOString(),
      tests,
      failed,
      blocking: sortBlocking(blocking).map((b) => ({ ...b, test: redactSecrets(b.test, this.secrets()) })),
    };
    writeGate(this.gateFile, gate);
  }

  private gateSummary(tests: TestRecord[]): GateSummary {
    const phase1 = tests.filter((t) => t.project === 'phase1');
    if (phase1.length > 0) {
      const failed = phase1.filter((t) => t.state === 'failed');
      return {
        status: failed.length > 0 ? 'failed' : phase1.some((t) => t.state === 'passed') ? 'passed' : 'not-run',
        source: 'this-run',
        blocking: sortBlocking(failed.map((t) => {
          const f = (t.meta as { failure?: { component?: string; layer?: string; code?: string | number; harnessError?: boolean } } | undefined)?.failure;
          return { test: t.fullName, component: f?.component ?? 'unknown', layer: f?.harnessError ? 'harness' : (f?.layer ?? 'unknown'), ...(f?.code !== undefined ? { code: f.code } : {}) };
        })),
      };
    }
    const external = process.env[GATE_ENV] ? readGate(resolve(process.env[GATE_ENV] as string)) : undefined;
    if (external && external.status !== 'pending') return { status: external.status, source: 'file', blocking: external.blocking };
    if (tests.some((t) => t.state === 'skipped' && /^BLOCKED\b/i.test(t.note ?? ''))) {
      const note = tests.find((t) => /^BLOCKED\b/i.test(t.note ?? ''))?.note ?? '';
      const m = /^BLOCKED by phase 1: (.*) \(([^/()]+)\/([^()\s]+)[^()]*\)/i.exec(note);
      return { status: 'failed', source: 'file', blocking: m ? [{ test: m[1] as string, component: m[2] as string, layer: m[3] as string }] : [] };
    }
    return { status: 'none', source: 'none', blocking: [] };
  }

  // -------------------------------------------------------------------------------------
  // Outputs

  private writeOutputs(report: BusinessImpactReport, catalog: LoadedCatalog, secrets: string[], historyFile: string | null, target: string): string[] {
    if (this.mode === 'shard') return [];
    const dir = this.reportDir();
    mkdirSync(dir, { recursive: true });
    const clean = (text: string) => redactSecrets(text, secrets);
    const files: string[] = [];
    const write = (name: string, text: string) => {
      const file = join(dir, name);
      writeFileSync(file, text);
      files.push(file);
    };
    write(OUTPUT_FILES.json, `${JSON.stringify(report, null, 2)}\n`);
    const markdown = clean(renderMarkdown(report));
    write(OUTPUT_FILES.markdown, markdown);
    write(OUTPUT_FILES.html, clean(renderHtml(report, catalog.catalog.kpis)));
    if (process.env.GITHUB_STEP_SUMMARY) {
      try {
        appendFileSync(process.env.GITHUB_STEP_SUMMARY, `${markdown}\n`);
      } catch (error) {
        this.vitest?.logger.error(`stagecheck: could not append to GITHUB_STEP_SUMMARY: ${(error as Error).message}`);
      }
    }
    if (historyFile) {
      const entry: HistoryEntry = {
        schema: 'stagecheck.history',
        v: 1,
        runId: report.run.runId,
        at: report.run.startedAt ?? report.generatedAt,
        target,
        version: report.target.after,
        verdict: report.verdict,
        tests: Object.fromEntries(report.tests.map((t) => [t.key, t.verdict])),
        kpis: Object.fromEntries(report.kpis.map((k) => [k.id, { verdict: k.verdict, value: k.value }])),
      };
      try {
        appendHistory(historyFile, redactDeep(entry, secrets));
      } catch (error) {
        this.vitest?.logger.error(`stagecheck: could not append to the history ${historyFile}: ${(error as Error).message}`);
      }
    }
    return files;
  }

  private writeResult(result: ResultFile): void {
    const file = process.env.STAGECHECK_RESULT_FILE;
    if (!file) return;
    try {
      writeFileSync(file, `${JSON.stringify(result)}\n`);
    } catch {
      // scripts/e2e.ts treats a missing result as inconclusive
    }
  }
}

function testRecord(test: TestCase, file: string): TestRecord {
  const result = test.result();
  const diagnostic = test.diagnostic();
  let meta: unknown;
  try {
    meta = test.meta().stagecheck;
  } catch {
    meta = undefined;
  }
  return {
    id: test.id,
    project: test.project.name,
    file,
    name: test.name,
    fullName: test.fullName,
    tags: [...(test.tags ?? test.options.tags ?? [])],
    state: result.state,
    mode: test.options.mode,
    ...(result.state === 'skipped' && result.note ? { note: result.note } : {}),
    errors: (result.errors ?? []).map((e) => {
      const details = errorDetailsOf(e);
      return { ...(e.name ? { name: e.name } : {}), message: String(e.message ?? ''), ...(details ? { details } : {}) };
    }),
    ...(diagnostic ? { durationMs: diagnostic.duration, startTime: diagnostic.startTime, retryCount: diagnostic.retryCount, flaky: diagnostic.flaky } : {}),
    meta,
  };
}

function earliest(tests: TestRecord[]): string | null {
  const starts = tests.map((t) => t.startTime).filter((s): s is number => typeof s === 'number' && s > 0);
  return starts.length ? new Date(Math.min(...starts)).toISOString() : null;
}

function isLoopback(url: string | null): boolean {
  if (!url) return false;
  try {
    const host = new URL(url).hostname;
    return host === 'localhost' || /^127\./.test(host) || host === '[::1]' || host === '::1';
  } catch {
    return false;
  }
}

/** Reads a result file written by the reporter (scripts/e2e.ts). */
export function readResultFile(file: string): ResultFile | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as ResultFile;
  } catch {
    return undefined;
  }
}

export { StagecheckReporter };
