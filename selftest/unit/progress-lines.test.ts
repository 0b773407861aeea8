import { describe, expect, it } from 'vitest';
import { fileLinesWanted, fileProgressLine, isStillWaitingLog, PhaseCounts, phasePlanLine } from '../../reporter/progress.ts';

describe('progress lines of the reporter', () => {
  it('plans the phases in the banner: files per phase, in phase order', () => {
    expect(phasePlanLine([
      { project: 'phase2', moduleId: '/r/tests/phase2/a.test.ts' },
      { project: 'phase1', moduleId: '/r/tests/phase1/phase1.test.ts' },
      { project: 'phase2', moduleId: '/r/tests/phase2/b.test.ts' },
    ])).toBe('  phases    phase1 1 file · phase2 2 files (tests counted as each phase is collected)');
  });

  it('counts a phase once, when its last file is collected, saying how many tests a filter selected', () => {
    const counts = new PhaseCounts([
      { project: 'phase1', moduleId: 'p1' },
      { project: 'phase2', moduleId: 'a' },
      { project: 'phase2', moduleId: 'b' },
    ]);
    expect(counts.collected({ project: 'phase1', moduleId: 'p1', tests: [{ selected: true }, { selected: true }] })).toBe('stagecheck: phase1: 2 tests in 1 file');
    expect(counts.collected({ project: 'phase2', moduleId: 'a', tests: [{ selected: true }, { selected: false }] })).toBeUndefined();
    expect(counts.collected({ project: 'phase2', moduleId: 'b', tests: [{ selected: false }] })).toBe('stagecheck: phase2: 1 of 3 tests selected in 2 files');
    // A file seen again (collected, then ended) or one not planned says nothing more.
    expect(counts.collected({ project: 'phase2', moduleId: 'b', tests: [] })).toBeUndefined();
    expect(counts.collected({ project: 'unit', moduleId: 'x', tests: [] })).toBeUndefined();
  });

  it('gives a finished file its counts and time, leaving out what is zero', () => {
    expect(fileProgressLine({ file: 'tests/phase2/realtime.test.ts', passed: 9, failed: 1, skipped: 0, durationMs: 12_340 }))
      .toBe('stagecheck: tests/phase2/realtime.test.ts 9 passed · 1 failed (12.3 s)');
    expect(fileProgressLine({ file: 'tests/phase2/isolation.test.ts', passed: 0, failed: 0, skipped: 5, durationMs: 0 }))
      .toBe('stagecheck: tests/phase2/isolation.test.ts 5 skipped (0 ms)');
    expect(fileProgressLine({ file: 'tests/phase2/broken.test.ts', passed: 0, failed: 0, skipped: 0, durationMs: 40, loadError: 'SyntaxError: Unexpected token' }))
      .toBe('stagecheck: tests/phase2/broken.test.ts no test · failed to load: SyntaxError: Unexpected token (40 ms)');
  });

  it('prints file lines only without a TTY, and knows a still-waiting line from other console output', () => {
    expect(fileLinesWanted({ isTTY: true })).toBe(false);
    expect(fileLinesWanted({})).toBe(true);
    expect(isStillWaitingLog('stagecheck: still waiting 10 s of 15 s: wait x (budget b)\n')).toBe(true);
    expect(isStillWaitingLog('still waiting for Godot')).toBe(false);
  });
});
