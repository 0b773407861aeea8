import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RunAs } from './run-as.ts';

/** A fresh private directory; handed to the unprivileged store user when running as root. */
export function makeTempDir(prefix: string, owner?: RunAs): string {
  // mkdtemp in os.tmpdir() keeps the PostgreSQL socket path well under the 107-byte limit.
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  if (owner) chownSync(dir, owner.uid, owner.gid);
  return dir;
}

export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
}
