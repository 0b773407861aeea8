import { defineConfig } from 'vitest/config';

/**
 * Runs the platform's own tests alone: `npx vitest run --config platform/vitest.config.ts`.
 * The root config's `platform` project includes the same files.
 */
export default defineConfig({
  test: {
    name: 'platform',
    root: new URL('..', import.meta.url).pathname,
    include: ['platform/test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    passWithNoTests: false,
  },
});
