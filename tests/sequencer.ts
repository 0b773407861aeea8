/**
 * Files holding a long necessary wait start first. The heartbeat test waits out two heartbeats
 * of client silence (2 × 35 s on a deployment) and everything else in phase 2 can run beside it,
 * so the run can end soon after it does, but only if it starts at once. Vitest's own order
 * (BaseSequencer) puts files it remembers as slow first, from a cache a fresh clone or a CI
 * runner does not have: there the heartbeat file waited for a worker behind the agent files
 * (bench, staging profile: started 58.7 s after spawn in one run of three, 14.4 s in the others).
 */
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/** Suite files that hold a wait of tens of seconds, by path from the project root. */
export const LONG_WAIT_FILES = ['tests/phase2/realtime.test.ts'];

/** The files of LONG_WAIT_FILES first; the rest keep their order (Array.prototype.sort is stable). */
export function longWaitsFirst<T extends { moduleId: string }>(files: readonly T[]): T[] {
  const rank = (file: T) => (LONG_WAIT_FILES.some((path) => file.moduleId.endsWith(`/${path}`)) ? 0 : 1);
  return [...files].sort((a, b) => rank(a) - rank(b));
}

export class LongWaitsFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    return longWaitsFirst(await super.sort(files));
  }
}
