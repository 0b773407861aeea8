/**
 * The terminal summary and the Markdown report (reports/business-impact.md, also appended to
 * $GITHUB_STEP_SUMMARY). Both render the JSON report, nothing else: every number shown is in it.
 */
import type { BusinessImpactReport, KpiOut, TestOut, Verdict } from './schema.ts';
import { sortBlocking } from './gate.ts';
import { formatReportMs as formatMs } from '../helpers/core/format.ts';
import { firstLine } from './records.ts';
import { renderHead } from '../helpers/core/target-head.ts';
import { kpiLine } from './kpi-lines.ts';
import { describeOutage } from './outages.ts';
import { markdownSinceBaseline, markdownTrends, terminalSinceBaseline } from './render-trends-text.ts';

const ICON: Record<Verdict, string> = {
  PASS: '✅',
  FAIL: '❌',
  DEGRADED: '🟠',
  BLOCKED: '⛔',
  INCONCLUSIVE: '❔',
  'NOT RUN': '⚪',
};

export const EXIT_MEANING: Record<0 | 1 | 2, string> = {
  0: 'healthy',
  1: 'product failure',
  2: 'inconclusive',
};

function kpiValue(k: KpiOut): string {
  if (k.samples === 0) return 'not measured';
  if (k.kind === 'latency') {
    const l = k.latency;
    return l && l.p50 !== null && l.p95 !== null && l.max !== null
      ? `p50 ${formatMs(l.p50)} · p95 ${formatMs(l.p95)} · max ${formatMs(l.max)} (${k.samples} samples)`
      : `${k.samples} samples`;
  }
  const first = k.firstAttempt && k.firstAttempt.successes !== k.rate?.successes ? ` (first attempt ${k.firstAttempt.text})` : '';
  return `${k.rate?.text ?? ''}${first}`;
}

function countsLine(r: BusinessImpactReport): string {
  const c = r.counts;
  return (['PASS', 'FAIL', 'DEGRADED', 'BLOCKED', 'INCONCLUSIVE', 'NOT RUN'] as const)
    .filter((v) => c[v] > 0)
    .map((v) => `${c[v]} ${v}`)
    .join(' · ') || 'no test';
}

/** What a test's recorded retries were of (meta RetryRecord `what`). */
function retriesOf(t: TestOut): string[] {
  return t.retries.flatMap((r) => (r !== null && typeof r === 'object' && typeof (r as { what?: unknown }).what === 'string' ? [(r as { what: string }).what] : []));
}

function retriedOperations(r: BusinessImpactReport): string[] {
  return r.tests.flatMap(retriesOf);
}

/** How the verdict engine starts the reason of a test that was skipped as not configured. */
const NOT_CONFIGURED_PREFIX = 'not configured: ';

/** A few lines for the terminal. `colors` adds ANSI colours to the verdicts. */
export function renderTerminal(r: BusinessImpactReport, options: { colors?: boolean; files?: string[] } = {}): string {
  const paint = (v: Verdict, text: string = v): string => {
    if (!options.colors) return text;
    const code = v === 'PASS' ? 32 : v === 'FAIL' || v === 'BLOCKED' ? 31 : v === 'DEGRADED' ? 33 : v === 'INCONCLUSIVE' ? 35 : 90;
    return `\x1b[${code}m${text}\x1b[39m`;
  };
  const lines: string[] = [];
  const partial = r.run.mode === 'shard' ? ` (partial: ${r.run.shard ? `shard ${r.run.shard}` : 'blob run'}; merge the blobs for the business-impact report)` : '';
  lines.push('');
  if (r.head) lines.push(...renderHead(r.head));
  else lines.push(`stagecheck run ${r.run.runId ?? 'unknown'}`, `  target    ${r.target.baseUrl ?? 'unknown (the run recorded no target)'}`);
  lines.push(`stagecheck ${paint(r.verdict, `▶ ${r.verdict}`)} — ${r.reason}${partial}`);
  lines.push(...terminalSinceBaseline(r));
  lines.push(`  tests     ${countsLine(r)} of ${r.counts.total}`);
  const tiers = r.tiers.filter((t) => t.counts.total > 0);
  if (tiers.length) lines.push(`  tiers     ${tiers.map((t) => `${t.id.toUpperCase()} ${paint(t.verdict)}`).join(' · ')}`);
  const kpis = r.kpis.filter((k) => k.verdict !== 'NOT RUN');
  if (kpis.length) lines.push('  KPIs', ...kpis.map((k) => `    ${kpiLine(k, paint)}`));
  lines.push(...latencyLines(r, paint));
  for (const outage of r.outages ?? []) lines.push(`  down      ${describeOutage(outage)}`);
  const groups = groupFailures(r.tests.filter((t) => t.verdict === 'FAIL' || (t.verdict === 'INCONCLUSIVE' && t.failure)));
  for (const { first: t, others } of groups.slice(0, 5)) {
    lines.push(`  ${paint(t.verdict, t.verdict === 'FAIL' ? 'failed' : 'inconcl.')}   [${t.tier?.toUpperCase() ?? '-'}] ${t.fullName} — ${t.reason}${others.length ? ` (+${others.length} more the same way)` : ''}`);
    const step = t.failure?.nextSteps[0];
    if (step) lines.push(`            → ${step}`);
  }
  if (groups.length > 5) lines.push(`            … and ${groups.length - 5} more distinct causes (see the report)`);
  const blocked = r.tests.filter((t) => t.verdict === 'BLOCKED');
  if (blocked.length) lines.push(`  ${paint('BLOCKED', 'blocked')}   ${blocked.length} phase-2 test(s), ${blocked[0]?.reason}`);
  // Not configured is not passed: each reason once, with how many tests it kept from running.
  const notConfigured = new Map<string, number>();
  for (const t of r.tests) {
    if (t.verdict === 'NOT RUN' && t.reason.startsWith(NOT_CONFIGURED_PREFIX)) {
      const why = t.reason.slice(NOT_CONFIGURED_PREFIX.length);
      notConfigured.set(why, (notConfigured.get(why) ?? 0) + 1);
    }
  }
  for (const [why, count] of notConfigured) lines.push(`  ${paint('NOT RUN', 'NOT CONFIGURED')} ${count} test(s): ${why}`);
  const retried = retriedOperations(r);
  if (retried.length) lines.push(`  retried   ${retried.length} operation(s): ${retried.slice(0, 3).join(' · ')}${retried.length > 3 ? ' …' : ''}`);
  if (r.target.drift) lines.push(`  ${paint('INCONCLUSIVE', 'drift')}     target version changed: ${r.target.versions.map((v) => v.version).join(' → ')}`);
  if (r.warnings.length) lines.push(`  warnings  ${r.warnings.length} (see the report)`);
  if (options.files?.length) lines.push(`  reports   ${options.files.join(' · ')}`);
  lines.push(`  exit      ${r.exitCode} (${EXIT_MEANING[r.exitCode]})`, '');
  return lines.join('\n');
}

/** Endpoint latencies (the ones past their budget named, with their p95) and cold starts. */
function latencyLines(r: BusinessImpactReport, paint: (v: Verdict, text?: string) => string): string[] {
  const l = r.latency;
  if (!l) return [];
  const lines: string[] = [];
  if (l.endpoints.length) {
    const measured = l.endpoints.filter((e) => e.verdict !== 'NOT RUN');
    const slowest = [...measured].sort((a, b) => (b.value ?? 0) - (a.value ?? 0))[0];
    const counts = (['FAIL', 'DEGRADED', 'PASS', 'NOT RUN'] as const).map((v) => [v, l.endpoints.filter((e) => e.verdict === v).length] as const).filter(([, n]) => n > 0);
    lines.push(`  latency   ${l.endpoints.length} endpoints: ${counts.map(([v, n]) => `${n} ${paint(v)}`).join(' · ')}` +
      `${slowest && slowest.value !== null ? ` · slowest p${l.percentile} ${slowest.name} ${formatMs(slowest.value)}` : ''}`);
    for (const e of l.endpoints.filter((x) => x.verdict === 'FAIL' || x.verdict === 'DEGRADED')) lines.push(`  ${paint(e.verdict, e.verdict.toLowerCase().padEnd(9))} ${e.reason}`);
  }
  if (l.coldStarts.length) {
    lines.push(`  cold start ${l.coldStarts.map((c) => `${c.component} ${formatMs(c.ms)} ${paint(c.verdict)}`).join(' · ')} (allowance ${formatMs(l.coldStartAllowanceMs)}, not in the endpoint latencies)`);
    for (const c of l.coldStarts.filter((x) => x.verdict !== 'PASS')) lines.push(`  ${paint(c.verdict, c.verdict.toLowerCase().padEnd(9))} ${c.reason}`);
  }
  return lines;
}

/**
 * Failures grouped by cause (component, layer, code and message), the most fundamental cause
 * first (a store before the services that need it): ten tests refused by the same 503 are one
 * cause with ten tests, shown once with its evidence.
 */
export function groupFailures(failures: readonly TestOut[]): { first: TestOut; others: TestOut[] }[] {
  const groups = new Map<string, { first: TestOut; others: TestOut[]; component: string; layer: string; harness: boolean }>();
  for (const t of failures) {
    const e = t.failure;
    const key = e ? `${t.verdict}|${e.component}|${e.layer}|${String(e.code ?? '')}|${firstLine(e.message).replace(/\b\d{2,5}\b/g, '#')}` : `${t.verdict}|${t.key}`;
    const group = groups.get(key);
    if (group) group.others.push(t);
    else groups.set(key, { first: t, others: [], component: e?.component ?? 'unknown', layer: e?.layer ?? 'unknown', harness: t.verdict !== 'FAIL' });
  }
  const list = [...groups.values()];
  const product = sortBlocking(list.filter((g) => !g.harness));
  return [...product, ...list.filter((g) => g.harness)].map(({ first, others }) => ({ first, others }));
}

const md = (text: string): string => text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');

/** A test's check id as a small code, after its name (empty for a test without one). */
const idCode = (t: Pick<TestOut, 'checkId'>): string => (t.checkId ? ` \`${t.checkId}\`` : '');

function testLink(t: TestOut): string {
  return `${md(t.fullName)}${idCode(t)} <sub>${md(t.file)}</sub>`;
}

export function renderMarkdown(r: BusinessImpactReport): string {
  const out: string[] = [];
  out.push(`# ${ICON[r.verdict]} stagecheck: ${r.verdict}`, '');
  out.push(`**${md(r.reason)}**`, '');
  const target = r.target.before ? `version \`${r.target.before}\`${r.target.drift ? ` → \`${r.target.after}\` (**changed during the run**)` : ''}` : 'version unknown';
  out.push(
    `Run \`${r.run.runId ?? 'unknown'}\` (${r.run.mode}${r.run.shard ? ` ${r.run.shard}` : ''}) against ${r.target.baseUrl ? `\`${r.target.baseUrl}\`` : 'an unknown target'}, ${target}. ` +
      `Tests: ${countsLine(r)} of ${r.counts.total}. Exit code ${r.exitCode} (${EXIT_MEANING[r.exitCode]}).`,
    '',
  );

  out.push(...markdownSinceBaseline(r));
  out.push(...markdownHead(r));

  if (r.outages?.length) out.push('## Components down', '', ...r.outages.map((o) => `- ${md(describeOutage(o))}`), '');

  out.push('## Tiers', '', '| tier | protects | verdict | tests | failed | allowed | why |', '|---|---|---|---|---|---|---|');
  for (const t of r.tiers) {
    out.push(`| ${t.name} | ${md(t.protects)} | ${ICON[t.verdict]} ${t.verdict} | ${t.counts.total} | ${t.failureRate.text} | ${t.allowedFailureRate === 0 ? '0%' : `< ${Math.round(t.allowedFailureRate * 100)}%`} | ${md(t.reason)} |`);
  }
  out.push('', '_MRR figures are labels of the tier from the catalog, not predicted losses._', '');

  out.push('## Business functions', '', '| function | verdict | why |', '|---|---|---|');
  for (const f of r.functions) out.push(`| ${md(f.name)} | ${ICON[f.verdict]} ${f.verdict} | ${md(f.reason)} |`);
  out.push('');

  out.push('## KPIs', '', '| KPI | verdict | measured | target | degraded | min samples | history |', '|---|---|---|---|---|---|---|');
  for (const k of r.kpis) {
    out.push(`| ${md(k.name)} | ${ICON[k.verdict]} ${k.verdict} | ${md(kpiValue(k))} | ${md(k.target)} | ${md(k.degraded ?? '–')} | ${k.minSamples} | ${md(k.history?.text ?? '–')} |`);
  }
  out.push('');

  out.push(...markdownTrends(r, ICON));
  out.push(...markdownLatency(r));

  const failures = r.tests.filter((t) => t.verdict === 'FAIL' || (t.verdict === 'INCONCLUSIVE' && t.failure));
  if (failures.length) {
    const groups = groupFailures(failures);
    out.push(`## Failures (${failures.length} tests, ${groups.length} distinct cause${groups.length === 1 ? '' : 's'}, most fundamental first)`, '');
    for (const { first: t, others } of groups) {
      const e = t.failure;
      out.push(`### ${ICON[t.verdict]} ${md(t.fullName)}${idCode(t)}`, '');
      out.push(`- **tier** ${t.tier?.toUpperCase() ?? 'none'} · **functions** ${t.functions.join(', ') || 'none'} · **file** \`${t.file}\`${t.withinTierAllowance ? ' · _within the tier\'s allowed failure rate_' : ''}`);
      if (e) {
        out.push(`- **component / layer** ${e.component} / ${e.layer}${e.code !== undefined ? ` · **code** \`${e.code}\`` : ''}${e.endpoint ? ` · **endpoint** \`${md(e.endpoint)}\`` : ''}`);
        if (e.correlationId) out.push(`- **correlation id** \`${e.correlationId}\``);
        if (e.elapsedMs !== undefined || t.durationMs !== null) out.push(`- **timing** ${e.elapsedMs !== undefined ? `failed after ${formatMs(e.elapsedMs)}` : ''}${t.durationMs !== null ? ` (test took ${formatMs(t.durationMs)})` : ''}`);
        if (e.lastWsEvent) out.push(`- **last WebSocket event** \`${md(e.lastWsEvent)}\``);
        if (e.tokenAttribution) out.push(`- **401 attribution** ${md(e.tokenAttribution)}`);
        if (t.history) out.push(`- **history** ${t.history.text}`);
        for (const step of e.nextSteps) out.push(`- **next step** ${md(step)}`);
        if (others.length) out.push(`- **${others.length} more test${others.length === 1 ? '' : 's'} failed the same way:** ${others.map((o) => `[${o.tier?.toUpperCase() ?? '-'}] ${md(o.fullName)}${idCode(o)}`).join('; ')}`);
        out.push('', '```text', e.message.slice(0, 2000), '```');
        const ledgerLines = e.ledgers.flatMap((l) => l.entries.map((entry) => ledgerLine(l.budget, entry)));
        if (ledgerLines.length) out.push('', '<details><summary>budget ledger</summary>', '', '```text', ...ledgerLines.slice(0, 40), '```', '</details>');
        if (e.details) out.push('', '<details><summary>evidence</summary>', '', '```json', JSON.stringify(e.details, null, 2).slice(0, 3000), '```', '</details>');
      }
      out.push('');
    }
  }

  const blocked = r.tests.filter((t) => t.verdict === 'BLOCKED');
  if (blocked.length) {
    const sorted = [...blocked].sort((a, b) => (a.tier ?? 'z').localeCompare(b.tier ?? 'z') || a.fullName.localeCompare(b.fullName));
    const causes = [...new Set(sorted.map((t) => t.blockedBy ?? t.reason))];
    out.push(`## Blocked by phase 1 (${blocked.length})`, '');
    if (causes.length === 1) {
      out.push(`Not run because phase 1 failed: **${md(causes[0] as string)}**.`, '', '<details><summary>the blocked tests, by tier</summary>', '', '| tier | test |', '|---|---|');
      for (const t of sorted) out.push(`| ${t.tier?.toUpperCase() ?? '-'} | ${testLink(t)} |`);
      out.push('', '</details>', '');
    } else {
      out.push('| tier | test | blocked by |', '|---|---|---|');
      for (const t of sorted) out.push(`| ${t.tier?.toUpperCase() ?? '-'} | ${testLink(t)} | ${md(t.blockedBy ?? t.reason)} |`);
      out.push('');
    }
  }

  const retried = r.tests.flatMap((t) => retriesOf(t).map((what) => ({ t, what })));
  if (retried.length) {
    out.push(`## Retries (${retried.length})`, '', 'Operations retried on their own (a 429 whose Retry-After was honoured once); the test carries every attempt in the JSON report.', '', '| test | retried |', '|---|---|');
    for (const { t, what } of retried.slice(0, 100)) out.push(`| ${testLink(t)} | ${md(what)} |`);
    out.push('');
  }

  const notRun = r.tests.filter((t) => t.verdict === 'NOT RUN' || (t.verdict === 'INCONCLUSIVE' && !t.failure));
  if (notRun.length) {
    out.push(`## Not run or inconclusive without a failure (${notRun.length})`, '', '| verdict | tier | test | why |', '|---|---|---|---|');
    for (const t of notRun.slice(0, 200)) out.push(`| ${t.verdict} | ${t.tier?.toUpperCase() ?? '-'} | ${testLink(t)} | ${md(t.reason)} |`);
    out.push('');
  }

  if (r.target.versions.length || r.target.unavailable) {
    out.push('## Target version', '');
    for (const v of r.target.versions) out.push(`- \`${v.version}\`: ${v.snapshots} snapshot(s), ${v.firstSeenAt} … ${v.lastSeenAt}`);
    if (r.target.unavailable) out.push(`- ${r.target.unavailable} snapshot(s) got no version`);
    out.push('');
  }

  if (r.warnings.length) {
    out.push(`## Warnings (${r.warnings.length})`, '');
    for (const w of r.warnings.slice(0, 100)) out.push(`- ${md(w)}`);
    out.push('');
  }
  out.push(
    `<sub>stagecheck business-impact report, schema ${r.schema} v${r.schemaVersion}; catalog \`${r.run.catalog}\`; history: ${r.history.runsConsidered} earlier run(s)${r.history.since ? ` since ${r.history.since.slice(0, 10)}` : ''}. Every number comes from a sample of this run or a stored past run.</sub>`,
    '',
  );
  return out.join('\n');
}

/** What the run targeted, first thing under the verdict. */
function markdownHead(r: BusinessImpactReport): string[] {
  const h = r.head;
  if (!h) return ['**Target** not recorded by this run (no test reached its setup).', ''];
  const target = h.target === 'local'
    ? `${h.description.replace(/ \(.*\)$/, '')}, profile \`${h.profile ?? 'default'}\``
    : `\`${md(h.urls?.backend ?? h.description)}\``;
  const rows = [
    ['target', target],
    ['URLs', h.urls ? `backend \`${md(h.urls.backend)}\` · auth \`${md(h.urls.auth)}\` · websocket \`${md(h.urls.websocket)}\`` : 'not known yet'],
    ['run id', `\`${h.runId ?? 'unknown'}\``],
    ['authentication', md(h.auth.text)],
    ['store probes', `PostgreSQL ${h.stores.postgres} · Redis ${h.stores.redis}`],
    ['budgets', `${Object.entries(h.budgets).map(([name, ms]) => `${name} ${formatMs(ms)}`).join(' · ')} · heartbeat ${h.heartbeatS} s`],
  ];
  return ['| run | |', '|---|---|', ...rows.map(([k, v]) => `| ${k} | ${v} |`), ''];
}

function markdownLatency(r: BusinessImpactReport): string[] {
  const l = r.latency;
  if (!l || (l.endpoints.length === 0 && l.coldStarts.length === 0)) return [];
  const out = ['## Latency per endpoint', '', `p${l.percentile} of each endpoint's requests in this run against its budget from the catalog; requests that waited on a component's cold start are left out and judged below.`, ''];
  if (l.endpoints.length) {
    out.push('| endpoint | verdict | p50 | p95 | max | samples | degraded from | fails from | why |', '|---|---|---|---|---|---|---|---|---|');
    for (const e of l.endpoints) {
      const f = (v: number | null) => (v === null ? '–' : formatMs(v));
      out.push(`| \`${md(e.name)}\` | ${ICON[e.verdict]} ${e.verdict} | ${f(e.latency.p50)} | ${f(e.latency.p95)} | ${f(e.latency.max)} | ${e.samples}${e.excludedColdStart ? ` (+${e.excludedColdStart} cold)` : ''} | ${formatMs(e.degradedMs)}${e.budget === 'default' ? ' (default)' : ''} | ${formatMs(e.failMs)} | ${md(e.reason)} |`);
    }
    out.push('');
  }
  if (l.coldStarts.length) {
    out.push(`### Cold start (allowance ${formatMs(l.coldStartAllowanceMs)}, BUDGET_COLD_START_MS)`, '', '| component | verdict | first answer after | first request | requests that waited | why |', '|---|---|---|---|---|---|');
    for (const c of l.coldStarts) out.push(`| ${c.component} | ${ICON[c.verdict]} ${c.verdict} | ${formatMs(c.ms)} | \`${md(c.firstRequest)}\` | ${c.excludedRequests} | ${md(c.reason)} |`);
    out.push('');
  }
  return out;
}

export function ledgerLine(budget: string, entry: unknown): string {
  if (typeof entry !== 'object' || entry === null) return `${budget}: ${String(entry)}`;
  const e = entry as { label?: unknown; startMs?: unknown; durationMs?: unknown; outcome?: unknown; error?: unknown };
  const start = typeof e.startMs === 'number' ? `+${e.startMs} ms` : '';
  const dur = typeof e.durationMs === 'number' ? formatMs(e.durationMs) : '';
  return `${budget} › ${String(e.label ?? '?')}  ${start}  ${dur}  ${String(e.outcome ?? '')}${e.error ? `  (${firstLine(String(e.error))})` : ''}`;
}
