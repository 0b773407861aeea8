/**
 * Threads as the contract's REST API has them: deleting one (204, or 404 when already gone),
 * reading a thread's messages as a checked list, and asserting that a thread holds the
 * conversation its runs had.
 */
import { CheckError, messageOf } from '../core/errors.ts';
import { redactSecrets } from '../core/redact.ts';
import type { HttpClient } from '../transport/http.ts';
import type { AgentRunResult } from './agent-run.ts';
import { expectStatus } from './http-checks.ts';

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

/** Deletes each thread in turn with `api`; returns the ones left behind, with why. */
export async function deleteThreads(api: HttpClient, ids: Iterable<string>, secrets: readonly string[] = []): Promise<ThreadNotDeleted[]> {
  const left: ThreadNotDeleted[] = [];
  for (const id of ids) {
    const failure = await deleteThread(api, id, secrets);
    if (failure) left.push(failure);
  }
  return left;
}

export interface ThreadMessage {
  id: string;
  role: 'user' | 'assistant';
  content: string;
  created_at: string;
  run_id?: string | null;
}

/** GET /api/threads/:id/messages as a checked list (200, array of contract-shaped messages). */
export async function readMessages(api: HttpClient, threadId: string): Promise<ThreadMessage[]> {
  const what = 'GET /api/threads/:id/messages';
  const result = await api.request('GET', `/api/threads/${encodeURIComponent(threadId)}/messages`, { auth: true });
  expectStatus(result, 200, what, 'backend');
  const fail = (message: string, evidence: Record<string, unknown>): never => {
    throw new CheckError(`${what}: ${message}`, { component: 'backend', layer: 'content', endpoint: `GET ${result.url}`, correlationId: result.correlationId, evidence });
  };
  if (!Array.isArray(result.json)) return fail(`expected a JSON array, got ${result.body.slice(0, 120)}`, { body: result.body.slice(0, 500) });
  const list = result.json as unknown[];
  list.forEach((entry, index) => {
    const m = (entry ?? {}) as Record<string, unknown>;
    const bad = [
      typeof m.id !== 'string' || m.id === '' ? 'id' : '',
      m.role !== 'user' && m.role !== 'assistant' ? 'role' : '',
      typeof m.content !== 'string' ? 'content' : '',
      typeof m.created_at !== 'string' || Number.isNaN(Date.parse(m.created_at)) ? 'created_at' : '',
      m.run_id !== undefined && m.run_id !== null && typeof m.run_id !== 'string' ? 'run_id' : '',
    ].filter(Boolean);
    if (bad.length > 0) fail(`message #${index} has invalid ${bad.join(', ')}`, { message: JSON.stringify(entry).slice(0, 500) });
  });
  const messages = list as ThreadMessage[];
  for (let i = 1; i < messages.length; i++) {
    if (Date.parse(messages[i]!.created_at) < Date.parse(messages[i - 1]!.created_at)) {
      fail(`messages are not oldest first: #${i} (${messages[i]!.created_at}) is older than #${i - 1} (${messages[i - 1]!.created_at})`, {
        createdAt: messages.map((m) => m.created_at),
      });
    }
  }
  return messages;
}

export interface ExpectedTurn {
  /** What the user sent. */
  prompt: string;
  run: AgentRunResult;
}

/**
 * The thread holds exactly these turns, oldest first: per turn the user's message, then the
 * assistant's answer (equal to the run's final_response) carrying the run's run_id.
 */
export async function expectPersistedTurns(api: HttpClient, threadId: string, turns: readonly ExpectedTurn[]): Promise<ThreadMessage[]> {
  const messages = await readMessages(api, threadId);
  const expected = turns.flatMap((turn) => [
    { role: 'user' as const, content: turn.prompt.trim(), runId: undefined },
    { role: 'assistant' as const, content: turn.run.finalResponse, runId: turn.run.runId },
  ]);
  const shown = (list: readonly { role: string; content: string }[]) => list.map((m) => `${m.role}: ${m.content.slice(0, 80)}`);
  const problems: string[] = [];
  if (messages.length !== expected.length) problems.push(`expected ${expected.length} messages, found ${messages.length}`);
  expected.forEach((want, i) => {
    const got = messages[i];
    if (!got) return;
    if (got.role !== want.role) problems.push(`message #${i} is ${got.role}, expected ${want.role}`);
    else if (got.content.trim() !== want.content.trim()) problems.push(`message #${i} (${want.role}) reads "${got.content.slice(0, 120)}", expected "${want.content.slice(0, 120)}"`);
    if (want.runId !== undefined && got.run_id !== want.runId) problems.push(`message #${i} (assistant) has run_id ${String(got.run_id)}, expected ${want.runId}`);
  });
  if (problems.length > 0) {
    throw new CheckError(`thread ${threadId} does not hold the conversation the runs had: ${problems.join('; ')}`, {
      component: 'backend',
      layer: 'content',
      code: 'messages-not-persisted',
      endpoint: 'GET /api/threads/:id/messages',
      evidence: { threadId, expected: shown(expected), found: shown(messages), runIds: turns.map((t) => t.run.runId) },
    });
  }
  return messages;
}
