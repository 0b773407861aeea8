/**
 * Threads as the contract's REST API has them: deleting one (204, or 404 when already gone),
 * reading a thread's messages as a checked list (either history shape, either content form),
 * and asserting that a thread holds the conversation its runs had.
 */
import { CheckError, messageOf, type Component } from '../core/errors.ts';
import { isPlainObject } from '../core/frames.ts';
import { redactSecrets } from '../core/redact.ts';
import type { HttpClient } from '../transport/http.ts';
import type { AgentRunResult } from './agent-run.ts';
import { expectStatus } from './http-checks.ts';
import { plainText, textOf } from './text.ts';

export interface ThreadNotDeleted {
  id: string;
  reason: string;
}

/**
 * DELETE /api/threads/:id with `api`'s token. Gone is fine either way (204, or 404: the test or
 * a fixture got to it first); anything else, or no answer, is the reason it is still there.
 */
export async function deleteThread(api: HttpClient, id: string, secrets: readonly string[] = []): Promise<ThreadNotDeleted | undefined> {
  try {
    const result = await api.request('DELETE', `/api/threads/${encodeURIComponent(id)}`, { auth: true });
    return result.status === 204 || result.status === 404 ? undefined : { id, reason: `DELETE answered HTTP ${result.status}` };
  } catch (error) {
    return { id, reason: redactSecrets(messageOf(error), secrets) };
  }
}

/** Deletes a test's threads (a few) side by side with `api`; returns the ones left behind, with why. */
export async function deleteThreads(api: HttpClient, ids: Iterable<string>, secrets: readonly string[] = []): Promise<ThreadNotDeleted[]> {
  const failures = await Promise.all([...ids].map((id) => deleteThread(api, id, secrets)));
  return failures.filter((failure): failure is ThreadNotDeleted => failure !== undefined);
}

export interface ThreadMessage {
  id: string;
  role: 'user' | 'assistant';
  /** The message's text: `content` as sent when a string, its text parts joined when parts. */
  content: string;
  created_at: string;
  run_id?: string | null;
}


/**
 * GET /api/threads/:id/messages as a checked list, oldest first. The contract allows a bare
 * array or an envelope `{messages:[…], total, limit, offset}`, and each `content` as a string
 * or as text parts `[{type:"text", text:{value}}]`; either way the messages come back with
 * their text as `content`.
 */
export async function readMessages(api: HttpClient, threadId: string): Promise<ThreadMessage[]> {
  const what = 'GET /api/threads/:id/messages';
  const result = await api.request('GET', `/api/threads/${encodeURIComponent(threadId)}/messages`, { auth: true });
  expectStatus(result, 200, what, 'backend');
  const fail = (message: string, evidence: Record<string, unknown>): never => {
    throw new CheckError(`${what}: ${message}`, { component: 'backend', layer: 'content', endpoint: `GET ${result.url}`, correlationId: result.correlationId, evidence });
  };
  const list = messageList(result.json);
  if (list === undefined) {
    return fail(`expected a JSON array or an envelope {messages:[…], total, limit, offset}, got ${result.body.slice(0, 120)}`, { body: result.body.slice(0, 500) });
  }
  const messages = list.map((entry, index): ThreadMessage => {
    const m = (entry ?? {}) as Record<string, unknown>;
    const content = textOf(m.content);
    const bad = [
      typeof m.id !== 'string' || m.id === '' ? 'id' : '',
      m.role !== 'user' && m.role !== 'assistant' ? 'role' : '',
      content === undefined ? 'content' : '',
      typeof m.created_at !== 'string' || Number.isNaN(Date.parse(m.created_at)) ? 'created_at' : '',
      m.run_id !== undefined && m.run_id !== null && typeof m.run_id !== 'string' ? 'run_id' : '',
    ].filter(Boolean);
    if (bad.length > 0) fail(`message #${index} has invalid ${bad.join(', ')}`, { message: JSON.stringify(entry).slice(0, 500) });
    return { ...(m as unknown as ThreadMessage), content: content ?? '' };
  });
  for (let i = 1; i < messages.length; i++) {
    if (Date.parse(messages[i]!.created_at) < Date.parse(messages[i - 1]!.created_at)) {
      fail(`messages are not oldest first: #${i} (${messages[i]!.created_at}) is older than #${i - 1} (${messages[i - 1]!.created_at})`, {
        createdAt: messages.map((m) => m.created_at),
      });
    }
  }
  return messages;
}

/** The messages of a history body in either of the contract's shapes; undefined for anything else. */
export function messageList(json: unknown): unknown[] | undefined {
  if (Array.isArray(json)) return json;
  if (isPlainObject(json) && Array.isArray(json.messages)) return json.messages;
  return undefined;
}

export interface ExpectedTurn {
  /** What the user sent. */
  prompt: string;
  run: AgentRunResult;
  /**
   * The facts the answer must carry (patterns). The stored answer must match each one, as the
   * streamed answer must. Without them the stored answer must say what the streamed one said,
   * formatting aside.
   */
  facts?: readonly RegExp[];
}

/** Whitespace runs collapsed, trimmed: how a stored user message is compared with what was sent. */
function sameWords(a: string, b: string): boolean {
  return a.replace(/\s+/g, ' ').trim() === b.replace(/\s+/g, ' ').trim();
}

/**
 * The thread holds exactly these turns, oldest first: per turn the user's message, then the
 * assistant's answer. The answer (the turn's last assistant message) carries the same facts as
 * the run's answer: each of the turn's `facts` patterns, or, without patterns, the same text
 * once markdown and spacing are set aside; it need not be byte-identical (an LLM platform may
 * store it as markdown or text parts). A `run_id` on it, when the deployment stores one, is
 * the run's. A missing or different message is blamed on `options.component` (default
 * 'backend'; a check of the agent run as a whole says 'agent').
 */
export async function expectPersistedTurns(api: HttpClient, threadId: string, turns: readonly ExpectedTurn[], options: { component?: Component } = {}): Promise<ThreadMessage[]> {
  const messages = await readMessages(api, threadId);
  const shown = (list: readonly { role: string; content: string }[]) => list.map((m) => `${m.role}: ${m.content.slice(0, 80)}`);
  const problems: string[] = [];
  // Group the history into turns: a user message and the assistant messages that follow it.
  const stored: { user: ThreadMessage; answers: ThreadMessage[] }[] = [];
  messages.forEach((message, i) => {
    if (message.role === 'user') stored.push({ user: message, answers: [] });
    else if (stored.length === 0) problems.push(`message #${i} is an assistant message before any user message`);
    else stored[stored.length - 1]!.answers.push(message);
  });
  if (stored.length !== turns.length) problems.push(`expected ${turns.length} user message(s), found ${stored.length}`);
  turns.forEach((turn, n) => {
    const got = stored[n];
    if (!got) return;
    if (!sameWords(got.user.content, turn.prompt)) problems.push(`turn ${n + 1}: the user message reads "${got.user.content.slice(0, 120)}", expected "${turn.prompt.slice(0, 120)}"`);
    const answer = got.answers[got.answers.length - 1];
    if (!answer) {
      problems.push(`turn ${n + 1}: no assistant message after "${turn.prompt.slice(0, 80)}"`);
      return;
    }
    const missed = turn.facts === undefined
      ? (plainText(answer.content) === plainText(turn.run.finalResponse) || turn.run.finalResponse === '' ? [] : ['the streamed answer'])
      : turn.facts.filter((fact) => !fact.test(answer.content)).map((fact) => `/${fact.source}/`);
    if (answer.content.trim() === '') problems.push(`turn ${n + 1}: the assistant message is empty`);
    else if (missed.length > 0) problems.push(`turn ${n + 1}: the assistant message "${answer.content.slice(0, 120)}" lacks ${missed.join(', ')} of the run's answer "${turn.run.finalResponse.slice(0, 120)}"`);
    const runIds = got.answers.map((m) => m.run_id).filter((id): id is string => typeof id === 'string' && id !== '');
    if (runIds.some((id) => id !== turn.run.runId)) problems.push(`turn ${n + 1}: the assistant message carries run_id ${runIds.join(', ')}, expected ${turn.run.runId}`);
  });
  if (problems.length > 0) {
    throw new CheckError(`thread ${threadId} does not hold the conversation the runs had: ${problems.join('; ')}`, {
      component: options.component ?? 'backend',
      layer: 'content',
      code: 'messages-not-persisted',
      endpoint: 'GET /api/threads/:id/messages',
      evidence: {
        threadId,
        expected: turns.flatMap((t) => [`user: ${t.prompt.slice(0, 80)}`, `assistant: ${t.run.finalResponse.slice(0, 80)}`]),
        found: shown(messages),
        runIds: turns.map((t) => t.run.runId),
      },
    });
  }
  return messages;
}
