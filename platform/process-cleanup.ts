/**
 * Process-level safety nets for running platforms: a synchronous kill on 'exit' (whatever the
 * reason), and optionally a graceful stop on SIGINT/SIGTERM followed by the default behaviour.
 */
export interface Stoppable {
  stop(): Promise<void>;
  killNow(): void;
  handleSignals: boolean;
}

const running = new Set<Stoppable>();
let exitHookInstalled = false;
let signalHandlersInstalled = false;

function onExit(): void {
  for (const platform of running) platform.killNow();
}

function onSignal(signal: NodeJS.Signals): void {
  removeSignalHandlers();
  const stopping = [...running].filter((platform) => platform.handleSignals).map((platform) => platform.stop());
  void Promise.allSettled(stopping).then(() => {
    // Re-raise so the host process gets the default (or its own) handling of the signal.
    process.kill(process.pid, signal);
  });
}

function removeSignalHandlers(): void {
  if (!signalHandlersInstalled) return;
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  signalHandlersInstalled = false;
}

export function registerRunning(platform: Stoppable): void {
  running.add(platform);
  if (!exitHookInstalled) {
    process.on('exit', onExit);
    exitHookInstalled = true;
  }
  if (platform.handleSignals && !signalHandlersInstalled) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    signalHandlersInstalled = true;
  }
}

export function unregisterRunning(platform: Stoppable): void {
  running.delete(platform);
  if (![...running].some((other) => other.handleSignals)) removeSignalHandlers();
  if (running.size === 0 && exitHookInstalled) {
    process.off('exit', onExit);
    exitHookInstalled = false;
  }
}
