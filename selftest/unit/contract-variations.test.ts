/**
 * The contract's "What varies between deployments", rule by rule on hand-made frames: each
 * allowed form passes, and the violation it must not hide still fails (sub-agents vs a second
 * terminal of the run's agent, a refusal vs a refusal that did work, stored facts vs a lost
 * answer, the prompt file's validation).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { answerOf, checkRunSequence } from '../../helpers/contract/agent-events.ts';
import { messageList } from '../../helpers/contract/threads.ts';
import { plainText, textOf } from '../../helpers/contract/text.ts';
import { normalizeFrame, type CapturedFrame } from '../../helpers/core/frames.ts';
import { goldenPromptFileProblems, isLargestTierRequest, loadPromptSet, recallPatternsOf } from '../../fixtures/golden-prompts.ts';

/** Frames as the session captures them, from the raw objects a server sends, 1 s apart. */
function capture(raw: Record<string, unknown>[]): CapturedFrame[] {
  return raw.map((frame, index) => ({ ...normalizeFrame(JSON.stringify(frame), false), index, receivedAt: index * 1000, receivedAtEpoch: 1_700_000_000_000 + index * 1000 }));
}

const R = { run_id: 'r1' };
const started = { type: 'agent_started', ...R, thread_id: 't1', agent_name: 'supervisor', task_description: 'What is the capital of France?' };
const thinking = { type: 'agent_thinking', ...R, reasoning: 'plan' };
const executing = { type: 'tool_executing', ...R, tool_name: 'knowledge_lookup', tool_args: { q: 'France' }, execution_id: 'e1' };
const completedTool = { type: 'tool_completed', ...R, tool_name: 'knowledge_lookup', execution_id: 'e1', results: { city: 'Paris' }, execution_time: 12, success: true };
const completed = { type: 'agent_completed', ...R, status: 'success', final_response: 'Paris is the capital of France.' };
const sub = { ...R, agent_name: 'research_agent' };
const subAgent = [
  { type: 'agent_started', ...sub, thread_id: 't1', task_description: 'look up' },
  { type: 'agent_thinking', ...sub, reasoning: 'searching' },
  { type: 'agent_completed', ...sub, status: 'success', final_response: 'notes' },
];

const rules = (raw: Record<string, unknown>[], options?: Parameters<typeof checkRunSequence>[2]): string[] => checkRunSequence(capture(raw), 'r1', options).map((v) => v.rule);

describe('sub-agents inside a run', () => {
  it("accepts a sub-agent's own agent_started/agent_thinking/agent_completed; the run's agent ends the run", () => {
    expect(rules([started, thinking, ...subAgent, executing, completedTool, completed])).toEqual([]);
  });

  it("still fails a second terminal event of the run's own agent", () => {
    expect(rules([started, thinking, ...subAgent, executing, completedTool, completed, completed])).toContain('terminal-count');
  });

  it("still fails a second agent_started of the run's own agent, and a run ended only by a sub-agent", () => {
    expect(rules([started, thinking, started, executing, completedTool, completed])).toContain('started-repeated');
    expect(rules([started, thinking, executing, completedTool, ...subAgent])).toContain('terminal-count');
  });
});

describe('wrapped fields, structured answers, extra events', () => {
  it('accepts fields nested in data (parameters, result, a structured result) with type, run_id and tool_name at the root', () => {
    const wrapped = [
      started,
      { type: 'agent_thinking', ...R, data: { reasoning: 'plan' } },
      { type: 'tool_executing', ...R, tool_name: 'knowledge_lookup', data: { parameters: { q: 'France' }, execution_id: 'e1' } },
      { type: 'tool_completed', ...R, tool_name: 'knowledge_lookup', data: { result: { city: 'Paris' }, execution_id: 'e1', execution_time: 12, success: true } },
      { type: 'agent_completed', ...R, data: { status: 'success', result: { response: 'Paris is the capital of France.', steps: 2 } } },
    ];
    const frames = capture(wrapped);
    expect(checkRunSequence(frames, 'r1')).toEqual([]);
    expect(answerOf(frames[4]!)).toBe('Paris is the capital of France.');
  });

  it('still fails empty results and an empty structured answer', () => {
    const emptyTool = { ...completedTool, results: {} };
    expect(rules([started, thinking, executing, emptyTool, completed])).toContain('empty-results');
    expect(rules([started, thinking, executing, completedTool, { type: 'agent_completed', ...R, status: 'success', result: { response: '' } }])).toContain('empty-final-response');
  });

  it('accepts progress, partial results and extra fields; counts them as activity for the stall rule', () => {
    const progress = { type: 'agent_progress', ...R, message: 'step 1', step: 1, total_steps: 2, x_extra: true };
    expect(rules([{ ...started, x_trace: 'a' }, thinking, progress, executing, completedTool, { type: 'partial_result', ...R, content: 'Par' }, thinking, completed])).toEqual([]);
    // 1 s apart: a 1.5 s stall limit passes only because the progress events count as the run's events.
    const spaced = capture([started, thinking, progress, executing, completedTool, completed]);
    spaced[3]!.receivedAt = 2_500; // 0.5 s after progress, 2.5 s after thinking
    spaced[4]!.receivedAt = 3_500;
    spaced[5]!.receivedAt = 4_500;
    expect(checkRunSequence(spaced, 'r1', { stallMs: 1_600 }).map((v) => v.rule)).toEqual([]);
  });
});

describe('message history forms', () => {
  it('reads a bare array and an envelope, content as a string or text parts', () => {
    expect(messageList([{ id: 'm1' }])).toEqual([{ id: 'm1' }]);
    expect(messageList({ messages: [{ id: 'm1' }], total: 1, limit: 50, offset: 0 })).toEqual([{ id: 'm1' }]);
    expect(messageList({ items: [] })).toBeUndefined();
    expect(textOf('hi')).toBe('hi');
    expect(textOf([{ type: 'text', text: { value: 'Paris' } }, { type: 'text', text: { value: 'is it.' } }])).toBe('Paris\nis it.');
    expect(textOf([{ type: 'image', url: 'x' }, { type: 'text', text: 'ok' }])).toBe('ok');
    expect(textOf(42)).toBeUndefined();
    expect(plainText('**Paris** is the\n- capital')).toBe(plainText('Paris is the capital'));
  });
});

describe('golden prompts', () => {
  const dir = mkdtempSync(join(tmpdir(), 'stagecheck-prompts-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, content: unknown): string => {
    const path = join(dir, name);
    writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
    return path;
  };

  it('recalls a question by its numbers and content words, not a verbatim quote', () => {
    const patterns = recallPatternsOf('What is the capital of France?');
    expect(patterns.every((p) => p.test('You asked me about the capital city of France.'))).toBe(true);
    expect(patterns.every((p) => p.test('You asked what 17 * 3 is.'))).toBe(false);
    expect(recallPatternsOf('What is 17 * 3?').every((p) => p.test('Earlier you asked "17 x 3".'))).toBe(true);
  });

  it('loads the shipped LLM example: no tool names, one tool at least', () => {
    const set = loadPromptSet({ GOLDEN_PROMPTS_FILE: join(import.meta.dirname, '../../fixtures/prompts/llm-agent.example.json') });
    expect(set.prompts.length).toBeGreaterThanOrEqual(3);
    expect(set.prompts.every((p) => p.minTools === 1 && p.tools.length === 0)).toBe(true);
  });

  it('names the entry and the field of every mistake', () => {
    const problems = goldenPromptFileProblems({
      GOLDEN_PROMPTS_FILE: file('bad.json', { prompts: [{ id: 'x', prompt: 'q', expect: ['(open'] }, { id: 'x', prompt: 'q', expect: ['a'], minTools: 0, tool: [] }] }),
    });
    expect(problems.join('\n')).toMatch(/entry 0 \("x"\) field expect\[0\] is not a valid regular expression/);
    expect(problems.join('\n')).toMatch(/entry 1 \("x"\) field minTools must be at least 1/);
    expect(problems.join('\n')).toMatch(/entry 1 \("x"\) has unknown field\(s\) tool/);
    expect(problems.join('\n')).toMatch(/entry 1 \("x"\) field id repeats the id of entry 0/);
    expect(goldenPromptFileProblems({ GOLDEN_PROMPTS_FILE: file('notjson.json', '{') })[0]).toMatch(/could not be read as JSON/);
    expect(goldenPromptFileProblems({ GOLDEN_PROMPTS_FILE: file('empty.json', []) })[0]).toMatch(/must hold at least one prompt entry/);
    expect(() => loadPromptSet({ GOLDEN_PROMPTS_FILE: file('bad2.json', [{ id: 'y' }]) })).toThrow(/entry 0 \("y"\) field prompt/);
    expect(goldenPromptFileProblems({ GOLDEN_PROMPTS_FILE: file('tier.json', [{ id: 't', prompt: 'q', expect: ['a'], tier: 'huge' }]) }).join('\n')).toMatch(/entry 0 \("t"\) field tier must be "standard" or "largest"/);
  });

  it('marks the prompts the file puts on the largest tier, whose runs get that tier\'s agent budget', () => {
    const env = { GOLDEN_PROMPTS_FILE: file('tiers.json', [{ id: 'small', prompt: 'What is 1 + 1?', expect: ['2'] }, { id: 'report', prompt: 'Write the quarterly report.', expect: ['report'], tier: 'largest' }]) };
    expect(loadPromptSet(env).prompts.map((p) => [p.id, p.largestTier])).toEqual([['small', false], ['report', true]]);
    expect(isLargestTierRequest('Write the quarterly report.', env)).toBe(true);
    expect(isLargestTierRequest('What is 1 + 1?', env)).toBe(false);
    expect(isLargestTierRequest('What is 17 * 3?', {}), 'the default prompts are all standard').toBe(false);
  });
});
