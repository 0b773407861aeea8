/**
 * KPI sampling: take a KPI's samples with bounded concurrency, bounded in count and time, and
 * judge them against the catalog's target and minimum samples, attaching them to the report.
 */
import type { Budget } from '../core/budgets.ts';
import { CheckError, isCheckError, type Component, type Layer } from '../core/errors.ts';
import type { KpiSample, StagecheckMeta } from '../core/meta.ts';
import { rate } from '../core/stats.ts';

export interface SampleOutcome<T> {
  /** 0-based sample number. */
  index: number;
  ok: boolean;
  ms: number;
  value?: T;
  reason?: string;
  component?: Component;
  layer?: Layer;
}

export interface SampleRun<T> {
  /** Samples measured against the target (harness errors excluded), in sample order. */
  outcomes: SampleOutcome<T>[];
  /** Samples that never started because the overall budget ran out. */
  notTaken: number;
  /** The first error that was not a CheckError: a harness fault, not a target measurement. */
  harnessError?: unknown;
}

/**
 * Takes `count` samples, at most `concurrency` at a time, while `overall` has time left. Each
 * sample gets its own child budget of `perSampleMs` (capped by what `overall` has left); a
 * sample that throws a CheckError is a failed sample with its reason, component and layer.
 */
export async function sampleConcurrently<T>(options: {
  count: number;
  concurrency: number;
  overall: Budget;
  perSampleMs: (index: number) => number;
  sample: (index: number, budget: Budget) => Promise<T>;
}): Promise<SampleRun<T>> {
  const { count, concurrency, overall } = options;
  const outcomes: SampleOutcome<T>[] = [];
  let next = 0;
  let notTaken = 0;
  let harnessError: unknown;
  const lane = async (): Promise<void> => {
    while (next < count) {
      const index = next++;
      if (overall.remainingMs() <= 0) {
        notTaken += 1;
        continue;
      }
      const budget = overall.child(`sample ${index + 1}`, options.perSampleMs(index));
      const started = performance.now();
      try {
        const value = await options.sample(index, budget);
        outcomes.push({ index, ok: true, ms: Math.round(performance.now() - started), value });
      } catch (error) {
        const ms = Math.round(performance.now() - started);
        if (isCheckError(error)) {
          const firstLine = error.message.split('\n').slice(0, 3).join(' ');
          outcomes.push({ index, ok: false, ms, reason: firstLine.slice(0, 400), component: error.details.component, layer: error.details.layer });
        } else {
          harnessError ??= error;
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, count)) }, lane));
  outcomes.sort((a, b) => a.index - b.index);
  return harnessError === undefined ? { outcomes, notTaken } : { outcomes, notTaken, harnessError };
}

/**
 * Attaches the KPI's samples (1/0, with their denominator) to the report, then asserts the
 * target: at least `minSamples` measured, and a success ratio of at least `target`. A miss
 * fails with a CheckError listing every failed sample's reason, blaming the component most
 * failed samples blamed. A harness error is rethrown as is (INCONCLUSIVE, not the target's).
 */
export function assertKpi<T>(
  report: StagecheckMeta,
  kpi: KpiSample['kpi'],
  run: SampleRun<T>,
  options: { target: number; minSamples: number; component: Component; what: string },
): void {
  const samples = run.outcomes.map((o) => (o.ok ? 1 : 0));
  report.kpis.push({ kpi, samples });
  if (run.harnessError !== undefined) throw run.harnessError;
  const successes = samples.filter((s) => s === 1).length;
  const measured = rate(successes, samples.length);
  const failed = run.outcomes.filter((o) => !o.ok);
  const reasons = failed.map((o) => `  - sample ${o.index + 1} (${o.ms} ms) [${o.component ?? '?'}/${o.layer ?? '?'}]: ${o.reason ?? 'failed'}`);
  if (samples.length < options.minSamples) {
    throw new CheckError(
      `${options.what}: only ${samples.length} of the ${options.minSamples} samples the KPI needs were measured (${run.notTaken} not taken: the sampling budget ran out); ${measured.text}${reasons.length ? `\n${reasons.join('\n')}` : ''}`,
      { component: mostBlamed(failed)?.component ?? options.component, layer: 'budget', code: 'too-few-samples', evidence: { kpi, samples, notTaken: run.notTaken } },
    );
  }
  if ((measured.ratio ?? 0) + 1e-9 < options.target) {
    const blamed = mostBlamed(failed);
    throw new CheckError(
      `${options.what}: ${measured.text}, below the ${(options.target * 100).toFixed(0)}% target; failed samples:\n${reasons.join('\n')}`,
      {
        component: blamed?.component ?? options.component,
        layer: blamed?.layer ?? 'content',
        code: 'kpi-below-target',
        evidence: { kpi, samples, rate: measured.text, failures: failed.map(({ index, ms, reason, component, layer }) => ({ sample: index + 1, ms, reason, component, layer })) },
      },
    );
  }
}

function mostBlamed(failed: readonly SampleOutcome<unknown>[]): { component: Component; layer: Layer } | undefined {
  const counts = new Map<string, { component: Component; layer: Layer; n: number }>();
  for (const o of failed) {
    if (!o.component || !o.layer) continue;
    const key = `${o.component}/${o.layer}`;
    const entry = counts.get(key) ?? { component: o.component, layer: o.layer, n: 0 };
    entry.n += 1;
    counts.set(key, entry);
  }
  let best: { component: Component; layer: Layer; n: number } | undefined;
  for (const entry of counts.values()) if (!best || entry.n > best.n) best = entry;
  return best ? { component: best.component, layer: best.layer } : undefined;
}
