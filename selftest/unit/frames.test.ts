import { describe, expect, it } from 'vitest';
import { CheckError } from '../../helpers/core/errors.ts';
import { compactFrame, FrameError, normalizeFrame, type CapturedFrame } from '../../helpers/core/frames.ts';
import { formatBytes } from '../../helpers/core/format.ts';
import { assertRunSequence, checkRunSequence, CRITICAL_EVENTS, selectRunFrames } from '../../helpers/contract/agent-events.ts';

function frameErrorOf(fn: () => unknown): FrameError {
  try {
    fn();
  } catch (error) {
    if (error instanceof FrameError) return error;
    throw error;
  }
  throw new Error('expected a FrameError');
}

describe('formatBytes', () => {
  it('keeps bytes under 1 KiB exact and gives one decimal above', () => {
    expect([0, 1023, 1024, 1536, 1024 * 1024 - 1, 1024 * 1024, 10 * 1024 * 1024 + 40].map(formatBytes)).toEqual([
      '0 bytes', '1023 bytes', '1.0 KiB', '1.5 KiB', '1024.0 KiB', '1.0 MiB', '10.0 MiB',
    ]);
  });
});

describe('normalizeFrame', () => {
  it('keeps a flat frame as is', () => {
    const raw = JSON.stringify({ type: 'agent_started', run_id: 'r1', thread_id: 't1', timestamp: 1 });
    const frame = normalizeFrame(raw, false);
    expect(frame).toEqual({
      type: 'agent_started',
      fields: { type: 'agent_started', run_id: 'r1', thread_id: 't1', timestamp: 1 },
      wrapped: 'flat',
      raw,
      sizeBytes: Buffer.byteLength(raw),
    });
  });

  it('merges a data wrapper up, root keys winning', () => {
    const raw = Buffer.from(JSON.stringify({ type: 'agent_completed', run_id: 'root', data: { run_id: 'inner', final_response: '51' } }));
    const frame = normalizeFrame(raw, false);
    expect(frame.wrapped).toBe('data');
    expect(frame.fields.run_id).toBe('root');
    expect(frame.fields.final_response).toBe('51');
    expect(frame.type).toBe('agent_completed');
  });

  it('merges a payload wrapper up, from an ArrayBuffer too', () => {
    const bytes = new TextEncoder().encode(JSON.stringify({ type: 'tool_completed', payload: { results: [1], execution_id: 'e1' } }));
    const frame = normalizeFrame(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer, false);
    expect(frame.wrapped).toBe('payload');
    expect(frame.fields.results).toEqual([1]);
    expect(frame.fields.execution_id).toBe('e1');
  });

  it('does not treat a non-object data field as a wrapper', () => {
    const frame = normalizeFrame(JSON.stringify({ type: 'x', data: 'text', payload: [1] }), false);
    expect(frame.wrapped).toBe('flat');
    expect(frame.fields.data).toBe('text');
  });

  it('truncates raw evidence to 2 KB and keeps the real size', () => {
    const big = JSON.stringify({ type: 'agent_thinking', reasoning: 'x'.repeat(5000) });
    const frame = normalizeFrame(big, false);
    expect(frame.sizeBytes).toBe(big.length);
    expect(frame.raw.startsWith(big.slice(0, 2048))).toBe(true);
    expect(frame.raw).toMatch(/… \(\+\d+ bytes\)$/);
    expect(frame.fields.reasoning).toHaveLength(5000);
  });

  it('classifies a binary frame', () => {
    const error = frameErrorOf(() => normalizeFrame(Buffer.from([1, 2, 3]), true));
    expect(error).toBeInstanceOf(CheckError);
    expect(error.problem).toBe('binary');
    expect(error.message).toBe('received a binary frame of 3 bytes; the contract allows only JSON text frames');
    expect(error.details).toMatchObject({ component: 'websocket', layer: 'frame', code: 'FRAME_BINARY' });
    expect(error.details.evidence?.preview).toBe('<binary 3 bytes: 010203>');
  });

  it('classifies non-JSON text with a truncated preview', () => {
    const text = `not json ${'y'.repeat(500)}`;
    const error = frameErrorOf(() => normalizeFrame(text, false));
    expect(error.problem).toBe('not-json');
    expect(error.details.code).toBe('FRAME_NOT_JSON');
    expect(error.message).toMatch(/^received a non-JSON frame \(/);
    expect(error.preview.startsWith('not json yyy')).toBe(true);
    expect(error.preview.length).toBeLessThan(230);
  });

  it('classifies JSON that is not an object', () => {
    expect(frameErrorOf(() => normalizeFrame('[1,2]', false)).message).toBe('received a JSON frame that is an array, not an object');
    expect(frameErrorOf(() => normalizeFrame('42', false)).problem).toBe('not-object');
  });

  it('classifies a missing or non-string type', () => {
    expect(frameErrorOf(() => normalizeFrame('{"run_id":"r"}', false)).message).toBe(
      'received a frame without type (a JSON object with no "type"); every frame needs a string type',
    );
    const numeric = frameErrorOf(() => normalizeFrame('{"type":7}', false));
    expect(numeric.problem).toBe('missing-type');
    expect(numeric.message).toBe('received a frame without type (a JSON object with a "type" that is a number); every frame needs a string type');
    expect(numeric.details.code).toBe('FRAME_MISSING_TYPE');
  });

  it('classifies an over-size frame before parsing it', () => {
    const error = frameErrorOf(() => normalizeFrame(Buffer.alloc(2_000, 'a'), false, { maxBytes: 1_000 }));
    expect(error.problem).toBe('too-large');
    expect(error.message).toBe('received a frame of 2.0 KiB (2000 bytes) that exceeds the 1000 bytes frame limit');
    expect(error.details.code).toBe('FRAME_TOO_LARGE');
    const fromString = frameErrorOf(() => normalizeFrame(`{"type":"x","p":"${'a'.repeat(1_100_000)}"}`, false));
    expect(fromString.problem).toBe('too-large');
    expect(fromString.message).toBe('received a frame of 1.0 MiB (1100019 bytes) that exceeds the 1.0 MiB (1048576 bytes) frame limit');
  });

  it('names a 10 MB frame in MiB and bytes, and parses none of it', () => {
    const huge = Buffer.alloc(10 * 1024 * 1024 + 40, 'x');
    const error = frameErrorOf(() => normalizeFrame(huge, false));
    expect(error.message).toBe('received a frame of 10.0 MiB (10485800 bytes) that exceeds the 1.0 MiB (1048576 bytes) frame limit');
    expect(error.sizeBytes).toBe(10_485_800);
    expect(error.preview).toBe(`${'x'.repeat(200)}… (+4 bytes)`);
  });
});

// ------------------------------------------------------------------------------------------

type Spec = [type: string, fields: Record<string, unknown>, t: number];

function frames(specs: Spec[]): CapturedFrame[] {
  return specs.map(([type, fields, t], index) => ({
    type,
    fields: { type, ...fields },
    wrapped: 'flat',
    raw: JSON.stringify({ type, ...fields }),
    sizeBytes: 0,
    index,
    receivedAt: t,
    receivedAtEpoch: 1_700_000_000_000 + t,
  }));
}

const R = { run_id: 'r1' };
const started: Spec = ['agent_started', { ...R, thread_id: 't1', agent_name: 'triage', task_description: 'What is 17 * 3?' }, 0];
const thinking: Spec = ['agent_thinking', { ...R, reasoning: 'multiply' }, 100];
const executing: Spec = ['tool_executing', { ...R, tool_name: 'calculator', tool_args: { expr: '17*3' }, execution_id: 'e1' }, 200];
const completedTool: Spec = ['tool_completed', { ...R, tool_name: 'calculator', execution_id: 'e1', results: { value: 51 }, execution_time: 3, success: true }, 300];
const completed: Spec = ['agent_completed', { ...R, status: 'success', final_response: '17 * 3 = 51' }, 400];
const VALID: Spec[] = [started, thinking, executing, completedTool, completed];

function at(spec: Spec, t: number): Spec {
  return [spec[0], spec[1], t];
}

function rules(specs: Spec[], options?: Parameters<typeof checkRunSequence>[2]): string[] {
  return checkRunSequence(frames(specs), 'r1', options).map((v) => v.rule);
}

describe('checkRunSequence', () => {
  it('passes a valid run with zero violations, ignoring other runs and non-agent frames', () => {
    const specs: Spec[] = [
      ['connection_established', { connection_id: 'c1', user_id: 'u1' }, 0],
      started,
      ['agent_thinking', { run_id: 'other', reasoning: 'x' }, 50],
      thinking,
      ['heartbeat', {}, 150],
      executing,
      completedTool,
      ['agent_completed', { run_id: 'other', status: 'success', final_response: 'other' }, 350],
      completed,
    ];
    expect(checkRunSequence(frames(specs), 'r1')).toEqual([]);
    expect(selectRunFrames(frames(specs), 'r1').map((f) => f.type)).toEqual([...CRITICAL_EVENTS]);
  });

  it('accepts several thinking events and tools', () => {
    const specs: Spec[] = [
      started,
      thinking,
      executing,
      ['tool_executing', { ...R, tool_name: 'search', tool_args: {}, execution_id: 'e2' }, 210],
      ['tool_completed', { ...R, tool_name: 'search', execution_id: 'e2', results: ['hit'], execution_time: 1, success: true }, 220],
      completedTool,
      at(thinking, 350),
      completed,
    ];
    expect(checkRunSequence(frames(specs), 'r1')).toEqual([]);
  });

  it('started-first: the run must open with agent_started', () => {
    expect(checkRunSequence(frames([thinking, started, executing, completedTool, completed]), 'r1')).toEqual([
      { rule: 'started-first', message: 'the first event of run r1 is agent_thinking (frame #0), not agent_started', frameIndex: 0 },
    ]);
  });

  it('started-repeated: a second agent_started', () => {
    expect(checkRunSequence(frames([started, thinking, at(started, 150), executing, completedTool, completed]), 'r1')).toEqual([
      { rule: 'started-repeated', message: 'agent_started repeated at frame #2; it must open the run once', frameIndex: 2 },
    ]);
  });

  it('tool-unmatched: an execution never completed', () => {
    expect(checkRunSequence(frames([started, thinking, executing, completed]), 'r1')).toEqual([
      { rule: 'tool-unmatched', message: 'tool_executing (frame #2) calculator with execution_id e1 was never followed by tool_completed', frameIndex: 2 },
      { rule: 'missing-event', message: 'run r1 lacks tool_completed' },
    ]);
  });

  it('tool-unmatched: a completion without execution, and a completion with another execution_id', () => {
    const otherId: Spec = ['tool_completed', { ...completedTool[1], execution_id: 'e9' }, 300];
    expect(checkRunSequence(frames([started, thinking, executing, otherId, completed]), 'r1')).toEqual([
      { rule: 'tool-unmatched', message: 'tool_completed (frame #3) has no preceding tool_executing for execution_id e9', frameIndex: 3 },
      { rule: 'tool-unmatched', message: 'tool_executing (frame #2) calculator with execution_id e1 was never followed by tool_completed', frameIndex: 2 },
    ]);
    // completion before its execution
    expect(rules([started, thinking, at(completedTool, 150), at(executing, 200), completed])).toEqual(['tool-unmatched', 'tool-unmatched']);
  });

  it('tool-unmatched: a second completion of the same execution', () => {
    expect(checkRunSequence(frames([started, thinking, executing, completedTool, at(completedTool, 350), completed]), 'r1')).toEqual([
      { rule: 'tool-unmatched', message: 'tool_completed (frame #4) is a second completion of execution_id e1', frameIndex: 4 },
    ]);
  });

  it('tool-name-mismatch: completion names another tool', () => {
    const renamed: Spec = ['tool_completed', { ...completedTool[1], tool_name: 'search' }, 300];
    expect(checkRunSequence(frames([started, thinking, executing, renamed, completed]), 'r1')).toEqual([
      { rule: 'tool-name-mismatch', message: 'tool_completed (frame #3) names tool search but its tool_executing (frame #2) named calculator', frameIndex: 3 },
    ]);
  });

  it('terminal-count: none', () => {
    expect(checkRunSequence(frames([started, thinking, executing, completedTool]), 'r1')).toEqual([
      { rule: 'terminal-count', message: 'run r1 has no terminal event (agent_completed or agent_error)' },
      { rule: 'missing-event', message: 'run r1 lacks agent_completed' },
    ]);
  });

  it('terminal-count: two terminals', () => {
    const error: Spec = ['agent_error', { ...R, error_code: 'X', message: 'late' }, 500];
    expect(checkRunSequence(frames([...VALID, error]), 'r1')).toEqual([
      { rule: 'terminal-count', message: 'run r1 has 2 terminal events (frames #4, #5); exactly one is allowed', frameIndex: 5 },
      { rule: 'agent-error', message: 'run r1 ended with agent_error X: late', frameIndex: 5 },
    ]);
  });

  it('after-terminal: events after agent_completed', () => {
    expect(checkRunSequence(frames([...VALID, at(thinking, 500)]), 'r1')).toEqual([
      { rule: 'after-terminal', message: 'agent_thinking (frame #5) arrived after the terminal agent_completed (frame #4)', frameIndex: 5 },
    ]);
  });

  it('missing-run-id: an event of the run without run_id', () => {
    const anonymous: Spec = ['agent_thinking', { reasoning: 'no id' }, 150];
    expect(checkRunSequence(frames([started, thinking, anonymous, executing, completedTool, completed]), 'r1')).toEqual([
      { rule: 'missing-run-id', message: 'agent_thinking (frame #2) has no run_id', frameIndex: 2 },
    ]);
    // after the terminal, an event without run_id may belong to the next run: not counted here
    expect(rules([...VALID, ['agent_started', { thread_id: 't', agent_name: 'a', task_description: 'd' }, 500]])).toEqual([]);
  });

  it('missing-field: each type with its own required fields', () => {
    const specs: Spec[] = [
      ['agent_started', { ...R }, 0],
      ['agent_thinking', { ...R }, 100],
      ['tool_executing', { ...R, execution_id: 'e1' }, 200],
      ['tool_completed', { ...R, execution_id: 'e1', results: null }, 300],
      ['agent_completed', { ...R }, 400],
    ];
    expect(checkRunSequence(frames(specs), 'r1')).toEqual([
      { rule: 'missing-field', message: 'agent_started (frame #0) lacks thread_id, agent_name, task_description', frameIndex: 0 },
      { rule: 'missing-field', message: 'agent_thinking (frame #1) lacks reasoning', frameIndex: 1 },
      { rule: 'missing-field', message: 'tool_executing (frame #2) lacks tool_name, tool_args or parameters', frameIndex: 2 },
      { rule: 'missing-field', message: 'tool_completed (frame #3) lacks tool_name, results or result, execution_time, success', frameIndex: 3 },
      { rule: 'missing-field', message: 'agent_completed (frame #4) lacks status, final_response or result', frameIndex: 4 },
    ]);
    const error: Spec[] = [started, ['agent_error', { ...R }, 100]];
    expect(checkRunSequence(frames(error), 'r1', { expectSuccess: false })).toEqual([
      { rule: 'missing-field', message: 'agent_error (frame #1) lacks error_code, message', frameIndex: 1 },
    ]);
  });

  it('completed-status and thread-mismatch', () => {
    const failed: Spec = ['agent_completed', { ...R, status: 'failed', final_response: 'x' }, 400];
    expect(checkRunSequence(frames([started, thinking, executing, completedTool, failed]), 'r1', { threadId: 't2' })).toEqual([
      { rule: 'thread-mismatch', message: 'agent_started (frame #0) has thread_id t1, expected t2', frameIndex: 0 },
      { rule: 'completed-status', message: 'agent_completed (frame #4) has status failed, expected "success"', frameIndex: 4 },
    ]);
  });

  it('missing-event: a completed run without thinking or tools', () => {
    expect(checkRunSequence(frames([started, at(completed, 100)]), 'r1')).toEqual([
      { rule: 'missing-event', message: 'run r1 lacks agent_thinking, tool_executing, tool_completed' },
    ]);
  });

  it('missing-event: nothing captured for the run', () => {
    expect(checkRunSequence(frames([['agent_started', { ...started[1], run_id: 'other' }, 0]]), 'r1')).toEqual([
      { rule: 'terminal-count', message: 'run r1 has no terminal event (agent_completed or agent_error)' },
      { rule: 'missing-event', message: 'run r1 lacks agent_started, agent_thinking, tool_executing, tool_completed, agent_completed' },
    ]);
  });

  it('agent-error: only when success is expected; the events a failed run did not reach are not demanded', () => {
    const error: Spec = ['agent_error', { ...R, error_code: 'LLM_TIMEOUT', message: 'model did not answer' }, 300];
    expect(checkRunSequence(frames([started, thinking, error]), 'r1')).toEqual([
      { rule: 'agent-error', message: 'run r1 ended with agent_error LLM_TIMEOUT: model did not answer', frameIndex: 2 },
    ]);
    expect(checkRunSequence(frames([started, thinking, error]), 'r1', { expectSuccess: false })).toEqual([]);
  });

  it('empty-final-response and empty-results: a canned fallback with the right names and nothing in them', () => {
    const emptyResults: Spec = ['tool_completed', { ...completedTool[1], results: {} }, 300];
    const blank: Spec = ['agent_completed', { ...R, status: 'success', final_response: '   ' }, 400];
    expect(checkRunSequence(frames([started, thinking, executing, emptyResults, blank]), 'r1')).toEqual([
      { rule: 'empty-results', message: 'tool_completed (frame #3) for tool calculator has empty results', frameIndex: 3 },
      { rule: 'empty-final-response', message: 'agent_completed (frame #4) has an empty final_response', frameIndex: 4 },
    ]);
    expect(rules([started, thinking, executing, ['tool_completed', { ...completedTool[1], results: [] }, 300], completed])).toEqual(['empty-results']);
    expect(rules([started, thinking, executing, ['tool_completed', { ...completedTool[1], results: '' }, 300], completed])).toEqual(['empty-results']);
  });

  it('stall: a gap over stallMs between consecutive events, and not at exactly stallMs', () => {
    const late = [started, thinking, executing, at(completedTool, 15_201), at(completed, 15_300)];
    expect(checkRunSequence(frames(late), 'r1')).toEqual([
      { rule: 'stall', message: 'run r1 stalled 15 s between tool_executing (frame #2) and tool_completed (frame #3), over the 15 s limit', frameIndex: 3 },
    ]);
    expect(rules([started, thinking, executing, at(completedTool, 15_200), at(completed, 15_300)])).toEqual([]);
    expect(rules([started, at(thinking, 600), at(executing, 700), at(completedTool, 800), at(completed, 900)], { stallMs: 500 })).toEqual(['stall']);
  });

  it('stall: a trailing silence without terminal, when the observation end is given', () => {
    expect(checkRunSequence(frames([started, thinking]), 'r1', { stallMs: 1_000, observedUntilMs: 1_200 })).toEqual([
      { rule: 'terminal-count', message: 'run r1 has no terminal event (agent_completed or agent_error)' },
      { rule: 'missing-event', message: 'run r1 lacks tool_executing, tool_completed, agent_completed' },
      { rule: 'stall', message: 'run r1 stalled: no event for 1.1 s after agent_thinking (frame #1), over the 1 s limit', frameIndex: 1 },
    ]);
  });
});

describe('assertRunSequence', () => {
  function thrown(specs: Spec[], options?: Parameters<typeof assertRunSequence>[2]): CheckError {
    try {
      assertRunSequence(frames(specs), 'r1', options);
    } catch (error) {
      if (error instanceof CheckError) return error;
      throw error;
    }
    throw new Error('expected a CheckError');
  }

  it('returns quietly for a valid run', () => {
    expect(() => assertRunSequence(frames(VALID), 'r1')).not.toThrow();
  });

  it('lists every violation, blames ordering first, and carries compact frames', () => {
    const error = thrown([thinking, started, executing, ['agent_completed', { ...R, status: 'success', final_response: '' }, 400]]);
    expect(error.details.component).toBe('agent');
    expect(error.details.layer).toBe('ordering');
    expect(error.details.code).toBe('started-first');
    expect(error.message).toBe(
      [
        'agent run r1 broke the event contract (4 violations):',
        '  - [started-first] the first event of run r1 is agent_thinking (frame #0), not agent_started',
        '  - [tool-unmatched] tool_executing (frame #2) calculator with execution_id e1 was never followed by tool_completed',
        '  - [missing-event] run r1 lacks tool_completed',
        '  - [empty-final-response] agent_completed (frame #3) has an empty final_response',
      ].join('\n'),
    );
    expect(error.details.elapsedMs).toBe(300);
    const evidenceFrames = error.details.evidence?.frames as ReturnType<typeof compactFrame>[];
    expect(evidenceFrames.map((f) => [f.i, f.type, f.t])).toEqual([
      [0, 'agent_thinking', 0],
      [1, 'agent_started', -100],
      [2, 'tool_executing', 100],
      [3, 'agent_completed', 300],
    ]);
    expect(evidenceFrames[2]).toMatchObject({ run_id: 'r1', execution_id: 'e1', tool_name: 'calculator' });
    expect((error.details.evidence?.violations as unknown[]).length).toBe(4);
  });

  it('blames content for an empty answer alone', () => {
    const error = thrown([started, thinking, executing, completedTool, ['agent_completed', { ...R, status: 'success', final_response: '' }, 400]]);
    expect(error.details.layer).toBe('content');
    expect(error.details.code).toBe('empty-final-response');
  });

  it('blames the budget for a stall alone', () => {
    const error = thrown([started, thinking, executing, at(completedTool, 20_000), at(completed, 20_100)]);
    expect(error.details.layer).toBe('budget');
    expect(error.details.code).toBe('stall');
  });
});
