export type LifecycleState = 'starting' | 'ready' | 'stopping';

/** Health endpoints and the WebSocket gateway answer 503 outside `ready`. */
export class Lifecycle {
  state: LifecycleState = 'starting';
  readonly startedAt = Date.now();

  get ready(): boolean {
    return this.state === 'ready';
  }

  uptimeSeconds(): number {
    return Math.round((Date.now() - this.startedAt) / 100) / 10;
  }
}
