/**
 * `npm run monitor` end to end (issue 16 §1 done-when), with real e2e iterations against the
 * reference platform:
 *
 * - the loop (scripts/monitor/loop.ts) in-process for 10 iterations, 2 s apart, phase 1: Redis
 *   goes silent before iteration 4 starts and comes back before iteration 7 (the
 *   `beforeIteration` hook runs between iterations, so the switch never races a run). A
 *   loopback webhook gets exactly one alert, from iteration 5 (the second failing one), and
 *   exactly one recovery, from iteration 7; the last iteration's HTML report shows the dip in
 *   the Redis KPI's trend, read in headless Chromium;
 * - the command line: 3 iterations (--iterations) against a configured target with Redis
 *   silent, the first delivery refused and retried, the webhook's token nowhere in the output
 *   or the reports;
 * - Ctrl-C (SIGINT to the monitor's process group, as a terminal sends it) in the middle of an
 *   iteration of a monitor that started its own platform: the iteration cleans up on a platform
 *   still running, the monitor ends promptly, and no process and no temporary file is left.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, it } from 'vitest';
import { runMonitor, type IterationSummary } from '../../scripts/monitor/loop.ts';
import { webhookFromEnv, type Webhook } from '../../scripts/monitor/webhook.ts';
import { childEnv } from '../support/child-env.ts';
import { launchChromium } from '../support/chromium.ts';
import { descendantsOf, startMonitorCli, startWebhookReceiver, stillRunning, type ProcessInfo } from '../support/monitor-run.ts';
import { speedBlindEnv } from '../support/speed-blind.ts';
import { startTargetPlatform, type TargetPlatform } from '../support/target-platform.ts';
import { waitFor } from '../support/vitest-child.ts';

const REDIS_SILENT = { name: 'redis_silent' };
/** The KPI a silent Redis fails in phase 1 (catalog/stagecheck.catalog.json). */
const REDIS_KPI = 'redis-connectivity';

const tempDirs: string[] = [];
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});
function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

/** Polls the platform's readiness until Redis answers again (bounded). */
async function redisBack(platform: TargetPlatform, boundMs = 20_000): Promise<void> {
  const end = performance.now() + boundMs;
  for (;;) {
    const body = await fetch(`${platform.env.STAGING_BASE_URL}/health/ready`).then((r) => r.json() as Promise<{ redis_db?: string }>).catch(() => ({ redis_db: undefined }));
    if (body.redis_db === 'connected') return;
    if (performance.now() > end) throw new Error(`Redis not back within ${boundMs} ms of clearing the fault: ${JSON.stringify(body)}`);
    await new Promise((tick) => setTimeout(tick, 100));
  }
}

/** Every file under `dir` whose text contains `needle`. */
function filesContaining(dir: string, needle: string): string[] {
  const found: string[] = [];
  for (const name of readdirSync(dir, { recursive: true }) as string[]) {
    const path = join(dir, name);
    if (statSync(path).isFile() && readFileSync(path, 'utf8').includes(needle)) found.push(name);
  }
  return found;
}

describe.concurrent('npm run monitor against the reference platform', () => {
  it('10 iterations, Redis silent at 4-6: one alert at iteration 5, one recovery at 7, and the dip in the last report\'s trend', async ({ expect, onTestFinished }) => {
    const platform = await startTargetPlatform();
    onTestFinished(() => platform.stop());
    const receiver = await startWebhookReceiver();
    onTestFinished(() => receiver.close());
    const reportsRoot = tempDir('stagecheck-monitor-loop-');
    const lines: string[] = [];
    const summaries: IterationSummary[] = [];
    // --open-issue files once per alert: the incident.md of the alerting iteration, never one per failing iteration.
    const filed: string[] = [];
    const handle = runMonitor({
      everyMs: 2000,
      iterations: 10,
      phases: '1',
      keep: 5,
      alertAfter: 2,
      env: childEnv({ ...platform.suiteEnv(), ...speedBlindEnv() }),
      reportsRoot,
      webhook: webhookFromEnv({ STAGECHECK_ALERT_WEBHOOK: receiver.url('/hook') }) as Webhook,
      out: (line) => lines.push(line),
      err: (line) => lines.push(line),
      openIssue: async (file) => {
        filed.push(`${file}${existsSync(file) ? '' : ' (missing)'}`);
        return { message: `filed ${file}` };
      },
      beforeIteration: async (n) => {
        if (n === 4) await platform.setFault(REDIS_SILENT);
        if (n === 7) {
          await platform.clearFault(REDIS_SILENT);
          await redisBack(platform);
        }
      },
      onIteration: (summary) => summaries.push(summary),
    });
    onTestFinished(() => handle.stop());
    const result = await handle.done;
    const log = lines.join('\n');

    expect(result, log).toMatchObject({ iterations: 10, alerts: 1, recoveries: 1, undelivered: 0, openIncidents: 0, stoppedBy: 'iterations' });
    // Control: the fault did what it should, exactly in iterations 4 to 6.
    expect(summaries.map((s) => s.verdict), log).toEqual(['PASS', 'PASS', 'PASS', 'FAIL', 'FAIL', 'FAIL', 'PASS', 'PASS', 'PASS', 'PASS']);
    expect(lines.filter((l) => / {2}iteration \d+ {2}/.test(l))).toHaveLength(10);

    const alerts = receiver.accepted().filter((b) => b.kind === 'alert');
    const recoveries = receiver.accepted().filter((b) => b.kind === 'recovery');
    expect(receiver.requests.map((r) => `${r.body.kind}@${r.body.iteration}`), log).toEqual(['alert@5', 'recovery@7']);
    expect(filed, log).toEqual([join(summaries[4]!.folder, 'incident.md')]);
    expect(lines, 'the filing is said').toContain(`filed ${join(summaries[4]!.folder, 'incident.md')}`);
    const [alert] = alerts;
    expect(alert).toMatchObject({ kind: 'alert', verdict: 'FAIL', iteration: 5, runId: summaries[4]!.runId, firstFailedAt: summaries[3]!.at, report: join(summaries[4]!.folder, 'index.html'), target: 'local' });
    expect(alert!.causes.map((c) => c.key)).toEqual(expect.arrayContaining([`kpi|${REDIS_KPI}`]));
    expect(alert!.causes.some((c) => c.component === 'redis'), JSON.stringify(alert!.causes)).toBe(true);
    for (const cause of alert!.causes) expect(cause).toMatchObject({ firstFailedIteration: 4, failingIterations: 2, alertedIteration: 5 });
    expect(alert!.tiersAtRisk).toEqual(expect.arrayContaining([expect.objectContaining({ id: 'p1', protects: '$120K+ MRR', verdict: 'FAIL' })]));
    expect(alert!.functionsAtRisk.length).toBeGreaterThan(0);
    for (const fn of alert!.functionsAtRisk) expect(fn.protects.every((label) => /MRR/.test(label)), JSON.stringify(fn)).toBe(true);
    expect(recoveries[0]).toMatchObject({ kind: 'recovery', verdict: 'PASS', iteration: 7, runId: summaries[6]!.runId, firstFailedAt: summaries[3]!.at, openIncidents: 0 });
    expect(recoveries[0]!.causes.map((c) => c.key).sort()).toEqual(alert!.causes.map((c) => c.key).sort());

    // --keep 5: the last five iterations' folders, nothing older; every iteration is in the shared history.
    expect(readdirSync(join(reportsRoot, 'runs')).sort()).toEqual(summaries.slice(5).map((s) => s.runId).sort());
    const history = readFileSync(join(reportsRoot, 'history.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { runId: string; verdict: string });
    expect(history.map((h) => h.runId)).toEqual(summaries.map((s) => s.runId));

    // The dip, as a reader sees it: the last report's trend of the Redis KPI (reporter's trend markup, helper B's contract).
    const browser = await launchChromium();
    onTestFinished(() => browser.close());
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(pathToFileURL(join(summaries[9]!.folder, 'index.html')).href);
    const trend = page.locator(`svg[data-trend="kpi:${REDIS_KPI}"]`);
    expect(await trend.count(), `no svg[data-trend="kpi:${REDIS_KPI}"] in the last report`).toBe(1);
    expect(await trend.isVisible()).toBe(true);
    const points = await trend.locator('[data-run-id]').evaluateAll((elements) => elements.map((e) => [e.getAttribute('data-run-id'), e.getAttribute('data-verdict')]));
    const byRun = new Map(points.map(([runId, verdict]) => [runId, verdict]));
    expect(summaries.map((s) => byRun.get(s.runId)), JSON.stringify(points)).toEqual(['PASS', 'PASS', 'PASS', 'FAIL', 'FAIL', 'FAIL', 'PASS', 'PASS', 'PASS', 'PASS']);
    // Oldest first, the current run last.
    expect(points.at(-1)?.[0]).toBe(summaries[9]!.runId);
  });

  it('the command line: 3 iterations (--iterations), the first delivery refused and retried, the webhook token nowhere in output or reports', async ({ expect, onTestFinished }) => {
    const platform = await startTargetPlatform({ atStart: [REDIS_SILENT] });
    onTestFinished(() => platform.stop());
    const receiver = await startWebhookReceiver({ refuse: 1 });
    onTestFinished(() => receiver.close());
    const reportsRoot = tempDir('stagecheck-monitor-cli-');
    const token = 'hook-T0KEN-5b1e77';
    const query = 'q-S3CRET-0c4d';
    const monitor = startMonitorCli(['--every', '1s', '--iterations', '3', '--phases', '1', '--alert-after', '2'], childEnv({
      ...platform.suiteEnv(),
      ...speedBlindEnv(),
      STAGECHECK_REPORT_DIR: reportsRoot,
      STAGECHECK_ALERT_WEBHOOK: receiver.url(`/services/${token}?token=${query}`),
    }));
    onTestFinished(() => void monitor.child.kill('SIGKILL'));
    const ended = await monitor.ended;
    const output = `${monitor.stdout()}\n${monitor.stderr()}`;

    expect(ended, output).toEqual({ code: 0, signal: null });
    const lines = monitor.stdout().trim().split('\n');
    expect(lines[0]).toContain('stagecheck monitor: every 1s start to start, at most 3 iteration(s); phase 1;');
    expect(lines[0]).toContain(`alerts to ${receiver.url('/…')}`);
    expect(lines[0]).toContain(`target ${platform.env.STAGING_BASE_URL}`);
    const iterations = lines.filter((l) => / {2}iteration \d+ {2}/.test(l));
    expect(iterations.map((l) => / {2}iteration (\d+) {2}(\S+)/.exec(l)?.slice(1).join(' ')), output).toEqual(['1 FAIL', '2 FAIL', '3 FAIL']);
    expect(iterations[0]).toContain('no alert');
    expect(iterations[1]).toMatch(/alert \(\d+ causes?\) sent/);
    expect(iterations[2]).toContain('no alert');
    expect(lines.at(-1)).toMatch(/monitor stopped \(3 iteration\(s\) done\): 3 iteration\(s\), \d+ start\(s\) skipped, 1 alert\(s\), 0 recovery\(ies\), \d+ incident\(s\) open$/);

    // The first delivery was refused (500) and the retry delivered the same body.
    expect(receiver.requests.map((r) => [r.status, r.body.kind, r.body.iteration, r.path])).toEqual([
      [500, 'alert', 2, `/services/${token}?token=${query}`],
      [200, 'alert', 2, `/services/${token}?token=${query}`],
    ]);
    const folder = readdirSync(join(reportsRoot, 'runs')).sort()[1] as string;
    expect(JSON.parse(readFileSync(join(reportsRoot, 'runs', folder, 'alert.json'), 'utf8'))).toEqual(receiver.requests[1]!.body);
    expect(receiver.requests[1]!.body.report).toBe(join(reportsRoot, 'runs', folder, 'index.html'));

    for (const secret of [token, query]) {
      expect(output).not.toContain(secret);
      expect(filesContaining(reportsRoot, secret), `files holding ${secret}`).toEqual([]);
    }
  });

  it('Ctrl-C in the middle of an iteration: ends promptly and cleanly, no process or temporary file left, its own platform stopped', async ({ expect, onTestFinished }) => {
    const reportsRoot = tempDir('stagecheck-monitor-int-');
    // Every process of the monitor's tree makes its temporary files here (Node's os.tmpdir() reads TMPDIR).
    const privateTmp = tempDir('stagecheck-monitor-tmp-');
    const monitor = startMonitorCli(['--every', '1s', '--phases', '1'], childEnv({ ...speedBlindEnv(), STAGECHECK_REPORT_DIR: reportsRoot, TMPDIR: privateTmp }));
    const pid = monitor.child.pid as number;
    onTestFinished(() => {
      if (monitor.child.exitCode === null && monitor.child.signalCode === null) process.kill(-pid, 'SIGKILL');
    });
    const seen = new Map<string, ProcessInfo>();
    const look = (): void => {
      for (const p of descendantsOf(pid)) seen.set(`${p.pid}/${p.started}`, p);
    };
    // Mid-iteration: the iteration's Vitest is running (its workers started) under the monitor.
    await waitFor('an iteration in flight (Vitest workers under the monitor)', () => {
      look();
      return [...seen.values()].some((p) => p.command.includes('vitest.mjs')) && [...seen.values()].some((p) => p.command.includes('workers/forks')) ? true : undefined;
    }, 90_000, () => `${monitor.stdout()}\n${monitor.stderr()}`);
    look();
    expect(monitor.stdout()).toContain('target: the bundled reference platform');
    expect(monitor.stdout()).toContain('started once by the monitor for every iteration and stopped at the end');

    // As a terminal's Ctrl-C: SIGINT to the monitor's whole process group.
    const sent = performance.now();
    process.kill(-pid, 'SIGINT');
    const ended = await monitor.ended;
    const ms = performance.now() - sent;
    const output = `${monitor.stdout()}\n${monitor.stderr()}`;

    expect(ended, output).toEqual({ code: 0, signal: null });
    expect(ms, output).toBeLessThan(30_000);
    expect(output).toContain('SIGINT: stopping');
    expect(output).toMatch(/iteration 1 {2}NO VERDICT \(interrupted\)/);
    expect(output).toMatch(/monitor stopped \(SIGINT received\): 1 iteration\(s\)/);
    expect([...seen.values()].some((p) => p.command.includes('platform/cli.ts')), 'control: the platform was seen').toBe(true);
    // The platform (its own process group) outlived the signal until the iteration had cleaned up on it.
    const [folder] = readdirSync(join(reportsRoot, 'runs'));
    const e2eLog = readFileSync(join(reportsRoot, 'runs', folder as string, 'e2e.log'), 'utf8');
    expect(e2eLog).toContain('stagecheck: interrupted (SIGINT)');
    expect(e2eLog).toContain('left     nothing carrying the run id');
    expect(stillRunning([...seen.values()]), output).toEqual([]);
    // tsx keeps its transform cache in the temporary directory on purpose (reused across runs); nothing else may remain.
    expect(readdirSync(privateTmp).filter((name) => !name.startsWith('tsx-')), output).toEqual([]);
  });
});
