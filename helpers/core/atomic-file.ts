/**
 * Writes a file so that a reader in another process (a worker, a run started beside this one)
 * sees the old content or the new one, never half a file: written beside it, then renamed over
 * it. The folder is made when missing; a temporary file left by a failed write is removed.
 */
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export function writeFileAtomically(file: string, content: string): void {
  mkdirSync(dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.${Date.now()}.tmp`;
  try {
    writeFileSync(temp, content);
    renameSync(temp, file);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}
