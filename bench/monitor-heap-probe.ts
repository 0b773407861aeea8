/**
 * Preloaded into the monitor by bench/monitor-memory.ts only (with --expose-gc): on SIGUSR2 it
 * runs a full garbage collection and prints `stagecheck-heap <bytes>` on stderr, the V8 heap the
 * monitor still holds. RSS alone cannot tell retained memory from garbage V8 has not collected
 * yet; this tells them apart without a hook in the monitor itself.
 */
process.on('SIGUSR2', () => {
  (globalThis as { gc?: () => void }).gc?.();
  process.stderr.write(`stagecheck-heap ${process.memoryUsage().heapUsed}\n`);
});
