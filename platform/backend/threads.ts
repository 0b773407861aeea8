import { z } from 'zod';
import { requireUser } from '../auth/authenticate.ts';
import type { PlatformContext } from '../context.ts';
import { HttpError, type Route } from '../http/router.ts';
import { parseBody } from '../http/validate.ts';
import { createThread, deleteOwnedThread, findAnyThread, findOwnedThread, listMessages, type Message, type Thread } from '../storage/threads.ts';
import { isUuid } from '../util/ids.ts';

const createBody = z.object({ title: z.string().trim().min(1).max(200).optional() });

/**
 * Unknown ids, malformed ids and other users' threads all look the same: 404. Under fault
 * `thread_leak` the ownership check is gone (reads only: DELETE stays owner-only).
 */
async function ownedThreadOr404(context: PlatformContext, userId: string, id: string): Promise<Thread> {
  const find = context.behaviour.has('thread_leak') ? (): Promise<Thread | undefined> => findAnyThread(context.sql, id) : () => findOwnedThread(context.sql, userId, id);
  const thread = isUuid(id) ? await find() : undefined;
  if (!thread) throw new HttpError(404, 'thread_not_found', 'thread not found');
  return thread;
}

const DEFAULT_PAGE = 50;
const MAX_PAGE = 200;

function pageParam(url: URL, name: string, fallback: number, max: number): number {
  const raw = url.searchParams.get(name);
  if (raw === null || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > max) throw new HttpError(422, 'invalid_query', `${name} must be an integer from 0 to ${max}`);
  return value;
}

/**
 * The history as `historyStyle: envelope` serves it, like the platform the contract comes from:
 * `{messages, total, limit, offset}` (oldest first, `?limit=&offset=`), each message's content
 * as text parts `[{type:"text", text:{value}}]`.
 */
function historyEnvelope(messages: Message[], url: URL): Record<string, unknown> {
  const limit = pageParam(url, 'limit', DEFAULT_PAGE, MAX_PAGE) || DEFAULT_PAGE;
  const offset = pageParam(url, 'offset', 0, Number.MAX_SAFE_INTEGER);
  return {
    messages: messages.slice(offset, offset + limit).map((message) => ({ ...message, content: [{ type: 'text', text: { value: message.content } }] })),
    total: messages.length,
    limit,
    offset,
  };
}

export function threadRoutes(context: PlatformContext): Route[] {
  return [
    {
      method: 'POST',
      path: '/api/threads',
      handler: async (request) => {
        const user = await requireUser(context, request);
        const { title } = parseBody(createBody, await request.readJson({ optional: true }));
        return { status: 201, body: await createThread(context.sql, user.sub, title ?? 'New conversation') };
      },
    },
    {
      method: 'GET',
      path: '/api/threads/:id',
      handler: async (request) => {
        const user = await requireUser(context, request);
        return { status: 200, body: await ownedThreadOr404(context, user.sub, request.params.id ?? '') };
      },
    },
    {
      method: 'GET',
      path: '/api/threads/:id/messages',
      handler: async (request) => {
        const user = await requireUser(context, request);
        const thread = await ownedThreadOr404(context, user.sub, request.params.id ?? '');
        const messages = await listMessages(context.sql, thread.id);
        return { status: 200, body: context.config.historyStyle === 'envelope' ? historyEnvelope(messages, request.url) : messages };
      },
    },
    {
      method: 'DELETE',
      path: '/api/threads/:id',
      handler: async (request) => {
        const user = await requireUser(context, request);
        const id = request.params.id ?? '';
        if (!isUuid(id) || !(await deleteOwnedThread(context.sql, user.sub, id))) throw new HttpError(404, 'thread_not_found', 'thread not found');
        return { status: 204 };
      },
    },
  ];
}
