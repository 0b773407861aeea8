/**
 * Switches for the faults that live in the platform's own code (backend, auth checks, WebSocket,
 * agent) rather than in a store's TCP proxy. The catalog turns them on and off; each component
 * reads the switch it owns. Nothing here is reachable except through the fault switch.
 */

/** Agent events after which `agent_stall` may stop a run (terminal events would not stall anything). */
export const STALL_POINTS = ['agent_started', 'agent_thinking', 'tool_executing', 'tool_completed'] as const;
export type StallPoint = (typeof STALL_POINTS)[number];

export const GARBAGE_KINDS = ['non_json', 'binary', 'huge', 'no_type', 'foreign_run_id'] as const;
export type GarbageKind = (typeof GARBAGE_KINDS)[number];

/**
 * Deterministic rejection of a fraction of events: the n-th event (from 1) is rejected when
 * floor(n·rate) > floor((n−1)·rate). Rate 0.2 rejects the 5th, 10th, 15th... (exactly 4 of any
 * 20 from the start), rate 1 rejects all, rate 0 none.
 */
export class FractionCounter {
  readonly rate: number;
  private seen = 0;

  constructor(rate: number) {
    this.rate = rate;
  }

  /** Counts one event; true when it falls in the rejected fraction. */
  next(): boolean {
    this.seen += 1;
    // Rounded to kill float noise (0.1 * 30 = 3.0000000000000004).
    const due = (n: number): number => Math.floor(Math.round(n * this.rate * 1e9) / 1e9);
    return due(this.seen) > due(this.seen - 1);
  }
}

type None = Record<string, never>;

/** Parameters each behaviour switch holds while it is on. */
export interface BehaviourParams {
  backend_503: None;
  health_lies: None;
  ws_reject_503: { rate: number; counter: FractionCounter };
  ws_close_1011: None;
  ws_accept_invalid_tokens: None;
  revocation_ignored: None;
  bypass_key_ignored: None;
  auth_input_unchecked: None;
  agent_stall: { after: StallPoint };
  agent_canned: None;
  agent_out_of_order: None;
  agent_tool_unmatched: None;
  agent_double_terminal: None;
  answer_not_persisted: None;
  thread_leak: None;
  agent_slow: { ms: number };
  no_heartbeat: None;
  no_pong: None;
  frame_garbage: { kind: GarbageKind };
  http_slow: { path: string; pattern: RegExp; method?: string; ms: number };
}

export type BehaviourName = keyof BehaviourParams;

export class BehaviourSwitches {
  private readonly on = new Map<BehaviourName, unknown>();

  set<K extends BehaviourName>(name: K, params: BehaviourParams[K]): void {
    this.on.set(name, params);
  }

  clear(name: BehaviourName): void {
    this.on.delete(name);
  }

  has(name: BehaviourName): boolean {
    return this.on.has(name);
  }

  get<K extends BehaviourName>(name: K): BehaviourParams[K] | undefined {
    return this.on.get(name) as BehaviourParams[K] | undefined;
  }
}
