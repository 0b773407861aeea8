import { describe, expect, it } from 'vitest';
import { colorsWanted, kpiLine } from '../../reporter/kpi-lines.ts';
import type { KpiOut } from '../../reporter/schema.ts';
import { rate } from '../../helpers/core/stats.ts';

function kpi(over: Partial<KpiOut> & Pick<KpiOut, 'id' | 'kind' | 'verdict' | 'target'>): KpiOut {
  return { name: over.id, reason: '', degraded: null, minSamples: 10, samples: 20, value: null, sampleValues: [], sources: [], functions: [], ...over };
}

describe('KPI lines of the terminal summary', () => {
  it('marks a met rate KPI ✓ with its samples and its target', () => {
    expect(kpiLine(kpi({ id: 'ws-connection-success', kind: 'rate', verdict: 'PASS', target: '>= 95%', value: 1, rate: rate(20, 20) })))
      .toBe('✓ ws-connection-success 20/20 = 100.0% (target ≥ 95%)');
  });

  it('marks a failed latency KPI ✗ with its percentile value, target and where it fails', () => {
    expect(kpiLine(kpi({ id: 'database-response-p95', kind: 'latency', verdict: 'FAIL', target: 'p95 < 3.00 s', degraded: '3.00 s – 5.00 s', value: 6_100 })))
      .toBe('✗ database-response-p95 6.10 s (target p95 < 3.00 s, fail ≥ 5.00 s)');
  });

  it('says DEGRADED and INCONCLUSIVE, with why', () => {
    expect(kpiLine(kpi({ id: 'ws-connection-success', kind: 'rate', verdict: 'DEGRADED', target: '>= 95%', degraded: '90% – 95%', reason: '18/20 = 90.0%, below 95% but within the degraded band', rate: rate(18, 20) })))
      .toBe('! ws-connection-success 18/20 = 90.0% (target ≥ 95%, degraded 90% – 95%) — DEGRADED: 18/20 = 90.0%, below 95% but within the degraded band');
    expect(kpiLine(kpi({ id: 'agent-execution-success', kind: 'rate', verdict: 'INCONCLUSIVE', target: '>= 90%', reason: '3/3 = 100.0% from 3 samples, fewer than the 10 the KPI needs', rate: rate(3, 3) })))
      .toBe('? agent-execution-success 3/3 = 100.0% (target ≥ 90%) — INCONCLUSIVE: 3/3 = 100.0% from 3 samples, fewer than the 10 the KPI needs');
  });

  it('colours only the mark, through the painter it is given', () => {
    const paint = (verdict: string, text: string) => `<${verdict}>${text}</>`;
    expect(kpiLine(kpi({ id: 'p1-test-success', kind: 'test-success', verdict: 'PASS', target: '>= 95% of all P1 tests', rate: rate(37, 37) }), paint))
      .toBe('<PASS>✓</> p1-test-success 37/37 = 100.0% (target ≥ 95% of all P1 tests)');
  });

  it('uses colours on a TTY unless NO_COLOR is set', () => {
    expect(colorsWanted({ isTTY: true }, {})).toBe(true);
    expect(colorsWanted({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    expect(colorsWanted({ isTTY: true }, { NO_COLOR: '' })).toBe(true);
    expect(colorsWanted({ isTTY: false }, {})).toBe(false);
  });
});
