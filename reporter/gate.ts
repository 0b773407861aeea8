/**
 * The phase gate and the target snapshots: what the reporter (main process) and the phase
 * setup files (test workers) share. No Vitest runtime import here: both sides load it.
 *
 * Gate: within one `vitest run` over both projects, phase 1's file starts first and phase 2's
 * beside it (tests/sequencer.ts); the reporter writes the gate file once every phase-1 module of
 * the run has ended ({@link Phase1Gate}). A phase-2 test waits for that decision before it starts
 * (reporter/gate-setup.ts) and is skipped with `BLOCKED by phase 1: <test> (<component>/<layer>)`
 * when phase 1 failed; a test with a long necessary wait starts at once and is judged after the
 * decision (fixtures/gate.ts). Across CI jobs the phase-1 job's gate file is handed to the
 * phase-2 shards (STAGECHECK_PHASE1_GATE). No gate file: phase 2 runs (e.g. `--project phase2`
 * alone).
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TestModule } from 'vitest/node';
import type { Component } from '../helpers/core/errors.ts';
import { firstLine, type TestRecord } from './records.ts';
import type { TargetHead } from '../helpers/core/target-head.ts';
import { writeFileAtomically } from '../helpers/core/atomic-file.ts';

export const GATE_SCHEMA = 'stagecheck.gate';
export const GATE_FILE_NAME = 'phase1-gate.json';
/** Env: a gate file from an earlier phase-1 run, used instead of this run's own phase 1. */
export const GATE_ENV = 'STAGECHECK_PHASE1_GATE';

export interface GateFailure {
  test: string;
  component: string;
  layer: string;
  code?: string | number;
}

export interface GateFile {
  schema: typeof GATE_SCHEMA;
  v: 1;
  status: 'pending' | 'passed' | 'failed' | 'not-run';
  runId: string | null;
  decidedAt: string | null;
  /** Phase-1 tests seen, and how many of them failed (harness errors included). */
  tests: number;
  failed: number;
  blocking: GateFailure[];
}

/** The gate as the report states it: decided by this run's phase 1, read from a file, or none. */
export interface GateSummary {
  status: 'passed' | 'failed' | 'not-run' | 'none';
  source: 'this-run' | 'file' | 'none';
  blocking: GateFailure[];
}

/** What the reporter provides to the workers. */
export interface GateRef {
  file: string;
  source: 'this-run' | 'file';
}

/** Module meta written by the phase setup files: /health version snapshots around the module. */
export interface ModuleTargetMeta {
  baseUrl: string | null;
  /** The run id the module ran under (shards of one CI run may each have their own). */
  runId: string | null;
  snapshots: { phase: 'before' | 'after'; at: string; version: string | null; error?: string }[];
  /** What the module's worker targeted, with what settings (helpers/core/target-head.ts). */
  head?: TargetHead;
}

declare module 'vitest' {
  export interface ProvidedContext {
    stagecheckGate: GateRef | null;
  }
}

declare module '@vitest/runner' {
  interface TaskMeta {
    stagecheckTarget?: ModuleTargetMeta;
  }
}

export function writeGate(file: string, gate: GateFile): void {
  writeFileAtomically(file, `${JSON.stringify(gate, null, 2)}\n`);
}

export function readGate(file: string): GateFile | undefined {
  if (!existsSync(file)) return undefined;
  try {
    const gate = JSON.parse(readFileSync(file, 'utf8')) as GateFile;
    if (gate?.schema !== GATE_SCHEMA || !['pending', 'passed', 'failed', 'not-run'].includes(gate.status)) return undefined;
    if (!Array.isArray(gate.blocking)) gate.blocking = [];
    return gate;
  } catch {
    return undefined;
  }
}

/** Waits (bounded) for a pending gate to be decided; returns the last state read. */
export async function awaitDecision(file: string, timeoutMs: number, pollMs = 50): Promise<GateFile | undefined> {
  const end = Date.now() + timeoutMs;
  let gate = readGate(file);
  while (gate?.status === 'pending' && Date.now() < end) {
    await sleep(pollMs);
    gate = readGate(file);
  }
  return gate;
}

/**
 * Most fundamental first: a dead network path or store explains the auth and WebSocket
 * failures that follow from it, so the note names it.
 */
const COMPONENT_RANK = ['network', 'postgres', 'redis', 'backend', 'auth', 'websocket', 'agent'] satisfies Component[];
/** Within a component, the lower layer first: a probe timing out says more than a health body. */
const LAYER_RANK = ['dns', 'tcp', 'tls', 'budget', 'http-status', 'ws-handshake', 'ws-close', 'protocol', 'frame', 'ordering', 'content'];

export function sortBlocking<T extends { component: string; layer?: string }>(failures: readonly T[]): T[] {
  const rank = (list: string[], v: string | undefined) => (v !== undefined && list.includes(v) ? list.indexOf(v) : list.length);
  return [...failures].sort((a, b) => rank(COMPONENT_RANK, a.component) - rank(COMPONENT_RANK, b.component) || rank(LAYER_RANK, a.layer) - rank(LAYER_RANK, b.layer));
}

/** The skip note of a blocked phase-2 test; the reporter maps the `BLOCKED` prefix to BLOCKED. */
export function blockNote(gate: Pick<GateFile, 'blocking' | 'failed'>): string {
  const first = gate.blocking[0];
  if (!first) return `BLOCKED by phase 1: ${gate.failed} phase-1 test(s) failed`;
  const more = Math.max(gate.failed, gate.blocking.length) - 1;
  return `BLOCKED by phase 1: ${first.test} (${first.component}/${first.layer}${first.code !== undefined ? ` ${first.code}` : ''})${more > 0 ? ` and ${more} more` : ''}`;
}

/** A failed phase-1 test as a blocking failure; a harness error shows as layer `harness`. */
function blockingOf(test: string, failure: { component?: string; layer?: string; code?: string | number; harnessError?: boolean } | undefined): GateFailure {
  return {
    test,
    component: failure?.component ?? 'unknown',
    layer: failure?.harnessError ? 'harness' : (failure?.layer ?? 'unknown'),
    ...(failure?.code !== undefined ? { code: failure.code } : {}),
  };
}

/**
 * The gate's state in the reporter during one run: pending from the start; decided once every
 * phase-1 module the run planned has ended (or at the run's end, when one never did). Phase 2's
 * files start beside phase 1's, so the plan, not the order modules are queued in, says when
 * phase 1 is over.
 */
export class Phase1Gate {
  #decided = false;
  readonly #open = new Set<string>();
  readonly #done: TestModule[] = [];

  constructor(
    readonly file: string,
    private readonly context: { runId: () => string | null; redact: (text: string) => string },
  ) {}

  get decided(): boolean {
    return this.#decided;
  }

  /** Writes the gate as pending, before any worker can read it; `phase1Files` are the run's phase-1 module ids (file paths). */
  start(phase1Files: readonly string[]): void {
    for (const file of phase1Files) this.#open.add(file);
    writeGate(this.file, { schema: GATE_SCHEMA, v: 1, status: 'pending', runId: this.context.runId(), decidedAt: null, tests: 0, failed: 0, blocking: [] });
  }

  ended(module: TestModule): void {
    if (this.#decided || module.project.name !== 'phase1') return;
    this.#open.delete(module.moduleId);
    this.#done.push(module);
    if (this.#open.size === 0) this.decide();
  }

  /** Decides from the phase-1 modules that ended: failed when any test or module failed. */
  decide(): void {
    if (this.#decided) return;
    this.#decided = true;
    const blocking: GateFailure[] = [];
    let tests = 0;
    let failed = 0;
    for (const module of this.#done) {
      for (const error of module.errors()) {
        failed += 1;
        blocking.push({ test: `${module.relativeModuleId} (failed outside any test: ${firstLine(error.message ?? '')})`, component: 'harness', layer: 'collection' });
      }
      for (const test of module.children.allTests()) {
        tests += 1;
        if (test.result().state !== 'failed') continue;
        failed += 1;
        blocking.push(blockingOf(test.fullName, test.meta().stagecheck?.failure));
      }
    }
    writeGate(this.file, {
      schema: GATE_SCHEMA,
      v: 1,
      status: failed > 0 ? 'failed' : tests > 0 ? 'passed' : 'not-run',
      runId: this.context.runId(),
      decidedAt: new Date().toISOString(),
      tests,
      failed,
      blocking: sortBlocking(blocking).map((b) => ({ ...b, test: this.context.redact(b.test) })),
    });
  }
}

/**
 * The gate for the report, from the records: this run's phase 1 when it ran, else the gate
 * file handed over (`gateEnv`, STAGECHECK_PHASE1_GATE), else the skip notes of blocked tests
 * (a merge of phase-2 shards that ran behind a gate), else none.
 */
export function summarizeGate(tests: readonly TestRecord[], gateEnv: string | undefined): GateSummary {
  const phase1 = tests.filter((t) => t.project === 'phase1');
  if (phase1.length > 0) {
    const failed = phase1.filter((t) => t.state === 'failed');
    return {
      status: failed.length > 0 ? 'failed' : phase1.some((t) => t.state === 'passed') ? 'passed' : 'not-run',
      source: 'this-run',
      blocking: sortBlocking(failed.map((t) => blockingOf(t.fullName, (t.meta as { failure?: Parameters<typeof blockingOf>[1] } | undefined)?.failure))),
    };
  }
  const external = gateEnv ? readGate(resolve(gateEnv)) : undefined;
  if (external && external.status !== 'pending') return { status: external.status, source: 'file', blocking: external.blocking };
  if (tests.some((t) => t.state === 'skipped' && /^BLOCKED\b/i.test(t.note ?? ''))) {
    const note = tests.find((t) => /^BLOCKED\b/i.test(t.note ?? ''))?.note ?? '';
    const m = /^BLOCKED by phase 1: (.*) \(([^/()]+)\/([^()\s]+)[^()]*\)/i.exec(note);
    return { status: 'failed', source: 'file', blocking: m ? [{ test: m[1] as string, component: m[2] as string, layer: m[3] as string }] : [] };
  }
  return { status: 'none', source: 'none', blocking: [] };
}
