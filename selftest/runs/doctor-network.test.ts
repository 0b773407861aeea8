/**
 * `npm run doctor` on the network's harder paths (slow tier; the healthy, refused, wrong-key and
 * partial-target cases are doctor.test.ts in the fast tier):
 *
 * - through an HTTP CONNECT proxy with a password → exit 0, the proxy named without its password;
 * - the backend on a port that accepts and never answers → exit 1 naming the HTTP layer and the
 *   budget it ran out of (BUDGET_HTTP_HEALTH_MS), bounded by that budget;
 * - the staging profile (TLS with its own CA) without STAGING_CA_FILE, or with another CA → exit 1
 *   naming TLS.
 * No secret the platform, the proxy or the run holds appears in any stdout or stderr.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startConnectProxy, type ConnectProxy } from '../support/connect-proxy.ts';
import { CHILD_START_BOUND_MS, HEALTHY_TOTAL_BOUND_MS, layerStatus, runDoctor, SecretsHeld, tail, totalMs } from '../support/doctor-run.ts';
import { closeServer, listen } from '../support/net.ts';
import { startTargetPlatform, type TargetPlatform } from '../support/target-platform.ts';

/** Above BUDGET_HTTP_HEALTH_MS's floor (the health endpoints' 5 s failure line), short to keep the run short. */
const SHORT_HTTP_BUDGET_MS = '5500';

let healthy: TargetPlatform;
let staging: TargetPlatform;
let blackhole: net.Server;
const heldSockets: net.Socket[] = [];
let blackholePort: number;
let proxy: ConnectProxy;
const PROXY_PASSWORD = `proxy-pw-${process.pid}`;
const dirs: string[] = [];
const held = new SecretsHeld();

beforeAll(async () => {
  blackhole = net.createServer((socket) => {
    heldSockets.push(socket); // accepted, never answered
  });
  [healthy, staging, blackholePort, proxy] = await Promise.all([
    startTargetPlatform(),
    startTargetPlatform({ profile: 'staging' }),
    listen(blackhole),
    startConnectProxy({ credentials: { user: 'doctor', password: PROXY_PASSWORD } }),
  ]);
  held.add(PROXY_PASSWORD);
  expect(staging.env.STAGING_BASE_URL, 'the staging profile serves HTTPS').toMatch(/^https:/);
}, 90_000);

afterAll(async () => {
  for (const socket of heldSockets) socket.destroy();
  if (blackhole) await closeServer(blackhole);
  await Promise.all([healthy?.stop(), staging?.stop(), proxy?.close()]);
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('npm run doctor on the network', { concurrent: true, timeout: 90_000 }, () => {
  it('walks through the configured proxy and names it, without its password', async () => {
    const run = await runDoctor([], held.asStaging(healthy, { HTTP_PROXY: proxy.url, STAGECHECK_PROXY_LOOPBACK: '1' }));
    expect(run.exitCode, tail(run)).toBe(0);
    const shown = proxy.url.replace(/\/\/[^@]*@/, '//');
    expect(run.stdout, tail(run)).toContain(`backend  ${healthy.env.STAGING_BASE_URL} via proxy ${shown}`);
    for (const section of ['backend', 'auth', 'websocket']) expect(layerStatus(run.stdout, section, 'proxy'), `${section} proxy\n${tail(run)}`).toBe('ok');
    expect(layerStatus(run.stdout, 'websocket', 'connection_established'), tail(run)).toBe('ok');
    expect(run.stdout).toMatch(/HTTP_PROXY\s+http:\/\/127\.0\.0\.1:\d+\/?\s+environment/);
    expect(proxy.tunnels.length, 'the tunnels were opened by that proxy').toBeGreaterThan(0);
    held.expectNoneIn(run);
  });
  it('names the HTTP layer and its budget when the backend port accepts and never answers', async () => {
    const run = await runDoctor([], held.asStaging(healthy, { STAGING_BASE_URL: `http://127.0.0.1:${blackholePort}`, BUDGET_HTTP_HEALTH_MS: SHORT_HTTP_BUDGET_MS }));
    expect(run.exitCode, tail(run)).toBe(1);
    expect(run.stdout, tail(run)).toContain('BROKEN (exit 1): backend: HTTP: GET /health got no response headers within 5.5 s (BUDGET_HTTP_HEALTH_MS)');
    expect(layerStatus(run.stdout, 'backend', 'tcp'), tail(run)).toBe('ok');
    // Bounded by the budget it names, never a hang.
    expect(totalMs(run), tail(run)).toBeGreaterThanOrEqual(Number(SHORT_HTTP_BUDGET_MS));
    expect(totalMs(run), tail(run)).toBeLessThan(Number(SHORT_HTTP_BUDGET_MS) + HEALTHY_TOTAL_BOUND_MS);
    expect(run.wallMs, tail(run)).toBeLessThan(Number(SHORT_HTTP_BUDGET_MS) + HEALTHY_TOTAL_BOUND_MS + CHILD_START_BOUND_MS);
    held.expectNoneIn(run);
  });
  it('names TLS when the staging CA is not given', async () => {
    const run = await runDoctor([], held.asStaging(staging, { STAGING_CA_FILE: '' }));
    expect(run.exitCode, tail(run)).toBe(1);
    expect(run.stdout, tail(run)).toMatch(/BROKEN \(exit 1\): backend: TLS certificate not trusted at 127\.0\.0\.1:\d+ \(TLS_UNTRUSTED/);
    expect(run.stdout, 'the fix is named').toContain('set STAGING_CA_FILE');
    held.expectNoneIn(run);
  });
  it('names TLS when STAGING_CA_FILE holds another CA', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stagecheck-doctor-'));
    dirs.push(dir);
    const otherCa = join(dir, 'other-ca.pem');
    writeFileSync(otherCa, tls.rootCertificates[0]!);
    const run = await runDoctor([], held.asStaging(staging, { STAGING_CA_FILE: otherCa }));
    expect(run.exitCode, tail(run)).toBe(1);
    expect(run.stdout, tail(run)).toMatch(/BROKEN \(exit 1\): backend: TLS certificate not trusted at 127\.0\.0\.1:\d+ \(TLS_UNTRUSTED/);
    held.expectNoneIn(run);
  });
});
