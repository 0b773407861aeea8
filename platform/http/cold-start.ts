import { sleep } from '../util/time.ts';

/**
 * A component's cold start, as a serverless deployment has one (the contract: +3–4 s on the
 * first request after idle). The first request starts it; every request that arrives before it
 * is over waits with it, as requests queue behind an instance that is still starting; then the
 * component is warm for good.
 */
export class ColdStart {
  readonly ms: number;
  private warmAt: number | undefined;

  constructor(ms: number) {
    this.ms = ms;
  }

  /** Undefined when warm (no delay at all); else resolves when the cold start is over. */
  wait(): Promise<void> | undefined {
    if (this.ms <= 0) return undefined;
    const now = Date.now();
    this.warmAt ??= now + this.ms;
    const left = this.warmAt - now;
    return left > 0 ? sleep(left) : undefined;
  }

  /** Runs `handle` now when warm, else once the cold start is over. */
  run(handle: () => void): void {
    const pending = this.wait();
    if (pending) void pending.then(handle);
    else handle();
  }
}

export type ColdStartComponent = 'backend' | 'auth' | 'websocket';
export type ColdStarts = Record<ColdStartComponent, ColdStart>;

export function coldStarts(ms: number): ColdStarts {
  return { backend: new ColdStart(ms), auth: new ColdStart(ms), websocket: new ColdStart(ms) };
}
