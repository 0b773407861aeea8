/**
 * The targets the benchmark runs against: the reference platform spawned as its CLI with
 * `--json` (exactly as a user or the suite's global setup does), optionally behind the
 * latency proxy (`bench/delay-proxy.ts`, its own process so that the benchmark's own work
 * never delays a forwarded chunk), and a closed loopback port for "platform down".
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { childEnv } from '../selftest/support/child-env.ts';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = fileURLToPath(new URL('../platform/cli.ts', import.meta.url));
const PROXY = fileURLToPath(new URL('./delay-proxy.ts', import.meta.url));
export const TSX_LOADER = createRequire(import.meta.url).resolve('tsx');

/**
 * The benchmark's own environment cleaned for a child run (selftest/support/child-env.ts: target,
 * platform, budget and report variables of the caller's shell never reach what is measured).
 */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return childEnv(extra);
}

export interface StartedPlatform {
  env: Record<string, string>;
  /** spawn → ready line on stdout (ms). */
  readyMs: number;
  /** The platform's own `startMs` (its start-up after its code was loaded). */
  startMs: number;
  pid: number | undefined;
  /** SIGTERM → exit (ms). */
  stop(): Promise<number>;
}

export async function startPlatform(options: { args?: string[]; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<StartedPlatform> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const env = cleanEnv(options.env);
  // The platform reads PLATFORM_* only when set to something: drop the blanks cleanEnv made.
  for (const name of Object.keys(env)) if (env[name] === '' && name.startsWith('PLATFORM_')) delete env[name];
  const started = performance.now();
  const child = spawn(process.execPath, ['--import', TSX_LOADER, CLI, '--json', ...(options.args ?? [])], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-4000)));
  const ready = await new Promise<{ env: Record<string, string>; startMs: number; readyMs: number }>((resolve, reject) => {
    let stdout = '';
    const fail = (why: string): void => {
      clearTimeout(timer);
      child.kill('SIGTERM');
      reject(new Error(`the reference platform did not start: ${why}\n${stderr.trim()}`));
    };
    const timer = setTimeout(() => fail(`not ready within ${timeoutMs} ms`), timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const newline = stdout.indexOf('\n');
      if (newline < 0) return;
      const readyMs = performance.now() - started;
      clearTimeout(timer);
      try {
        const parsed = JSON.parse(stdout.slice(0, newline)) as { ready?: boolean; env?: Record<string, string>; startMs?: number };
        if (!parsed.ready || !parsed.env) return fail(stdout.slice(0, newline));
        resolve({ env: parsed.env, startMs: parsed.startMs ?? Number.NaN, readyMs });
      } catch {
        fail(`not a JSON ready line: ${stdout.slice(0, 200)}`);
      }
    });
    child.once('exit', (code, signal) => fail(`exited early (${signal ?? `code ${code}`})`));
  });
  child.removeAllListeners('exit');
  return { ...ready, pid: child.pid, stop: () => stopChild(child) };
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves with the ms from SIGTERM to exit. */
export async function stopChild(child: ChildProcess, graceMs = 15_000): Promise<number> {
  if (child.exitCode !== null || child.signalCode !== null) return 0;
  const started = performance.now();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
  return performance.now() - started;
}

export interface LatencyProxy {
  /** The platform env with the backend, WebSocket and auth URLs pointed at the proxy ports. */
  env: Record<string, string>;
  ports: Record<string, number>;
  stop(): Promise<number>;
}

/**
 * Starts `bench/delay-proxy.ts` in front of the backend port (HTTP and WebSocket) and the auth
 * port, and rewrites the platform env to go through it. Stores (and the admin URL) stay direct.
 */
export async function startLatencyProxy(platformEnv: Record<string, string>, delayMs: number): Promise<LatencyProxy> {
  const backend = new URL(platformEnv.STAGING_BASE_URL ?? '');
  const auth = new URL(platformEnv.STAGING_AUTH_URL ?? '');
  const targets = [backend.host, auth.host];
  const child = spawn(process.execPath, ['--import', TSX_LOADER, PROXY, '--delay-ms', String(delayMs), ...targets.flatMap((t) => ['--target', t])], {
    cwd: ROOT,
    env: cleanEnv(),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const newline = out.indexOf('\n');
      if (newline >= 0) resolve(out.slice(0, newline));
    });
    child.once('exit', (code) => reject(new Error(`delay proxy exited (${code})`)));
  });
  child.removeAllListeners('exit');
  const { proxies } = JSON.parse(line) as { proxies: { target: string; port: number }[] };
  const portFor = (host: string): number => {
    const found = proxies.find((p) => p.target === host);
    if (!found) throw new Error(`no proxy for ${host}`);
    return found.port;
  };
  const via = (url: string, host: string): string => {
    const parsed = new URL(url);
    parsed.port = String(portFor(host));
    return parsed.toString().replace(/\/$/, '');
  };
  const env = {
    ...platformEnv,
    STAGING_BASE_URL: via(platformEnv.STAGING_BASE_URL ?? '', backend.host),
    STAGING_WS_URL: via(platformEnv.STAGING_WS_URL ?? '', backend.host),
    STAGING_AUTH_URL: via(platformEnv.STAGING_AUTH_URL ?? '', auth.host),
  };
  return { env, ports: { backend: portFor(backend.host), auth: portFor(auth.host) }, stop: () => stopChild(child) };
}

/** A loopback port nothing listens on (bound, then closed): connections are refused at once. */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The faults the running platform offers (GET /__platform/faults), or [] when it cannot say. */
export async function faultCatalog(platformEnv: Record<string, string>): Promise<string[]> {
  const url = platformEnv.PLATFORM_ADMIN_URL;
  const token = platformEnv.PLATFORM_ADMIN_TOKEN;
  if (!url || !token) return [];
  try {
    const response = await fetch(`${url}/faults`, { headers: { 'X-Platform-Admin-Token': token }, signal: AbortSignal.timeout(5_000) });
    const body = (await response.json()) as { catalog?: { name?: string }[] };
    return (body.catalog ?? []).map((f) => String(f.name));
  } catch {
    return [];
  }
}
