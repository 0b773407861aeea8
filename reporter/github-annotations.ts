/**
 * GitHub annotations of a finished report: one `::error` (or `::warning`) workflow command per
 * failure cause, printed beside the terminal summary when the run is a GitHub Actions step
 * (`GITHUB_ACTIONS=true`). They show on the workflow run's page and the pull request's checks,
 * so a reader sees what broke without opening the log.
 *
 * - A cause is what the terminal summary groups by too: failed tests with the same verdict,
 *   component, layer and code (ten tests refused by one 503 are one annotation, naming them).
 *   A failed KPI or endpoint latency budget is a cause of its own; an INCONCLUSIVE run gets one
 *   annotation saying why. Passes and DEGRADED results never get one.
 * - GitHub shows about ten annotations of a kind per step: past that, the last one shown
 *   counts the causes left out (they are all in the report).
 * - Text passes the report's redactor once more before it is escaped (no secret in a log line).
 */
import { redactSecrets } from '../helpers/core/redact.ts';
import { sortBlocking } from './gate.ts';
import { firstLine } from './records.ts';
import type { BusinessImpactReport, TestOut } from './schema.ts';

/** GitHub shows this many annotations of one kind (error, warning) per step. */
export const ANNOTATIONS_PER_KIND = 10;

export type AnnotationKind = 'error' | 'warning';

export interface Annotation {
  kind: AnnotationKind;
  title: string;
  message: string;
}

export type AnnotatedReport = Pick<BusinessImpactReport, 'verdict' | 'reason' | 'exitCode' | 'tests' | 'kpis' | 'latency' | 'counts'>;

/** Whether this process runs as a GitHub Actions step (the runner sets GITHUB_ACTIONS=true). */
export function annotationsWanted(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.GITHUB_ACTIONS === 'true';
}

/** Escapes a workflow command's message (GitHub's rules: %, CR and LF). */
export function escapeData(text: string): string {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/** Escapes a workflow command's property value: the message's rules, plus `:` and `,`. */
export function escapeProperty(text: string): string {
  return escapeData(text).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

/** The workflow command lines of a report, at most {@link ANNOTATIONS_PER_KIND} of each kind. */
export function githubAnnotationLines(report: AnnotatedReport, secrets: readonly string[]): string[] {
  const clean = (text: string) => redactSecrets(text, [...secrets]);
  return capPerKind(annotationsOf(report)).map((a) => `::${a.kind} title=${escapeProperty(clean(a.title))}::${escapeData(clean(a.message))}`);
}

/** Every annotation a report calls for, the most fundamental cause first, errors before warnings. */
export function annotationsOf(report: AnnotatedReport): Annotation[] {
  const annotations = [...testCauses(report), ...kpiFailures(report), ...latencyFailures(report)];
  if (report.verdict === 'INCONCLUSIVE') {
    annotations.unshift({ kind: 'error', title: `stagecheck INCONCLUSIVE (exit ${report.exitCode})`, message: report.reason });
  }
  return [...annotations.filter((a) => a.kind === 'error'), ...annotations.filter((a) => a.kind === 'warning')];
}

/** Failed tests (and inconclusive ones with evidence) that share a verdict, component, layer and code. */
export interface FailureCause {
  verdict: TestOut['verdict'];
  component: string;
  layer: string;
  /** '' when the failure carries no code. */
  code: string;
  /** In report order; the first one's evidence speaks for the cause. */
  tests: TestOut[];
}

/**
 * The failure causes of a report, the most fundamental first (gate.ts sortBlocking): one per
 * verdict, component, layer and code. GitHub annotations and the incident write-up
 * (reporter/incident.ts) group by this one definition.
 */
export function failureCauses(report: Pick<BusinessImpactReport, 'tests'>): FailureCause[] {
  const groups = new Map<string, FailureCause>();
  for (const t of report.tests) {
    if (t.verdict !== 'FAIL' && !(t.verdict === 'INCONCLUSIVE' && t.failure)) continue;
    const component = t.failure?.component ?? 'unknown';
    const layer = t.failure?.layer ?? 'unknown';
    const code = t.failure?.code === undefined ? '' : String(t.failure.code);
    const key = [t.verdict, component, layer, code].join('|');
    const group = groups.get(key) ?? { component, layer, code, verdict: t.verdict, tests: [] };
    group.tests.push(t);
    groups.set(key, group);
  }
  return sortBlocking([...groups.values()]);
}

/** Failed (and inconclusive, with evidence) tests, one annotation per component/layer/code. */
function testCauses(report: AnnotatedReport): Annotation[] {
  return failureCauses(report).map((g) => {
    const first = g.tests[0] as TestOut;
    const evidence = first.failure;
    const cause = `${g.component}/${g.layer}${g.code ? ` ${g.code}` : ''}`;
    const tiers = [...new Set(g.tests.map((t) => t.tier?.toUpperCase() ?? 'untiered'))].join(', ');
    const tolerated = g.verdict === 'FAIL' && g.tests.every((t) => t.withinTierAllowance);
    const what = g.verdict === 'FAIL' ? (tolerated ? 'failed (within the tier\'s allowed failure rate)' : 'failed') : 'inconclusive';
    const lines = [
      `${g.tests.length} test(s) ${what} [${tiers}]: ${first.fullName}${g.tests.length > 1 ? ` and ${g.tests.length - 1} more` : ''}`,
      withEndpoint(evidence?.endpoint, firstLine(evidence?.message ?? first.reason)),
    ];
    if (g.tests.some((t) => t.project === 'phase1') && report.counts.BLOCKED > 0) lines.push(`phase 1 failed: ${report.counts.BLOCKED} phase-2 test(s) BLOCKED`);
    const step = evidence?.nextSteps[0];
    if (step) lines.push(`next step: ${step}`);
    return {
      kind: g.verdict === 'FAIL' && !tolerated ? 'error' : 'warning',
      title: `stagecheck ${g.verdict === 'FAIL' ? 'FAIL' : 'INCONCLUSIVE'} ${cause}`,
      message: lines.join('\n'),
    } satisfies Annotation;
  });
}

/** The error, prefixed with its endpoint unless it names it already (most transport errors do). */
function withEndpoint(endpoint: string | undefined, message: string): string {
  return endpoint && !message.includes(endpoint) ? `${endpoint}: ${message}` : message;
}

function kpiFailures(report: AnnotatedReport): Annotation[] {
  return report.kpis
    .filter((k) => k.verdict === 'FAIL')
    .map((k) => ({ kind: 'error', title: `stagecheck FAIL KPI ${k.name}`, message: `${k.reason} (target ${k.target})` }));
}

function latencyFailures(report: AnnotatedReport): Annotation[] {
  return (report.latency?.endpoints ?? [])
    .filter((e) => e.verdict === 'FAIL')
    .map((e) => ({ kind: 'error', title: `stagecheck FAIL ${e.component}/budget latency ${e.endpoint}`, message: e.reason }));
}

/** Keeps what GitHub will show: past the limit of a kind, the last one shown counts the rest. */
function capPerKind(annotations: readonly Annotation[]): Annotation[] {
  const kept: Annotation[] = [];
  for (const kind of ['error', 'warning'] as const) {
    const ofKind = annotations.filter((a) => a.kind === kind);
    if (ofKind.length <= ANNOTATIONS_PER_KIND) {
      kept.push(...ofKind);
      continue;
    }
    const shown = ofKind.slice(0, ANNOTATIONS_PER_KIND - 1);
    const rest = ofKind.slice(ANNOTATIONS_PER_KIND - 1);
    kept.push(...shown, {
      kind,
      title: `stagecheck ${rest.length} more cause(s)`,
      message: `${rest.map((a) => a.title.replace(/^stagecheck /, '')).join('\n')}\n(see the business-impact report for their evidence)`,
    });
  }
  return kept;
}
