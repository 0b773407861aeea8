import { config as loadDotenv } from 'dotenv';
import { defineConfig } from 'vitest/config';
import { SUITE_TAGS } from './tests/tags.ts';

// Workers inherit this process's environment, so .env is read once, here.
loadDotenv({ quiet: true });

/** The suite against a target: phase 1 (infrastructure) and phase 2 (business functions). */
const suiteProject = (name: 'phase1' | 'phase2') => ({
  extends: true as const,
  test: {
    name,
    include: [`tests/${name}/**/*.test.ts`],
    globalSetup: ['tests/global-setup.ts'],
    // Budgets inside the tests decide failures; these only stop a hung harness.
    testTimeout: 150_000,
    hookTimeout: 60_000,
    // The checks wait on the network, not the CPU: run files side by side and the tests of a
    // file concurrently, so a broken target costs one timeout, not one per test in a row.
    maxWorkers: 4,
    sequence: { concurrent: true },
  },
});

export default defineConfig({
  test: {
    pool: 'forks',
    tags: SUITE_TAGS,
    strictTags: true,
    // A suite that collects nothing must fail, never pass quietly.
    passWithNoTests: false,
    projects: [
      suiteProject('phase1'),
      suiteProject('phase2'),
      {
        extends: true,
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'], testTimeout: 30_000 },
      },
      {
        extends: true,
        test: { name: 'platform', include: ['platform/test/**/*.test.ts'], testTimeout: 60_000, hookTimeout: 60_000 },
      },
      {
        extends: true,
        test: { name: 'selftest', include: ['test/selftest/**/*.test.ts'], testTimeout: 180_000, hookTimeout: 60_000 },
      },
    ],
  },
});
