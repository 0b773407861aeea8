/**
 * The terminal summary's KPI lines, as k6's summary shows its thresholds: one line per measured
 * KPI with ✓ or ✗, its measured value and its target (and where it fails or degrades), e.g.
 *   ✓ ws-connection-success 20/20 = 100.0% (target ≥ 95%)
 *   ✗ database-response-p95 6.10 s (target p95 < 3.00 s, fail ≥ 5.00 s)
 * DEGRADED (!) and INCONCLUSIVE (?) say so and why. Colour only on the mark, and only when asked.
 */
import { formatReportMs as formatMs } from '../helpers/core/format.ts';
import type { KpiOut, Verdict } from './schema.ts';

const MARK: Record<Verdict, string> = { PASS: '✓', FAIL: '✗', DEGRADED: '!', INCONCLUSIVE: '?', BLOCKED: '✗', 'NOT RUN': '-' };

export type Paint = (verdict: Verdict, text: string) => string;

/** The KPI's line, without indentation. */
export function kpiLine(k: KpiOut, paint: Paint = (_, text) => text): string {
  const value = k.kind === 'latency' ? (k.value === null ? 'not measured' : formatMs(k.value)) : (k.rate?.text ?? 'not measured');
  const verdict = k.verdict === 'PASS' || k.verdict === 'FAIL' ? '' : ` — ${k.verdict}: ${k.reason}`;
  return `${paint(k.verdict, MARK[k.verdict])} ${k.id} ${value} (${targetText(k)})${verdict}`;
}

/** `target p95 < 3.00 s, fail ≥ 5.00 s`, `target ≥ 95%`, `target ≥ 95%, degraded 90% – 95%`. */
function targetText(k: KpiOut): string {
  const target = `target ${k.target.replace(/>=/g, '≥').replace(/<=/g, '≤')}`;
  if (!k.degraded) return target;
  // A latency's degraded band ends where it fails (reporter/kpis.ts writes "3.00 s – 5.00 s").
  const failAt = k.kind === 'latency' ? k.degraded.split(' – ')[1] : undefined;
  return failAt ? `${target}, fail ≥ ${failAt}` : `${target}, degraded ${k.degraded}`;
}

/** Colours for a terminal: a TTY, unless NO_COLOR is set to anything but '' (no-color.org). */
export function colorsWanted(stream: { isTTY?: boolean } = process.stdout, env: NodeJS.ProcessEnv = process.env): boolean {
  return stream.isTTY === true && !env.NO_COLOR;
}
