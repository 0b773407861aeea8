import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CHECK_IDS } from '../../tests/check-ids.ts';
import { gateFriendlyOrder, LONG_WAIT_FILES } from '../../tests/sequencer.ts';
import { ROOT } from '../support/run-e2e.ts';

describe('the run sequencer (tests/sequencer.ts)', () => {
  it('puts phase 1 first, then the files with a long wait, and keeps the order of the rest', () => {
    const files = ['/p/tests/phase2/golden-path.test.ts', '/p/tests/phase2/kpi-samples.test.ts', '/p/tests/phase2/realtime.test.ts', '/p/tests/phase1/phase1.test.ts', '/p/selftest/unit/a.test.ts']
      .map((moduleId) => ({ moduleId, project: { name: moduleId.includes('/phase1/') ? 'phase1' : moduleId.includes('/phase2/') ? 'phase2' : 'unit' } }));
    expect(gateFriendlyOrder(files).map((f) => f.moduleId)).toEqual([
      '/p/tests/phase1/phase1.test.ts', '/p/tests/phase2/realtime.test.ts', '/p/tests/phase2/golden-path.test.ts', '/p/tests/phase2/kpi-samples.test.ts', '/p/selftest/unit/a.test.ts',
    ]);
  });

  it('names the file that holds the heartbeat check (a rename or a move would silently drop it)', () => {
    const holding = LONG_WAIT_FILES.filter((path) => readFileSync(join(ROOT, path), 'utf8').includes('CHECK_IDS.heartbeat'));
    expect(holding, `the heartbeat check (${CHECK_IDS.heartbeat}) is in one of ${LONG_WAIT_FILES.join(', ')}`).toHaveLength(1);
  });
});
