import 'vitest';
import type { SuiteTag } from './tags.ts';

// Typed tags: a misspelt tag is a compile error as well as a strictTags run error.
declare module 'vitest' {
  interface TestTags {
    tags: SuiteTag;
  }
}

// The check id a suite test declares in its options (`{ meta: { checkId } }`, tests/check-ids.ts),
// read by the reporter from `task.meta`.
declare module '@vitest/runner' {
  interface TaskMeta {
    checkId?: string;
  }
}
