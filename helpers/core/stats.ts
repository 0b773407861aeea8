/**
 * Small, exact statistics for KPIs. Every number comes from the samples given; nothing is
 * interpolated or predicted.
 *
 * Percentiles use the **nearest-rank** method: sort ascending, take the value at 1-based rank
 * `ceil(p / 100 * n)` (rank 1 for p = 0). The result is always one of the measured samples, e.g.
 * the p95 of 20 samples is the 19th smallest, the p95 of 10 samples is the largest.
 */

function assertFinite(values: readonly number[], what: string): void {
  for (const value of values) {
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      // A NaN/Infinity sample is a harness bug (a timing that was never taken), not a measurement.
      throw new RangeError(`${what}: every sample must be a finite number, got ${String(value)}`);
    }
  }
}

/** Nearest-rank percentile of a non-empty list (p in [0, 100]). Throws RangeError on an empty list. */
export function percentile(values: readonly number[], p: number): number {
  if (!Number.isFinite(p) || p < 0 || p > 100) throw new RangeError(`percentile: p must be in [0, 100], got ${p}`);
  if (values.length === 0) throw new RangeError('percentile: no samples');
  assertFinite(values, 'percentile');
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] as number;
}

export interface Summary {
  count: number;
  /** null only when count is 0: an empty sample set has no latency, it is INCONCLUSIVE. */
  min: number | null;
  p50: number | null;
  p95: number | null;
  max: number | null;
  mean: number | null;
}

/** count/min/p50/p95/max/mean (nearest-rank percentiles). All null except count for an empty list. */
export function summarize(values: readonly number[]): Summary {
  if (values.length === 0) return { count: 0, min: null, p50: null, p95: null, max: null, mean: null };
  assertFinite(values, 'summarize');
  const sorted = [...values].sort((a, b) => a - b);
  const sum = sorted.reduce((acc, value) => acc + value, 0);
  return {
    count: sorted.length,
    min: sorted[0] as number,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    max: sorted[sorted.length - 1] as number,
    mean: sum / sorted.length,
  };
}

export interface Rate {
  successes: number;
  total: number;
  /** successes / total, null when total is 0 (nothing measured is never 100%). */
  ratio: number | null;
  /** e.g. `19/20 = 95.0%`, or `0/0 = n/a`. The percentage is rounded down to 0.1%. */
  text: string;
}

/** A success rate with its denominator, e.g. `rate(19, 20).text === '19/20 = 95.0%'`. */
export function rate(successes: number, total: number): Rate {
  if (!Number.isInteger(successes) || !Number.isInteger(total) || successes < 0 || total < 0 || successes > total) {
    throw new RangeError(`rate: need integers 0 <= successes <= total, got ${successes}/${total}`);
  }
  if (total === 0) return { successes, total, ratio: null, text: '0/0 = n/a' };
  const ratio = successes / total;
  // Rounded *down* to 0.1% with integer arithmetic, so 1999/2000 reads 99.9% and never 100.0%.
  const tenths = Math.floor((successes * 1000) / total);
  return { successes, total, ratio, text: `${successes}/${total} = ${(tenths / 10).toFixed(1)}%` };
}
