import 'vitest';
import type { SuiteTag } from './tags.ts';

// Typed tags: a misspelt tag is a compile error as well as a strictTags run error.
declare module 'vitest' {
  interface TestTags {
    tags: SuiteTag;
  }
}

// The check id a suite test declares in its options (`{ meta: { checkId } }`, tests/check-ids.ts),
// read by the reporter from `task.meta`, and the phase-2 tests that start before the phase-1 gate.
declare module '@vitest/runner' {
  interface TaskMeta {
    checkId?: string;
    /**
     * The test starts while phase 1 still runs instead of waiting for its verdict, and is judged
     * against it by its `gate` fixture (fixtures/gate.ts): for a long necessary wait, such as
     * the heartbeat test's 2 × 35 s of silence, that phase 1 can overlap.
     */
    startsBeforeGate?: boolean;
  }
}
