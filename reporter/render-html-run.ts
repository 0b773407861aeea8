/**
 * Two parts of reports/index.html, kept apart from the page's layout (reporter/render-html.ts):
 * the head that names what the run targeted, and the latency per endpoint with each
 * component's cold start. Both render the JSON report only.
 */
import { formatReportMs as formatMs } from '../helpers/core/format.ts';
import type { BusinessImpactReport, Verdict } from './schema.ts';

type Esc = (value: unknown) => string;
type Chip = (v: Verdict, text?: string) => string;

/** Target, profile, run id, authentication, store probes, budgets and heartbeat: under the verdict. */
export function headHtml(r: BusinessImpactReport, esc: Esc): string {
  const h = r.head;
  if (!h) return `<div class="meta"><span>target <span class="mono">${esc(r.target.baseUrl ?? 'not recorded by this run')}</span></span></div>`;
  const target = h.target === 'local'
    ? `<b>bundled reference platform, not your staging</b> · profile <span class="mono">${esc(h.profile ?? 'default')}</span>`
    : `<span class="mono">${esc(h.urls?.backend ?? h.description)}</span>`;
  const urls = h.urls ? `backend <span class="mono">${esc(h.urls.backend)}</span> · auth <span class="mono">${esc(h.urls.auth)}</span> · websocket <span class="mono">${esc(h.urls.websocket)}</span>` : 'not known yet';
  const budgets = `${Object.entries(h.budgets).map(([name, ms]) => `${esc(name)} ${esc(formatMs(ms))}`).join(' · ')} · heartbeat ${h.heartbeatS} s`;
  return `<div class="meta head"><span>target ${target}</span><span>${urls}</span><span>auth ${esc(h.auth.text)}</span>` +
    `<span>store probes: PostgreSQL ${esc(h.stores.postgres)} · Redis ${esc(h.stores.redis)}</span><span class="small">budgets ${budgets}</span></div>`;
}

/** Each endpoint's p50/p95/max against its budget, and each component's cold start. */
export function endpointLatencyHtml(r: BusinessImpactReport, esc: Esc, chip: Chip): string {
  const l = r.latency;
  if (!l || (l.endpoints.length === 0 && l.coldStarts.length === 0)) return '<p class="muted">No request timing was recorded in this run.</p>';
  const f = (v: number | null) => (v === null ? '–' : esc(formatMs(v)));
  const endpoints = l.endpoints.map((e) => `<tr><td>${chip(e.verdict)}</td><td class="mono small">${esc(e.name)}</td><td class="n">${f(e.latency.p50)}</td><td class="n"><b>${f(e.latency.p95)}</b></td><td class="n">${f(e.latency.max)}</td>` +
    `<td class="n">${e.samples}${e.excludedColdStart ? ` <span class="muted">+${e.excludedColdStart} cold</span>` : ''}</td><td class="n">${esc(formatMs(e.degradedMs))}${e.budget === 'default' ? ' <span class="muted">default</span>' : ''}</td><td class="n">${esc(formatMs(e.failMs))}</td><td class="small">${esc(e.reason)}</td></tr>`).join('');
  const cold = l.coldStarts.map((c) => `<tr><td>${chip(c.verdict)}</td><td>${esc(c.component)}</td><td class="n"><b>${esc(formatMs(c.ms))}</b></td><td class="mono small">${esc(c.firstRequest)}</td><td class="n">${c.excludedRequests}</td><td class="small">${esc(c.reason)}</td></tr>`).join('');
  return `${endpoints ? `<table class="endpoints"><thead><tr><th>verdict</th><th>endpoint</th><th>p50</th><th>p${l.percentile}</th><th>max</th><th>samples</th><th>degraded from</th><th>fails from</th><th>why</th></tr></thead><tbody>${endpoints}</tbody></table>` : ''}
<h3 style="margin:16px 0 8px">Cold start <span class="muted small">allowance ${esc(formatMs(l.coldStartAllowanceMs))} (BUDGET_COLD_START_MS); requests that waited on it are left out of the endpoint latencies</span></h3>
${cold ? `<table class="cold"><thead><tr><th>verdict</th><th>component</th><th>first answer after</th><th>first request</th><th>requests that waited</th><th>why</th></tr></thead><tbody>${cold}</tbody></table>` : '<p class="muted">No request recorded.</p>'}`;
}
