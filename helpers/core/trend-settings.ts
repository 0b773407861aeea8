/**
 * How many runs the report's trends show (reporter/trends.ts), read from the environment and
 * checked once for helpers/core/config.ts (exit 2 before any test) and again by the reporter
 * (a merge run never goes through the config check: there a bad value is a warning and the
 * default is used).
 *
 * - STAGECHECK_TREND_RUNS: the last N runs, this one included; a whole number from 2 (one run
 *   is no trend) to 200 (each is a point in every sparkline of the HTML report). Default 20.
 * - STAGECHECK_BASELINE: the report to compare with (`--baseline FILE` of npm run e2e), checked
 *   where it is read (reporter/baseline.ts); named here only as a variable the suite knows.
 */
import { parsePositiveInt } from './config-parsers.ts';

export const TREND_RUNS_VARIABLE = 'STAGECHECK_TREND_RUNS';
export const BASELINE_VARIABLE = 'STAGECHECK_BASELINE';
export const DEFAULT_TREND_RUNS = 20;
export const MIN_TREND_RUNS = 2;
export const MAX_TREND_RUNS = 200;

/** The trend window; a problem naming the variable when it is not usable (then the default). */
export function readTrendRuns(env: Record<string, string | undefined>): { runs: number; problems: string[] } {
  const problems: string[] = [];
  const raw = env[TREND_RUNS_VARIABLE]?.trim();
  const runs = parsePositiveInt(raw === '' ? undefined : raw, TREND_RUNS_VARIABLE, DEFAULT_TREND_RUNS, problems, MIN_TREND_RUNS, 'one run is no trend');
  if (runs > MAX_TREND_RUNS) {
    problems.push(`${TREND_RUNS_VARIABLE} must be at most ${MAX_TREND_RUNS} (each run is a point in every trend of the HTML report), got ${runs}`);
    return { runs: DEFAULT_TREND_RUNS, problems };
  }
  return { runs: problems.length ? DEFAULT_TREND_RUNS : runs, problems };
}
