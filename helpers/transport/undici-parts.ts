/**
 * The parts of undici the HTTP client uses, each loaded from its own file instead of undici's
 * index: the index loads all of undici (fetch, cookies, caches, mocks, its WebSocket...), which
 * cost each worker ~45 ms more before its first probe (docs/performance.md). The types still come
 * from the index; selftest/unit/undici-parts.test.ts proves these are the index's own objects, so
 * an undici upgrade that moves a file fails there, by name, not in a run.
 */
import { createRequire } from 'node:module';
import type { Agent as UndiciAgent, buildConnector as undiciBuildConnector, Dispatcher } from 'undici';

/** Where each part lives inside the undici package. */
export const UNDICI_PART_FILES = {
  Agent: 'undici/lib/dispatcher/agent.js',
  buildConnector: 'undici/lib/core/connect.js',
  /** What the index installs as `Dispatcher.prototype.request`. */
  request: 'undici/lib/api/api-request.js',
} as const;

const load = createRequire(import.meta.url);

export const Agent = load(UNDICI_PART_FILES.Agent) as typeof UndiciAgent;
export const buildConnector = load(UNDICI_PART_FILES.buildConnector) as typeof undiciBuildConnector;
const apiRequest = load(UNDICI_PART_FILES.request) as (this: Dispatcher, options: Dispatcher.RequestOptions) => Promise<Dispatcher.ResponseData>;

/** `dispatcher.request(options)` without the index having installed `request` on every dispatcher. */
export function requestOn(dispatcher: Dispatcher, options: Dispatcher.RequestOptions): Promise<Dispatcher.ResponseData> {
  return apiRequest.call(dispatcher, options);
}
