/**
 * The one atomic writer (helpers/core/atomic-file.ts) behind the gate file, the fail-fast marks,
 * the history rotation, the compiled twins and the validated-catalog cache.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeFileAtomically } from '../../helpers/core/atomic-file.ts';

const dir = mkdtempSync(join(tmpdir(), 'stagecheck-atomic-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('writeFileAtomically', () => {
  it('makes the missing folder, replaces the old content, and leaves no temporary file beside it', () => {
    const file = join(dir, 'a', 'b', 'state.json');
    writeFileAtomically(file, 'old');
    writeFileAtomically(file, 'new');
    expect(readFileSync(file, 'utf8')).toBe('new');
    expect(readdirSync(join(dir, 'a', 'b'))).toEqual(['state.json']);
  });

  it('throws when it cannot write, and removes its temporary file', () => {
    const blocker = join(dir, 'blocker');
    writeFileSync(blocker, 'a file where a folder should be');
    expect(() => writeFileAtomically(join(blocker, 'x.json'), 'x')).toThrow();
    const target = join(dir, 'folder-target');
    writeFileAtomically(join(target, 'inner'), 'x');
    // Renaming a file over a non-empty folder fails after the temporary file was written.
    expect(() => writeFileAtomically(target, 'y')).toThrow();
    expect(readdirSync(dir).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });
});
