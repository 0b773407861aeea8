/**
 * The HTML of the trends and of "since the baseline" (reporter/trends.ts, reporter/baseline.ts),
 * for reporter/render-html.ts: inline SVG sparklines, no script, no external file.
 *
 * The markup is a contract (the monitor's Chromium check and the unit tests read it):
 *   <svg class="trend" data-trend="kpi:<id>|tier:<id>"> with one <circle> per run, oldest first,
 *     this run last, each with data-run-id, data-verdict, data-value (number or empty; a tier's
 *     value is its pass ratio 0..1) and a <title> naming run, date, value and verdict;
 *     failing points (FAIL, BLOCKED) are drawn larger, in red, with a dark ring;
 *   <tr data-uptime="<component>" data-up-runs="<n>" data-runs="<m>"> per component;
 *   <ul id="unstable-tests"> with <li data-test-key="<key>"> per unstable test (always present);
 *   <section id="since-baseline"> with <li data-change="newly-failing|fixed|kpi" …>.
 */
import { formatReportMs as formatMs } from '../helpers/core/format.ts';
import { formatPercent } from './kpis.ts';
import type { BusinessImpactReport, TrendPoint, Verdict } from './schema.ts';

type Esc = (value: unknown) => string;

const COLOR: Record<Verdict, string> = {
  PASS: '#1a7f37',
  FAIL: '#cf222e',
  DEGRADED: '#bf8700',
  BLOCKED: '#cf222e',
  INCONCLUSIVE: '#8250df',
  'NOT RUN': '#afb8c1',
};
const FAILING: ReadonlySet<Verdict> = new Set(['FAIL', 'BLOCKED']);
const num = (n: number): string => (Math.round(n * 10) / 10).toString();

/** The rules of this module's markup, for the page's <style> (render-html.ts). */
export const TRENDS_CSS = `table.trends td.spark{width:280px;padding:4px 10px}table.trends svg.trend{width:260px;height:44px;display:block}
svg.trend .line{fill:none;stroke:#8c959f;stroke-width:1.2}svg.trend .axis{stroke:#eaeef2}
table.trends td.marks{font-size:12px;white-space:nowrap}.uptime-bar{display:inline-block;width:120px;height:8px;background:#ffebe9;border-radius:4px;overflow:hidden;vertical-align:middle}
.uptime-bar i{display:block;height:100%;background:#1a7f37}#since-baseline{background:#fff;border:1px solid #d0d7de;border-radius:10px;padding:4px 16px 12px;margin-top:8px}
#since-baseline h2{margin-top:12px}#since-baseline ul{margin:4px 0 8px;padding-left:20px;font-size:13px}#since-baseline .bad{color:#cf222e;font-weight:600}#since-baseline .good{color:#1a7f37;font-weight:600}#since-baseline>div{font-size:14px;margin-top:6px}
tr.unstable td:first-child::after{content:"unstable";display:block;margin-top:3px;font-size:10px;font-weight:700;color:#953800}
`;

/** A KPI's value as the reports show it: milliseconds for a latency, a percentage for a rate. */
function kpiValueText(kind: string, value: number): string {
  return kind === 'latency' ? formatMs(value) : formatPercent(value);
}

/**
 * One sparkline. `lo`/`hi`: the value range drawn (a rate or a pass ratio 0..1; a latency from 0
 * to a little over its largest value). Unmeasured runs are small hollow points on the floor.
 */
export function sparkline(esc: Esc, trend: string, label: string, points: readonly TrendPoint[], show: (p: TrendPoint) => string, range: { lo: number; hi: number }): string {
  const W = 260;
  const H = 44;
  const pad = 6;
  const x = (i: number) => (points.length === 1 ? W / 2 : pad + (i * (W - 2 * pad)) / (points.length - 1));
  const span = range.hi - range.lo || 1;
  const y = (v: number) => H - pad - ((Math.min(Math.max(v, range.lo), range.hi) - range.lo) / span) * (H - 2 * pad);
  const measured = points.map((p, i) => ({ p, i })).filter(({ p }) => p.value !== null);
  const line = measured.length > 1 ? `<polyline class="line" points="${measured.map(({ p, i }) => `${num(x(i))},${num(y(p.value as number))}`).join(' ')}"/>` : '';
  const dots = points
    .map((p, i) => {
      const failing = FAILING.has(p.verdict);
      const cy = p.value === null ? H - pad : y(p.value);
      const look = p.value === null
        ? `r="2" fill="#fff" stroke="${COLOR['NOT RUN']}"`
        : failing
          ? `r="4.5" fill="${COLOR[p.verdict]}" stroke="#82071e" stroke-width="1.5" class="failing"`
          : `r="${i === points.length - 1 ? 3.5 : 2.6}" fill="${COLOR[p.verdict]}"`;
      const tip = `run ${p.runId ?? 'without id'} · ${p.at.slice(0, 16).replace('T', ' ')} UTC · ${p.value === null ? 'not measured' : show(p)} · ${p.verdict}${i === points.length - 1 ? ' (this run)' : ''}`;
      return `<circle data-run-id="${esc(p.runId ?? '')}" data-verdict="${esc(p.verdict)}" data-value="${p.value === null ? '' : esc(p.value)}" cx="${num(x(i))}" cy="${num(cy)}" ${look}><title>${esc(tip)}</title></circle>`;
    })
    .join('');
  const failures = points.filter((p) => FAILING.has(p.verdict)).length;
  return `<svg class="trend" data-trend="${esc(trend)}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(`${label}: last ${points.length} runs, ${failures} failing`)}"><line class="axis" x1="${pad}" x2="${W - pad}" y1="${H - pad}" y2="${H - pad}"/>${line}${dots}</svg>`;
}

function latestText(points: readonly TrendPoint[], show: (p: TrendPoint) => string): string {
  const last = points[points.length - 1];
  const failing = points.filter((p) => FAILING.has(p.verdict)).length;
  return `${last && last.value !== null ? show(last) : 'not measured'} now · ${failing} failing of ${points.length}`;
}

export function trendsHtml(r: BusinessImpactReport, esc: Esc): string {
  const t = r.trends;
  if (!t) {
    const why = r.run.mode === 'shard' ? 'a shard\'s report is partial; the merged report has the trends' : 'the history is off, so there are no earlier runs to draw';
    return `<h2 id="trends">Trends</h2><p class="muted">No trends: ${esc(why)}.</p><ul id="unstable-tests"></ul>`;
  }
  const rows: string[] = [];
  for (const k of t.kpis) {
    const values = k.points.flatMap((p) => (p.value === null ? [] : [p.value]));
    const range = k.kind === 'latency' ? { lo: 0, hi: Math.max(1, ...values) * 1.1 } : { lo: 0, hi: 1 };
    const show = (p: TrendPoint) => kpiValueText(k.kind, p.value as number);
    rows.push(`<tr><td>${esc(k.name)}<div class="muted small">KPI</div></td><td class="spark">${sparkline(esc, `kpi:${k.id}`, k.name, k.points, show, range)}</td><td class="marks">${esc(latestText(k.points, show))}</td></tr>`);
  }
  for (const tier of t.tiers) {
    const show = (p: TrendPoint & { passed?: number; executed?: number }) => `${p.passed}/${p.executed} passed (${formatPercent(p.value as number)})`;
    rows.push(`<tr><td>${esc(tier.name)}<div class="muted small">tier, pass ratio</div></td><td class="spark">${sparkline(esc, `tier:${tier.id}`, tier.name, tier.points, show, { lo: 0, hi: 1 })}</td><td class="marks">${esc(latestText(tier.points, show))}</td></tr>`);
  }
  const first = t.runs[0];
  const uptime = t.uptime.components
    .map((c) => `<tr data-uptime="${esc(c.component)}" data-up-runs="${c.upRuns}" data-runs="${c.runs}"><td>${esc(c.component)}</td><td><span class="uptime-bar"><i style="width:${num((c.upRuns / Math.max(1, c.runs)) * 100)}%"></i></span></td><td class="small">${esc(c.text)}</td></tr>`)
    .join('');
  const unstable = t.unstable
    .map((u) => `<li data-test-key="${esc(u.key)}">${esc(u.name)}${u.checkId ? ` <code class="small muted">${esc(u.checkId)}</code>` : ''} <span class="small">passed ${u.passed}, failed ${u.failed} of the last ${u.verdicts.length} runs</span></li>`)
    .join('');
  return `<h2 id="trends">Trends <span class="muted">the last ${t.runs.length} run${t.runs.length === 1 ? '' : 's'} of this target${first ? ` since ${esc(first.at.slice(0, 10))}` : ''}, oldest first, this run last (STAGECHECK_TREND_RUNS ${t.window}); failing runs in red, hover a point for its run</span></h2>
${rows.length ? `<table class="trends"><thead><tr><th>KPI or tier</th><th>runs</th><th>now</th></tr></thead><tbody>${rows.join('')}</tbody></table>` : '<p class="muted">No KPI or tier was measured in these runs.</p>'}
<h3 style="margin-top:16px">Uptime <span class="muted small">per component over the ${t.uptime.runs} run${t.uptime.runs === 1 ? '' : 's'} of the history${t.uptime.since ? ` since ${esc(t.uptime.since.slice(0, 10))}` : ''}: down = confirmed outage, or unreachable (DNS, TCP, TLS, 502/503/504)</span></h3>
${uptime ? `<table class="uptime"><tbody>${uptime}</tbody></table>` : '<p class="muted small">No run of the window recorded component states.</p>'}
<h3 style="margin-top:16px">Unstable tests <span class="muted small">both passed and failed in the last ${t.runs.length} runs</span></h3>
<ul id="unstable-tests">${unstable}</ul>${unstable ? '' : '<p class="muted small">None: every test kept its outcome.</p>'}`;
}

export function sinceBaselineHtml(r: BusinessImpactReport, esc: Esc): string {
  const s = r.sinceBaseline;
  if (!s) return '';
  if (!s.baseline) return `<section id="since-baseline" data-baseline="none"><h2>Since the baseline</h2><p>${esc(s.text)}.</p></section>`;
  const test = (kind: string, c: (typeof s.newlyFailing)[number]) =>
    `<li data-change="${kind}" data-test-key="${esc(c.key)}">[${esc(c.tier?.toUpperCase() ?? '-')}] ${esc(c.name)}${c.checkId ? ` <code class="small muted">${esc(c.checkId)}</code>` : ''} <span class="small muted">${esc(c.before)} → ${esc(c.now)}</span></li>`;
  const parts: string[] = [];
  parts.push(s.newlyFailing.length ? `<div class="bad">Newly failing (${s.newlyFailing.length})</div><ul>${s.newlyFailing.map((c) => test('newly-failing', c)).join('')}</ul>` : '<div>Newly failing: none.</div>');
  parts.push(s.fixed.length ? `<div class="good">Fixed (${s.fixed.length})</div><ul>${s.fixed.map((c) => test('fixed', c)).join('')}</ul>` : '<div>Fixed: none.</div>');
  parts.push(s.kpis.length
    ? `<div>KPIs that moved by more than their noise (${s.kpis.length})</div><ul>${s.kpis.map((k) => `<li data-change="kpi" data-kpi="${esc(k.id)}" class="${k.worse ? 'bad' : 'good'}">${esc(k.text)}</li>`).join('')}</ul>`
    : '<div>KPIs: none moved by more than its noise.</div>');
  if (s.kpisWithoutNoise.length) parts.push(`<p class="muted small">Changed, with too little history to know their noise (no move claimed): ${esc(s.kpisWithoutNoise.map((k) => `${k.name} (${k.values} values)`).join(', '))}.</p>`);
  return `<section id="since-baseline" data-baseline-run="${esc(s.baseline.runId ?? '')}"><h2>Since the baseline <span class="muted">${esc(s.text.replace(/^since the baseline /, ''))}</span></h2>${parts.join('\n')}<p class="muted small">${esc(s.noiseRule)}.</p></section>`;
}
