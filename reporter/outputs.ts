/**
 * Writing a finished report: business-impact.json, business-impact.md (also appended to
 * $GITHUB_STEP_SUMMARY when set), index.html, and the result file scripts/e2e.ts maps to an
 * exit code (the history line is appended by reporter/index.ts first, so that a history that could
 * not be written is a warning in these files). JUnit XML is Vitest's own `junit` reporter, which
 * `npm run e2e` adds; the terminal summary is printed by reporter/index.ts.
 *
 * The report comes in redacted as data; the rendered texts pass the redactor once more as a
 * safety net, since no secret may reach these files (docs/reports.md).
 */
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { redactSecrets } from '../helpers/core/redact.ts';
import type { Catalog, KpiDef } from './catalog.ts';
import type { HistoryEntry } from './history.ts';
import { updateIncidentFile } from './incident.ts';
import { renderHtml } from './render-html.ts';
import { renderMarkdown } from './render-text.ts';
import type { BusinessImpactReport } from './schema.ts';
import type { VitestHtmlLink } from './vitest-html.ts';

export const OUTPUT_FILES = { json: 'business-impact.json', markdown: 'business-impact.md', html: 'index.html' } as const;

export interface OutputContext {
  dir: string;
  kpis: readonly KpiDef[];
  secrets: string[];
  /** The history's key for this target (history.ts targetKey). */
  target: string;
  /** Where a failure to append to the step summary is told; it never fails the run. */
  logError: (message: string) => void;
  /** Vitest's own HTML report of this run, when it wrote one (reporter/vitest-html.ts): linked from index.html. */
  vitestHtml?: VitestHtmlLink;
  /** This target's earlier runs, oldest first: incident.md's "first seen" (reporter/incident.ts). */
  past?: readonly HistoryEntry[];
  /** The run's catalog, for incident.md's next steps. */
  catalog: Catalog;
}

/** Writes the report files; returns their paths (the history and step summary are not listed). */
export function writeOutputs(report: BusinessImpactReport, context: OutputContext): string[] {
  const { dir, secrets } = context;
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
  write(OUTPUT_FILES.html, clean(renderHtml(report, context.kpis, context.vitestHtml)));
  // FAIL writes incident.md, PASS and DEGRADED remove a stale one, INCONCLUSIVE leaves it (reporter/incident.ts).
  const incident = updateIncidentFile(
    { report, catalog: context.catalog, past: context.past ?? [], reportDir: dir, files: [...files], secrets },
    context.logError,
  );
  if (incident) files.push(incident);
  if (process.env.GITHUB_STEP_SUMMARY) {
    try {
      appendFileSync(process.env.GITHUB_STEP_SUMMARY, `${markdown}\n`);
    } catch (error) {
      context.logError(`stagecheck: could not append to GITHUB_STEP_SUMMARY: ${(error as Error).message}`);
    }
  }
  return files;
}

/** What scripts/e2e.ts reads to choose its exit code (STAGECHECK_RESULT_FILE). */
export interface ResultFile {
  verdict: BusinessImpactReport['verdict'];
  exitCode: 0 | 1 | 2;
  reason: string;
  mode: BusinessImpactReport['run']['mode'];
  reportDir: string;
  files: string[];
}

export function writeResult(result: ResultFile): void {
  const file = process.env.STAGECHECK_RESULT_FILE;
  if (!file) return;
  try {
    writeFileSync(file, `${JSON.stringify(result)}\n`);
  } catch {
    // scripts/e2e.ts treats a missing result as inconclusive
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
