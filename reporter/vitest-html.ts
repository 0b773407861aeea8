/**
 * Vitest's own HTML report (`--reporter=html`, the @vitest/ui package), linked from the
 * business page when the run wrote one. Not written by default: it stores every error, console
 * line and the serialized config unredacted (gzip-compressed, where no secret scan sees it),
 * and copies 1.1 MB of UI per run. It loads its data over HTTP, so it is served, not opened as
 * a file: `npx vite preview --outDir <its directory>`.
 */
import { dirname, relative, resolve } from 'node:path';
import type { ResolvedConfig } from 'vitest/node';

/** Where @vitest/ui's reporter writes (its own rule): the reporter's outputFile, `outputFile.html`, else html/index.html. */
export function vitestHtmlReportFile(config: Pick<ResolvedConfig, 'root' | 'reporters' | 'outputFile'>): string | undefined {
  const entry = config.reporters.find((r) => Array.isArray(r) && r[0] === 'html');
  if (!entry) return undefined;
  const own = (Array.isArray(entry) ? (entry[1] as { outputFile?: unknown } | undefined)?.outputFile : undefined);
  const configured = typeof config.outputFile === 'string' ? config.outputFile : config.outputFile?.html;
  const file = typeof own === 'string' ? own : (configured ?? 'html/index.html');
  return resolve(config.root, file);
}

/** What the business page shows for it: a link relative to the page, and how to open it. */
export interface VitestHtmlLink {
  href: string;
  serve: string;
}

export function vitestHtmlLink(file: string, reportDir: string, cwd = process.cwd()): VitestHtmlLink {
  return { href: relative(reportDir, file) || 'index.html', serve: `npx vite preview --outDir ${relative(cwd, dirname(file)) || '.'}` };
}
