/**
 * The phase-1 gate as a phase-2 worker reads it: the gate file this run handed the worker, and
 * what a decision means for a test (run, BLOCKED, or INCONCLUSIVE when none came). Used by the
 * phase-2 setup file (reporter/gate-setup.ts) and by tests that start before the decision
 * (fixtures/gate.ts). The file format is reporter/gate.ts's.
 */
import { inject } from 'vitest';
import { awaitDecision, blockNote, GATE_ENV, type GateFile } from './gate.ts';

/**
 * How long a phase-2 test waits for phase 1's verdict. Phase 1 runs beside phase 2 now, so this
 * is phase 1's own length: its tests are bounded by their budgets (and by the phase projects'
 * testTimeout, 150 s); past this bound the test is INCONCLUSIVE, never run unjudged.
 */
export const DECISION_TIMEOUT_MS = 300_000;

/** The gate this worker's run decides (the reporter's `provide`), or the file STAGECHECK_PHASE1_GATE names; none: phase 2 runs. */
export function workerGateFile(): string | undefined {
  return inject('stagecheckGate')?.file ?? (process.env[GATE_ENV] || undefined);
}

/** Waits (bounded) for the gate in `file` to be decided. */
export function gateDecision(file: string): Promise<GateFile | undefined> {
  return awaitDecision(file, DECISION_TIMEOUT_MS);
}

/** The skip note for a test behind this gate, or undefined when the test is to be judged. */
export function gateSkipNote(gate: GateFile | undefined, file: string): string | undefined {
  if (gate?.status === 'pending') return `INCONCLUSIVE: the phase-1 gate ${file} was not decided within ${DECISION_TIMEOUT_MS / 1000} s`;
  if (gate?.status === 'failed') return blockNote(gate);
  return undefined;
}
