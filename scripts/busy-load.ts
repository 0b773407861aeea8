/**
 * A loaded machine on demand, for the repeat scripts: N busy loops, each its own process, so
 * the runs share the CPU as they do beside other work. Stopped with SIGKILL (a busy loop has
 * nothing to clean up), also when the script is interrupted.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export interface BusyLoad {
  readonly processes: number;
  stop(): void;
}

export function startBusyLoad(n: number): BusyLoad {
  const busy: ChildProcess[] = Array.from({ length: n }, () => spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' }));
  const stop = () => busy.forEach((p) => p.kill('SIGKILL'));
  process.once('SIGINT', () => {
    stop();
    process.exit(130);
  });
  return { processes: n, stop };
}
