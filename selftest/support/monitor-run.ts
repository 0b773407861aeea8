/**
 * For the monitor's self-tests: `npm run monitor`'s script as a child process, a loopback
 * webhook receiver that records what it was sent (and can refuse the first deliveries), and
 * the process tree below a pid, to prove that nothing outlives an interrupted monitor.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { AlertBody } from '../../scripts/monitor/alert-body.ts';
import type { ChildEnv } from './child-env.ts';
import { closeServer, listen } from './net.ts';
import { ROOT } from './run-e2e.ts';

const TSX = createRequire(import.meta.url).resolve('tsx');
const MONITOR = join(ROOT, 'scripts', 'monitor.ts');

export interface MonitorChild {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with how it ended, once it and every process holding its output have. */
  ended: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * `node --import tsx scripts/monitor.ts <args>`, as `npm run monitor` starts it, in a process
 * group of its own like a terminal's foreground job (`process.kill(-pid, 'SIGINT')` is Ctrl-C);
 * killed after `timeoutMs`.
 */
export function startMonitorCli(args: readonly string[], env: ChildEnv, timeoutMs = 170_000): MonitorChild {
  const child = spawn(process.execPath, ['--import', TSX, MONITOR, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal });
    }),
  );
  return { child, stdout: () => stdout, stderr: () => stderr, ended };
}

export interface Delivered {
  path: string;
  status: number;
  body: AlertBody;
}

export interface WebhookReceiver {
  /** The URL with `path` (which may carry a token) on this receiver. */
  url(path: string): string;
  /** Every request, in order, with the status it was answered with. */
  requests: Delivered[];
  /** Deliveries answered 2xx. */
  accepted(): AlertBody[];
  close(): Promise<void>;
}

/** A loopback HTTP server taking JSON POSTs; the first `refuse` requests get HTTP 500. */
export async function startWebhookReceiver(options: { refuse?: number } = {}): Promise<WebhookReceiver> {
  const requests: Delivered[] = [];
  let refuse = options.refuse ?? 0;
  const server = http.createServer((request, response) => {
    let data = '';
    request.setEncoding('utf8').on('data', (chunk: string) => (data += chunk));
    request.on('end', () => {
      const status = refuse > 0 ? 500 : 200;
      refuse -= 1;
      requests.push({ path: request.url ?? '', status, body: JSON.parse(data) as AlertBody });
      response.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'ok' : 'refused on purpose');
    });
  });
  const port = await listen(server);
  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    requests,
    accepted: () => requests.filter((r) => r.status === 200).map((r) => r.body),
    close: () => closeServer(server),
  };
}

export { descendantsOf, stillRunning, type ProcessInfo } from './processes.ts';
