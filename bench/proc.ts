/**
 * Runs one command as a child process and measures it: wall time from spawn to exit, and,
 * when asked, peak memory two ways:
 *
 * - `maxRssKb`: GNU `/usr/bin/time -v` "Maximum resident set size". The kernel reports the
 *   largest RSS of any *single* process in the tree that was waited for (the Vitest main
 *   process, a fork worker, a spawned platform...), not a sum.
 * - `tree`: this module samples `/proc` every {@link SAMPLE_MS} ms, finds every descendant of
 *   the child, and sums their RSS and PSS (`/proc/<pid>/smaps_rollup`). The RSS sum counts
 *   shared pages (the node binary, shared libraries) once per process, so it overstates; the
 *   PSS sum splits shared pages between the processes sharing them and is the better "total".
 *   A spike shorter than the interval can be missed.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

export const GNU_TIME = '/usr/bin/time';
export const SAMPLE_MS = 200;

export interface ProcessPeak {
  pid: number;
  /** What the process is, from its command line ({@link processLabel}). */
  label: string;
  /** Highest RSS this one process had in any sample (kB). */
  peakRssKb: number;
}

export interface TreeMemory {
  /** Every process seen in the tree, with its own peak RSS, largest first. */
  perProcess: ProcessPeak[];
  /** Peak over the samples of the summed RSS of the process tree (kB). */
  peakRssKb: number;
  /** Peak over the samples of the summed PSS of the process tree (kB), when smaps_rollup is readable. */
  peakPssKb: number | null;
  /** Most processes seen in the tree in one sample. */
  peakProcesses: number;
  samples: number;
}

export interface TimedRun {
  wallMs: number;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Date.now() at spawn, to line up with timestamps in a Vitest JSON report. */
  spawnedAtEpoch: number;
  timedOut: boolean;
  maxRssKb?: number;
  tree?: TreeMemory;
}

export interface RunOptions {
  env: NodeJS.ProcessEnv;
  cwd: string;
  timeoutMs: number;
  /** Wrap in `/usr/bin/time -v` (when present) and sample the tree's memory. */
  measureMemory?: boolean;
}

export function haveGnuTime(): boolean {
  return existsSync(GNU_TIME);
}

export async function runTimed(command: string, args: string[], options: RunOptions): Promise<TimedRun> {
  const useTime = options.measureMemory === true && haveGnuTime();
  const dir = useTime ? mkdtempSync(join(tmpdir(), 'stagecheck-bench-time-')) : undefined;
  const timeFile = dir ? join(dir, 'time.txt') : undefined;
  const [file, argv] = timeFile ? [GNU_TIME, ['-v', '-o', timeFile, command, ...args]] : [command, args];

  const spawnedAtEpoch = Date.now();
  const started = performance.now();
  const child = spawn(file, argv, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-20_000)));

  const sampler = options.measureMemory && child.pid !== undefined ? sampleTree(child.pid) : undefined;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, options.timeoutMs);
  const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (exitCode, exitSignal) => resolve({ code: exitCode, signal: exitSignal }));
  });
  const wallMs = performance.now() - started;
  clearTimeout(timer);
  // Output may still be in the pipes; do not hang on a grandchild that inherited them.
  await Promise.race([new Promise((resolve) => child.once('close', resolve)), new Promise((resolve) => setTimeout(resolve, 2_000))]);
  const tree = sampler ? await sampler.stop() : undefined;

  const result: TimedRun = { wallMs, exitCode: code, signal, stdout, stderr, spawnedAtEpoch, timedOut };
  if (tree) result.tree = tree;
  if (timeFile && dir) {
    try {
      const text = readFileSync(timeFile, 'utf8');
      const match = /Maximum resident set size \(kbytes\): (\d+)/.exec(text);
      if (match) result.maxRssKb = Number(match[1]);
      // GNU time reports the command's status; when the command was killed by a signal it says so.
      const exit = /Exit status: (\d+)/.exec(text);
      if (exit) result.exitCode = Number(exit[1]);
    } catch {
      // the run was killed before time wrote its report
    }
    rmSync(dir, { recursive: true, force: true });
  }
  return result;
}

/**
 * A short name for a process of the tree, from `/proc/<pid>/cmdline`: the Vitest main process,
 * a Vitest fork worker, the reference platform, its PostgreSQL and Redis, /usr/bin/time...
 */
export function processLabel(cmdline: string): string {
  const argv = cmdline.split('\0').filter(Boolean);
  const text = argv.join(' ');
  if (argv[0] === GNU_TIME) return '/usr/bin/time';
  if (/vitest\/dist\/workers\/forks|vitest\/dist\/.*fork/.test(text)) return 'Vitest fork worker';
  if (/vitest\.mjs/.test(text)) return 'Vitest main process';
  if (/platform\/cli\.ts/.test(text)) return 'reference platform (node)';
  if (/scripts\/e2e\.ts/.test(text)) return 'npm run e2e (node)';
  if (/bare-floor\.ts|floor\.ts/.test(text)) return 'floor (node)';
  if (/postgres|postmaster/.test(argv[0] ?? '')) return 'PostgreSQL';
  if (/redis-server/.test(argv[0] ?? '')) return 'Redis';
  const base = (argv[0] ?? '?').split('/').pop() ?? '?';
  if (base === 'node' && (argv.includes('-e') || argv.includes('--eval'))) return 'node -e (inline script)';
  return base === 'node' ? `node ${(argv[argv.length - 1] ?? '').split('/').slice(-2).join('/')}` : base;
}

/** Starts sampling the tree under `root` every {@link SAMPLE_MS} ms; `stop()` returns the peaks. */
export function sampleTree(root: number): { stop(): Promise<TreeMemory> } {
  const memory: TreeMemory = { perProcess: [], peakRssKb: 0, peakPssKb: null, peakProcesses: 0, samples: 0 };
  const peaks = new Map<number, ProcessPeak>();
  let running = true;
  const loop = (async () => {
    while (running) {
      const started = performance.now();
      try {
        const pids = await descendants(root);
        let rss = 0;
        let pss = 0;
        let pssSeen = false;
        await Promise.all(
          pids.map(async (pid) => {
            let own: number | undefined;
            try {
              const rollup = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8');
              const r = /^Rss:\s+(\d+) kB/m.exec(rollup);
              const p = /^Pss:\s+(\d+) kB/m.exec(rollup);
              if (r) own = Number(r[1]);
              if (r) rss += Number(r[1]);
              if (p) {
                pss += Number(p[1]);
                pssSeen = true;
              }
            } catch {
              try {
                const status = await readFile(`/proc/${pid}/status`, 'utf8');
                const r = /^VmRSS:\s+(\d+) kB/m.exec(status);
                if (r) own = Number(r[1]);
                if (r) rss += Number(r[1]);
              } catch {
                // gone
              }
            }
            if (own === undefined) return;
            let peak = peaks.get(pid);
            if (!peak) {
              const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
              peak = { pid, label: processLabel(cmdline), peakRssKb: 0 };
              peaks.set(pid, peak);
            }
            peak.peakRssKb = Math.max(peak.peakRssKb, own);
          }),
        );
        memory.samples += 1;
        memory.peakRssKb = Math.max(memory.peakRssKb, rss);
        if (pssSeen) memory.peakPssKb = Math.max(memory.peakPssKb ?? 0, pss);
        memory.peakProcesses = Math.max(memory.peakProcesses, pids.length);
      } catch {
        // /proc unreadable: no tree figures
      }
      const left = SAMPLE_MS - (performance.now() - started);
      if (left > 0) await new Promise((resolve) => setTimeout(resolve, left));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      memory.perProcess = [...peaks.values()].sort((a, b) => b.peakRssKb - a.peakRssKb);
      return memory;
    },
  };
}

/** The root and every process below it, from the ppid field of /proc/<pid>/stat. */
async function descendants(root: number): Promise<number[]> {
  const entries = await readdir('/proc');
  const parentOf = new Map<number, number>();
  await Promise.all(
    entries.map(async (entry) => {
      if (!/^\d+$/.test(entry)) return;
      try {
        const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
        // pid (comm) state ppid ...: comm may contain spaces and parentheses, so split after the last ')'.
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        parentOf.set(Number(entry), Number(fields[1]));
      } catch {
        // exited meanwhile
      }
    }),
  );
  const tree = new Set<number>([root]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, ppid] of parentOf) {
      if (!tree.has(pid) && tree.has(ppid)) {
        tree.add(pid);
        grew = true;
      }
    }
  }
  return [...tree].filter((pid) => parentOf.has(pid));
}
