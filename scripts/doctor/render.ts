/**
 * The doctor report for a person: the target, the resolved configuration with where each value
 * came from, the network setup, every layer of every section with its time, and the verdict
 * naming the first broken layer. Plain text, no colour; the CLI redacts it before printing.
 */
import { formatMs } from '../../helpers/core/format.ts';
import { renderHead } from '../../helpers/core/target-head.ts';
import type { DoctorReport } from './run.ts';
import type { LayerStatus } from './report.ts';

const MARK: Record<LayerStatus, string> = { ok: 'ok', warning: 'WARN', failed: 'FAIL', 'n/a': 'n/a', 'not run': '--' };

function pad(text: string, width: number): string {
  return text.length >= width ? `${text} ` : text.padEnd(width);
}

export function renderText(report: DoctorReport): string {
  const lines: string[] = ['stagecheck doctor', ''];
  // The suite's own banner, minus its first line (a run id means nothing here) and its budgets (listed below).
  lines.push(...renderHead(report.target).slice(1, -1));
  lines.push(`  why       ${report.target.reason}${report.target.platformStartMs !== undefined ? ` (started in ${formatMs(report.target.platformStartMs)})` : ''}`);
  lines.push(`  network   CA: ${report.network.ca} · proxy: ${report.network.proxy}`, '');

  lines.push('configuration (value, source)');
  const nameWidth = Math.max(...report.configuration.map((row) => row.name.length)) + 2;
  const valueWidth = Math.min(60, Math.max(...report.configuration.map((row) => row.value.length)) + 2);
  for (const row of report.configuration) lines.push(`  ${pad(row.name, nameWidth)}${pad(row.value, valueWidth)}${row.source}`);
  lines.push('');

  for (const section of report.sections) {
    lines.push(`${section.name}  ${section.target}`);
    const layerWidth = Math.max(...section.layers.map((l) => l.layer.length)) + 2;
    for (const layer of section.layers) {
      const time = layer.ms !== undefined ? formatMs(layer.ms, 'report') : '';
      lines.push(`  ${pad(layer.layer, layerWidth)}${pad(MARK[layer.status], 6)}${pad(time, 9)}${layer.summary}`);
      if (layer.error && (layer.status === 'failed' || layer.status === 'warning')) lines.push(`  ${' '.repeat(layerWidth + 15)}${layer.error}`);
    }
    lines.push('');
  }

  const time = `checks ${formatMs(report.timings.checksMs)}${report.timings.totalMs !== undefined ? `, total ${formatMs(report.timings.totalMs)}` : ''}`;
  lines.push(report.firstBroken
    ? `BROKEN (exit ${report.exitCode}): ${report.firstBroken.headline} (${time})`
    : `HEALTHY (exit ${report.exitCode}): every layer answered (${time})`);
  return `${lines.join('\n')}\n`;
}
