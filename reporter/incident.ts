/**
 * The incident write-up: `<report dir>/incident.md` of a FAIL run, ready to paste into an issue
 * tracker, or filed by `npm run e2e -- --open-issue` (scripts/open-issue.ts). Rendered from the
 * redacted report, the catalog and this target's earlier runs in the history (pure):
 * - the business impact is what failed in THIS run (tiers and functions with failed tests, the
 *   tier's MRR label as the catalog words it), never a prediction; what a failed phase 1 kept
 *   from running is said to be unknown, not at risk;
 * - failures are grouped by cause as the GitHub annotations group them (failureCauses), each
 *   with its exact error, its tests' start times, time to failure and correlation ids;
 * - "first seen" comes from stored runs only (reporter/incident-history.ts).
 *
 * Its first line is `# <title>`: scripts/open-issue.ts takes the issue's title from it. The text
 * passes the redactor once more with the run's secrets, as every other output does.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { COMPONENTS } from '../helpers/core/errors.ts';
import { formatReportMs as formatMs } from '../helpers/core/format.ts';
import { redactSecrets } from '../helpers/core/redact.ts';
import { nextStepsFor, type Catalog } from './catalog.ts';
import { unavailableComponent } from './component-states.ts';
import { failureCauses, type FailureCause } from './github-annotations.ts';
import type { HistoryEntry } from './history.ts';
import { firstSeen, kpiPick, testsPick, utcMinute, type FirstSeen, type VerdictPick } from './incident-history.ts';
import { describeOutage } from './outages.ts';
import { firstLine } from './records.ts';
import type { BusinessImpactReport, TestOut, Verdict } from './schema.ts';

export const INCIDENT_FILE = 'incident.md';

/** Rows of one cause's test table, and checks named per tier or function, before "and N more". */
const MAX_ROWS = 25;
const MAX_NAMED = 6;
/** Distinct error messages quoted per cause, and the length of each. */
const MAX_MESSAGES = 3;
const MAX_MESSAGE_CHARS = 1500;

/**
 * What a finished run does with incident.md. FAIL writes it. PASS and DEGRADED remove a stale
 * one: the target works again. INCONCLUSIVE leaves whatever is there: such a run (harness error,
 * target changed version, too few samples) neither confirms a failure nor clears one.
 */
export function incidentAction(verdict: Verdict): 'write' | 'remove' | 'keep' {
  if (verdict === 'FAIL') return 'write';
  if (verdict === 'PASS' || verdict === 'DEGRADED') return 'remove';
  return 'keep';
}

export interface IncidentInput {
  /** Already redacted. */
  report: BusinessImpactReport;
  catalog: Catalog;
  /** This target's earlier runs, oldest first (the current run not among them). */
  past: readonly HistoryEntry[];
  /** Where the run's report files are. */
  reportDir: string;
  /** The report files written for the run. */
  files: readonly string[];
  secrets: readonly string[];
}

export interface Incident {
  title: string;
  markdown: string;
}

/**
 * Writes `<dir>/incident.md` for a FAIL run, removes a stale one after PASS or DEGRADED, and
 * leaves it alone otherwise (incidentAction). Returns the file when written. A file that cannot
 * be written or removed is told through `logError`: it never turns the run's verdict.
 */
export function updateIncidentFile(input: IncidentInput, logError: (message: string) => void): string | undefined {
  const file = join(input.reportDir, INCIDENT_FILE);
  const action = incidentAction(input.report.verdict);
  try {
    if (action === 'remove') rmSync(file, { force: true });
    if (action !== 'write') return undefined;
    writeFileSync(file, renderIncident(input).markdown);
    return file;
  } catch (error) {
    logError(`stagecheck: could not ${action} ${file}: ${(error as Error).message}`);
    return undefined;
  }
}

export function renderIncident(input: IncidentInput): Incident {
  const { report: r, catalog, past } = input;
  // With the history off there is nothing to look back on: say so rather than "no earlier run".
  const seen = (pick: VerdictPick): FirstSeen => (r.history.file === null ? { ...firstSeen([], pick), text: 'first seen in this run as far as stagecheck knows (the history is off)' } : firstSeen(past, pick));
  const causes = failureCauses(r).map((cause) => ({ cause, seen: seen(testsPick(cause.tests)) }));
  const failedKpis = r.kpis.filter((k) => k.verdict === 'FAIL').map((kpi) => ({ kpi, seen: seen(kpiPick(kpi.id)) }));
  const clean = (text: string) => redactSecrets(text, [...input.secrets]);
  const title = clean(incidentTitle(r));
  const earliest = [...causes, ...failedKpis].map((c) => c.seen).sort(bySince)[0];
  const lines = [
    `# ${title}`,
    '',
    `**${r.verdict}**: ${oneLine(r.reason)}`,
    '',
    ...summaryTable(r, earliest),
    ...impactSection(r, failedKpis),
    ...outageSection(r),
    ...causeSection(causes),
    ...stillWorksSection(r),
    ...nextStepsSection(r, catalog, causes.map((c) => c.cause)),
    ...runSection(r, input),
  ];
  return { title, markdown: clean(`${lines.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd()}\n`) };
}

/** One line: verdict, what is down, target, date (e.g. "stagecheck FAIL: redis down (tcp ECONNREFUSED) on staging.example.com, 2026-12-01 04:10 UTC"). */
export function incidentTitle(r: BusinessImpactReport): string {
  const at = r.run.startedAt ?? r.generatedAt;
  return `stagecheck ${r.verdict}: ${whatIsDown(r)} on ${targetName(r)}, ${utcMinute(at)}`;
}

function whatIsDown(r: BusinessImpactReport): string {
  const down = (r.outages ?? []).filter((o) => o.backAt === null);
  const causes = failureCauses(r).filter((c) => c.verdict === 'FAIL');
  const more = (shown: number, total: number) => (total > shown ? ` and ${total - shown} more cause${total - shown === 1 ? '' : 's'}` : '');
  if (down.length > 0) {
    const first = down[0] as (typeof down)[number];
    const names = [...new Set(down.map((o) => o.component))];
    const others = causes.filter((c) => !names.includes(c.component)).length;
    return `${names.join(', ')} down (${first.cause})${more(0, others)}`;
  }
  const kpis = r.kpis.filter((k) => k.verdict === 'FAIL');
  const endpoints = (r.latency?.endpoints ?? []).filter((e) => e.verdict === 'FAIL');
  // Failed tests name the cause; a failed KPI or latency budget names it only when no test failed.
  // "down" as the uptime counts it (reporter/component-states.ts): unreachable or not serving; any other failure is "failing".
  const first = causes[0];
  if (first) return `${first.component} ${first.tests[0] && unavailableComponent(first.tests[0]) ? 'down' : 'failing'} (${causeCode(first)})${more(1, causes.length)}`;
  const kpi = kpis[0];
  if (kpi) return `KPI ${kpi.name} failing${more(1, kpis.length + endpoints.length)}`;
  const endpoint = endpoints[0];
  if (endpoint) return `${endpoint.name} over its latency budget${more(1, endpoints.length)}`;
  return firstLine(r.reason);
}

function targetName(r: BusinessImpactReport): string {
  const host = hostOf(r.target.baseUrl);
  if (r.head?.target === 'local') return `the bundled reference platform${host ? ` (${host})` : ''}`;
  return host ?? 'an unknown target';
}

function hostOf(url: string | null): string | null {
  if (!url) return null;
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

const causeCode = (c: Pick<FailureCause, 'layer' | 'code'>): string => `${c.layer}${c.code ? ` ${c.code}` : ''}`;
const causeName = (c: FailureCause): string => `${c.component} ${causeCode(c)}`;

/** Table cells: one line, pipes escaped. */
const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
const oneLine = (text: string): string => text.replace(/\r?\n/g, ' ');
const checkName = (t: TestOut): string => (t.checkId ? `\`${t.checkId}\`` : cell(t.fullName));

function named(tests: readonly TestOut[]): string {
  const unique = [...new Map(tests.map((t) => [checkName(t), t])).keys()];
  return `${unique.slice(0, MAX_NAMED).join(', ')}${unique.length > MAX_NAMED ? ` and ${unique.length - MAX_NAMED} more` : ''}`;
}

/** A fence longer than any run of backticks in the text, so an error quoting Markdown stays quoted. */
function fenced(text: string): string[] {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  return [`${fence}text`, text, fence];
}

function bySince(a: FirstSeen, b: FirstSeen): number {
  return (a.since?.at ?? '9999').localeCompare(b.since?.at ?? '9999');
}

function summaryTable(r: BusinessImpactReport, earliest: FirstSeen | undefined): string[] {
  const c = r.counts;
  const counts = (['PASS', 'FAIL', 'DEGRADED', 'BLOCKED', 'INCONCLUSIVE', 'NOT RUN'] as const).filter((v) => c[v] > 0).map((v) => `${c[v]} ${v}`).join(' · ');
  const version = r.target.after ?? r.target.before;
  const rows = [
    ['target', r.head ? cell(r.head.description) : r.target.baseUrl ? `\`${r.target.baseUrl}\`` : 'unknown'],
    ['target version', version ? `\`${version}\`${r.target.drift ? ` (changed during the run: ${r.target.versions.map((v) => `\`${v.version}\``).join(' → ')})` : ''}` : 'unknown (the target reported none)'],
    ['run', `\`${r.run.runId ?? 'unknown'}\` (${r.run.mode}${r.run.projects.length ? `: ${r.run.projects.join(', ')}` : ''})`],
    ['started', `${r.run.startedAt ? `${r.run.startedAt.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}` : 'unknown'}${r.run.durationMs !== null ? `, ran ${formatMs(r.run.durationMs)}` : ''}`],
    ['tests', `${counts || 'none'} of ${c.total}`],
    ['first seen', earliest ? cell(earliest.text) : 'first seen in this run'],
  ];
  return ['| | |', '|---|---|', ...rows.map(([k, v]) => `| ${k} | ${v} |`), ''];
}

function impactSection(r: BusinessImpactReport, failedKpis: { kpi: BusinessImpactReport['kpis'][number]; seen: FirstSeen }[]): string[] {
  const failed = r.tests.filter((t) => t.verdict === 'FAIL');
  const out = ['## Business impact (measured in this run)', ''];
  out.push(`${failed.length} of ${r.counts.executed} executed test${r.counts.executed === 1 ? '' : 's'} failed.`, '');
  const tiers = r.tiers.filter((t) => t.verdict === 'FAIL' || failed.some((f) => f.tier === t.id));
  if (tiers.length) {
    out.push('| tier | protects | verdict | failed | failing checks |', '|---|---|---|---|---|');
    for (const t of tiers) out.push(`| ${cell(t.name)} | ${cell(t.protects)} | ${t.verdict} | ${t.failureRate.text} | ${named(failed.filter((f) => f.tier === t.id))} |`);
    out.push('');
  }
  const functions = r.functions.filter((f) => f.verdict === 'FAIL');
  if (functions.length) {
    out.push('| business function | verdict | why | failing checks |', '|---|---|---|---|');
    for (const f of functions) out.push(`| ${cell(f.name)} | ${f.verdict} | ${cell(f.reason)} | ${named(failed.filter((t) => t.functions.includes(f.id))) || '–'} |`);
    out.push('');
  }
  if (failedKpis.length) {
    out.push('| KPI | measured | target | first seen |', '|---|---|---|---|');
    for (const { kpi, seen } of failedKpis) out.push(`| ${cell(kpi.name)} | ${cell(kpi.reason)} | ${cell(kpi.target)} | ${cell(seen.text)} |`);
    out.push('');
  }
  const slow = (r.latency?.endpoints ?? []).filter((e) => e.verdict === 'FAIL');
  for (const e of slow) out.push(`- latency: ${oneLine(e.reason)}`);
  if (slow.length) out.push('');
  const unknown = r.tiers.filter((t) => t.counts.BLOCKED > 0);
  if (unknown.length) {
    out.push(`Not measured: phase 1 failed, so these tests did not run; their state is unknown, not known to be broken: ${unknown.map((t) => `${t.name} (${t.protects}): ${t.counts.BLOCKED} test${t.counts.BLOCKED === 1 ? '' : 's'}`).join('; ')}.`, '');
  }
  out.push('_MRR figures are the catalog\'s labels of each tier, not predicted losses._', '');
  return out;
}

function outageSection(r: BusinessImpactReport): string[] {
  if (!r.outages?.length) return [];
  return ['## Components confirmed down', '', ...r.outages.map((o) => `- ${oneLine(describeOutage(o))}`), ''];
}

function causeSection(causes: { cause: FailureCause; seen: FirstSeen }[]): string[] {
  if (!causes.length) return [];
  const out = [`## Failing components, by cause (${causes.length}, most fundamental first)`, ''];
  causes.forEach(({ cause, seen }, index) => {
    const tiers = [...new Set(cause.tests.map((t) => t.tier?.toUpperCase() ?? 'untiered'))].join(', ');
    const what = cause.verdict === 'FAIL' ? 'failed' : 'inconclusive';
    out.push(`### ${index + 1}. ${causeName(cause)}: ${cause.tests.length} test${cause.tests.length === 1 ? '' : 's'} ${what} [${tiers}]`, '');
    out.push(`- **first seen** ${oneLine(seen.text)}`);
    const endpoints = [...new Set(cause.tests.map((t) => t.failure?.endpoint).filter((e): e is string => Boolean(e)))];
    if (endpoints.length) out.push(`- **endpoint** ${endpoints.slice(0, MAX_NAMED).map((e) => `\`${e}\``).join(', ')}`);
    const messages = [...new Set(cause.tests.map((t) => t.failure?.message ?? t.reason))];
    out.push('', ...messages.slice(0, MAX_MESSAGES).flatMap((m) => [...fenced(m.length > MAX_MESSAGE_CHARS ? `${m.slice(0, MAX_MESSAGE_CHARS)}…` : m), '']));
    if (messages.length > MAX_MESSAGES) out.push(`_${messages.length - MAX_MESSAGES} more distinct message(s) in business-impact.md._`, '');
    out.push('| check | tier | started (UTC) | failed after | correlation id |', '|---|---|---|---|---|');
    for (const t of cause.tests.slice(0, MAX_ROWS)) {
      const elapsed = t.failure?.elapsedMs ?? t.durationMs;
      out.push(`| ${checkName(t)} | ${t.tier?.toUpperCase() ?? '–'} | ${t.startedAt ? t.startedAt.slice(11, 23) : '–'} | ${elapsed !== null && elapsed !== undefined ? formatMs(elapsed) : '–'} | ${t.failure?.correlationId ? `\`${t.failure.correlationId}\`` : '–'} |`);
    }
    if (cause.tests.length > MAX_ROWS) out.push('', `_and ${cause.tests.length - MAX_ROWS} more tests with this cause (business-impact.md lists them)._`);
    out.push('');
  });
  return out;
}

/** Components that answered in this run: a test tagged with one passed and no failure or outage blames it. */
export function workingComponents(r: Pick<BusinessImpactReport, 'tests' | 'outages'>): { component: string; passed: number }[] {
  const blamed = new Set<string>([...r.tests.filter((t) => t.verdict === 'FAIL' && t.failure).map((t) => (t.failure as NonNullable<TestOut['failure']>).component), ...(r.outages ?? []).map((o) => o.component)]);
  return COMPONENTS.filter((c) => !blamed.has(c))
    .map((component) => ({ component, passed: r.tests.filter((t) => t.verdict === 'PASS' && t.tags.includes(component)).length }))
    .filter((c) => c.passed > 0);
}

function stillWorksSection(r: BusinessImpactReport): string[] {
  const healthy = (v: Verdict) => v === 'PASS' || v === 'DEGRADED';
  // A tier whose executed tests all passed works as far as measured, even with others blocked.
  const tiers = r.tiers.filter((t) => healthy(t.verdict) || (t.counts.executed > 0 && t.counts.FAIL === 0));
  const functions = r.functions.filter((f) => healthy(f.verdict));
  const components = workingComponents(r);
  const kpis = r.kpis.filter((k) => healthy(k.verdict));
  const out = ['## What still works (measured in this run)', ''];
  if (!tiers.length && !functions.length && !components.length && !kpis.length) return [...out, 'Nothing this run measured passed.', ''];
  const mark = (v: Verdict) => (v === 'DEGRADED' ? ' (DEGRADED)' : '');
  const blocked = (n: number) => (n ? `, ${n} blocked` : '');
  if (tiers.length) out.push(`- **tiers** ${tiers.map((t) => `${t.name} (${t.protects}): ${t.counts.PASS} of ${t.counts.executed} executed passed${blocked(t.counts.BLOCKED)}${mark(t.verdict)}`).join('; ')}`);
  if (functions.length) out.push(`- **business functions** ${functions.map((f) => `${f.name}${mark(f.verdict)}`).join('; ')}`);
  if (components.length) out.push(`- **components** ${components.map((c) => `${c.component} (${c.passed} test${c.passed === 1 ? '' : 's'} passed)`).join('; ')}`);
  if (kpis.length) out.push(`- **KPIs** ${kpis.map((k) => `${k.name}: ${oneLine(k.reason)}${mark(k.verdict)}`).join('; ')}`);
  return [...out, ''];
}

/** Each failure cause's steps from the catalog, once each, the most fundamental cause first. */
function nextStepsSection(r: BusinessImpactReport, catalog: Catalog, causes: readonly FailureCause[]): string[] {
  const steps = new Map<string, string[]>();
  const add = (step: string, why: string) => steps.set(step, [...(steps.get(step) ?? []), why]);
  for (const cause of causes) {
    const evidence = cause.tests[0]?.failure;
    const fromCatalog = evidence?.nextSteps.length
      ? evidence.nextSteps
      : nextStepsFor(catalog, { component: cause.component, layer: cause.layer, ...(cause.code ? { code: cause.code } : {}), ...(evidence ? { message: evidence.message, harnessError: evidence.harnessError ?? false } : {}) });
    for (const step of fromCatalog) add(step, causeName(cause));
  }
  for (const kpi of r.kpis.filter((k) => k.verdict === 'FAIL')) {
    const def = catalog.kpis.find((k) => k.id === kpi.id);
    const component = def?.kind === 'latency' ? def.component : undefined;
    if (component) for (const step of nextStepsFor(catalog, { component, layer: 'budget', message: kpi.reason })) add(step, `KPI ${kpi.id}`);
  }
  for (const e of (r.latency?.endpoints ?? []).filter((x) => x.verdict === 'FAIL')) {
    for (const step of nextStepsFor(catalog, { component: e.component, layer: 'budget', message: e.reason })) add(step, `latency ${e.name}`);
  }
  if (!steps.size) return [];
  return ['## Next steps (from the catalog)', '', ...[...steps].map(([step, why]) => `- [ ] ${oneLine(step)} _(${[...new Set(why)].join(', ')})_`), ''];
}

function runSection(r: BusinessImpactReport, input: IncidentInput): string[] {
  const names = input.files.map((f) => f.slice(f.lastIndexOf('/') + 1));
  return [
    '## Run and reports',
    '',
    `- **run id** \`${r.run.runId ?? 'unknown'}\``,
    `- **reports** \`${input.reportDir}\`: ${names.map((n) => `\`${n}\``).join(', ')} (every failure's full evidence, budget ledgers and WebSocket frames)`,
    `- **history** ${r.history.file ? `${r.history.runsConsidered} earlier run(s) of this target${r.history.since ? ` since ${utcMinute(r.history.since)}` : ''}` : 'off (no first-seen beyond this run)'}`,
    `- **target version** ${r.target.versions.length ? r.target.versions.map((v) => `\`${v.version}\` (${v.snapshots} snapshot${v.snapshots === 1 ? '' : 's'})`).join(' → ') : 'unknown'}`,
    '',
    `_Written by stagecheck from run \`${r.run.runId ?? 'unknown'}\`: every figure was measured in this run or read from the stored history._`,
  ];
}
