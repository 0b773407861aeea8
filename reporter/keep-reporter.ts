/**
 * Keeps the business-impact reporter in every run. A reporter named on Vitest's command line
 * (`--reporter=verbose`) replaces the config's reporters, which silently dropped the verdict and
 * every report. Vitest calls `configureVitest` after the command line is applied and before it
 * creates the reporters, so the reporter is appended here when the list lacks it. It acts only
 * on runs of the suite projects (reporter/index.ts), so the project's own tests are untouched.
 *
 * Imported by vitest.config.ts, so it stays tiny: the reporter itself is named by path, its
 * compiled twin's (tests/native-stack.ts) or its source's; a command line naming either keeps it
 * to one instance.
 */
import { resolve } from 'node:path';
import type { Vite } from 'vitest/node';

export function keepReporter(path: string, sourcePath = path): Vite.Plugin {
  return {
    name: 'stagecheck:keep-business-impact-reporter',
    // Called once per suite project (phase1, phase2): appending only when missing keeps it to one instance.
    configureVitest({ vitest }) {
      const { root, reporters } = vitest.config;
      const files = new Set([resolve(root, path), resolve(root, sourcePath)]);
      const isThisReporter = (entry: (typeof reporters)[number]) => Array.isArray(entry) && typeof entry[0] === 'string' && files.has(resolve(root, entry[0]));
      if (!reporters.some(isThisReporter)) reporters.push([resolve(root, path), {}]);
    },
  };
}
