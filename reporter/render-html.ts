/**
 * reports/index.html: one self-contained page (inline CSS, inline SVG charts, a few lines of
 * inline JS for filtering; no network, no external file) rendered from the JSON report:
 * verdict, tiers, business functions, KPI against target, latency distributions, each agent
 * run's event timeline, and every failure with its evidence and next steps.
 */
import type { VitestHtmlLink } from './vitest-html.ts';
import type { BusinessImpactReport, KpiOut, TestOut, Verdict } from './schema.ts';
import { formatReportMs as formatMs } from '../helpers/core/format.ts';
import { formatPercent } from './verdicts.ts';
import { EXIT_MEANING, groupFailures, ledgerLine } from './render-text.ts';
import { endpointLatencyHtml, headHtml } from './render-html-run.ts';
import { describeOutage } from './outages.ts';
import { sinceBaselineHtml, trendsHtml, TRENDS_CSS } from './render-trends.ts';

const COLOR: Record<Verdict, string> = {
  PASS: '#1a7f37',
  FAIL: '#cf222e',
  DEGRADED: '#bf8700',
  BLOCKED: '#953800',
  INCONCLUSIVE: '#8250df',
  'NOT RUN': '#6e7781',
};
const ORDER: Verdict[] = ['PASS', 'DEGRADED', 'FAIL', 'BLOCKED', 'INCONCLUSIVE', 'NOT RUN'];

const EVENT_COLOR: Record<string, string> = {
  agent_started: '#0969da',
  agent_thinking: '#8250df',
  tool_executing: '#bf8700',
  tool_completed: '#1a7f37',
  agent_completed: '#116329',
  agent_error: '#cf222e',
};

/** A test's check id as a small code after its name (empty for a test without one). */
function idCode(t: { checkId?: string }): string {
  return t.checkId ? ` <code class="check-id small muted">${esc(t.checkId)}</code>` : '';
}

export function esc(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

const chip = (v: Verdict, text: string = v): string => `<span class="chip" style="--c:${COLOR[v]}">${esc(text)}</span>`;
const slug = (v: Verdict): string => v.toLowerCase().replace(' ', '-');
const num = (n: number): string => (Math.round(n * 10) / 10).toString();

function stackedBar(counts: BusinessImpactReport['counts'], width = 220, height = 10): string {
  if (counts.total === 0) return `<svg class="bar" width="${width}" height="${height}" role="img" aria-label="no tests"><rect width="${width}" height="${height}" rx="3" fill="#eaeef2"/></svg>`;
  let x = 0;
  const parts = ORDER.filter((v) => counts[v] > 0).map((v) => {
    const w = (counts[v] / counts.total) * width;
    const rect = `<rect x="${num(x)}" width="${num(w)}" height="${height}" fill="${COLOR[v]}"><title>${counts[v]} ${v}</title></rect>`;
    x += w;
    return rect;
  });
  const label = ORDER.filter((v) => counts[v] > 0).map((v) => `${counts[v]} ${v}`).join(', ');
  return `<svg class="bar" width="${width}" height="${height}" role="img" aria-label="${esc(label)}"><clipPath id="r${width}${height}"><rect width="${width}" height="${height}" rx="3"/></clipPath><g clip-path="url(#r${width}${height})">${parts.join('')}</g></svg>`;
}

// ---------------------------------------------------------------------------------------
// KPI charts

function rateChart(k: KpiOut, target: number, degradedFrom?: number): string {
  const W = 300;
  const H = 46;
  const x = (ratio: number) => 10 + ratio * (W - 20);
  const value = k.value;
  const band = degradedFrom !== undefined ? `<rect x="${num(x(degradedFrom))}" y="14" width="${num(x(target) - x(degradedFrom))}" height="14" fill="#fff8c5"/>` : '';
  const fill = value === null ? '' : `<rect x="10" y="14" width="${num(Math.max(1, x(value) - 10))}" height="14" rx="2" fill="${COLOR[k.verdict]}"/>`;
  return `<svg class="kpi-chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(`${k.name}: ${k.rate?.text ?? 'not measured'}, target ${k.target}`)}">
<rect x="10" y="14" width="${W - 20}" height="14" rx="2" fill="#eaeef2"/>${band}${fill}
<line x1="${num(x(target))}" x2="${num(x(target))}" y1="11" y2="31" stroke="#24292f" stroke-width="2"/>
<text x="${num(x(target))}" y="8" text-anchor="${target > 0.85 ? 'end' : 'middle'}" class="axis strong">target ${esc(formatPercent(target))}</text>
<text x="10" y="41" class="axis">0%</text><text x="${W - 10}" y="41" text-anchor="end" class="axis">100%</text>
</svg>`;
}

function latencyChart(k: KpiOut, targetMs: number, failMs: number | undefined, percentileP: number): string {
  const W = 300;
  const H = 62;
  const samples = k.sampleValues;
  const top = Math.max((failMs ?? targetMs) * 1.15, ...samples, 1);
  const x = (ms: number) => 10 + (Math.min(ms, top) / top) * (W - 20);
  const zones = [
    `<rect x="10" y="12" width="${num(x(targetMs) - 10)}" height="22" fill="#dafbe1"/>`,
    failMs !== undefined ? `<rect x="${num(x(targetMs))}" y="12" width="${num(x(failMs) - x(targetMs))}" height="22" fill="#fff8c5"/>` : '',
    `<rect x="${num(x(failMs ?? targetMs))}" y="12" width="${num(W - 10 - x(failMs ?? targetMs))}" height="22" fill="#ffebe9"/>`,
  ].join('');
  const dots = samples
    .map((ms, i) => `<circle cx="${num(x(ms))}" cy="${num(17 + ((i * 7) % 13))}" r="2.6" fill="#24292f" fill-opacity="0.55"><title>${esc(formatMs(ms))}</title></circle>`)
    .join('');
  const marker = k.value !== null
    ? `<line x1="${num(x(k.value))}" x2="${num(x(k.value))}" y1="6" y2="40" stroke="${COLOR[k.verdict]}" stroke-width="2.5"/><text x="${num(x(k.value))}" y="5" text-anchor="${x(k.value) < 60 ? 'start' : x(k.value) > W - 60 ? 'end' : 'middle'}" class="axis strong">p${percentileP} ${esc(formatMs(k.value))}</text>`
    : '';
  return `<svg class="kpi-chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(`${k.name}: ${k.value === null ? 'not measured' : formatMs(k.value)}, target ${k.target}`)}"><g transform="translate(0,5)">
${zones}${dots}${marker}
<text x="${num(x(targetMs))}" y="50" text-anchor="middle" class="axis">${esc(formatMs(targetMs))}</text>
${failMs !== undefined ? `<text x="${num(x(failMs))}" y="50" text-anchor="middle" class="axis">${esc(formatMs(failMs))}</text>` : ''}
<text x="10" y="50" class="axis">0</text>
</g></svg>`;
}

function kpiCard(k: KpiOut, report: BusinessImpactReport, catalogKpi: { targetMs?: number; failMs?: number; percentile?: number; target?: number; degradedFrom?: number } | undefined): string {
  let chart = '';
  if (k.kind === 'latency' && catalogKpi?.targetMs !== undefined) chart = latencyChart(k, catalogKpi.targetMs, catalogKpi.failMs, catalogKpi.percentile ?? 95);
  else if (catalogKpi?.target !== undefined) chart = rateChart(k, catalogKpi.target, catalogKpi.degradedFrom);
  const measured = k.samples === 0
    ? 'not measured'
    : k.kind === 'latency'
      ? `p50 ${formatMs(k.latency?.p50 ?? 0)} · p95 ${formatMs(k.latency?.p95 ?? 0)} · max ${formatMs(k.latency?.max ?? 0)}`
      : `${k.rate?.text ?? ''}${k.firstAttempt && k.firstAttempt.successes !== k.rate?.successes ? ` · first attempt ${k.firstAttempt.text}` : ''}`;
  void report;
  return `<article class="card kpi v-${slug(k.verdict)}">
<header><h3>${esc(k.name)}</h3>${chip(k.verdict)}</header>
<div class="measured">${esc(measured)}</div>
${chart}
<dl><dt>target</dt><dd>${esc(k.target)}</dd>${k.degraded ? `<dt>degraded</dt><dd>${esc(k.degraded)}</dd>` : ''}<dt>samples</dt><dd>${k.samples} of ${k.minSamples} needed</dd>${k.history ? `<dt>history</dt><dd>${esc(k.history.text)}</dd>` : ''}</dl>
<p class="why">${esc(k.reason)}</p>
</article>`;
}

// ---------------------------------------------------------------------------------------
// Latency distributions

function latencySection(report: BusinessImpactReport): string {
  const series = new Map<string, number[]>();
  for (const t of report.tests) {
    for (const m of t.measurements) {
      if (m.unit !== 'ms' || m.samples.length === 0) continue;
      series.set(m.name, [...(series.get(m.name) ?? []), ...m.samples]);
    }
  }
  if (series.size === 0) return '<p class="muted">No latency was measured in this run.</p>';
  const rows = [...series.entries()]
    .map(([name, samples]) => {
      const sorted = [...samples].sort((a, b) => a - b);
      const rank = (p: number) => sorted[Math.max(1, Math.ceil((p / 100) * sorted.length)) - 1] as number;
      return { name, samples, p50: rank(50), p95: rank(95), max: sorted[sorted.length - 1] as number, min: sorted[0] as number };
    })
    .sort((a, b) => b.p95 - a.p95)
    .slice(0, 30);
  // Log scale: health checks take milliseconds, agent runs seconds.
  const lo = Math.max(0.1, Math.min(...rows.map((r) => r.min)));
  const hi = Math.max(...rows.map((r) => r.max), lo * 10) * 1.25;
  const W = 420;
  const x = (ms: number) => 8 + ((Math.log10(Math.max(ms, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * (W - 20);
  const ticks = [1, 10, 100, 1000, 10000, 100000].filter((t) => t >= lo && t <= hi);
  const axis = `<svg class="axisrow" viewBox="0 0 ${W} 14">${ticks.map((t) => `<text x="${num(x(t))}" y="11" text-anchor="middle" class="axis">${esc(formatMs(t))}</text>`).join('')}</svg>`;
  const body = rows
    .map((r) => {
      const dots = r.samples.map((ms, i) => `<circle cx="${num(x(ms))}" cy="${num(5 + ((i * 5) % 9))}" r="2.2" fill="#0969da" fill-opacity="0.45"><title>${esc(formatMs(ms))}</title></circle>`).join('');
      const box = `<rect x="${num(x(r.p50))}" y="2" width="${num(Math.max(1.5, x(r.p95) - x(r.p50)))}" height="16" fill="#0969da" fill-opacity="0.12" stroke="#0969da" stroke-width="1"/><line x1="${num(x(r.p50))}" x2="${num(x(r.p50))}" y1="1" y2="19" stroke="#0550ae" stroke-width="2"/>`;
      const grid = ticks.map((t) => `<line x1="${num(x(t))}" x2="${num(x(t))}" y1="0" y2="20" stroke="#eaeef2"/>`).join('');
      return `<tr><td class="name">${esc(r.name)}</td><td class="n">${r.samples.length}</td><td class="n">${esc(formatMs(r.p50))}</td><td class="n">${esc(formatMs(r.p95))}</td><td class="n">${esc(formatMs(r.max))}</td><td class="plot"><svg viewBox="0 0 ${W} 20" role="img" aria-label="${esc(`${r.name}: ${r.samples.length} samples`)}">${grid}${box}${dots}</svg></td></tr>`;
    })
    .join('');
  return `<table class="dist"><thead><tr><th>series</th><th>n</th><th>p50</th><th>p95</th><th>max</th><th class="plot">each sample (log scale; box p50–p95)${axis}</th></tr></thead><tbody>${body}</tbody></table>`;
}

// ---------------------------------------------------------------------------------------
// Agent timelines

function timelineSection(report: BusinessImpactReport): string {
  const runs = report.tests.flatMap((t) => t.timelines.map((tl) => ({ test: t, tl })));
  if (runs.length === 0) return '<p class="muted">No agent run was recorded in this run.</p>';
  const shown = runs.slice(0, 40);
  const W = 640;
  const legend = Object.entries(EVENT_COLOR).map(([type, color]) => `<span class="lg"><i style="background:${color}"></i>${esc(type)}</span>`).join('');
  const rows = shown
    .map(({ test, tl }) => {
      const end = Math.max(1, ...tl.events.map((e) => e.tMs));
      const x = (ms: number) => 8 + (ms / end) * (W - 16);
      const marks = tl.events
        .map((e, i) => {
          const color = EVENT_COLOR[e.type] ?? '#6e7781';
          const y = e.type === 'agent_thinking' ? 12 : e.type.startsWith('tool_') ? 20 : 16;
          return `<g><line x1="${num(x(e.tMs))}" x2="${num(x(e.tMs))}" y1="4" y2="28" stroke="${color}" stroke-opacity="0.35"/><circle cx="${num(x(e.tMs))}" cy="${y}" r="${e.type === 'agent_completed' || e.type === 'agent_error' ? 5.5 : 4}" fill="${color}"><title>${esc(`${i + 1}. ${e.type} at +${formatMs(e.tMs)}`)}</title></circle></g>`;
        })
        .join('');
      const last = tl.events[tl.events.length - 1];
      const terminal = last && (last.type === 'agent_completed' || last.type === 'agent_error');
      return `<tr class="v-${slug(test.verdict)}"><td class="name">${esc(test.fullName)}<div class="muted mono">run ${esc(tl.runId)} · ${tl.events.length} events · ${esc(formatMs(end))}${terminal ? '' : ' · <b>no terminal event</b>'}</div></td><td class="plot"><svg viewBox="0 0 ${W} 32" role="img" aria-label="${esc(`timeline of run ${tl.runId}: ${tl.events.map((e) => e.type).join(', ')}`)}"><line x1="8" x2="${W - 8}" y1="16" y2="16" stroke="#d0d7de"/>${marks}</svg></td></tr>`;
    })
    .join('');
  return `<div class="legend">${legend}</div><table class="timelines"><tbody>${rows}</tbody></table>${runs.length > shown.length ? `<p class="muted">${runs.length - shown.length} more runs in business-impact.json</p>` : ''}`;
}

// ---------------------------------------------------------------------------------------
// Failures

function failureCard(t: TestOut, same: readonly TestOut[] = []): string {
  const e = t.failure;
  if (!e) return '';
  const facts: [string, string | undefined][] = [
    ['tier', t.tier?.toUpperCase() ?? 'none'],
    ['component', e.component],
    ['layer', e.layer],
    ['code', e.code === undefined ? undefined : String(e.code)],
    ['endpoint', e.endpoint],
    ['correlation id', e.correlationId],
    ['failed after', e.elapsedMs === undefined ? undefined : formatMs(e.elapsedMs)],
    ['test duration', t.durationMs === null ? undefined : formatMs(t.durationMs)],
    ['last WebSocket event', e.lastWsEvent],
    ['401 attribution', e.tokenAttribution],
    ['history', t.history?.text],
  ];
  const ledger = e.ledgers.flatMap((l) => l.entries.map((entry) => ledgerLine(l.budget, entry)));
  return `<article class="card failure v-${slug(t.verdict)}" id="f-${esc(t.id)}">
<header><h3>${esc(t.fullName)}${idCode(t)}</h3>${chip(t.verdict)}${t.withinTierAllowance ? '<span class="note">within the tier\'s allowance</span>' : ''}</header>
<div class="file mono">${esc(t.file)} · ${esc(t.functions.join(', ') || 'no business function')}</div>
<pre class="error">${esc(e.message.slice(0, 4000))}</pre>
<dl class="facts">${facts.filter(([, v]) => v !== undefined && v !== '').map(([k, v]) => `<dt>${esc(k)}</dt><dd${k === 'correlation id' || k === 'code' || k === 'endpoint' ? ' class="mono"' : ''}>${esc(v)}</dd>`).join('')}</dl>
${same.length ? `<details class="same" open><summary>${same.length} more test${same.length === 1 ? '' : 's'} failed the same way (${esc(e.component)}/${esc(e.layer)}${e.code !== undefined ? ` ${esc(e.code)}` : ''})</summary><ul>${same.map((o) => `<li>${chip(o.verdict)} <span class="small">[${esc(o.tier?.toUpperCase() ?? '-')}]</span> ${esc(o.fullName)}${idCode(o)}${o.failure?.correlationId ? ` <span class="muted mono small">${esc(o.failure.correlationId)}</span>` : ''}</li>`).join('')}</ul></details>` : ''}
${e.nextSteps.length ? `<div class="next"><b>Next steps</b><ul>${e.nextSteps.map((s) => `<li>${esc(s)}</li>`).join('')}</ul></div>` : ''}
${ledger.length ? `<details><summary>Budget ledger (${ledger.length} steps)</summary><pre>${esc(ledger.slice(0, 60).join('\n'))}</pre></details>` : ''}
${e.details ? `<details><summary>Evidence</summary><pre>${esc(JSON.stringify(e.details, null, 2).slice(0, 6000))}</pre></details>` : ''}
${e.wsDump ? `<details><summary>WebSocket frames</summary><pre>${esc(e.wsDump.slice(0, 8000))}</pre></details>` : ''}
</article>`;
}

function blockedSection(blocked: readonly TestOut[]): string {
  const sorted = [...blocked].sort((a, b) => (a.tier ?? 'z').localeCompare(b.tier ?? 'z') || a.fullName.localeCompare(b.fullName));
  const causes = [...new Set(sorted.map((t) => t.blockedBy ?? t.reason))];
  const perTier = new Map<string, number>();
  for (const t of sorted) perTier.set(t.tier?.toUpperCase() ?? '-', (perTier.get(t.tier?.toUpperCase() ?? '-') ?? 0) + 1);
  const oneCause = causes.length === 1;
  return `<h2>Blocked by phase 1 <span class="muted">${blocked.length} tests not run because a phase-1 check failed; counted, not hidden</span></h2>
${oneCause ? `<div class="blocker">blocked by <b>${esc(causes[0])}</b></div>` : ''}
<div class="pills tiers">${[...perTier.entries()].map(([tier, n]) => `<span class="pill" style="--c:${COLOR.BLOCKED}"><b>${n}</b> ${esc(tier)}</span>`).join('')}</div>
<table><thead><tr><th>tier</th><th>test</th>${oneCause ? '' : '<th>blocked by</th>'}</tr></thead><tbody>${sorted.map((t) => `<tr><td>${esc(t.tier?.toUpperCase() ?? '-')}</td><td>${esc(t.fullName)}${idCode(t)} <span class="muted small mono">${esc(t.file)}</span></td>${oneCause ? '' : `<td class="small">${esc(t.blockedBy ?? t.reason)}</td>`}</tr>`).join('')}</tbody></table>`;
}

// ---------------------------------------------------------------------------------------

export function renderHtml(report: BusinessImpactReport, catalogKpis: readonly { id: string; targetMs?: number; failMs?: number; percentile?: number; target?: number; degradedFrom?: number }[], vitestHtml?: VitestHtmlLink): string {
  const r = report;
  const kpiDefs = new Map(catalogKpis.map((k) => [k.id, k]));
  const failures = r.tests.filter((t) => t.failure && (t.verdict === 'FAIL' || t.verdict === 'INCONCLUSIVE'));
  const groups = groupFailures(failures);
  const blocked = r.tests.filter((t) => t.verdict === 'BLOCKED');
  const version = r.target.before
    ? r.target.drift
      ? `<b class="bad">${esc(r.target.before)} → ${esc(r.target.after)} (changed during the run)</b>`
      : `<span class="mono">${esc(r.target.before)}</span>`
    : 'unknown';
  const countPills = ORDER.filter((v) => r.counts[v] > 0).map((v) => `<span class="pill" style="--c:${COLOR[v]}"><b>${r.counts[v]}</b> ${v}</span>`).join('');

  const tiers = r.tiers
    .map((t) => `<article class="card tier v-${slug(t.verdict)}"><header><h3>${esc(t.name)}</h3>${chip(t.verdict)}</header>
<div class="protects">protects <b>${esc(t.protects)}</b></div>${stackedBar(t.counts)}
<div class="small">${t.counts.total} tests · failed ${esc(t.failureRate.text)} · allowed ${t.allowedFailureRate === 0 ? 'none' : `&lt; ${esc(formatPercent(t.allowedFailureRate))}`}</div>
<p class="why">${esc(t.reason)}</p></article>`)
    .join('');

  const functions = r.functions
    .map((f) => `<article class="card fn v-${slug(f.verdict)}"><header><h3>${esc(f.name)}</h3>${chip(f.verdict)}</header>${stackedBar(f.counts, 200, 8)}<p class="why">${esc(f.reason)}</p>${f.description ? `<p class="muted small">${esc(f.description)}</p>` : ''}</article>`)
    .join('');

  const kpis = r.kpis.map((k) => kpiCard(k, r, kpiDefs.get(k.id))).join('');

  const allTests = r.tests
    .map((t) => `<tr data-v="${esc(t.verdict)}"${t.unstable ? ' class="unstable" data-unstable="true"' : ''} data-q="${esc(`${t.fullName} ${t.checkId ?? ''} ${t.file} ${t.tags.join(' ')}`.toLowerCase())}"><td>${chip(t.verdict)}</td><td>${esc(t.tier?.toUpperCase() ?? '-')}</td><td>${esc(t.fullName)}${idCode(t)}<div class="muted small mono">${esc(t.file)} · ${esc(t.tags.join(' '))}</div></td><td class="small">${esc(t.reason)}</td><td class="n">${t.durationMs === null ? '' : esc(formatMs(t.durationMs))}</td><td class="small muted">${esc(t.history?.text ?? '')}</td></tr>`)
    .join('');

  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>stagecheck ${esc(r.verdict)} — ${esc(r.run.runId ?? '')}</title>
<style>
:root{--fg:#1f2328;--muted:#656d76;--line:#d0d7de;--bg:#f6f8fa;font-family:-apple-system,BlinkMacSystemFont,"Segoe UI",Helvetica,Arial,sans-serif;color:var(--fg);background:var(--bg)}
body{margin:0}main{max-width:1240px;margin:0 auto;padding:0 24px 48px}
.hero{background:${COLOR[r.verdict]};color:#fff;padding:28px 0 22px;margin-bottom:24px}
.hero .in{max-width:1240px;margin:0 auto;padding:0 24px}
.hero .verdict{font-size:44px;font-weight:800;letter-spacing:.02em;display:flex;align-items:center;gap:16px}
.hero .verdict small{font-size:15px;font-weight:600;background:rgba(255,255,255,.18);padding:4px 10px;border-radius:999px}
.hero .reason{font-size:17px;margin:6px 0 14px;max-width:1000px;line-height:1.4}
.hero .meta{font-size:13px;opacity:.95;display:flex;flex-wrap:wrap;gap:6px 22px}.hero .meta.head{margin-top:6px}
.hero .mono,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
.pills{margin-top:14px;display:flex;gap:8px;flex-wrap:wrap}
.pill{background:#fff;color:var(--c);border-radius:999px;padding:3px 12px;font-size:13px;font-weight:600;box-shadow:0 1px 2px rgba(0,0,0,.15)}
h2{font-size:20px;margin:34px 0 12px;display:flex;align-items:baseline;gap:10px}h2 .muted{font-size:13px;font-weight:400}
h3{font-size:15px;margin:0;line-height:1.3}
.grid{display:grid;gap:14px;grid-template-columns:repeat(auto-fill,minmax(260px,1fr))}
.grid.kpis{grid-template-columns:repeat(auto-fill,minmax(340px,1fr))}
.card{background:#fff;border:1px solid var(--line);border-radius:10px;padding:14px 16px;border-top:4px solid var(--vc,#d0d7de)}
.card header{display:flex;justify-content:space-between;align-items:flex-start;gap:10px;margin-bottom:8px}
.v-pass{--vc:${COLOR.PASS}}.v-fail{--vc:${COLOR.FAIL}}.v-degraded{--vc:${COLOR.DEGRADED}}.v-blocked{--vc:${COLOR.BLOCKED}}.v-inconclusive{--vc:${COLOR.INCONCLUSIVE}}.v-not-run{--vc:${COLOR['NOT RUN']}}
.chip{display:inline-block;white-space:nowrap;font-size:11px;font-weight:700;letter-spacing:.04em;color:#fff;background:var(--c);border-radius:6px;padding:3px 7px}
.protects{font-size:13px;margin-bottom:8px;color:var(--muted)}.protects b{color:var(--fg)}
.small{font-size:12px}.muted{color:var(--muted)}.why{font-size:13px;margin:8px 0 0;color:#424a53}
.measured{font-size:18px;font-weight:700;margin:2px 0 6px}
.kpi-chart{width:100%;height:auto;display:block;margin:4px 0}
text.axis{font-size:9px;fill:#656d76}text.strong{font-weight:700;fill:#1f2328}
dl{display:grid;grid-template-columns:max-content 1fr;gap:3px 12px;margin:8px 0 0;font-size:12px}dt{color:var(--muted)}dd{margin:0}
.bar{display:block;margin:6px 0}
table{border-collapse:collapse;width:100%;background:#fff;border:1px solid var(--line);border-radius:10px;overflow:hidden;font-size:13px}
th,td{text-align:left;padding:6px 10px;border-bottom:1px solid #eaeef2;vertical-align:top}th{background:#f6f8fa;font-weight:600;font-size:12px}
td.n{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}
table.dist td.plot,table.timelines td.plot{width:45%;padding:4px 10px}table.dist td.plot svg,table.timelines td.plot svg,.axisrow{width:100%;height:auto;display:block}
table.dist td.name{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px}
table.timelines td.name{width:55%}table.timelines tr{border-left:4px solid var(--vc)}
.legend{display:flex;flex-wrap:wrap;gap:14px;font-size:12px;margin-bottom:8px}.lg i{display:inline-block;width:10px;height:10px;border-radius:50%;margin-right:5px;vertical-align:-1px}
.failure{margin-bottom:14px}.failure .file{font-size:12px;color:var(--muted);margin-bottom:8px}
pre{background:#f6f8fa;border:1px solid #eaeef2;border-radius:6px;padding:8px 10px;font-size:12px;overflow:auto;max-height:320px;white-space:pre-wrap;word-break:break-word;margin:6px 0}
pre.error{background:#fff1f0;border-color:#ffcecb;color:#82071e}
.facts{grid-template-columns:max-content 1fr max-content 1fr}
.next{background:#ddf4ff;border:1px solid #b6e3ff;border-radius:6px;padding:8px 12px;margin-top:10px;font-size:13px}.next ul{margin:4px 0 0;padding-left:18px}
details{margin-top:8px;font-size:13px}summary{cursor:pointer;color:#0969da}
.note{font-size:11px;color:${COLOR.DEGRADED};font-weight:600}
.filters{display:flex;gap:8px;align-items:center;margin-bottom:8px;flex-wrap:wrap}.filters input{padding:6px 10px;border:1px solid var(--line);border-radius:6px;min-width:260px}
.filters button{border:1px solid var(--line);background:#fff;border-radius:6px;padding:5px 10px;cursor:pointer;font-size:12px}.filters button.on{background:#1f2328;color:#fff}
.warn li{font-size:13px;margin:2px 0}
.blocker{background:#fff1e5;border:1px solid #ffd8b5;border-radius:6px;padding:8px 12px;font-size:13px;margin-bottom:8px}
.pills.tiers{margin:0 0 10px}.pills.tiers .pill{box-shadow:none;border:1px solid #ffd8b5}
.same ul{margin:6px 0 0;padding-left:18px;font-size:13px}.same li{margin:3px 0}
b.bad{background:#fff;color:${COLOR.INCONCLUSIVE};padding:1px 6px;border-radius:4px}
footer{margin-top:40px;font-size:12px;color:var(--muted)}
${TRENDS_CSS}</style></head>
<body>
<section class="hero"><div class="in">
<div class="verdict">${esc(r.verdict)}<small>exit ${r.exitCode} · ${esc(EXIT_MEANING[r.exitCode])}</small></div>
<div class="reason">${esc(r.reason)}</div>
<div class="meta"><span>run <span class="mono">${esc(r.run.runId ?? 'unknown')}</span> (${esc(r.run.mode)}${r.run.shard ? ` ${esc(r.run.shard)}` : ''})</span><span>version ${version}</span>${r.run.durationMs !== null ? `<span>took ${esc(formatMs(r.run.durationMs))}</span>` : ''}<span>${esc(r.generatedAt.replace('T', ' ').slice(0, 19))} UTC</span></div>
${headHtml(r, esc)}
<div class="pills">${countPills}<span class="pill" style="--c:#1f2328"><b>${r.counts.total}</b> tests</span></div>
</div></section>
<main>
${sinceBaselineHtml(r, esc)}
<h2>Tiers <span class="muted">MRR figures are labels of the tier from the catalog, not predicted losses</span></h2>
<div class="grid">${tiers}</div>
<h2>Business functions</h2>
<div class="grid">${functions}</div>
<h2>KPIs against target <span class="muted">every dot is a sample measured in this run</span></h2>
<div class="grid kpis">${kpis}</div>
${trendsHtml(r, esc)}
<h2>Latency per endpoint <span class="muted">p${r.latency?.percentile ?? 95} of each endpoint's requests in this run against its budget from the catalog</span></h2>
${endpointLatencyHtml(r, esc, chip)}
${r.outages?.length ? `<h2>Components down</h2><ul>${r.outages.map((o) => `<li>${esc(describeOutage(o))}</li>`).join('')}</ul>` : ''}
<h2 id="failures">Failures <span class="muted">${failures.length} tests${groups.length < failures.length ? `, ${groups.length} distinct causes, most fundamental first` : ''}</span></h2>
${failures.length ? groups.map((g) => failureCard(g.first, g.others)).join('') : '<p class="muted">No failure in this run.</p>'}
${blocked.length ? blockedSection(blocked) : ''}
<h2>Latency distributions</h2>
${latencySection(r)}
<h2>Agent runs <span class="muted">event timeline of each run, from the request</span></h2>
${timelineSection(r)}
<h2>All tests</h2>
${vitestHtml ? `<p class="small" id="vitest-html">Vitest's own report of this run (every test with its errors and console output): <a href="${esc(vitestHtml.href)}">${esc(vitestHtml.href)}</a>. It loads its data over HTTP: serve it with <code class="mono">${esc(vitestHtml.serve)}</code>.</p>` : ''}
<div class="filters"><input id="q" type="search" placeholder="filter by name, file or tag" aria-label="filter tests">${ORDER.filter((v) => r.counts[v] > 0).map((v) => `<button type="button" data-f="${esc(v)}">${esc(v)} (${r.counts[v]})</button>`).join('')}</div>
<table id="tests"><thead><tr><th>verdict</th><th>tier</th><th>test</th><th>why</th><th>time</th><th>history</th></tr></thead><tbody>${allTests}</tbody></table>
${r.target.versions.length || r.target.unavailable ? `<h2>Target version snapshots</h2><ul class="warn">${r.target.versions.map((v) => `<li><span class="mono">${esc(v.version)}</span>: ${v.snapshots} snapshot(s), ${esc(v.firstSeenAt)} … ${esc(v.lastSeenAt)}</li>`).join('')}${r.target.unavailable ? `<li>${r.target.unavailable} snapshot(s) got no version</li>` : ''}</ul>` : ''}
${r.warnings.length ? `<h2>Warnings <span class="muted">${r.warnings.length}</span></h2><ul class="warn">${r.warnings.slice(0, 200).map((w) => `<li>${esc(w)}</li>`).join('')}</ul>` : ''}
<footer>stagecheck business-impact report · schema ${esc(r.schema)} v${r.schemaVersion} · catalog ${esc(r.run.catalog)} · history: ${r.history.runsConsidered} earlier run(s)${r.history.since ? ` since ${esc(r.history.since.slice(0, 10))}` : ''} · every number comes from a sample of this run or a stored past run.</footer>
</main>
<script>
(function(){var q=document.getElementById('q'),rows=[].slice.call(document.querySelectorAll('#tests tbody tr')),on=null;
function apply(){var s=(q.value||'').toLowerCase();rows.forEach(function(r){r.style.display=(!on||r.getAttribute('data-v')===on)&&r.getAttribute('data-q').indexOf(s)>=0?'':'none';});}
q.addEventListener('input',apply);[].slice.call(document.querySelectorAll('.filters button')).forEach(function(b){b.addEventListener('click',function(){on=on===b.getAttribute('data-f')?null:b.getAttribute('data-f');[].slice.call(document.querySelectorAll('.filters button')).forEach(function(x){x.classList.toggle('on',x.getAttribute('data-f')===on);});apply();});});})();
</script>
</body></html>
`;
}
