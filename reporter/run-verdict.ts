/**
 * The run's verdict from its judged parts, and the verdict arithmetic the engine shares:
 * counts per verdict, the worst-of order, and the exit code of each verdict (docs/reports.md, "Exit codes").
 */
import type { GateSummary } from './gate.ts';
import type { BusinessImpactReport, Counts, KpiOut, TestOut, Verdict } from './schema.ts';

export const EXIT_CODES: Record<Verdict, 0 | 1 | 2> = {
  PASS: 0,
  DEGRADED: 0,
  FAIL: 1,
  BLOCKED: 1,
  INCONCLUSIVE: 2,
  'NOT RUN': 2,
};

export function emptyCounts(): Counts {
  return { PASS: 0, FAIL: 0, DEGRADED: 0, BLOCKED: 0, INCONCLUSIVE: 0, 'NOT RUN': 0, total: 0, executed: 0 };
}

export function countVerdicts(verdicts: Iterable<Verdict>): Counts {
  const counts = emptyCounts();
  for (const verdict of verdicts) {
    counts[verdict] += 1;
    counts.total += 1;
    if (verdict === 'PASS' || verdict === 'FAIL' || verdict === 'DEGRADED') counts.executed += 1;
  }
  return counts;
}

/** FAIL > BLOCKED > INCONCLUSIVE > DEGRADED > PASS; NOT RUN only when nothing else. */
export function worst(verdicts: readonly Verdict[]): Verdict | undefined {
  for (const v of ['FAIL', 'BLOCKED', 'INCONCLUSIVE', 'DEGRADED', 'PASS', 'NOT RUN'] as const) if (verdicts.includes(v)) return v;
  return undefined;
}

export function judgeRun(args: {
  counts: Counts;
  tiers: BusinessImpactReport['tiers'];
  kpis: KpiOut[];
  /** Latency per endpoint and each component's cold start (reporter/latency.ts). */
  latency?: Pick<NonNullable<BusinessImpactReport['latency']>, 'endpoints' | 'coldStarts'>;
  tests: readonly TestOut[];
  target: BusinessImpactReport['target'];
  gate: GateSummary;
  moduleErrors: number;
  unhandled: number;
}): { verdict: Verdict; reason: string } {
  const { counts, tiers, kpis, tests, target, gate } = args;
  if (counts.total === 0) {
    return { verdict: 'INCONCLUSIVE', reason: `no test was collected${args.moduleErrors ? ` (${args.moduleErrors} test file(s) failed to load)` : ''}: a run that tested nothing is never healthy` };
  }
  if (target.drift) {
    return { verdict: 'INCONCLUSIVE', reason: `the target changed version during the run (${target.versions.map((v) => v.version).join(' → ')}): results mix two deployments` };
  }
  const failedTiers = tiers.filter((t) => t.verdict === 'FAIL');
  const failedKpis = kpis.filter((k) => k.verdict === 'FAIL');
  const endpoints = args.latency?.endpoints ?? [];
  const coldStarts = args.latency?.coldStarts ?? [];
  const failedEndpoints = endpoints.filter((e) => e.verdict === 'FAIL');
  const untieredFails = tests.filter((t) => t.verdict === 'FAIL' && !t.tier);
  if (failedTiers.length || failedKpis.length || failedEndpoints.length || untieredFails.length || gate.status === 'failed') {
    const bits: string[] = [];
    if (failedTiers.length) bits.push(`${failedTiers.map((t) => `${t.name} (${t.protects})`).join(', ')} failed`);
    if (failedKpis.length) bits.push(`KPI ${failedKpis.map((k) => `${k.name}: ${k.reason}`).join('; ')}`);
    if (failedEndpoints.length) bits.push(`latency ${failedEndpoints.map((e) => e.reason).join('; ')}`);
    if (untieredFails.length) bits.push(`${untieredFails.length} untiered test(s) failed`);
    if (counts.BLOCKED) bits.push(`${counts.BLOCKED} phase-2 test(s) blocked by phase 1`);
    else if (gate.status === 'failed') bits.push('phase 1 failed (gate)');
    return { verdict: 'FAIL', reason: bits.join('; ') };
  }
  if (counts.executed === 0) {
    return { verdict: 'INCONCLUSIVE', reason: `none of the ${counts.total} collected tests ran (${counts['NOT RUN']} not run, ${counts.BLOCKED} blocked, ${counts.INCONCLUSIVE} inconclusive): never healthy` };
  }
  const inconclusive: string[] = [];
  if (args.moduleErrors) inconclusive.push(`${args.moduleErrors} test file(s) failed outside any test`);
  if (args.unhandled) inconclusive.push(`${args.unhandled} unhandled error(s)`);
  if (counts.INCONCLUSIVE) inconclusive.push(`${counts.INCONCLUSIVE} test(s) inconclusive`);
  if (counts.BLOCKED) inconclusive.push(`${counts.BLOCKED} test(s) blocked`);
  const inconclusiveKpis = kpis.filter((k) => k.verdict === 'INCONCLUSIVE');
  if (inconclusiveKpis.length) inconclusive.push(`KPI ${inconclusiveKpis.map((k) => `${k.name}: ${k.reason}`).join('; ')}`);
  if (inconclusive.length) return { verdict: 'INCONCLUSIVE', reason: inconclusive.join('; ') };
  const degraded: string[] = [];
  const degradedTiers = tiers.filter((t) => t.verdict === 'DEGRADED');
  if (degradedTiers.length) degraded.push(`${degradedTiers.map((t) => `${t.name}: ${t.reason}`).join('; ')}`);
  const degradedKpis = kpis.filter((k) => k.verdict === 'DEGRADED');
  if (degradedKpis.length) degraded.push(`KPI ${degradedKpis.map((k) => `${k.name}: ${k.reason}`).join('; ')}`);
  const degradedEndpoints = endpoints.filter((e) => e.verdict === 'DEGRADED');
  if (degradedEndpoints.length) degraded.push(`latency ${degradedEndpoints.map((e) => e.reason).join('; ')}`);
  const slowColdStarts = coldStarts.filter((c) => c.verdict === 'DEGRADED');
  if (slowColdStarts.length) degraded.push(slowColdStarts.map((c) => c.reason).join('; '));
  if (degraded.length || counts.DEGRADED) return { verdict: 'DEGRADED', reason: degraded.join('; ') || `${counts.DEGRADED} test(s) degraded` };
  return { verdict: 'PASS', reason: `${counts.PASS} of ${counts.executed} executed tests passed${counts['NOT RUN'] ? `, ${counts['NOT RUN']} not run` : ''}; every measured KPI met its target${endpoints.length ? `, every endpoint its latency budget` : ''}` };
}
