/**
 * Vitest's own floor: `vitest run` of one empty `.ts` test file in a scratch project, the
 * smallest run Vitest can make. The scratch project is a temp dir with its own minimal config
 * (forks pool and `isolate: false`, like the suite's phase projects; cache in the temp dir) and a
 * `node_modules` symlink to this repository's, so the same Vitest, Vite and Node do the work.
 * It is run exactly as the suite is (bench/vitest-run.ts: `node node_modules/vitest/vitest.mjs
 * run`, default + JSON reporters), only without the suite's business-impact reporter, which is
 * part of what the suite adds.
 */
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './targets.ts';

export interface ScratchProject {
  dir: string;
  remove(): void;
}

export function createScratchProject(): ScratchProject {
  const dir = mkdtempSync(join(tmpdir(), 'stagecheck-bench-vitest-floor-'));
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ name: 'vitest-floor', private: true, type: 'module' })}\n`);
  writeFileSync(
    join(dir, 'vitest.config.ts'),
    [
      "import { defineConfig } from 'vitest/config';",
      '',
      'export default defineConfig({',
      `  cacheDir: ${JSON.stringify(join(dir, '.vite'))},`,
      "  test: { include: ['empty.test.ts'], pool: 'forks', isolate: false },",
      '});',
      '',
    ].join('\n'),
  );
  writeFileSync(join(dir, 'empty.test.ts'), "import { test } from 'vitest';\n\ntest('does nothing', () => {});\n");
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
