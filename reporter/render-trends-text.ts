/**
 * "Since the baseline" and the trends as text, for reporter/render-text.ts: the Markdown report's
 * sections and the terminal summary's lines. Everything shown is in the JSON report
 * (`sinceBaseline`, `trends`: reporter/baseline.ts, reporter/trends.ts).
 */
import { formatReportMs as formatMs } from '../helpers/core/format.ts';
import { formatPercent } from './kpis.ts';
import type { BusinessImpactReport, TestChangeOut, TrendPoint, Verdict } from './schema.ts';

type Icons = Record<Verdict, string>;

const md = (text: string): string => text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
const change = (c: TestChangeOut): string => `[${c.tier?.toUpperCase() ?? '-'}] ${md(c.name)}${c.checkId ? ` \`${c.checkId}\`` : ''} (${c.before} → ${c.now})`;

/** The Markdown section under the verdict: what changed since the baseline, or "no baseline" and why. */
export function markdownSinceBaseline(r: BusinessImpactReport): string[] {
  const s = r.sinceBaseline;
  if (!s) return [];
  if (!s.baseline) return ['## Since the baseline', '', `${md(s.text)}.`, ''];
  const out = ['## Since the baseline', '', `${md(s.text.replace(/^since/, 'Since'))}: **${s.newlyFailing.length} newly failing**, ${s.fixed.length} fixed, ${s.kpis.length} KPI${s.kpis.length === 1 ? '' : 's'} moved by more than their noise.`, ''];
  for (const c of s.newlyFailing) out.push(`- ❌ newly failing: ${change(c)}`);
  for (const c of s.fixed) out.push(`- ✅ fixed: ${change(c)}`);
  for (const k of s.kpis) out.push(`- ${k.worse ? '📉' : '📈'} ${md(k.text)}`);
  if (s.kpisWithoutNoise.length) out.push(`- changed, with too little history to know their noise (no move claimed): ${s.kpisWithoutNoise.map((k) => `${md(k.name)} (${k.values} values)`).join(', ')}`);
  out.push('', `<sub>${md(s.noiseRule)}.</sub>`, '');
  return out;
}

/** The last runs as a row of icons, oldest first, this run last. */
export function iconRow(points: readonly { verdict: Verdict }[], icons: Icons): string {
  return points.map((p) => icons[p.verdict]).join('');
}

function kpiNow(kind: string, p: TrendPoint | undefined): string {
  if (!p || p.value === null) return 'not measured';
  return kind === 'latency' ? formatMs(p.value) : formatPercent(p.value);
}

export function markdownTrends(r: BusinessImpactReport, icons: Icons): string[] {
  const t = r.trends;
  if (!t) return [];
  const first = t.runs[0];
  const out = [`## Trends (last ${t.runs.length} run${t.runs.length === 1 ? '' : 's'}${first ? ` since ${first.at.slice(0, 10)}` : ''}, oldest first, this run last)`, ''];
  if (t.kpis.length || t.tiers.length) {
    out.push('| KPI or tier | runs | now |', '|---|---|---|');
    for (const k of t.kpis) out.push(`| ${md(k.name)} | ${iconRow(k.points, icons)} | ${kpiNow(k.kind, k.points[k.points.length - 1])} |`);
    for (const tier of t.tiers) {
      const last = tier.points[tier.points.length - 1];
      out.push(`| ${md(tier.name)} | ${iconRow(tier.points, icons)} | ${last && last.executed > 0 ? `${last.passed}/${last.executed} passed` : 'not run'} |`);
    }
    out.push('');
  }
  out.push(`**Uptime** over the ${t.uptime.runs} run${t.uptime.runs === 1 ? '' : 's'} of the history${t.uptime.since ? ` since ${t.uptime.since.slice(0, 10)}` : ''}: ` +
    (t.uptime.components.length ? t.uptime.components.map((c) => `${c.component} ${c.upRuns}/${c.runs}`).join(' · ') : 'no run recorded component states') + '.', '');
  if (t.unstable.length) {
    out.push(`**Unstable tests** (both passed and failed in the last ${t.runs.length} runs):`, '');
    for (const u of t.unstable) out.push(`- ${md(u.name)}${u.checkId ? ` \`${u.checkId}\`` : ''}: ${iconRow(u.verdicts.map((verdict) => ({ verdict })), icons)} passed ${u.passed}, failed ${u.failed}`);
  } else out.push('**Unstable tests**: none (no test both passed and failed in these runs).');
  out.push('');
  return out;
}

/** One or two lines for the terminal, right under the verdict. */
export function terminalSinceBaseline(r: BusinessImpactReport): string[] {
  const s = r.sinceBaseline;
  if (!s) return [];
  if (!s.baseline) return [`  since     ${s.text}`];
  const names = (list: readonly TestChangeOut[]) => list.slice(0, 3).map((c) => c.name).join('; ') + (list.length > 3 ? ` … +${list.length - 3}` : '');
  const lines = [`  since     ${s.text.replace(/^since the baseline /, 'baseline ')}: ${s.newlyFailing.length} newly failing, ${s.fixed.length} fixed, ${s.kpis.length} KPI(s) moved`];
  if (s.newlyFailing.length) lines.push(`            newly failing: ${names(s.newlyFailing)}`);
  if (s.fixed.length) lines.push(`            fixed: ${names(s.fixed)}`);
  for (const k of s.kpis.slice(0, 3)) lines.push(`            ${k.text}`);
  return lines;
}
