/**
 * Fail fast on a dead component (issue 14 §1).
 *
 * Without it a backend that stops answering costs every later test its own HTTP budget: 37
 * phase-2 failures, 10 s each, one cause. With it:
 *
 * - A request that fails at the transport layer (refused, reset, DNS, timed out) raises a
 *   suspicion, and one confirmation probe (`GET /health` of the same component, bounded by the
 *   cold-start allowance plus a second, so a cold start never trips it) decides. A single
 *   transient error does not trip it: the probe answers, and only that request fails.
 * - When the probe agrees, the component is marked down for the rest of the run: every later
 *   request to it fails at once, requests in flight are cut short, and all of them carry the same
 *   message (component, layer, code, down since, last good answer), so every report groups them
 *   as one cause. KPI samples cut short this way are failed samples, not missing ones (they throw
 *   a CheckError like any failed sample).
 * - The mark is shared by the run's workers through a small state file named by the run id;
 *   workers poll it only while they have requests in flight.
 * - A component that comes back is used again: while it is marked down, a background probe runs
 *   at most every `reprobeAfterMs`; when it answers, the mark is lifted and a `back` event is
 *   recorded for the report, as the `down` event was.
 */
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CheckError, isCheckError, messageOf, type Component, type Layer } from '../core/errors.ts';
import type { ComponentEvent } from '../core/meta.ts';
import { TIMEOUT_CODES } from '../core/network-errors.ts';
import { writeFileAtomically } from '../core/atomic-file.ts';

/** A confirmed outage, as the state file and every cut-short failure's evidence carry it. */
export interface DownState {
  component: Component;
  /** When the request that raised the suspicion failed (epoch ms). */
  since: number;
  /** When the probe agreed (epoch ms). */
  confirmedAt: number;
  /** The component's last answer (any HTTP status) seen by the worker that confirmed it (epoch ms). */
  lastGoodAt?: number;
  layer: Layer;
  code?: string | number;
  /** The failure that raised the suspicion (its message, already free of secrets). */
  firstFailure: string;
  /** The confirmation probe and how it failed. */
  probe: string;
}

export interface FailFastOptions {
  /** Directory for the run's shared marks: one per run id, so runs never see each other's. */
  stateDir?: string;
  /** Bound of one confirmation probe: above the cold-start allowance. */
  probeTimeoutMs: number;
  /** While down, probe again at most this often. */
  reprobeAfterMs?: number;
}

const DEFAULT_REPROBE_MS = 5_000;
const POLL_MS = 250;
const TIMEOUTS: ReadonlySet<string> = new Set(Object.values(TIMEOUT_CODES));

/**
 * How long an unanswered request or a silent wait lasts before it raises a suspicion: half the
 * probe's bound, so a dead component is confirmed within one and a half probe bounds.
 */
export function suspicionAfterMs(options: FailFastOptions): number {
  return options.probeTimeoutMs / 2;
}

/** The run's shared state directory under the system temp dir. */
export function failFastStateDir(runId: string): string {
  return join(tmpdir(), 'stagecheck-components', runId);
}

/**
 * A transport-layer failure: nothing answered at the HTTP level. A certificate problem is not
 * one (it is a certificate, answered the same way every time, and has its own one cause), nor
 * is any HTTP status: a component that answers 503 is up at the transport layer.
 */
export function isTransportFailure(error: unknown): error is CheckError {
  if (!isCheckError(error)) return false;
  const { layer, code } = error.details;
  if (layer === 'dns' || layer === 'tcp') return true;
  return (layer === 'tls' || layer === 'http-status') && TIMEOUTS.has(String(code));
}

/** `GET http://host:port/health` → `GET /health`: the host is the component's, already named. */
function pathOnly(endpoint: string): string {
  const [method, url = ''] = endpoint.split(' ');
  try {
    return `${method} ${new URL(url).pathname}`;
  } catch {
    return endpoint;
  }
}

const clock = (epochMs: number): string => new Date(epochMs).toISOString().slice(11, 23);

/**
 * The one message of every failure an outage cut short: the same text for every test (the
 * reporter groups failures by component, layer, code and message), the request in `endpoint`.
 */
export function downError(down: DownState, endpoint: string, cutShort?: unknown): CheckError {
  const code = down.code === undefined ? '' : ` ${down.code}`;
  const lastGood = down.lastGoodAt === undefined ? 'no answer from it earlier in this run' : `last good answer at ${clock(down.lastGoodAt)}`;
  return new CheckError(
    `${down.component} is down since ${clock(down.since)} UTC (${down.layer}${code}, confirmed by ${down.probe}); ${lastGood}`,
    {
      component: down.component,
      layer: down.layer,
      code: down.code,
      endpoint,
      evidence: { down, ...(cutShort === undefined ? {} : { cutShort: messageOf(cutShort) }) },
    },
  );
}

const pendingEvents: ComponentEvent[] = [];

/** Outages confirmed and components back since the last drain, for the `report` fixture. */
export function drainComponentEvents(): ComponentEvent[] {
  return pendingEvents.splice(0, pendingEvents.length);
}

type Probe = () => Promise<void>;

export class ComponentWatch {
  readonly #component: Component;
  readonly #probe: Probe;
  readonly #stateFile?: string;
  readonly #reprobeAfterMs: number;
  #down?: DownState;
  #lastGoodAt?: number;
  #lastSharedAt = 0;
  #confirming?: Promise<DownState | undefined>;
  #reprobing = false;
  #lastProbeAt = 0;
  readonly #listeners = new Set<(down: DownState) => void>();
  #poll?: NodeJS.Timeout;

  constructor(component: Component, probe: Probe, options: { stateFile?: string; reprobeAfterMs?: number } = {}) {
    this.#component = component;
    this.#probe = probe;
    this.#stateFile = options.stateFile;
    this.#reprobeAfterMs = options.reprobeAfterMs ?? DEFAULT_REPROBE_MS;
  }

  /**
   * The component answered (any HTTP status): it is up at the transport layer. Shared with the
   * run's other workers at most once a second, so an outage names the run's last good answer.
   */
  answered(): void {
    const now = Date.now();
    this.#lastGoodAt = now;
    if (this.#stateFile === undefined || now - this.#lastSharedAt < 1_000) return;
    this.#lastSharedAt = now;
    writeFileAtomically(`${this.#stateFile}.last-good`, String(now));
  }

  /** The last answer any worker of the run saw (epoch ms). */
  #runLastGoodAt(): number | undefined {
    let shared: number | undefined;
    try {
      shared = this.#stateFile === undefined ? undefined : Number(readFileSync(`${this.#stateFile}.last-good`, 'utf8')) || undefined;
    } catch {
      shared = undefined;
    }
    return this.#lastGoodAt === undefined ? shared : Math.max(this.#lastGoodAt, shared ?? 0);
  }

  /** The outage in force, marked by this worker or another (read from the shared state file). */
  current(): DownState | undefined {
    if (this.#stateFile === undefined) return this.#down;
    const shared = readDownState(this.#stateFile);
    if (shared && !this.#down) this.#adopt(shared);
    else if (!shared && this.#down) this.#down = undefined; // lifted by another worker's probe
    return this.#down;
  }

  /** Before a request: throws the outage's error at once while the component is down. */
  gate(endpoint: string): void {
    const down = this.current();
    if (!down) return;
    this.#reprobeInBackground();
    throw downError(down, endpoint);
  }

  /**
   * After a failed request, or one unanswered for as long as a probe may take: a transport
   * failure is confirmed by the probe (one at a time per worker), and then becomes the outage's
   * error; anything else is returned unchanged. `failedAt` (epoch ms) is when the component
   * stopped answering it: the outage's `since`.
   */
  async judge(error: unknown, endpoint: string, failedAt = Date.now()): Promise<unknown> {
    if (!isTransportFailure(error)) return error;
    const down = this.current() ?? (await (this.#confirming ??= this.#confirm(error, failedAt).finally(() => (this.#confirming = undefined))));
    return down ? downError(down, endpoint, error) : error;
  }

  /**
   * A session served by the component has been silent while a test waits on it (a WebSocket
   * with a wait in progress): the probe decides, at most once per `reprobeAfterMs`. Silence alone
   * proves nothing (a real agent takes seconds between events); a probe the component does not
   * answer at the transport layer does, and then the outage's cause is the probe's failure.
   */
  suspectSilence(since: number): void {
    if (this.current() || this.#confirming || Date.now() - this.#lastProbeAt < this.#reprobeAfterMs) return;
    this.#confirming = this.#confirm(undefined, since).finally(() => (this.#confirming = undefined));
  }

  /** Calls `listener` when the component is marked down while a request is in flight; returns the unsubscribe. */
  onDown(listener: (down: DownState) => void): () => void {
    this.#listeners.add(listener);
    if (this.#stateFile !== undefined && !this.#poll) {
      this.#poll = setInterval(() => this.current(), POLL_MS);
      this.#poll.unref();
    }
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0 && this.#poll) {
        clearInterval(this.#poll);
        this.#poll = undefined;
      }
    };
  }

  /** The probe decides; `error` is the suspicion's own transport failure, when there is one. */
  async #confirm(error: CheckError | undefined, failedAt: number): Promise<DownState | undefined> {
    const probeError = await this.#probeError();
    if (probeError === undefined) return undefined;
    if (this.current()) return this.#down; // another worker confirmed it meanwhile
    const lastGoodAt = this.#runLastGoodAt();
    const cause = error ?? probeError;
    const { endpoint, layer, code } = probeError.details;
    const down: DownState = {
      component: this.#component,
      since: failedAt,
      confirmedAt: Date.now(),
      ...(lastGoodAt === undefined ? {} : { lastGoodAt }),
      layer: cause.details.layer,
      ...(cause.details.code === undefined ? {} : { code: cause.details.code }),
      firstFailure: cause.message,
      probe: `${pathOnly(endpoint ?? 'GET /health')}: ${layer}${code === undefined ? '' : ` ${code}`}`,
    };
    this.#write(down);
    this.#adopt(down);
    pendingEvents.push({
      component: down.component,
      kind: 'down',
      at: down.confirmedAt,
      since: down.since,
      cause: `${down.layer}${down.code === undefined ? '' : ` ${down.code}`}`,
      ...(lastGoodAt === undefined ? {} : { lastGoodAt }),
    });
    return down;
  }

  /** Runs the probe: undefined when the component answered, else its transport failure. */
  async #probeError(): Promise<CheckError | undefined> {
    this.#lastProbeAt = Date.now();
    try {
      await this.#probe();
      this.answered();
      return undefined;
    } catch (error) {
      return isTransportFailure(error) ? error : undefined; // else it answered, with something else wrong
    }
  }

  #reprobeInBackground(): void {
    if (this.#reprobing || Date.now() - this.#lastProbeAt < this.#reprobeAfterMs) return;
    this.#reprobing = true;
    void this.#probeError()
      .then((failure) => {
        if (failure !== undefined || !this.#down) return;
        this.#down = undefined;
        if (this.#stateFile !== undefined) rmSync(this.#stateFile, { force: true });
        pendingEvents.push({ component: this.#component, kind: 'back', at: Date.now() });
      })
      .finally(() => (this.#reprobing = false));
  }

  #adopt(down: DownState): void {
    this.#down = down;
    for (const listener of [...this.#listeners]) listener(down);
  }

  #write(down: DownState): void {
    if (this.#stateFile !== undefined) writeFileAtomically(this.#stateFile, JSON.stringify(down));
  }
}

/** One watch per component and base URL in this worker, shared by every client of it. */
const watches = new Map<string, ComponentWatch>();

/**
 * Fails at once when a component a test needs is confirmed down: through this worker's watch of
 * it (which also probes again now and then, so a component that comes back is used again), or,
 * before this worker has one, through the run's shared state file.
 */
export function gateComponent(component: Component, baseUrl: string, stateDir: string, endpoint: string): void {
  const watch = watches.get(`${component} ${baseUrl}`);
  if (watch) return watch.gate(endpoint);
  const down = readDownState(stateFileOf(stateDir, component, baseUrl));
  if (down) throw downError(down, endpoint);
}

function stateFileOf(stateDir: string, component: Component, baseUrl: string): string {
  return join(stateDir, `${component}-${encodeURIComponent(baseUrl)}.json`);
}

function readDownState(file: string): DownState | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as DownState;
  } catch {
    return undefined; // no mark (or one being replaced): up
  }
}

/** The watch of a component's clients in this worker, when one was made. */
export function existingWatch(component: Component, baseUrl: string): ComponentWatch | undefined {
  return watches.get(`${component} ${baseUrl}`);
}

export function componentWatch(component: Component, baseUrl: string, probe: Probe, options: FailFastOptions): ComponentWatch {
  const key = `${component} ${baseUrl}`;
  let watch = watches.get(key);
  if (!watch) {
    const stateFile = options.stateDir === undefined ? undefined : stateFileOf(options.stateDir, component, baseUrl);
    watch = new ComponentWatch(component, probe, { ...(stateFile ? { stateFile } : {}), ...(options.reprobeAfterMs ? { reprobeAfterMs: options.reprobeAfterMs } : {}) });
    watches.set(key, watch);
  }
  return watch;
}
