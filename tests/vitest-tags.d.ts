import 'vitest';
import type { SuiteTag } from './tags.ts';

// Typed tags: a misspelt tag is a compile error as well as a strictTags run error.
declare module 'vitest' {
  interface TestTags {
    tags: SuiteTag;
  }
}
