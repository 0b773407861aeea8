/**
 * The order files start in. Phase 1 and phase 2 run in one group (vitest.config.ts): phase 1's
 * file first, so its checks start at once and the gate is decided as soon as they end (a phase-2
 * test waits for that decision, reporter/gate-setup.ts); then the files holding a long necessary
 * wait, whose wait can overlap phase 1 (the heartbeat test waits out two heartbeats of client
 * silence, 2 × 35 s on a deployment, fixtures/gate.ts); then the rest in Vitest's order.
 * Vitest's own order (BaseSequencer) puts files it remembers as slow first, from a cache a fresh
 * clone or a CI runner does not have: there the heartbeat file once waited for a worker behind the
 * agent files (bench, staging profile: started 58.7 s after spawn in one run of three, 14.4 s in
 * the others). With one worker (STAGECHECK_MAX_CONCURRENCY=1), phase 1 first is what keeps a
 * phase-2 file from waiting on a gate that no running file can decide (a sequencer in the config
 * also keeps `--sequence.shuffle` from reordering files).
 */
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/** Suite files that hold a wait of tens of seconds, by path from the project root. */
export const LONG_WAIT_FILES = ['tests/phase2/realtime.test.ts'];

interface SequencedFile {
  moduleId: string;
  project: { name: string };
}

/** Phase 1's files, then those of LONG_WAIT_FILES, then the rest, each in the order given (Array.prototype.sort is stable). */
export function gateFriendlyOrder<T extends SequencedFile>(files: readonly T[]): T[] {
  const rank = (file: T) => (file.project.name === 'phase1' ? 0 : LONG_WAIT_FILES.some((path) => file.moduleId.endsWith(`/${path}`)) ? 1 : 2);
  return [...files].sort((a, b) => rank(a) - rank(b));
}

export class GateFriendlySequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    return gateFriendlyOrder(await super.sort(files));
  }
}
