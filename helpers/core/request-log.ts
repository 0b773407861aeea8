/**
 * The timing of every request the suite makes, for the reporter's per-endpoint latency KPIs and
 * each component's cold start (docs/reports.md, "Latency per endpoint" and "Cold start on its own").
 *
 * The HTTP client and the WebSocket handshake append one entry per answered request to this
 * process's log; the `report` fixture moves what the log holds into the test's
 * `task.meta.stagecheck.requests` when the test ends. The clients are shared by a worker's
 * tests, which run concurrently, so an entry lands in the meta of the test that ends next, not
 * always the one that made the request: these timings are judged per endpoint over the whole
 * run, never per test. Entries carry their start time (epoch ms), so the reporter can tell which
 * requests overlapped a component's first answer (its cold start) across workers.
 */
import type { Component } from './errors.ts';

export interface RequestTiming {
  /** backend, auth or websocket. */
  component: Component;
  /** Method and path template, e.g. `GET /api/threads/:id/messages` (see {@link endpointTemplate}). */
  endpoint: string;
  /** Epoch ms when the request started. */
  startedAt: number;
  /** From the start to the end of the answer (HTTP: last body byte; WebSocket: the upgrade answered). */
  ms: number;
  /** HTTP status (101 for an accepted WebSocket upgrade). */
  status?: number;
}

/** Cap per process between two drains: a runaway loop must not grow a test's meta without bound. */
const MAX_PENDING = 5_000;

const pending: RequestTiming[] = [];
let dropped = 0;

/** Appends one answered request's timing to this process's log. */
export function recordRequest(entry: RequestTiming): void {
  if (!Number.isFinite(entry.ms) || !Number.isFinite(entry.startedAt)) return;
  if (pending.length >= MAX_PENDING) {
    dropped += 1;
    return;
  }
  pending.push({ ...entry, ms: Math.round(entry.ms * 10) / 10 });
}

/** Takes every entry logged since the last drain (and how many were dropped over the cap). */
export function drainRequests(): { requests: RequestTiming[]; dropped: number } {
  const requests = pending.splice(0, pending.length);
  const lost = dropped;
  dropped = 0;
  return { requests, dropped: lost };
}

const ID_SEGMENT = /^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|\d+|[0-9a-f]{16,}|e2e-.+)$/i;

/**
 * The method and path template of a request: the query is dropped and every segment that names
 * a resource becomes `:id` (the segment after `/threads/`, and anything shaped like an id: a
 * UUID, digits, a long hex string, a run-scoped `e2e-…` name). `GET /api/threads/3f…/messages?x=1`
 * → `GET /api/threads/:id/messages`.
 */
export function endpointTemplate(method: string, path: string): string {
  const bare = (path.split(/[?#]/)[0] ?? '').replace(/\/+$/, '') || '/';
  const segments = bare.split('/');
  const out = segments.map((segment, index) => {
    if (index === 0 || segment === '') return segment;
    if (segments[index - 1] === 'threads') return ':id';
    return ID_SEGMENT.test(decodeURIComponentSafe(segment)) ? ':id' : segment;
  });
  return `${method.toUpperCase()} ${out.join('/') || '/'}`;
}

function decodeURIComponentSafe(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** The path of a WebSocket URL, without its query (a single-use ticket rides there). */
export function upgradePath(url: string): string {
  try {
    return new URL(url).pathname || '/';
  } catch {
    return '/';
  }
}
