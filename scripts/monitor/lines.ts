/**
 * What the monitor prints: one line per iteration (time, number, verdict, counts, duration,
 * alerts sent, report folder), one line per skipped start, and the start and end lines the
 * CLI prints. Plain text, no colour: these lines usually go to a log.
 */
import { relative } from 'node:path';
import type { IterationOutcome } from './causes.ts';

/** `04:01:02Z`: the UTC time of day, like the reports' ISO times. */
export function clock(date: Date = new Date()): string {
  return `${date.toISOString().slice(11, 19)}Z`;
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** `5m`, `2s`, `1h30m`: a duration as the flags take it. */
export function durationText(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

/** A path as short as it can be said: relative to the working directory when inside it. */
export function shortPath(path: string, cwd: string = process.cwd()): string {
  const rel = relative(cwd, path);
  return rel && !rel.startsWith('..') ? rel : path;
}

export function countsText(counts: IterationOutcome['counts']): string {
  const parts = Object.entries(counts).map(([verdict, n]) => `${n} ${verdict}`);
  return parts.length ? parts.join(', ') : 'no tests';
}

export interface IterationLine {
  at: Date;
  iteration: number;
  outcome: IterationOutcome;
  durationMs: number;
  /** e.g. `alert sent (2 causes)`, `no alert`. */
  alerts: string;
  folder: string;
}

export function iterationLine(line: IterationLine): string {
  const why = line.outcome.exitCode === 2 ? ` (${line.outcome.reason})` : '';
  return `${clock(line.at)}  iteration ${line.iteration}  ${line.outcome.verdict}${why}  ${countsText(line.outcome.counts)}  ${seconds(line.durationMs)}  ${line.alerts}  ${shortPath(line.folder)}/`;
}

export function skipLine(at: Date, iteration: number, skipped: number, durationMs: number, everyMs: number): string {
  return `${clock(at)}  skipped ${skipped} start${skipped === 1 ? '' : 's'}: iteration ${iteration} was still running when ${skipped === 1 ? 'it was' : 'they were'} due (it took ${seconds(durationMs)}, every ${durationText(everyMs)})`;
}
