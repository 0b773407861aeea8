/**
 * Time to verdict (issue 14 §1-2), measured against the reference platform, each case `--runs`
 * times (medians quoted):
 *
 * - `refused`: every URL of the target refuses connections → phase 1's verdict;
 * - `blackholed`: every URL accepts connections and never answers → phase 1's verdict;
 * - `backend-dies`: both phases, and the backend stops answering (a TCP forwarder in front of it
 *   goes silent) once phase 2 has been talking to it for 0.5 s → the run's verdict after the
 *   backend's last answer;
 * - `no-pong`: the server never answers a ping → the ping check's own verdict.
 *
 * "Verdict" is measured from the report: the end of the last test (startedAt + duration) minus the
 * start of the case's clock (the first test's start, or the backend's last answer). The wall time
 * of the whole `npm run e2e` (process start, Vitest start-up, teardown) is shown beside it.
 *
 *   node --import tsx bench/time-to-verdict.ts [--runs 3] [--case refused,blackholed,backend-dies,no-pong] [--explain]
 *
 * `--explain` lists the five tests that ended last in each run, with their end on the case's clock.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { BusinessImpactReport } from '../reporter/schema.ts';
import { runWithBackendDying } from '../selftest/support/backend-dies.ts';
import { refusedPort } from '../selftest/support/net.ts';
import { runE2e, type E2eRun } from '../selftest/support/run-e2e.ts';
import { startTargetPlatform } from '../selftest/support/target-platform.ts';
import { CHECK_IDS } from '../tests/check-ids.ts';
import { formatMs, spread } from './stats.ts';

export interface Sample {
  /** ms from the case's clock start to the end of the last test. */
  verdictMs: number;
  /** The tests that ended last, for `--explain`. */
  last: string[];
  wallMs: number;
  verdict: string;
  failed: number;
}

type Case = (reportDir: string) => Promise<Sample>;

const testEnds = (report: BusinessImpactReport): number[] =>
  report.tests.filter((t) => t.startedAt && t.durationMs !== null).map((t) => Date.parse(t.startedAt!) + t.durationMs!);
const testStarts = (report: BusinessImpactReport): number[] => report.tests.filter((t) => t.startedAt).map((t) => Date.parse(t.startedAt!));

function sampleOf(run: E2eRun, clockStart: (report: BusinessImpactReport) => number): Sample {
  const report = run.report;
  if (!report) throw new Error(`no report (exit ${run.exitCode}):\n${run.stdout.slice(-2000)}\n${run.stderr.slice(-1000)}`);
  const start = clockStart(report);
  const ended = report.tests
    .filter((t) => t.startedAt && t.durationMs !== null)
    .map((t) => ({ t, end: Date.parse(t.startedAt!) + t.durationMs! }))
    .sort((a, b) => b.end - a.end)
    .slice(0, 5)
    .map(({ t, end }) => `${formatMs(end - start)} ${t.verdict} ${t.fullName}: ${(t.failure?.message ?? t.reason).slice(0, 160)}`);
  return {
    last: ended,
    verdictMs: Math.max(...testEnds(report)) - start,
    wallMs: run.wallMs,
    verdict: report.verdict,
    failed: report.tests.filter((t) => t.verdict === 'FAIL').length,
  };
}

const firstStart = (report: BusinessImpactReport): number => Math.min(...testStarts(report));

/** A listener that accepts every connection and never answers. */
async function silentListener(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

const targetAt = (port: number): Record<string, string> => ({
  STAGING_BASE_URL: `http://127.0.0.1:${port}`,
  STAGING_AUTH_URL: `http://127.0.0.1:${port}`,
  STAGING_WS_URL: `ws://127.0.0.1:${port}/ws`,
  E2E_BYPASS_KEY: 'bench-not-a-real-key',
  STAGECHECK_RUN_ID: `bench-ttv-${process.pid}-${Date.now()}`,
});

export const CASES: Record<string, Case> = {
  async refused(reportDir) {
    const run = await runE2e(['--project', 'phase1'], { reportDir, env: targetAt(await refusedPort()), timeoutMs: 120_000 });
    return sampleOf(run, firstStart);
  },
  async blackholed(reportDir) {
    const listener = await silentListener();
    try {
      const run = await runE2e(['--project', 'phase1'], { reportDir, env: targetAt(listener.port), timeoutMs: 180_000 });
      return sampleOf(run, firstStart);
    } finally {
      await listener.close();
    }
  },
  async 'backend-dies'(reportDir) {
    const { run, lastAnsweredAt } = await runWithBackendDying(reportDir);
    return sampleOf(run, () => lastAnsweredAt);
  },
  async 'no-pong'(reportDir) {
    const platform = await startTargetPlatform({ atStart: [{ name: 'no_pong' }] });
    try {
      const run = await runE2e(['--project', 'phase1', '-t', 'answers ping with pong'], { reportDir, env: platform.suiteEnv(), timeoutMs: 120_000 });
      const ping = run.report?.tests.find((t) => t.checkId === CHECK_IDS.wsPing);
      if (!ping?.durationMs) throw new Error(`the ping check did not run:\n${run.stdout.slice(-2000)}`);
      return { verdictMs: ping.durationMs, last: [], wallMs: run.wallMs, verdict: run.report!.verdict, failed: 1 };
    } finally {
      await platform.stop();
    }
  },
};

/** The cases by name, in the order given (all by default); throws on a name that is not a case. */
export function caseNames(list: string = Object.keys(CASES).join(',')): string[] {
  const names = list.split(',').map((name) => name.trim()).filter(Boolean);
  const unknown = names.filter((name) => !(name in CASES));
  if (unknown.length) throw new Error(`--case: no case ${unknown.join(', ')} (cases: ${Object.keys(CASES).join(', ')})`);
  return names;
}

/** Runs one case `runs` times, each with its own report dir; `onSample` sees every sample as it comes. */
export async function measureCase(name: string, runs: number, onSample: (sample: Sample, index: number) => void = () => {}): Promise<Sample[]> {
  const samples: Sample[] = [];
  for (let i = 0; i < runs; i += 1) {
    const reportDir = mkdtempSync(join(tmpdir(), `stagecheck-ttv-${name}-`));
    try {
      const sample = await CASES[name]!(reportDir);
      samples.push(sample);
      onSample(sample, i);
    } finally {
      rmSync(reportDir, { recursive: true, force: true });
    }
  }
  return samples;
}

/** The Markdown table of the cases measured. */
export function verdictTable(results: readonly { name: string; samples: readonly Sample[] }[]): string {
  const median = (values: number[]): string => formatMs(spread(values).median);
  const rows: string[] = ['| case | verdict after (median) | samples | wall of npm run e2e (median) | verdicts |', '|---|---|---|---|---|'];
  for (const { name, samples } of results) {
    rows.push(`| ${name} | ${median(samples.map((x) => x.verdictMs))} | ${samples.map((x) => formatMs(x.verdictMs)).join(', ')} | ${median(samples.map((x) => x.wallMs))} | ${[...new Set(samples.map((x) => x.verdict))].join(', ')} |`);
  }
  return rows.join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' }, case: { type: 'string', default: Object.keys(CASES).join(',') }, explain: { type: 'boolean', default: false } } });
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a positive whole number, got "${values.runs}"`);
  const results: { name: string; samples: Sample[] }[] = [];
  for (const name of caseNames(values.case)) {
    const samples = await measureCase(name, runs, (sample, i) => {
      console.error(`${name} ${i + 1}/${runs}: verdict after ${formatMs(sample.verdictMs)}, wall ${formatMs(sample.wallMs)}, ${sample.verdict}, ${sample.failed} failed`);
      if (values.explain) for (const line of sample.last) console.error(`    ${line}`);
    });
    results.push({ name, samples });
  }
  console.log(verdictTable(results));
}

// Run as a script; imported by bench/run.ts for its `verdict` scenario.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(`time-to-verdict: ${(error as Error).message}`);
    process.exitCode = 1;
  });
}
