/**
 * Setup file of the phase2 project (vitest.config.ts): the phase-1 gate. Phase 2's files start
 * beside phase 1's (tests/sequencer.ts), so before each phase-2 test this waits for the gate the
 * reporter writes when phase 1 ends (or reads the file given in STAGECHECK_PHASE1_GATE) and, when
 * phase 1 failed, skips the test with the note `BLOCKED by phase 1: <failed test>
 * (<component>/<layer>)`, which the reporter reports as BLOCKED with the test's tier. No gate
 * (phase 2 run on its own): the test runs. A test whose meta says `startsBeforeGate` starts at
 * once and is judged against the gate by its `gate` fixture (fixtures/gate.ts).
 */
import { beforeAll, beforeEach } from 'vitest';
import { blockNote, readGate, type GateFile } from './gate.ts';
import { DECISION_TIMEOUT_MS, gateDecision, gateSkipNote, workerGateFile } from './gate-worker.ts';

// One decision per file, awaited by its tests together; read again for the next file (a watch
// rerun rewrites the gate pending).
let gateFile: string | undefined;
let decision: Promise<GateFile | undefined> | undefined;

beforeAll(() => {
  gateFile = workerGateFile();
  decision = undefined;
});

beforeEach(async ({ skip, task }) => {
  if (!gateFile) return;
  if (task.meta.startsBeforeGate) {
    // Not even such a test starts behind a verdict already given (a gate file from an earlier run).
    const now = readGate(gateFile);
    if (now?.status === 'failed') skip(blockNote(now));
    return;
  }
  decision ??= gateDecision(gateFile);
  const note = gateSkipNote(await decision, gateFile);
  if (note) skip(note);
}, DECISION_TIMEOUT_MS + 10_000);
