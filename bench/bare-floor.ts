/**
 * The floor process the benchmark spawns: bench/floor.ts's probes (every phase-1 probe as bare
 * code, all started at once in this one process), with the cost of loading them measured apart.
 *
 * Two floors come out of one run of it:
 * - its wall time, spawn → exit, measured by the benchmark (Node, the tsx loader, the client
 *   libraries, the probes, clean-up, exit): the "floor process" the suite's wall is compared to;
 * - `bareMs` = loading the client libraries (`postgres`, `ioredis`, `ws`) and floor.ts +
 *   first request → verdict + clean-up: the "bare-probe floor", what phase 1's probes cost on
 *   top of a Node process that is already running, so that Vitest's own floor (an empty test
 *   file under `vitest run`, bench/vitest-floor.ts) plus this one is what a suite that added
 *   nothing to Vitest and to the probes would take.
 *
 * Prints floor.ts's JSON result line with `importMs` and `bareMs` added.
 */
import { performance } from 'node:perf_hooks';

const started = performance.now();
await Promise.all([import('postgres'), import('ioredis'), import('ws')]);
const { runFloor, targetFromEnv } = await import('./floor.ts');
const importMs = performance.now() - started;

try {
  const result = await runFloor(targetFromEnv(process.env));
  process.stdout.write(`${JSON.stringify({ ...result, importMs, bareMs: importMs + result.probesMs + result.cleanupMs })}\n`);
  process.exit(result.ok ? 0 : 1);
} catch (error) {
  process.stdout.write(`${JSON.stringify({ ok: false, failures: [(error as Error).message] })}\n`);
  process.exit(2);
}
