import { describe, expect, it } from 'vitest';
import { timelineText } from '../../helpers/contract/agent-run.ts';

describe('an agent run timeline as one annotation', () => {
  it('lists every event type with its time from start_agent, in order', () => {
    expect(timelineText('run-7', [
      { type: 'agent_started', tMs: 42 },
      { type: 'agent_thinking', tMs: 130 },
      { type: 'tool_executing', tMs: 900 },
      { type: 'tool_completed', tMs: 1_240 },
      { type: 'agent_completed', tMs: 2_310 },
    ])).toBe('agent run run-7: agent_started +42 ms · agent_thinking +130 ms · tool_executing +900 ms · tool_completed +1.2 s · agent_completed +2.3 s');
  });

  it('says so when the run had no event', () => {
    expect(timelineText('run-8', [])).toBe('agent run run-8: no event');
  });
});
