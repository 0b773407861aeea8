/**
 * Issue 13 §1/§4, TLS certificates, judged by what `npm run e2e` concludes against the reference
 * platform's staging profile (HTTPS/WSS with a CA it generates) and its TLS faults:
 *
 * - healthy, its CA given as STAGING_CA_FILE (and nothing else: no NODE_EXTRA_CA_CERTS) → the
 *   network-path and health checks PASS;
 * - tls_untrusted / tls_expired / tls_wrong_name → those checks FAIL at layer tls, all with one
 *   cause (component network, TLS_UNTRUSTED / TLS_EXPIRED / TLS_WRONG_NAME) whose next step names
 *   the fix (STAGING_CA_FILE; renew; the host name);
 * - tls_expiring (7 days) → the network-path checks are DEGRADED naming the date, exit 0.
 *
 * Short on purpose (it runs in `npm test`): one platform, phase 1 sliced with `-t` to the
 * network-path and GET /health checks, the faults one after the other.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BusinessImpactReport } from '../../reporter/schema.ts';
import { CHECK_IDS, titlePattern } from '../../tests/check-ids.ts';
import { runE2e, tailOf, type E2eRun } from '../support/run-e2e.ts';
import { startTargetPlatform, type FaultSwitch, type TargetPlatform } from '../support/target-platform.ts';

const SLICE = ['--project', 'phase1', '-t', titlePattern('networkPath', 'health')];
const NETWORK_PATH_IDS: ReadonlySet<string> = new Set([CHECK_IDS.networkBackend, CHECK_IDS.networkAuth, CHECK_IDS.networkWs]);
const isNetworkPath = (t: { checkId?: string }): boolean => t.checkId !== undefined && NETWORK_PATH_IDS.has(t.checkId);

let platform: TargetPlatform;
const dirs: string[] = [];

async function slice(fault?: FaultSwitch): Promise<{ run: E2eRun; report: BusinessImpactReport }> {
  if (fault) await platform.setFault(fault);
  try {
    const reportDir = mkdtempSync(join(tmpdir(), 'stagecheck-tls-'));
    dirs.push(reportDir);
    const env = platform.suiteEnv({ STAGECHECK_RUN_ID: `selftest-tls-${randomUUID().slice(0, 8)}` });
    // Trust only through STAGING_CA_FILE: the platform's env carries it, nothing else adds the CA.
    delete env.NODE_EXTRA_CA_CERTS;
    const run = await runE2e(SLICE, { reportDir, env, timeoutMs: 90_000 });
    expect(run.report, tailOf(run)).toBeDefined();
    return { run, report: run.report! };
  } finally {
    if (fault) await platform.clearFault(fault);
  }
}

beforeAll(async () => {
  platform = await startTargetPlatform({ args: ['--profile', 'staging'] });
  expect(platform.env.STAGING_CA_FILE, 'the staging profile prints its CA').toBeTruthy();
  expect(platform.env.STAGING_BASE_URL).toMatch(/^https:/);
}, 60_000);

afterAll(async () => {
  await platform?.stop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('TLS certificates of a staging deployment', { timeout: 120_000 }, () => {
  it('passes the network-path and health checks with the CA given as STAGING_CA_FILE', async () => {
    const { run, report } = await slice();
    const ran = report.tests.filter((t) => t.verdict !== 'NOT RUN');
    expect(ran.filter(isNetworkPath), tailOf(run)).toHaveLength(3);
    expect(ran.filter((t) => t.verdict !== 'PASS').map((t) => `${t.fullName}: ${t.verdict} ${t.reason}`), tailOf(run)).toEqual([]);
    expect(run.exitCode, tailOf(run)).toBe(0);
  });

  const refused: Array<{ fault: string; code: string; step: RegExp }> = [
    { fault: 'tls_untrusted', code: 'TLS_UNTRUSTED', step: /STAGING_CA_FILE/ },
    { fault: 'tls_expired', code: 'TLS_EXPIRED', step: /renew/ },
    { fault: 'tls_wrong_name', code: 'TLS_WRONG_NAME', step: /host name/ },
  ];
  for (const { fault, code, step } of refused) {
    it(`fails those checks at layer tls with one cause naming the fix under ${fault}`, async () => {
      const { run, report } = await slice({ name: fault });
      const ran = report.tests.filter((t) => t.verdict !== 'NOT RUN');
      expect(ran.length, tailOf(run)).toBeGreaterThanOrEqual(4);
      for (const t of ran) {
        expect(t.verdict, `${t.fullName}: ${t.reason}`).toBe('FAIL');
        expect(t.failure, t.fullName).toMatchObject({ component: 'network', layer: 'tls', code });
        expect(t.failure!.nextSteps.join(' '), t.fullName).toMatch(step);
      }
      // One cause: the same first line for every test the certificate refused.
      expect(new Set(ran.map((t) => t.failure!.message.split('\n')[0]!.replace(/:\d+/g, ':#'))).size, tailOf(run)).toBe(1);
      expect(run.exitCode, tailOf(run)).toBe(1);
    });
  }

  it('calls a certificate expiring within 14 days DEGRADED, naming its date, and exits 0', async () => {
    const { run, report } = await slice({ name: 'tls_expiring', params: { days: 7 } });
    const paths = report.tests.filter(isNetworkPath);
    expect(paths, tailOf(run)).toHaveLength(3);
    for (const t of paths) {
      expect(t.verdict, `${t.fullName}: ${t.reason}`).toBe('DEGRADED');
      expect(t.reason).toMatch(/expires on \d{4}-\d\d-\d\d \(in [67]\.\d days, under 14\)/);
    }
    expect(report.tests.filter((t) => t.verdict === 'FAIL'), tailOf(run)).toEqual([]);
    expect(report.verdict).toBe('DEGRADED');
    expect(run.exitCode, tailOf(run)).toBe(0);
  });
});
