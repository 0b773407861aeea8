import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

const KILL_GRACE_MS = 3000;

/** Told about every pid from spawn to exit (the watchdog), so no window exists where a crash leaks one. */
export interface PidTracker {
  trackPid(pid: number | undefined): void;
  untrackPid(pid: number | undefined): void;
}
const KEPT_OUTPUT_LINES = 40;

/**
 * A store server process we own: output kept (not printed) for error messages, readiness by
 * waiting for a log line, and a stop that escalates to SIGKILL so nothing survives teardown.
 */
export class ManagedProcess {
  readonly name: string;
  private readonly child: ChildProcess;
  private readonly output: string[] = [];
  private readonly lineWaiters = new Set<(line: string) => void>();
  private readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;

  constructor(name: string, command: string, args: string[], options: SpawnOptions, tracker?: PidTracker) {
    this.name = name;
    // Own process group: a terminal Ctrl-C reaches only us, and we stop the stores in order.
    this.child = spawn(command, args, { ...options, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    tracker?.trackPid(this.child.pid);
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        tracker?.untrackPid(this.child.pid);
        this.exitInfo = { code, signal };
        resolve(this.exitInfo);
      });
      this.child.once('error', (error) => {
        this.record(`spawn error: ${error.message}`);
        this.exitInfo = { code: -1, signal: null };
        resolve(this.exitInfo);
      });
    });
    for (const stream of [this.child.stdout, this.child.stderr]) {
      let pending = '';
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        pending += chunk;
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) this.record(line);
      });
    }
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get hasExited(): boolean {
    return this.exitInfo !== undefined;
  }

  /** The last lines the process wrote, for error messages. */
  recentOutput(): string {
    return this.output.join('\n');
  }

  private record(line: string): void {
    this.output.push(line);
    if (this.output.length > KEPT_OUTPUT_LINES) this.output.shift();
    for (const waiter of this.lineWaiters) waiter(line);
  }

  /** Resolves when a line matches; rejects if the process exits first or the deadline passes. */
  waitForLine(pattern: RegExp, timeoutMs: number): Promise<void> {
    if (this.output.some((line) => pattern.test(line))) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const cleanup = (): void => {
        clearTimeout(timer);
        this.lineWaiters.delete(onLine);
      };
      const onLine = (line: string): void => {
        if (!pattern.test(line)) return;
        cleanup();
        resolve();
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`${this.name} not ready after ${timeoutMs} ms`));
      }, timeoutMs);
      this.lineWaiters.add(onLine);
      void this.exited.then(({ code, signal }) => {
        if (!this.lineWaiters.has(onLine)) return;
        cleanup();
        reject(new Error(`${this.name} exited (${signal ?? `code ${code}`}) before it was ready`));
      });
    });
  }

  /** Waits for the process to exit by itself (used for one-shot tools like initdb). */
  async completion(): Promise<number | null> {
    const { code, signal } = await this.exited;
    return signal ? -1 : code;
  }

  /** Sends `signal`, then SIGKILL after a grace period; resolves once the process is gone. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (this.exitInfo) return;
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), KILL_GRACE_MS);
    await this.exited;
    clearTimeout(timer);
  }

  /** Last resort on process exit: synchronous and unconditional. */
  killNow(): void {
    if (!this.exitInfo) this.child.kill('SIGKILL');
  }
}
