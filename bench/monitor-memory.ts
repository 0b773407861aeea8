/**
 * `npx tsx bench/monitor-memory.ts [--iterations 100] [--every 1s] [--phases 1]`: does the
 * monitor's memory stay flat? Runs `npm run monitor`'s script for N real iterations against
 * the bundled reference platform (which the monitor starts once), reads the monitor process's
 * own RSS (/proc/<pid>/status VmRSS) each time it prints an iteration line, and prints the
 * first, median and last figure, with the growth from the first tenth to the last tenth.
 * The iterations (e2e, Vitest, the platform) are other processes: only the monitor's RSS is
 * what the monitor keeps. Reports go to a temporary folder (--keep 5), removed at the end.
 *
 * RSS includes garbage V8 has not collected yet. So after each iteration line the bench also
 * asks the monitor (SIGUSR2 to bench/monitor-heap-probe.ts, preloaded with --expose-gc) for its
 * V8 heap after a full collection: what it really retains.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { childEnv } from '../selftest/support/child-env.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TSX = createRequire(import.meta.url).resolve('tsx');
const PROBE = join(ROOT, 'bench', 'monitor-heap-probe.ts');

interface Sample {
  iteration: number;
  verdict: string;
  rssKb: number;
  /** V8 heap after a full GC, bytes (arrives a moment after the line). */
  heap?: number;
}

function rssKb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

const mb = (kb: number): string => `${(kb / 1024).toFixed(1)} MB`;

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { iterations: { type: 'string', default: '100' }, every: { type: 'string', default: '1s' }, phases: { type: 'string', default: '1' } } });
  const iterations = Number(values.iterations);
  const dir = mkdtempSync(join(tmpdir(), 'stagecheck-monitor-memory-'));
  const started = performance.now();
  const samples: Sample[] = [];
  try {
    const child = spawn(process.execPath, ['--expose-gc', '--import', TSX, '--import', PROBE, join(ROOT, 'scripts', 'monitor.ts'), '--every', values.every, '--iterations', String(iterations), '--phases', values.phases, '--keep', '5'], {
      cwd: ROOT,
      env: childEnv({ STAGECHECK_REPORT_DIR: dir }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const pid = child.pid as number;
    let errBuffered = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      errBuffered += chunk;
      const lines = errBuffered.split('\n');
      errBuffered = lines.pop() ?? '';
      for (const line of lines) {
        const heap = /^stagecheck-heap (\d+)$/.exec(line);
        const waiting = [...samples].reverse().find((s) => s.heap === undefined);
        if (heap && waiting) waiting.heap = Number(heap[1]);
        else if (!heap) process.stderr.write(`${line}\n`);
      }
    });
    let buffered = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        const match = /\biteration (\d+) {2}(\S+)/.exec(line);
        if (!match) continue;
        const sample = { iteration: Number(match[1]), verdict: match[2] as string, rssKb: rssKb(pid) };
        samples.push(sample);
        child.kill('SIGUSR2');
        if (sample.iteration === 1 || sample.iteration % 10 === 0) process.stdout.write(`iteration ${sample.iteration}: ${sample.verdict}, monitor RSS ${mb(sample.rssKb)}${samples.at(-2)?.heap ? `, heap after GC (previous iteration) ${mb((samples.at(-2)?.heap as number) / 1024)}` : ''}\n`);
      }
    });
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    if (code !== 0 || samples.length !== iterations) {
      process.stderr.write(`monitor ended with ${code} after ${samples.length} of ${iterations} iterations\n`);
      return 1;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const rss = samples.map((s) => s.rssKb);
  const tenth = Math.max(1, Math.floor(rss.length / 10));
  const head = median(rss.slice(0, tenth));
  const tail = median(rss.slice(-tenth));
  const heaps = samples.flatMap((s) => (s.heap === undefined ? [] : [s.heap / 1024]));
  const verdicts = Object.entries(samples.reduce<Record<string, number>>((acc, s) => ({ ...acc, [s.verdict]: (acc[s.verdict] ?? 0) + 1 }), {})).map(([v, n]) => `${n} ${v}`).join(', ');
  process.stdout.write(
    `monitor RSS over ${samples.length} iterations (--phases ${values.phases}, --every ${values.every}; ${verdicts}; ${((performance.now() - started) / 60_000).toFixed(1)} min): ` +
      `first ${mb(rss[0] as number)}, median ${mb(median(rss))}, last ${mb(rss.at(-1) as number)}; min ${mb(Math.min(...rss))}, max ${mb(Math.max(...rss))}; ` +
      `median of the first tenth ${mb(head)}, of the last tenth ${mb(tail)} (${tail >= head ? '+' : ''}${mb(tail - head)})\n` +
      (heaps.length ? `monitor V8 heap after a full GC: first ${mb(heaps[0] as number)}, median ${mb(median(heaps))}, last ${mb(heaps.at(-1) as number)} (${heaps.length} samples)\n` : ''),
  );
  return 0;
}

main().then((code) => process.exit(code));
