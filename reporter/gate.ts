/**
 * The phase gate and the target snapshots: what the reporter (main process) and the phase
 * setup files (test workers) share. No Vitest runtime import here: both sides load it.
 *
 * Gate: within one `vitest run` over both projects, phase 1 runs first (sequence.groupOrder)
 * and the reporter writes the gate file once phase 1 is over; a phase-2 setup file reads it
 * before each test and skips the test with `BLOCKED by phase 1: <test> (<component>/<layer>)`
 * when phase 1 failed. Across CI jobs the phase-1 job's gate file is handed to the phase-2
 * shards (STAGECHECK_PHASE1_GATE). No gate file: phase 2 runs (e.g. `--project phase2` alone).
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Component } from '../helpers/core/errors.ts';

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
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(gate, null, 2)}\n`);
  renameSync(tmp, file); // readers never see half a file
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
