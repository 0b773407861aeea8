/**
 * Keeps the modules the main Vitest process loads (global setup, the reporter) out of Vitest's
 * file-system module cache (`experimental.fsModuleCache`, vitest.config.ts). In Vitest 4.1.12 the
 * main process's module runner gets a cached module's code as a Buffer, and mapping a stack frame
 * through such a module throws `code.charCodeAt is not a function`: an error global setup threw
 * ("the reference platform did not start") was replaced by Vitest's own crash. The workers'
 * modules (the tests and their helpers), where the time goes, stay cached.
 */
import type { Vite } from 'vitest/node';

/** The environment of the main process's module runner; the workers' is `ssr`. */
const MAIN_PROCESS_ENVIRONMENT = '__vitest__';

/** One generator for every project: Vitest keeps them in a Set, and this one decides for all. */
const skipMainProcessModules = ({ environment }: { environment: { name: string } }): false | undefined => (environment.name === MAIN_PROCESS_ENVIRONMENT ? false : undefined);

export function mainProcessModulesUncached(): Vite.Plugin {
  return {
    name: 'stagecheck:main-process-modules-uncached',
    configureVitest({ experimental_defineCacheKeyGenerator }) {
      experimental_defineCacheKeyGenerator(skipMainProcessModules);
    },
  };
}
