/**
 * What every history store offers (reporter/history-store.ts opens one), and what counts as a
 * stored entry. Apart from the stores themselves so that each store can implement it without
 * importing the module that chooses between them.
 */
import { HISTORY_SCHEMA, type HistoryEntry } from './history.ts';

export interface HistoryStore {
  /** Where it is, without credentials: for reports and messages. */
  readonly location: string;
  /** This target's entries, oldest first: the newest `limit` (default: the store's bound). Never throws. */
  read(target: string, limit?: number): Promise<HistoryEntry[]>;
  /** Adds one finished run and applies the bound. Never throws. */
  append(entry: HistoryEntry): Promise<void>;
  close(): Promise<void>;
  /** What went wrong since the last call (unreadable, malformed entries, not written), once each. */
  drainWarnings(): string[];
}

/** An entry as stored, or undefined when it is not one (another tool's line, a torn write). */
export function parseHistoryEntry(value: unknown): HistoryEntry | undefined {
  const entry = value as Partial<HistoryEntry> | null;
  if (entry === null || typeof entry !== 'object') return undefined;
  if (entry.schema !== HISTORY_SCHEMA || typeof entry.at !== 'string' || typeof entry.target !== 'string') return undefined;
  if (typeof entry.tests !== 'object' || entry.tests === null || typeof entry.kpis !== 'object' || entry.kpis === null) return undefined;
  return entry as HistoryEntry;
}
