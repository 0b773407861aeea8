/**
 * What the monitor takes from an iteration's business-impact.json: its failure causes (one per
 * component, layer and code, as GitHub annotations group them: reporter/github-annotations.ts
 * failureCauses; plus each failed KPI and endpoint latency budget), which checks ran to a
 * product verdict (so a cause whose checks were blocked is not taken for recovered), and the
 * tiers and functions at risk with the catalog's MRR labels. Everything here is bounded: a few
 * examples per cause, never whole tests.
 */
import { existsSync, readFileSync } from 'node:fs';
import { failureCauses } from '../../reporter/github-annotations.ts';
import { REPORT_SCHEMA_ID } from '../../reporter/report-schema-id.ts';
import type { BusinessImpactReport, Verdict } from '../../reporter/schema.ts';

/** One failure cause of an iteration, small enough to keep and to send. */
export interface Cause {
  /** Stable across iterations: `tests|component|layer|code`, `kpi|<id>` or `latency|<endpoint name>`. */
  key: string;
  kind: 'tests' | 'kpi' | 'latency';
  /** e.g. `redis/budget COMMAND_TIMEOUT`, `KPI Redis connectivity`. */
  title: string;
  /** The first failure's exact error (already redacted by the reporter), one line. */
  message: string;
  component: string;
  layer: string;
  code: string;
  /** Failed tests with this cause (0 for a KPI or latency cause). */
  tests: number;
  /** Up to {@link EXAMPLES} of their names. */
  examples: string[];
  /** Tier ids of those tests. */
  tiers: string[];
  /** What must run to a product verdict for this cause to be seen again or seen gone (bounded). */
  checks: string[];
}

export interface TierAtRisk {
  id: string;
  name: string;
  /** The catalog's MRR label, e.g. "$120K+ MRR": a label, not a predicted loss. */
  protects: string;
  verdict: Verdict;
  reason: string;
}

export interface FunctionAtRisk {
  id: string;
  name: string;
  verdict: Verdict;
  reason: string;
  /** Tiers of this function's failed tests, and their MRR labels. */
  tiers: string[];
  protects: string[];
}

/** What an iteration concluded, as the monitor needs it. */
export interface IterationOutcome {
  verdict: Verdict | 'NO VERDICT';
  exitCode: number;
  reason: string;
  counts: Partial<Record<Verdict, number>>;
  causes: Cause[];
  /** Checks (test keys, `kpi|<id>`, `latency|<name>`) that ran to PASS, FAIL or DEGRADED. */
  observed: Set<string>;
  tiersAtRisk: TierAtRisk[];
  functionsAtRisk: FunctionAtRisk[];
}

const EXAMPLES = 3;
const CHECKS_PER_CAUSE = 20;
const MEASURED: ReadonlySet<Verdict> = new Set(['PASS', 'FAIL', 'DEGRADED']);
const AT_RISK: ReadonlySet<Verdict> = new Set(['FAIL', 'DEGRADED']);

/** The report in `dir`, or undefined when there is none or it is not one. */
export function readReport(dir: string): BusinessImpactReport | undefined {
  const file = `${dir}/business-impact.json`;
  if (!existsSync(file)) return undefined;
  try {
    const report = JSON.parse(readFileSync(file, 'utf8')) as BusinessImpactReport;
    return report?.schema === REPORT_SCHEMA_ID && Array.isArray(report.tests) ? report : undefined;
  } catch {
    return undefined;
  }
}

function oneLine(text: string, max = 300): string {
  const line = text.split('\n').find((l) => l.trim() !== '')?.trim() ?? '';
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/**
 * The causes of a report that count as product failures: failed tests beyond their tier's
 * allowance (a tolerated failure is within what the catalog accepts), failed KPIs and failed
 * endpoint latency budgets. Inconclusive tests are not product failures.
 */
export function causesOf(report: Pick<BusinessImpactReport, 'tests' | 'kpis' | 'latency'>): Cause[] {
  const causes: Cause[] = [];
  for (const group of failureCauses(report)) {
    const counted = group.tests.filter((t) => !t.withinTierAllowance);
    if (group.verdict !== 'FAIL' || counted.length === 0) continue;
    const first = counted[0];
    causes.push({
      key: ['tests', group.component, group.layer, group.code].join('|'),
      kind: 'tests',
      title: `${group.component}/${group.layer}${group.code ? ` ${group.code}` : ''}`,
      message: oneLine(first?.failure?.message ?? first?.reason ?? ''),
      component: group.component,
      layer: group.layer,
      code: group.code,
      tests: counted.length,
      examples: counted.slice(0, EXAMPLES).map((t) => t.fullName),
      tiers: [...new Set(counted.map((t) => t.tier ?? 'untiered'))],
      checks: counted.slice(0, CHECKS_PER_CAUSE).map((t) => t.key),
    });
  }
  for (const kpi of report.kpis) {
    if (kpi.verdict !== 'FAIL') continue;
    causes.push({
      key: `kpi|${kpi.id}`,
      kind: 'kpi',
      title: `KPI ${kpi.name}`,
      message: oneLine(`${kpi.reason} (target ${kpi.target})`),
      component: 'kpi',
      layer: 'kpi',
      code: kpi.id,
      tests: 0,
      examples: [],
      tiers: [],
      checks: [`kpi|${kpi.id}`],
    });
  }
  for (const endpoint of report.latency?.endpoints ?? []) {
    if (endpoint.verdict !== 'FAIL') continue;
    causes.push({
      key: `latency|${endpoint.name}`,
      kind: 'latency',
      title: `${endpoint.component}/budget latency ${endpoint.endpoint}`,
      message: oneLine(endpoint.reason),
      component: endpoint.component,
      layer: 'budget',
      code: 'latency',
      tests: 0,
      examples: [],
      tiers: [],
      checks: [`latency|${endpoint.name}`],
    });
  }
  return causes;
}

/** Every check of the report that ran to a product verdict. */
export function observedChecks(report: Pick<BusinessImpactReport, 'tests' | 'kpis' | 'latency'>): Set<string> {
  const observed = new Set<string>();
  for (const t of report.tests) if (MEASURED.has(t.verdict)) observed.add(t.key);
  for (const k of report.kpis) if (MEASURED.has(k.verdict)) observed.add(`kpi|${k.id}`);
  for (const e of report.latency?.endpoints ?? []) if (MEASURED.has(e.verdict)) observed.add(`latency|${e.name}`);
  return observed;
}

export function tiersAtRisk(report: Pick<BusinessImpactReport, 'tiers'>): TierAtRisk[] {
  return report.tiers
    .filter((t) => AT_RISK.has(t.verdict))
    .map((t) => ({ id: t.id, name: t.name, protects: t.protects, verdict: t.verdict, reason: t.reason }));
}

/** Functions that failed or degraded, with the tiers (and MRR labels) of their failed tests. */
export function functionsAtRisk(report: Pick<BusinessImpactReport, 'functions' | 'tiers' | 'tests'>): FunctionAtRisk[] {
  const labels = new Map(report.tiers.map((t) => [t.id, t.protects]));
  return report.functions
    .filter((f) => AT_RISK.has(f.verdict))
    .map((f) => {
      const tiers = [...new Set(report.tests.filter((t) => t.verdict === 'FAIL' && t.functions.includes(f.id) && t.tier).map((t) => t.tier as string))].sort();
      return { id: f.id, name: f.name, verdict: f.verdict, reason: f.reason, tiers, protects: tiers.map((id) => labels.get(id) ?? id) };
    });
}

export function outcomeOf(report: BusinessImpactReport): IterationOutcome {
  const counts: Partial<Record<Verdict, number>> = {};
  for (const verdict of ['PASS', 'FAIL', 'DEGRADED', 'BLOCKED', 'INCONCLUSIVE', 'NOT RUN'] as const) {
    if (report.counts[verdict] > 0) counts[verdict] = report.counts[verdict];
  }
  return {
    verdict: report.verdict,
    exitCode: report.exitCode,
    reason: oneLine(report.reason),
    counts,
    causes: causesOf(report),
    observed: observedChecks(report),
    tiersAtRisk: tiersAtRisk(report),
    functionsAtRisk: functionsAtRisk(report),
  };
}

/** An iteration that left no report (configuration error, crash, interrupt): inconclusive. */
export function noReportOutcome(exitCode: number, reason: string): IterationOutcome {
  return { verdict: 'NO VERDICT', exitCode, reason: oneLine(reason) || 'no business-impact.json was written', counts: {}, causes: [], observed: new Set(), tiersAtRisk: [], functionsAtRisk: [] };
}
