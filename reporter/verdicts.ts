/**
 * The verdict engine: from what ran and what it measured to verdicts per test, tier,
 * business function, KPI and run. Pure: records in, report out (reporter/schema.ts), so the
 * same code judges a live run, a merge of shard blobs and the unit tests' hand-made records.
 *
 * Rules (docs/reports.md, "Verdicts"); the evidence of a failure is built in reporter/evidence.ts, the
 * run's verdict from its parts in reporter/run-verdict.ts:
 * - Test: passed → PASS, or DEGRADED when its own samples of a latency KPI land in that KPI's
 *   degraded band (FAIL past the band); failed → FAIL, or INCONCLUSIVE for a harness error
 *   (told by the failure's structured details, reporter/evidence.ts isHarnessFailure);
 *   skipped with a note `NOT CONFIGURED…` → NOT RUN (not configured), `BLOCKED…` → BLOCKED,
 *   `INCONCLUSIVE…` → INCONCLUSIVE; otherwise skipped → NOT RUN (filtered); unfinished → INCONCLUSIVE.
 * - KPI: no sample → NOT RUN; fewer than its minimum → INCONCLUSIVE; else against target and band.
 * - Tier: a failure rate below the tier's allowed rate is DEGRADED, at or above it FAIL (P1 allows none).
 * - Run: nothing collected or nothing executed → INCONCLUSIVE; target version changed → INCONCLUSIVE;
 *   a failed tier, KPI or phase-1 gate → FAIL; any harness error, blocked or inconclusive part →
 *   INCONCLUSIVE; any DEGRADED part → DEGRADED; else PASS.
 */
import { formatReportMs as formatMs } from '../helpers/core/format.ts';
import { percentile, rate } from '../helpers/core/stats.ts';
import { functionsOf, nextStepsFor, tierOf, type Catalog, type KpiDef } from './catalog.ts';
import type { HistoryIndex } from './history.ts';
import { summarizeTarget, type VersionSnapshot } from './target-drift.ts';
import { buildEvidence, isHarnessFailure } from './evidence.ts';
import type { GateSummary } from './gate.ts';
import { firstLine, readMeta, type ModuleRecord, type TestRecord } from './records.ts';
import { countVerdicts, EXIT_CODES, judgeRun, worst } from './run-verdict.ts';
import type { TargetHead } from '../helpers/core/target-head.ts';
import { DEFAULT_COLD_START_ALLOWANCE_MS, judgeLatency } from './latency.ts';
import { summarizeOutages, type CutShort } from './outages.ts';
import { formatPercent, judgeKpi, latencyBand, safeSummary, type Judged } from './kpis.ts';

export { formatPercent } from './kpis.ts';
import { REPORT_SCHEMA_ID, REPORT_SCHEMA_VERSION } from './report-schema-id.ts';
import type { BusinessImpactReport, Counts, KpiOut, TestOut, Verdict } from './schema.ts';

export interface EngineInput {
  catalog: Catalog;
  catalogPath: string;
  tests: readonly TestRecord[];
  modules?: readonly ModuleRecord[];
  unhandledErrors?: readonly string[];
  warnings?: readonly string[];
  run?: Partial<BusinessImpactReport['run']>;
  target?: { baseUrl: string | null; snapshots: readonly VersionSnapshot[] };
  gate?: GateSummary;
  history?: HistoryIndex;
  now?: Date;
  /** What the run targeted, for the head of every report (helpers/core/target-head.ts). */
  head?: TargetHead | null;
  /** The contract's cold-start allowance in force (BUDGET_COLD_START_MS); default 4 s. */
  coldStartAllowanceMs?: number;
}

export function testKey(test: Pick<TestRecord, 'project' | 'file' | 'fullName'>): string {
  return `${test.project}:${test.file}:${test.fullName}`;
}

const NOTE = {
  notConfigured: /^NOT CONFIGURED\b[:\s]*/i,
  blocked: /^BLOCKED\b/i,
  inconclusive: /^INCONCLUSIVE\b[:\s]*/i,
};

export function computeReport(input: EngineInput): BusinessImpactReport {
  const { catalog } = input;
  const warnings = [...(input.warnings ?? [])];
  const now = input.now ?? new Date();
  const history = input.history;
  const kpiDefs = new Map(catalog.kpis.map((k) => [k.id, k]));

  // ---- tests
  const judged: Judged[] = input.tests.map((record) => judgeTest(record, catalog, kpiDefs, warnings, history));

  // ---- tiers (and which failures their tier tolerates)
  const tiers = catalog.tiers.map((tier) => {
    const members = judged.filter((j) => j.out.tier === tier.id);
    const counts = countVerdicts(members.map((j) => j.out.verdict));
    const failureRate = rate(counts.FAIL, counts.executed);
    const tolerated = counts.FAIL > 0 && tier.allowedFailureRate > 0 && (failureRate.ratio ?? 1) < tier.allowedFailureRate;
    if (tolerated) for (const j of members) if (j.out.verdict === 'FAIL') j.out.withinTierAllowance = true;
    const allowed = tier.allowedFailureRate === 0 ? 'no failure allowed' : `< ${formatPercent(tier.allowedFailureRate)} allowed`;
    let verdict: Verdict;
    let reason: string;
    if (counts.FAIL > 0 && !tolerated) {
      verdict = 'FAIL';
      reason = `${failureRate.text} failed (${allowed})`;
    } else if (counts.BLOCKED > 0) {
      verdict = 'BLOCKED';
      reason = `${counts.BLOCKED} of ${counts.total} not run: blocked by phase 1`;
    } else if (counts.INCONCLUSIVE > 0) {
      verdict = 'INCONCLUSIVE';
      reason = `${counts.INCONCLUSIVE} of ${counts.total} inconclusive`;
    } else if (counts.executed === 0) {
      verdict = 'NOT RUN';
      reason = counts.total === 0 ? 'no test of this tier in the run' : `none of its ${counts.total} tests ran`;
    } else if (tolerated) {
      verdict = 'DEGRADED';
      reason = `${failureRate.text} failed, within the tier's allowance (${allowed})`;
    } else if (counts.DEGRADED > 0) {
      verdict = 'DEGRADED';
      reason = `${counts.DEGRADED} of ${counts.executed} degraded`;
    } else {
      verdict = 'PASS';
      reason = `${counts.PASS} of ${counts.executed} passed${counts['NOT RUN'] ? `, ${counts['NOT RUN']} not run` : ''}`;
    }
    return { ...tier, verdict, reason, counts, failureRate };
  });

  // ---- KPIs
  const kpis: KpiOut[] = catalog.kpis.map((def) => judgeKpi(def, judged, history));
  const knownKpis = new Set(catalog.kpis.map((k) => k.id));
  const unknown = new Set(judged.flatMap((j) => (j.meta?.kpis ?? []).map((k) => k.kpi)).filter((id) => !knownKpis.has(id)));
  for (const id of unknown) warnings.push(`KPI "${id}" is recorded by tests but not in the catalog; its samples are not judged`);

  // ---- latency per endpoint and cold starts (every request the tests recorded)
  const latency = judgeLatency(
    judged.flatMap((j) => j.meta?.requests ?? []),
    catalog.endpointLatency,
    input.coldStartAllowanceMs ?? DEFAULT_COLD_START_ALLOWANCE_MS,
    warnings,
    judged.reduce((n, j) => n + (j.meta?.requestsDropped ?? 0), 0),
  );
  // ---- components confirmed down, and the failures they cut short
  const outages = summarizeOutages(
    judged.flatMap((j) => j.meta?.componentEvents ?? []),
    judged.flatMap((j) => {
      const down = (j.meta?.failure?.evidence as { down?: Partial<CutShort> } | undefined)?.down;
      return down && typeof down.component === 'string' && typeof down.since === 'number' ? [down as CutShort] : [];
    }),
  );
  const latencyParts = [...latency.endpoints, ...latency.coldStarts.map((c) => ({ ...c, name: `${c.component} cold start` }))];

  // ---- business functions
  const functions = catalog.functions.map((fn) => {
    const members = judged.filter((j) => j.out.functions.includes(fn.id));
    const effective = members.map((j) => (j.out.verdict === 'FAIL' && j.out.withinTierAllowance ? 'DEGRADED' : j.out.verdict));
    const counts = countVerdicts(members.map((j) => j.out.verdict));
    const linked = [...kpis.filter((k) => k.functions.includes(fn.id)), ...(latency.functions.includes(fn.id) ? latencyParts : [])];
    const parts: Verdict[] = [...effective, ...linked.map((k) => k.verdict).filter((v) => v !== 'NOT RUN')];
    const verdict = worst(parts) ?? 'NOT RUN';
    const failedKpis = linked.filter((k) => k.verdict === verdict && verdict !== 'PASS').map((k) => k.name);
    let reason: string;
    if (verdict === 'NOT RUN') reason = members.length === 0 ? 'no test of this function in the run' : `none of its ${members.length} tests ran`;
    else {
      const bits = [`${counts.PASS} passed`];
      for (const v of ['FAIL', 'DEGRADED', 'BLOCKED', 'INCONCLUSIVE', 'NOT RUN'] as const) if (counts[v]) bits.push(`${counts[v]} ${v}`);
      reason = `${bits.join(', ')} of ${counts.total} tests${failedKpis.length ? `; KPI ${failedKpis.join(', ')} ${verdict}` : ''}`;
    }
    return { id: fn.id, name: fn.name, ...(fn.description ? { description: fn.description } : {}), verdict, reason, counts, kpis: kpis.filter((k) => k.functions.includes(fn.id)).map((k) => k.id) };
  });

  for (const j of judged) {
    if (!isSuiteProject(j.record.project)) continue;
    if (!j.out.tier) warnings.push(`${j.out.key}: carries no tier tag (${catalog.tiers.map((t) => t.id).join(', ')}); counted in the run, in no tier`);
    if (j.out.functions.length === 0) warnings.push(`${j.out.key}: no functionRules entry of the catalog matches it; counted in the run, in no business function`);
  }

  // ---- target drift
  const target = summarizeTarget(input.target, input.modules ?? [], warnings);

  // ---- module-level errors (collection failures, failing beforeAll/afterAll)
  const moduleErrors = (input.modules ?? []).filter((m) => m.errors.length > 0);
  for (const m of moduleErrors) warnings.push(`${m.project}:${m.file}: ${m.errors.map((e) => firstLine(e)).join(' | ')}`);
  for (const e of input.unhandledErrors ?? []) warnings.push(`unhandled error: ${firstLine(e)}`);

  // ---- run
  const counts = countVerdicts(judged.map((j) => j.out.verdict));
  const gate = input.gate ?? { status: 'none', source: 'none', blocking: [] };
  const { verdict, reason } = judgeRun({ counts, tiers, kpis, latency, tests: judged.map((j) => j.out), target, gate, moduleErrors: moduleErrors.length, unhandled: (input.unhandledErrors ?? []).length });

  return {
    schema: REPORT_SCHEMA_ID,
    schemaVersion: REPORT_SCHEMA_VERSION,
    generatedAt: now.toISOString(),
    run: {
      runId: input.run?.runId ?? null,
      mode: input.run?.mode ?? 'run',
      shard: input.run?.shard ?? null,
      vitestVersion: input.run?.vitestVersion ?? null,
      projects: input.run?.projects ?? [...new Set(judged.map((j) => j.record.project))].sort(),
      startedAt: input.run?.startedAt ?? null,
      durationMs: input.run?.durationMs ?? null,
      catalog: input.catalogPath,
    },
    head: input.head ?? null,
    verdict,
    reason,
    exitCode: EXIT_CODES[verdict],
    counts,
    target,
    gate,
    tiers,
    functions,
    kpis,
    latency,
    ...(outages.length ? { outages } : {}),
    tests: judged.map((j) => j.out),
    warnings: [...new Set(warnings)],
    history: { file: history?.file ?? null, runsConsidered: history?.runsConsidered ?? 0, since: history?.since ?? null },
  };
}

function isSuiteProject(project: string): boolean {
  return project === 'phase1' || project === 'phase2';
}

// ---------------------------------------------------------------------------------------
// Tests

function judgeTest(
  record: TestRecord,
  catalog: Catalog,
  kpiDefs: Map<string, KpiDef>,
  warnings: string[],
  history: HistoryIndex | undefined,
): Judged {
  const key = testKey(record);
  const { meta, warnings: metaWarnings } = readMeta(record.meta, key);
  warnings.push(...metaWarnings);
  const tier = tierOf(catalog, record.tags);
  const note = record.note?.trim();
  const out: TestOut = {
    id: record.id,
    key,
    project: record.project,
    file: record.file,
    fullName: record.fullName,
    ...(record.checkId ? { checkId: record.checkId } : {}),
    tags: [...record.tags],
    tier: tier?.id ?? null,
    functions: functionsOf(catalog, record),
    verdict: 'NOT RUN',
    reason: '',
    durationMs: record.durationMs ?? null,
    startedAt: record.startTime ? new Date(record.startTime).toISOString() : null,
    retryCount: record.retryCount ?? 0,
    flaky: record.flaky ?? false,
    measurements: (meta?.measurements ?? []).map((m) => ({
      name: m.name,
      unit: m.unit,
      samples: m.samples,
      summary: safeSummary(m.samples),
      ...(m.firstAttemptSuccesses !== undefined ? { firstAttemptSuccesses: m.firstAttemptSuccesses } : {}),
    })),
    kpis: (meta?.kpis ?? []).map((k) => ({ kpi: k.kpi, samples: k.samples, ...(k.firstAttemptSuccesses !== undefined ? { firstAttemptSuccesses: k.firstAttemptSuccesses } : {}) })),
    timelines: meta?.timelines ?? [],
    retries: meta?.retries ?? [],
  };

  switch (record.state) {
    case 'passed': {
      out.verdict = 'PASS';
      out.reason = record.retryCount ? `passed after ${record.retryCount} retr${record.retryCount === 1 ? 'y' : 'ies'}` : 'passed';
      // A latency KPI's band applied to this test's own samples.
      for (const sample of meta?.kpis ?? []) {
        const def = kpiDefs.get(sample.kpi);
        if (def?.kind !== 'latency' || sample.samples.length === 0) continue;
        const value = percentile(sample.samples, def.percentile);
        const band = latencyBand(def, value);
        if (band === 'FAIL') {
          out.verdict = 'FAIL';
          out.reason = `${def.name}: p${def.percentile} ${formatMs(value)} is past its failure threshold (${formatMs(def.failMs ?? def.targetMs)})`;
          const component = def.component ?? meta?.components[0] ?? 'backend';
          out.failure = {
            component,
            layer: 'budget',
            message: out.reason,
            ledgers: meta?.ledgers ?? [],
            nextSteps: nextStepsFor(catalog, { component, layer: 'budget', message: out.reason }),
          };
          break;
        }
        if (band === 'DEGRADED') {
          out.verdict = 'DEGRADED';
          out.reason = `${def.name}: p${def.percentile} ${formatMs(value)} is in the degraded band ${formatMs(def.targetMs)}–${formatMs(def.failMs ?? def.targetMs)}`;
        }
      }
      // What the test itself found close to breaking (e.g. a certificate about to expire).
      if (out.verdict === 'PASS' && meta?.degraded?.length) {
        out.verdict = 'DEGRADED';
        out.reason = meta.degraded.join('; ');
      }
      break;
    }
    case 'failed': {
      const evidence = buildEvidence(record, meta, catalog);
      out.failure = evidence;
      if (isHarnessFailure(record, meta)) {
        out.verdict = 'INCONCLUSIVE';
        out.reason = `harness error (not the target's): ${firstLine(evidence.message)}`;
        evidence.harnessError = true;
      } else {
        out.verdict = 'FAIL';
        out.reason = `${evidence.component}/${evidence.layer}${evidence.code !== undefined ? ` ${evidence.code}` : ''}: ${firstLine(evidence.message)}`;
      }
      break;
    }
    case 'skipped': {
      if (note && NOTE.blocked.test(note)) {
        out.verdict = 'BLOCKED';
        out.reason = note;
        out.blockedBy = note.replace(/^BLOCKED by phase 1:\s*/i, '');
      } else if (note && NOTE.inconclusive.test(note)) {
        out.verdict = 'INCONCLUSIVE';
        out.reason = note.replace(NOTE.inconclusive, '') || 'inconclusive';
      } else if ((note && NOTE.notConfigured.test(note)) || meta?.notConfigured) {
        out.verdict = 'NOT RUN';
        out.reason = `not configured: ${note ? note.replace(NOTE.notConfigured, '') : meta?.notConfigured}`;
      } else if (record.mode === 'todo') {
        out.verdict = 'NOT RUN';
        out.reason = 'todo';
      } else {
        out.verdict = 'NOT RUN';
        out.reason = note ? `skipped: ${note}` : 'filtered out (not selected by this run\'s project, tag or name filters, or skipped in code)';
      }
      break;
    }
    default:
      out.verdict = 'INCONCLUSIVE';
      out.reason = 'did not finish (the run was interrupted or the worker died)';
  }
  if (history) out.history = history.test(key, record.checkId);
  return { record, ...(meta ? { meta } : {}), out };
}
