import { accessSync, chownSync, constants, mkdtempSync, rmSync, statfsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RunAs } from './run-as.ts';

const MEMORY_FS = '/dev/shm';
const MIN_MEMORY_FS_FREE_BYTES = 256 * 1024 * 1024;

/**
 * initdb is most of the start-up time and runs ~40% faster on a memory filesystem; the data is
 * throwaway anyway. Only used when /dev/shm has room (containers often give it 64 MB).
 */
function fastestBase(): string {
  try {
    accessSync(MEMORY_FS, constants.W_OK);
    const stats = statfsSync(MEMORY_FS);
    if (stats.bavail * stats.bsize >= MIN_MEMORY_FS_FREE_BYTES) return MEMORY_FS;
  } catch {
    // not Linux, or no /dev/shm
  }
  return os.tmpdir();
}

/** A fresh private directory; handed to the unprivileged store user when running as root. */
export function makeTempDir(prefix: string, owner?: RunAs, options: { preferMemory?: boolean } = {}): string {
  // Short bases keep the PostgreSQL socket path well under its 107-byte limit.
  const base = options.preferMemory ? fastestBase() : os.tmpdir();
  const dir = mkdtempSync(path.join(base, prefix));
  if (owner) chownSync(dir, owner.uid, owner.gid);
  return dir;
}

export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
}
