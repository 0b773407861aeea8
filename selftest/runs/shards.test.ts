/**
 * The main job healthy, as CI runs it: `npm run e2e` against a healthy reference platform is
 * PASS with exit 0 and writes every report, and the same suite run as two shards merged back
 * together gives the same verdicts. Four full runs of the suite: the slow tier.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, it } from 'vitest';
import type { BusinessImpactReport } from '../../reporter/schema.ts';
import { runE2e as runE2eChild, tailOf as tail, type E2eRun } from '../support/run-e2e.ts';
import { speedBlindEnv } from '../support/speed-blind.ts';
import { startTargetPlatform, type TargetPlatform } from '../support/target-platform.ts';

const tempDirs: string[] = [];
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});
function tempDir(label: string): string {
  const dir = mkdtempSync(join(tmpdir(), `stagecheck-${label}-`));
  tempDirs.push(dir);
  return dir;
}
function runE2e(args: string[], env: Record<string, string> = {}): Promise<E2eRun> {
  return runE2eChild(args, { env, reportDir: tempDir('e2e') });
}
const targetEnv = (platform: TargetPlatform): Record<string, string> => platform.suiteEnv(speedBlindEnv());
async function platformVersion(platform: TargetPlatform): Promise<string> {
  return ((await (await fetch(`${platform.env.STAGING_BASE_URL}/health`)).json()) as { version: string }).version;
}

/** What a business-impact report concluded, for comparing two runs of the same target. */
function verdicts(report: BusinessImpactReport) {
  return {
    run: report.verdict,
    exitCode: report.exitCode,
    counts: report.counts,
    tests: Object.fromEntries(report.tests.map((t) => [t.key, t.verdict])),
    tiers: Object.fromEntries(report.tiers.map((t) => [t.id, [t.verdict, t.counts.total, t.counts.executed]])),
    functions: Object.fromEntries(report.functions.map((f) => [f.id, [f.verdict, f.counts.total]])),
    kpis: Object.fromEntries(report.kpis.map((k) => [k.id, [k.verdict, k.samples]])),
    drift: report.target.drift,
  };
}

describe('npm run e2e on a healthy platform, whole and sharded', () => {
  it('exits 0 with PASS on a healthy platform, and two shards merged give the same verdicts as one unsharded run', async ({ expect, onTestFinished }) => {
    const platform = await startTargetPlatform();
    onTestFinished(() => platform.stop());
    const blobs = tempDir('blobs');
    // One after the other: three full runs at once would load a small machine enough to fail
    // the suite's own latency checks.
    const unsharded = await runE2e([], targetEnv(platform));
    // Sharded as CI runs it (npm run e2e refuses any other --shard): phase 1 once, then the
    // phase-2 shards behind its gate, every part writing a blob.
    const phase1 = await runE2e(['--project', 'phase1', '--blob', '--blob-dir', blobs], targetEnv(platform));
    expect(phase1.exitCode, tail(phase1)).toBe(0);
    const gate = join(phase1.reportDir, 'phase1-gate.json');
    const shards = await Promise.all(['1/2', '2/2'].map((shard) => runE2e(['--project', 'phase2', '--shard', shard, '--phase1-gate', gate, '--blob-dir', blobs], targetEnv(platform))));
    for (const shard of shards) {
      expect(shard.exitCode, tail(shard)).toBe(0);
      expect(shard.stdout).toContain('(partial: shard');
      expect(shard.report, 'a shard writes no business-impact report of its own').toBeUndefined();
    }
    expect(readdirSync(blobs)).toHaveLength(3);
    const merged = await runE2e(['--merge-reports', blobs], speedBlindEnv());

    expect(unsharded.exitCode, tail(unsharded)).toBe(0);
    const report = unsharded.report!;
    expect(report.verdict, report.reason).toBe('PASS');
    expect(report.counts.total).toBeGreaterThanOrEqual(60);
    expect(report.tests.filter((t) => t.verdict !== 'PASS').map((t) => `${t.key}: ${t.reason}`)).toEqual([]);
    expect(report.kpis.map((k) => [k.id, k.verdict])).toEqual(report.kpis.map((k) => [k.id, 'PASS']));
    const version = await platformVersion(platform);
    expect(report.target).toMatchObject({ drift: false, before: version, after: version });
    for (const name of ['business-impact.json', 'business-impact.md', 'index.html', 'junit.xml', 'history.jsonl']) {
      expect(existsSync(join(unsharded.reportDir, name)), name).toBe(true);
    }
    expect(readFileSync(join(unsharded.reportDir, 'history.jsonl'), 'utf8').trim().split('\n')).toHaveLength(1);
    // The platform's bypass key and admin token were in the run's environment; they are in no output.
    const secrets = [platform.env.E2E_BYPASS_KEY, platform.env.PLATFORM_ADMIN_TOKEN].filter((s): s is string => typeof s === 'string' && s.length >= 8);
    expect(secrets.length).toBeGreaterThan(0);
    for (const name of readdirSync(unsharded.reportDir)) {
      const text = readFileSync(join(unsharded.reportDir, name), 'utf8');
      for (const secret of secrets) expect(text.includes(secret), `${name} contains a secret`).toBe(false);
    }

    expect(merged.exitCode, tail(merged)).toBe(0);
    expect(merged.report!.run.mode).toBe('merge');
    expect(verdicts(merged.report!)).toEqual(verdicts(report));
  });

});
