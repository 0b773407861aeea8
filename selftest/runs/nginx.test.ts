/**
 * Issue 13: the whole suite passes behind a real TLS-terminating reverse proxy, as a staging
 * deployment usually sits: Debian's nginx (scripts/install-system-deps.sh installs it) in front of
 * the reference platform's default profile, HTTPS for the backend and the auth service, WSS with
 * the WebSocket upgrade proxied, its certificate from a CA made here with openssl and given to the
 * suite only as STAGING_CA_FILE. `npm run e2e` must end PASS, 0 failed, exit 0.
 *
 * nginx runs as this test's child, on ephemeral loopback ports, from a temp dir holding its config,
 * pid, logs and temp paths (`nginx -p <dir> -c <dir>/nginx.conf`, `daemon off;`), and is stopped at
 * the end. Slow tier (SLOW_SELFTESTS in vitest.config.ts): a whole-suite run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertificateFactory, SERVER_NAMES } from '../../platform/tls/certificates.ts';
import { refusedPort } from '../support/net.ts';
import { speedBlindEnv } from '../support/speed-blind.ts';
import { runE2e, tailOf } from '../support/run-e2e.ts';
import { startTargetPlatform, type TargetPlatform } from '../support/target-platform.ts';

const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((path) => existsSync(path));
const DAY = 86_400_000;

let platform: TargetPlatform | undefined;
let nginx: ChildProcess | undefined;
let dir: string;
let ports: { backend: number; auth: number };
let caFile: string;

/** A reverse proxy for one upstream: TLS terminated here, HTTP/1.1 and WebSocket upgrades passed on. */
function serverBlock(port: number, upstream: string, cert: string, key: string): string {
  return `
  server {
    listen 127.0.0.1:${port} ssl;
    server_name localhost;
    ssl_certificate ${cert};
    ssl_certificate_key ${key};
    client_max_body_size 20m;
    location / {
      proxy_pass ${upstream};
      proxy_http_version 1.1;
      proxy_set_header Host $host;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header X-Forwarded-Proto https;
      proxy_read_timeout 120s;
      proxy_buffering off;
    }
  }`;
}

function nginxConfig(cert: string, key: string, backend: string, auth: string): string {
  const temp = (name: string) => join(dir, 'temp', name);
  return `
${process.getuid?.() === 0 ? 'user root root;' : ''}
daemon off;
master_process on;
worker_processes 1;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')} warn;
events { worker_connections 512; }
http {
  access_log ${join(dir, 'access.log')};
  client_body_temp_path ${temp('body')};
  proxy_temp_path ${temp('proxy')};
  fastcgi_temp_path ${temp('fastcgi')};
  uwsgi_temp_path ${temp('uwsgi')};
  scgi_temp_path ${temp('scgi')};
  map $http_upgrade $connection_upgrade { default upgrade; '' close; }
${serverBlock(ports.backend, backend, cert, key)}
${serverBlock(ports.auth, auth, cert, key)}
}
`;
}

/** Resolves once `port` accepts a connection; fails at once if nginx exited, and after `ms`. */
async function listening(port: number, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (nginx?.exitCode !== null) throw new Error(`nginx exited (${nginx?.exitCode}): ${readLog('error.log')}`);
    const up = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (up) return;
    if (Date.now() > deadline) throw new Error(`nginx is not listening on ${port} after ${ms} ms: ${readLog('error.log')}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function readLog(name: string, tail = 2000): string {
  try {
    return readFileSync(join(dir, name), 'utf8').slice(-tail);
  } catch {
    return '(no log)';
  }
}

beforeAll(async () => {
  expect(NGINX, 'nginx is installed (scripts/install-system-deps.sh)').toBeDefined();
  dir = mkdtempSync(join(tmpdir(), 'stagecheck-nginx-'));
  for (const name of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir, 'temp', name), { recursive: true });
  const certs = new CertificateFactory(join(dir, 'pki'));
  mkdirSync(certs.dir);
  const ca = await certs.createAuthority();
  caFile = ca.certFile;
  const server = await certs.issue({ names: SERVER_NAMES, notBefore: new Date(Date.now() - DAY), notAfter: new Date(Date.now() + 30 * DAY), label: 'nginx' });

  platform = await startTargetPlatform();
  ports = { backend: await refusedPort(), auth: await refusedPort() };
  const conf = join(dir, 'nginx.conf');
  writeFileSync(conf, nginxConfig(server.certFile, server.keyFile, platform.env.STAGING_BASE_URL!, platform.env.STAGING_AUTH_URL!));
  nginx = spawn(NGINX!, ['-p', dir, '-c', conf, '-e', join(dir, 'error.log')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  nginx.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  await listening(ports.backend, 15_000).catch((error: Error) => {
    throw new Error(`${error.message}\n${stderr}`);
  });
  await listening(ports.auth, 5_000);
}, 90_000);

afterAll(async () => {
  if (nginx && nginx.exitCode === null) {
    const exited = new Promise<void>((resolve) => nginx!.once('exit', () => resolve()));
    nginx.kill('SIGQUIT'); // graceful: the master stops its workers
    const timer = setTimeout(() => nginx?.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
  await platform?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe('the whole suite behind nginx terminating TLS', () => {
  it('passes: PASS, 0 failed, exit 0, with the proxy CA given as STAGING_CA_FILE', async () => {
    const reportDir = join(dir, 'reports');
    mkdirSync(reportDir);
    const env = platform!.suiteEnv({
      ...speedBlindEnv(),
      STAGING_BASE_URL: `https://127.0.0.1:${ports.backend}`,
      STAGING_AUTH_URL: `https://127.0.0.1:${ports.auth}`,
      STAGING_WS_URL: `wss://127.0.0.1:${ports.backend}/ws`,
      STAGING_CA_FILE: caFile,
      STAGECHECK_RUN_ID: `selftest-nginx-${randomUUID().slice(0, 8)}`,
    });
    delete env.NODE_EXTRA_CA_CERTS;
    const run = await runE2e([], { reportDir, env, timeoutMs: 240_000 });
    const report = run.report;
    expect(report, tailOf(run)).toBeDefined();
    const failed = report!.tests.filter((t) => t.verdict === 'FAIL' || t.verdict === 'INCONCLUSIVE' || t.verdict === 'BLOCKED');
    expect(failed.map((t) => `${t.fullName}: ${t.verdict} ${t.failure?.message ?? t.reason}`), tailOf(run)).toEqual([]);
    expect(report!.verdict, report!.reason).toBe('PASS');
    expect(run.exitCode, tailOf(run)).toBe(0);
    expect(report!.tests.filter((t) => t.verdict === 'PASS').length, tailOf(run)).toBeGreaterThanOrEqual(60);
    // It went through nginx: HTTP requests and the WebSocket upgrades are in its access log.
    const log = readLog('access.log', Number.MAX_SAFE_INTEGER);
    expect(log).toMatch(/"GET \/ws[^"]*" 101 /);
  }, 300_000);
});
