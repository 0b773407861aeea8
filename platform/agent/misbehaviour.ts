/**
 * The agent faults that only change what a run emits (and when): they wrap a run's emit
 * function and leave the real work alone. Read once when a run starts, so a run keeps the
 * faults it started with.
 */
import type { BehaviourSwitches, StallPoint } from '../faults/behaviour.ts';
import { sleep } from '../util/time.ts';

export type Frame = Record<string, unknown>;
export type Emit = (frame: Frame) => void;

/** Thrown by a stalled run's emit: the runner stops right there, silently, without a terminal event. */
export class RunHalted extends Error {
  constructor() {
    super('run halted (agent_stall)');
    this.name = 'RunHalted';
  }
}

export interface EmitFaults {
  stallAfter: StallPoint | undefined;
  outOfOrder: boolean;
  toolUnmatched: boolean;
  doubleTerminal: boolean;
}

export function emitFaultsOf(behaviour: BehaviourSwitches): EmitFaults {
  return {
    stallAfter: behaviour.get('agent_stall')?.after,
    outOfOrder: behaviour.has('agent_out_of_order'),
    toolUnmatched: behaviour.has('agent_tool_unmatched'),
    doubleTerminal: behaviour.has('agent_double_terminal'),
  };
}

const TERMINAL = new Set(['agent_completed', 'agent_error']);

/**
 * Emit → (agent_stall) → (agent_out_of_order) → (agent_tool_unmatched) → (agent_double_terminal) → emit.
 * With no fault on it passes every frame straight through.
 */
export function faultyEmitter(emit: Emit, faults: EmitFaults): Emit {
  // agent_double_terminal: every terminal event of the run's own agent goes out twice (a
  // sub-agent's agent_completed, which names another agent, is not the run's terminal event).
  let runAgentName: unknown;
  const terminalStage: Emit = (frame) => {
    if (frame.type === 'agent_started' && runAgentName === undefined) runAgentName = frame.agent_name ?? null;
    emit(frame);
    const ownAgent = frame.agent_name === undefined || frame.agent_name === runAgentName;
    if (faults.doubleTerminal && TERMINAL.has(String(frame.type)) && ownAgent) emit({ ...frame });
  };

  // agent_tool_unmatched: the first tool execution's tool_completed is dropped.
  let unmatchedId: unknown;
  const unmatchedStage: Emit = (frame) => {
    if (faults.toolUnmatched) {
      if (frame.type === 'tool_executing' && unmatchedId === undefined) unmatchedId = frame.execution_id;
      else if (frame.type === 'tool_completed' && frame.execution_id === unmatchedId) return;
    }
    terminalStage(frame);
  };

  // agent_out_of_order: agent_started goes out after the event that follows it, and each
  // tool_executing after its own tool_completed.
  let heldStart: Frame | undefined;
  let startSeen = false;
  const heldTools = new Map<unknown, Frame>();
  const orderStage: Emit = (frame) => {
    if (!faults.outOfOrder) {
      unmatchedStage(frame);
      return;
    }
    const type = String(frame.type);
    // Only the run's first agent_started is held back (a sub-agent's is not the run's start).
    if (type === 'agent_started' && !startSeen) {
      startSeen = true;
      heldStart = frame;
      return;
    }
    if (type === 'tool_executing') {
      heldTools.set(frame.execution_id, frame);
    } else if (type === 'tool_completed') {
      unmatchedStage(frame);
      const executing = heldTools.get(frame.execution_id);
      heldTools.delete(frame.execution_id);
      if (executing) unmatchedStage(executing);
    } else {
      if (TERMINAL.has(type)) {
        for (const executing of heldTools.values()) unmatchedStage(executing);
        heldTools.clear();
      }
      unmatchedStage(frame);
    }
    if (heldStart && type !== 'tool_executing') {
      unmatchedStage(heldStart);
      heldStart = undefined;
    }
  };

  // agent_stall: nothing after the first `after` event; the runner stops where it is.
  let halted = false;
  return (frame) => {
    if (halted) throw new RunHalted();
    orderStage(frame);
    if (faults.stallAfter !== undefined && frame.type === faults.stallAfter) {
      halted = true;
      throw new RunHalted();
    }
  };
}

/** How many paced steps of a run share `agent_slow`'s extra time. */
export const SLOW_SLICES = 10;

/**
 * Think time between events. Under `agent_slow {ms}` each paced step adds ms/SLOW_SLICES until
 * `ms` is used up, and the final step (before agent_completed) adds whatever is left, so a
 * successful run is exactly `ms` slower and no single gap grows by much.
 */
export class Pacer {
  private readonly thinkMs: number;
  private readonly slice: number;
  private readonly jitter: number;
  private remaining: number;

  /** `jitter` 0.25: each pause is thinkMs ±25% (an LLM agent's events are about, not exactly, a gap apart). */
  constructor(thinkMs: number, slowMs: number, jitter = 0) {
    this.thinkMs = thinkMs;
    this.remaining = slowMs;
    this.slice = slowMs / SLOW_SLICES;
    this.jitter = jitter;
  }

  think(final = false): Promise<void> {
    const extra = final ? this.remaining : Math.min(this.slice, this.remaining);
    this.remaining -= extra;
    const base = this.jitter > 0 ? this.thinkMs * (1 - this.jitter + 2 * this.jitter * Math.random()) : this.thinkMs;
    return sleep(Math.round(base) + extra);
  }
}
