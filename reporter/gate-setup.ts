/**
 * Setup file of the phase2 project (vitest.config.ts): the phase-1 gate. Before each phase-2
 * test, reads the gate the reporter wrote when phase 1 ended (or the file given in
 * STAGECHECK_PHASE1_GATE) and, when phase 1 failed, skips the test with the note
 * `BLOCKED by phase 1: <failed test> (<component>/<layer>)`, which the reporter reports as
 * BLOCKED with the test's tier. No gate (phase 2 run on its own): the test runs.
 */
import { beforeAll, beforeEach, inject } from 'vitest';
import { awaitDecision, blockNote, GATE_ENV, type GateFile } from './gate.ts';

/** Phase 1 has ended before any phase-2 module starts; this only bounds a lost decision. */
const DECISION_TIMEOUT_MS = 30_000;

let gate: GateFile | undefined;
let gateFile: string | undefined;

beforeAll(async () => {
  gateFile = inject('stagecheckGate')?.file ?? (process.env[GATE_ENV] || undefined);
  if (gateFile) gate = await awaitDecision(gateFile, DECISION_TIMEOUT_MS);
});

beforeEach(({ skip }) => {
  if (!gateFile || !gate) return;
  if (gate.status === 'pending') skip(`INCONCLUSIVE: the phase-1 gate ${gateFile} was not decided within ${DECISION_TIMEOUT_MS / 1000} s`);
  if (gate.status === 'failed') skip(blockNote(gate));
});
