import { spawn, type ChildProcess } from 'node:child_process';

/**
 * If the platform's Node process dies without running its teardown (SIGKILL, a crashed test
 * worker), the store servers would outlive it. This detached helper holds a pipe from us: on
 * EOF without a prior "release" it SIGKILLs the tracked pids and removes the tracked dirs.
 */
const script = `
const { rmSync } = require('node:fs');
const pids = new Set(); const dirs = new Set(); let released = false; let buf = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  buf += chunk; const lines = buf.split('\\n'); buf = lines.pop();
  for (const line of lines) {
    let m; try { m = JSON.parse(line); } catch { continue; }
    if (m.op === 'pid') pids.add(m.value); else if (m.op === 'unpid') pids.delete(m.value);
    else if (m.op === 'dir') dirs.add(m.value); else if (m.op === 'undir') dirs.delete(m.value);
    else if (m.op === 'release') released = true;
  }
});
process.stdin.on('end', () => {
  if (!released) {
    for (const pid of pids) { try { process.kill(pid, 'SIGKILL'); } catch {} }
    setTimeout(() => { for (const dir of dirs) { try { rmSync(dir, { recursive: true, force: true }); } catch {} } process.exit(0); }, 300);
  } else process.exit(0);
});
for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(s, () => {});
`;

export class Watchdog {
  private readonly child: ChildProcess;

  constructor() {
    this.child = spawn(process.execPath, ['-e', script], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
    this.child.on('error', () => {});
    this.child.stdin?.on('error', () => {});
    // Never keep the host process alive just for the watchdog.
    this.child.unref();
    (this.child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  private send(op: string, value?: number | string): void {
    this.child.stdin?.write(`${JSON.stringify({ op, value })}\n`);
  }

  trackPid(pid: number | undefined): void {
    if (pid) this.send('pid', pid);
  }
  untrackPid(pid: number | undefined): void {
    if (pid) this.send('unpid', pid);
  }
  trackDir(dir: string): void {
    this.send('dir', dir);
  }
  untrackDir(dir: string): void {
    this.send('undir', dir);
  }

  /** Normal teardown finished: let the watchdog exit without touching anything. */
  release(): void {
    this.send('release');
    this.child.stdin?.end();
  }
}
