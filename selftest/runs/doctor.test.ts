/**
 * `npm run doctor` against a healthy reference platform handed to it as a staging (fast tier):
 *
 * - healthy → exit 0, every layer of every section listed, within the time a healthy target
 *   allows (≤ 5 s asked; asserted generously, the machine is shared), also as one JSON document;
 * - the backend on a port that refuses → exit 1, "backend: TCP refused at 127.0.0.1:<port>";
 * - a wrong bypass key → exit 1 naming the token layer and test-auth's 401;
 * - a partial target → exit 2 naming the missing variable.
 * No secret the platform or the run holds appears in any stdout or stderr. Proxies, a port that
 * never answers and TLS are doctor-network.test.ts (slow tier).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHILD_START_BOUND_MS, HEALTHY_TOTAL_BOUND_MS, layerStatus, runDoctor, SecretsHeld, tail, totalMs } from '../support/doctor-run.ts';
import { refusedPort } from '../support/net.ts';
import { startTargetPlatform, type TargetPlatform } from '../support/target-platform.ts';

let healthy: TargetPlatform;
const held = new SecretsHeld();

beforeAll(async () => {
  healthy = await startTargetPlatform();
}, 90_000);

afterAll(async () => {
  await healthy?.stop();
});

describe('npm run doctor', { concurrent: true, timeout: 90_000 }, () => {
  it('lists every layer of every section as ok and exits 0 against a healthy target', async () => {
    const run = await runDoctor([], held.asStaging(healthy));
    expect(run.exitCode, tail(run)).toBe(0);
    const layers: Record<string, string[]> = {
      backend: ['dns', 'tcp', 'http-status'],
      auth: ['dns', 'tcp', 'http-status'],
      websocket: ['dns', 'tcp', 'http-status', 'ws-upgrade', 'connection_established'],
      'auth token': ['token', 'claims', 'clock-skew'],
      postgres: ['connect', 'query'],
      redis: ['connect', 'round-trip'],
    };
    for (const [section, names] of Object.entries(layers)) {
      for (const layer of names) expect(layerStatus(run.stdout, section, layer), `${section} ${layer}\n${tail(run)}`).toBe('ok');
      if (section !== 'auth token' && section !== 'postgres' && section !== 'redis') expect(layerStatus(run.stdout, section, 'tls'), `${section} tls`).toBe('n/a');
    }
    expect(run.stdout).toMatch(/^HEALTHY \(exit 0\)/m);
    expect(run.stdout).toMatch(/STAGING_BASE_URL\s+http:\/\/127\.0\.0\.1:\d+\s+environment/);
    expect(run.stdout).toMatch(/BUDGET_HTTP_MS\s+10000\s+default/);
    expect(totalMs(run), tail(run)).toBeLessThan(HEALTHY_TOTAL_BOUND_MS);
    expect(run.wallMs, tail(run)).toBeLessThan(HEALTHY_TOTAL_BOUND_MS + CHILD_START_BOUND_MS);
    console.info(`doctor against a healthy target: wall ${Math.round(run.wallMs)} ms, ${/\(checks [^)]*\)/.exec(run.stdout)?.[0]}`);
    held.expectNoneIn(run);
  });
  it('prints one JSON document with --json', async () => {
    const run = await runDoctor(['--json'], held.asStaging(healthy));
    expect(run.exitCode, tail(run)).toBe(0);
    const report = JSON.parse(run.stdout) as { exitCode: number; healthy: boolean; firstBroken: unknown; sections: Array<{ name: string; layers: Array<{ layer: string; status: string; ms?: number }> }>; configuration: Array<{ name: string; source: string }>; target: { target: string } };
    expect(report).toMatchObject({ exitCode: 0, healthy: true, firstBroken: null, target: { target: 'staging' } });
    expect(report.sections.map((s) => s.name)).toEqual(['backend', 'auth', 'websocket', 'auth token', 'postgres', 'redis']);
    for (const section of report.sections) {
      for (const layer of section.layers) expect(['ok', 'n/a'], `${section.name} ${layer.layer}: ${layer.status}`).toContain(layer.status);
    }
    expect(report.configuration.find((row) => row.name === 'E2E_BYPASS_KEY')).toEqual({ name: 'E2E_BYPASS_KEY', value: '[redacted]', source: 'environment' });
    held.expectNoneIn(run);
  });
  it('names TCP and the address when the backend port refuses', async () => {
    const port = await refusedPort();
    const run = await runDoctor([], held.asStaging(healthy, { STAGING_BASE_URL: `http://127.0.0.1:${port}` }));
    expect(run.exitCode, tail(run)).toBe(1);
    expect(run.stdout, tail(run)).toContain(`BROKEN (exit 1): backend: TCP refused at 127.0.0.1:${port}`);
    expect(layerStatus(run.stdout, 'backend', 'http-status'), tail(run)).toBe('--');
    held.expectNoneIn(run);
  });
  it('names the token layer and test-auth 401 for a wrong bypass key', async () => {
    const wrongKey = `wrong-bypass-key-${Date.now()}`;
    held.add(wrongKey);
    const run = await runDoctor([], held.asStaging(healthy, { E2E_BYPASS_KEY: wrongKey }));
    expect(run.exitCode, tail(run)).toBe(1);
    expect(run.stdout, tail(run)).toContain('BROKEN (exit 1): auth token: POST /auth/e2e/test-auth answered 401');
    expect(layerStatus(run.stdout, 'websocket', 'ws-upgrade'), 'no token, no handshake').toBe('--');
    held.expectNoneIn(run);
  });
  it('exits 2 naming the variable of a partial target', async () => {
    const env = held.asStaging(healthy);
    const run = await runDoctor([], { ...env, STAGING_AUTH_URL: '' });
    expect(run.exitCode, tail(run)).toBe(2);
    expect(run.stderr, tail(run)).toMatch(/STAGING_AUTH_URL is not set/);
    expect(run.stderr, 'no stack trace').not.toMatch(/\n\s+at /);
    held.expectNoneIn(run);
  });
});
