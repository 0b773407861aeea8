/**
 * A direct `vitest run` whose filters (`-t`, `--tags-filter`, `--project`, a phase-1 gate that
 * blocked everything) leave no suite test to execute: Vitest counts skipped tests as a success
 * and exits 0; the run tested nothing, so it fails here, as `npm run e2e` does with the same
 * verdict (README "Exit codes").
 */
import type { BusinessImpactReport } from './schema.ts';

/** The exit code a run that executed no suite test ends with, and why; undefined when a test ran. */
export function nothingRanExit(report: Pick<BusinessImpactReport, 'counts' | 'exitCode' | 'reason' | 'verdict'>): { exitCode: 1 | 2; message: string } | undefined {
  if (report.counts.executed > 0) return undefined;
  const exitCode = report.exitCode === 1 ? 1 : 2;
  return {
    exitCode,
    message:
      `stagecheck: no suite test ran, so this run is ${report.verdict} and exits ${exitCode} (${report.reason}).\n` +
      `  Check the filters: -t, --tags-filter and --project select the tests (tests/check-ids.ts titlePattern, tests/tags.ts).`,
  };
}
