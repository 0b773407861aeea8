/**
 * Where the run history lives, behind one interface: a JSON-lines file (the default,
 * `<report dir>/history.jsonl` or STAGECHECK_HISTORY_FILE) or a PostgreSQL database
 * (STAGECHECK_HISTORY_URL, reporter/history-postgres.ts), which scheduled CI runs and laptops
 * can share. STAGECHECK_HISTORY=off turns it off.
 *
 * Both are bounded (STAGECHECK_HISTORY_MAX_RUNS, default 1000): a monitor running for months
 * must not fill a disk. The file keeps the newest entries of all targets and is rewritten
 * (temp file + rename) once it holds a tenth more than the bound, not on every append;
 * PostgreSQL keeps the newest entries per target.
 *
 * A store never fails a run: what it cannot read or write becomes a warning (drainWarnings),
 * naming where it is without credentials.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ConfigError } from '../helpers/core/config.ts';
import { readHistorySettings } from '../helpers/core/history-settings.ts';
import type { HistoryEntry } from './history.ts';
import { openPostgresHistory } from './history-postgres.ts';
import { parseHistoryEntry, type HistoryStore } from './history-store-api.ts';
import { writeFileAtomically } from '../helpers/core/atomic-file.ts';

export { parseHistoryEntry, type HistoryStore } from './history-store-api.ts';

export interface OpenHistoryOptions {
  env: NodeJS.ProcessEnv;
  /** Relative STAGECHECK_HISTORY_FILE paths are resolved against it. */
  root: string;
  reportDir: string;
  /** A file chosen by the caller (the reporter's option): used instead of the variables; `false`: off. */
  historyFile?: string | false;
}

/**
 * The configured store, or null when history is off. Opening connects to nothing: the first
 * read or append does. Throws ConfigError for an unusable STAGECHECK_HISTORY_URL or
 * STAGECHECK_HISTORY_MAX_RUNS (config.ts refuses those before a run starts).
 */
export function openHistoryStore(o: OpenHistoryOptions): HistoryStore | null {
  if (o.historyFile === false || o.env.STAGECHECK_HISTORY?.trim() === 'off') return null;
  const settings = readHistorySettings(o.env);
  if (settings.problems.length > 0) throw new ConfigError(settings.problems);
  const rawUrl = o.env.STAGECHECK_HISTORY_URL?.trim();
  if (o.historyFile === undefined && settings.url && rawUrl) return openPostgresHistory(rawUrl, { maxRuns: settings.maxRuns });
  const file = o.historyFile ?? (o.env.STAGECHECK_HISTORY_FILE?.trim() || undefined);
  return new FileHistoryStore(file ? resolve(o.root, file) : join(o.reportDir, 'history.jsonl'), settings.maxRuns);
}

/** Rewrites happen once the file holds this many lines more than the bound: a tenth of it, at least one. */
export function rotationSlack(maxRuns: number): number {
  return Math.max(1, Math.ceil(maxRuns / 10));
}

export class FileHistoryStore implements HistoryStore {
  readonly location: string;
  private warnings: string[] = [];

  constructor(readonly file: string, readonly maxRuns: number) {
    this.location = file;
  }

  async read(target: string, limit = this.maxRuns): Promise<HistoryEntry[]> {
    if (!existsSync(this.file)) return [];
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (error) {
      this.warnings.push(`history ${this.file} could not be read: ${(error as Error).message}`);
      return [];
    }
    const entries: HistoryEntry[] = [];
    let malformed = 0;
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      let entry: HistoryEntry | undefined;
      try {
        entry = parseHistoryEntry(JSON.parse(line));
      } catch {
        entry = undefined;
      }
      if (!entry) malformed += 1;
      else if (entry.target === target) entries.push(entry);
    }
    if (malformed > 0) this.warnings.push(`history ${this.file}: ${malformed} malformed line(s) skipped`);
    return limit > 0 ? entries.slice(-limit) : [];
  }

  async append(entry: HistoryEntry): Promise<void> {
    try {
      mkdirSync(dirname(this.file), { recursive: true });
      appendFileSync(this.file, `${JSON.stringify(entry)}\n`);
    } catch (error) {
      this.warnings.push(`history ${this.file}: this run could not be appended: ${(error as Error).message}`);
      return;
    }
    try {
      rotateHistoryFile(this.file, this.maxRuns);
    } catch (error) {
      this.warnings.push(`history ${this.file}: could not be cut to the newest ${this.maxRuns} runs (STAGECHECK_HISTORY_MAX_RUNS): ${(error as Error).message}`);
    }
  }

  async close(): Promise<void> {}

  drainWarnings(): string[] {
    const out = this.warnings;
    this.warnings = [];
    return out;
  }
}

/**
 * Keeps the newest `maxRuns` lines once the file holds more than `maxRuns` + slack. Counting
 * newlines costs one read of a file the run reads anyway; the rewrite goes to a temp file in the
 * same directory, renamed over the old one, so a reader sees the old file or the new, never half.
 * (An append by another process between the read and the rename is lost: runs sharing one file
 * at the same second are rare, and a shared history belongs in PostgreSQL.) Returns whether it
 * rewrote.
 */
export function rotateHistoryFile(file: string, maxRuns: number): boolean {
  const bytes = readFileSync(file);
  let lines = 0;
  for (let i = bytes.indexOf(10); i !== -1; i = bytes.indexOf(10, i + 1)) lines += 1;
  if (lines <= maxRuns + rotationSlack(maxRuns)) return false;
  const kept = bytes.toString('utf8').split('\n').filter((line) => line.trim() !== '').slice(-maxRuns);
  writeFileAtomically(file, kept.length ? `${kept.join('\n')}\n` : '');
  return true;
}
