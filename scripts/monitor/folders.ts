/**
 * Each iteration's reports go to a folder of its own, `<reports>/runs/<run-id>/`; the last N
 * are kept (--keep) and older ones deleted, so a monitor running for months keeps a bounded
 * disk. Only folders named like a run id the monitor makes (helpers/core/config.ts
 * generateRunId: `YYYYMMDDhhmmss-xxxxxx`, which sorts by time) are ever deleted: anything else
 * a user puts there stays.
 */
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const RUN_FOLDER = /^\d{14}-[0-9a-f]{6}$/;

/** Deletes all but the newest `keep` run folders in `runsDir`; returns the names deleted. */
export function pruneRunFolders(runsDir: string, keep: number): string[] {
  let names: string[];
  try {
    names = readdirSync(runsDir);
  } catch {
    return [];
  }
  const runs = names.filter((name) => RUN_FOLDER.test(name) && isDirectory(join(runsDir, name))).sort();
  const old = runs.slice(0, Math.max(0, runs.length - keep));
  for (const name of old) rmSync(join(runsDir, name), { recursive: true, force: true });
  return old;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
