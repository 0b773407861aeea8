/**
 * Plain records of what Vitest ran, and a tolerant reader of `task.meta.stagecheck`.
 *
 * The verdict engine works on these records only, so it is testable without Vitest and works
 * the same on a live run and on `--merge-reports` of blob reports. Metadata that does not have
 * the shape of helpers/core/meta.ts is never fatal: the part that is wrong is dropped and named
 * in a warning, the rest is used. Vitest appears here as types only: the phase-2 workers load
 * this module (through reporter/gate.ts).
 */
import type { TestCase, TestModule } from 'vitest/node';
import type { StagecheckMeta } from '../helpers/core/meta.ts';

export type VitestState = 'passed' | 'failed' | 'skipped' | 'pending';

export interface TestRecord {
  /** Vitest's deterministic test id. */
  id: string;
  project: string;
  /** Test file relative to the repository root, forward slashes. */
  file: string;
  name: string;
  /** Describe titles and the test title, joined by " > ". */
  fullName: string;
  /** The stable check id the test declares (`meta.checkId`, tests/check-ids.ts); absent on tests without one. */
  checkId?: string;
  tags: string[];
  state: VitestState;
  /** run / only / skip / todo, as collected. */
  mode?: string;
  /** The note of `ctx.skip(note)`. */
  note?: string;
  errors: { name?: string; message: string; details?: ErrorDetails }[];
  durationMs?: number;
  /** Epoch ms when the test started. */
  startTime?: number;
  retryCount?: number;
  flaky?: boolean;
  /** Raw `task.meta.stagecheck`, validated by {@link readMeta}. */
  meta?: unknown;
}

/** What a CheckError says about itself: which component misbehaved, at which layer. */
export interface ErrorDetails {
  component: string;
  layer: string;
}

/** Errors of a module that are not any test's: collection errors, failed beforeAll/afterAll. */
export interface ModuleRecord {
  project: string;
  file: string;
  errors: string[];
  /** Version snapshots taken by reporter/target-setup.ts around this module (module meta). */
  target?: unknown;
}

export type Evidence = NonNullable<StagecheckMeta['failure']>;

export interface ReadMeta {
  meta?: StagecheckMeta;
  warnings: string[];
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isFiniteNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);
const numberList = (value: unknown): value is number[] => Array.isArray(value) && value.every(isFiniteNumber);

/**
 * Validates one test's meta, part by part. Returns the usable parts and a warning per dropped
 * part (`where` names the test).
 */
export function readMeta(raw: unknown, where: string): ReadMeta {
  if (raw === undefined) return { warnings: [] };
  if (!isObject(raw)) return { warnings: [`${where}: task.meta.stagecheck is not an object (${typeof raw}); ignored`] };
  const warnings: string[] = [];
  const drop = (what: string, why: string) => warnings.push(`${where}: malformed ${what} in task.meta.stagecheck (${why}); ignored`);
  const list = <T>(key: string, check: (item: unknown) => string | undefined): T[] => {
    const value = raw[key];
    if (value === undefined) return [];
    if (!Array.isArray(value)) {
      drop(key, 'not an array');
      return [];
    }
    const out: T[] = [];
    value.forEach((item, index) => {
      const problem = check(item);
      if (problem) drop(`${key}[${index}]`, problem);
      else out.push(item as T);
    });
    return out;
  };

  if (raw.schema !== 1) warnings.push(`${where}: task.meta.stagecheck has schema ${JSON.stringify(raw.schema)}, expected 1; read as far as it matches`);

  const meta: StagecheckMeta = {
    schema: 1,
    components: list('components', (c) => (typeof c === 'string' ? undefined : 'not a string')),
    measurements: list('measurements', (m) => {
      if (!isObject(m)) return 'not an object';
      if (typeof m.name !== 'string') return 'no name';
      if (m.unit !== 'ms' && m.unit !== 'bool') return `unit ${JSON.stringify(m.unit)}`;
      if (!numberList(m.samples)) return 'samples are not finite numbers';
      return undefined;
    }),
    kpis: list('kpis', (k) => {
      if (!isObject(k)) return 'not an object';
      if (typeof k.kpi !== 'string') return 'no kpi id';
      if (!numberList(k.samples)) return 'samples are not finite numbers';
      if (k.firstAttemptSuccesses !== undefined && !isFiniteNumber(k.firstAttemptSuccesses)) return 'firstAttemptSuccesses is not a number';
      return undefined;
    }),
    timelines: list('timelines', (t) => {
      if (!isObject(t)) return 'not an object';
      if (typeof t.runId !== 'string') return 'no runId';
      if (!Array.isArray(t.events) || !t.events.every((e) => isObject(e) && typeof e.type === 'string' && isFiniteNumber(e.tMs))) return 'events are not {type, tMs}';
      return undefined;
    }),
    retries: list('retries', (r) => {
      if (!isObject(r) || typeof r.what !== 'string' || !Array.isArray(r.attempts)) return 'not {what, attempts[]}';
      return undefined;
    }),
    ledgers: list('ledgers', (l) => {
      if (!isObject(l) || typeof l.budget !== 'string' || !Array.isArray(l.entries)) return 'not {budget, entries[]}';
      return undefined;
    }),
  };
  if (raw.notConfigured !== undefined) {
    if (typeof raw.notConfigured === 'string') meta.notConfigured = raw.notConfigured;
    else drop('notConfigured', 'not a string');
  }
  if (raw.failure !== undefined) {
    const f = raw.failure;
    if (!isObject(f) || typeof f.message !== 'string') drop('failure', 'not an object with a message');
    else {
      meta.failure = {
        component: (typeof f.component === 'string' ? f.component : 'backend') as Evidence['component'],
        layer: (typeof f.layer === 'string' ? f.layer : 'protocol') as Evidence['layer'],
        message: f.message,
        name: typeof f.name === 'string' ? f.name : 'Error',
      };
      if (typeof f.component !== 'string' || typeof f.layer !== 'string') drop('failure.component/layer', 'missing; shown as backend/protocol');
      if (typeof f.endpoint === 'string') meta.failure.endpoint = f.endpoint;
      if (typeof f.code === 'string' || isFiniteNumber(f.code)) meta.failure.code = f.code;
      if (typeof f.correlationId === 'string') meta.failure.correlationId = f.correlationId;
      if (isFiniteNumber(f.elapsedMs)) meta.failure.elapsedMs = f.elapsedMs;
      if (isObject(f.evidence)) meta.failure.evidence = f.evidence;
      if (f.harnessError === true) meta.failure.harnessError = true;
    }
  }
  if (raw.requests !== undefined) {
    meta.requests = list('requests', (r) => {
      if (!isObject(r)) return 'not an object';
      if (typeof r.component !== 'string' || typeof r.endpoint !== 'string') return 'no component or endpoint';
      if (!isFiniteNumber(r.startedAt) || !isFiniteNumber(r.ms)) return 'startedAt or ms is not a finite number';
      return undefined;
    });
  }
  if (raw.componentEvents !== undefined) {
    meta.componentEvents = list('componentEvents', (e) => {
      if (!isObject(e) || typeof e.component !== 'string' || (e.kind !== 'down' && e.kind !== 'back') || !isFiniteNumber(e.at)) return 'not {component, kind down|back, at}';
      return undefined;
    }) as StagecheckMeta['componentEvents'];
  }
  if (raw.requestsDropped !== undefined) {
    if (isFiniteNumber(raw.requestsDropped)) meta.requestsDropped = raw.requestsDropped;
    else drop('requestsDropped', 'not a number');
  }
  if (raw.wsDump !== undefined) {
    if (typeof raw.wsDump === 'string') meta.wsDump = raw.wsDump;
    else drop('wsDump', 'not a string');
  }
  if (raw.degraded !== undefined) {
    if (Array.isArray(raw.degraded) && raw.degraded.every((reason) => typeof reason === 'string')) meta.degraded = raw.degraded as string[];
    else drop('degraded', 'not a list of strings');
  }
  return { meta, warnings };
}

/**
 * The component and layer of a thrown error's `details`, as a CheckError (or a subclass)
 * carries them. Vitest's error serialisation keeps own properties, so they survive the worker
 * boundary and blob reports; the error's class name plays no part.
 */
export function errorDetailsOf(error: unknown): ErrorDetails | undefined {
  const details = isObject(error) ? error.details : undefined;
  if (!isObject(details) || typeof details.component !== 'string' || typeof details.layer !== 'string') return undefined;
  return { component: details.component, layer: details.layer };
}

/** An error message as one line of a report: its first non-blank line, capped. */
export function firstLine(text: string): string {
  const line = text.split('\n').find((l) => l.trim() !== '') ?? '';
  return line.length > 240 ? `${line.slice(0, 237)}...` : line;
}

export function testRecord(test: TestCase, file: string): TestRecord {
  const result = test.result();
  const diagnostic = test.diagnostic();
  let meta: unknown;
  let checkId: unknown;
  try {
    const taskMeta = test.meta();
    meta = taskMeta.stagecheck;
    checkId = taskMeta.checkId;
  } catch {
    meta = undefined;
  }
  return {
    id: test.id,
    project: test.project.name,
    file,
    name: test.name,
    fullName: test.fullName,
    ...(typeof checkId === 'string' && checkId !== '' ? { checkId } : {}),
    tags: [...(test.tags ?? test.options.tags ?? [])],
    state: result.state,
    mode: test.options.mode,
    ...(result.state === 'skipped' && result.note ? { note: result.note } : {}),
    errors: (result.errors ?? []).map((e) => {
      const details = errorDetailsOf(e);
      return { ...(e.name ? { name: e.name } : {}), message: String(e.message ?? ''), ...(details ? { details } : {}) };
    }),
    ...(diagnostic ? { durationMs: diagnostic.duration, startTime: diagnostic.startTime, retryCount: diagnostic.retryCount, flaky: diagnostic.flaky } : {}),
    meta,
  };
}

/** Every test of a module as a record; a test that cannot be read is left out and named. */
export function testRecords(module: TestModule, warnings: string[]): TestRecord[] {
  const file = moduleFile(module);
  const out: TestRecord[] = [];
  for (const test of module.children.allTests()) {
    try {
      out.push(testRecord(test, file));
    } catch (error) {
      warnings.push(`${file}: a test could not be read (${(error as Error).message}); left out`);
    }
  }
  return out;
}

export function moduleRecord(module: TestModule): ModuleRecord {
  let target: unknown;
  try {
    target = module.meta().stagecheckTarget;
  } catch {
    target = undefined;
  }
  return { project: module.project.name, file: moduleFile(module), errors: module.errors().map((e) => `${e.name ?? 'Error'}: ${e.message}`), target };
}

function moduleFile(module: TestModule): string {
  return module.relativeModuleId.replace(/\\/g, '/');
}

/** When the first test started: a merged run's start, which no process saw. */
export function earliest(tests: readonly TestRecord[]): string | null {
  const starts = tests.map((t) => t.startTime).filter((s): s is number => typeof s === 'number' && s > 0);
  return starts.length ? new Date(Math.min(...starts)).toISOString() : null;
}
