import 'vitest';

// Typed tags: a misspelt tag is a compile error as well as a strictTags run error.
declare module 'vitest' {
  interface TestTags {
    tags: 'p1' | 'p2' | 'p3' | 'p4' | 'p5' | 'p6' | 'backend' | 'auth' | 'websocket' | 'agent' | 'postgres' | 'redis' | 'network';
  }
}
