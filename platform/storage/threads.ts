import { newId } from '../util/ids.ts';
import { timed, type Sql } from './database.ts';

export interface Thread {
  id: string;
  title: string;
  created_at: string;
  user_id: string;
}

export interface Message {
  id: string;
  role: 'user' | 'assistant';
  content: string;
  created_at: string;
  run_id: string | null;
}

interface ThreadRow {
  id: string;
  title: string;
  created_at: Date;
  user_id: string;
}

interface MessageRow {
  id: string;
  role: 'user' | 'assistant';
  content: string;
  created_at: Date;
  run_id: string | null;
}

const toThread = (row: ThreadRow): Thread => ({ id: row.id, title: row.title, created_at: row.created_at.toISOString(), user_id: row.user_id });
const toMessage = (row: MessageRow): Message => ({
  id: row.id,
  role: row.role,
  content: row.content,
  created_at: row.created_at.toISOString(),
  run_id: row.run_id,
});

export async function createThread(sql: Sql, userId: string, title: string, id: string = newId()): Promise<Thread> {
  const rows = await timed(
    'create thread',
    () => sql<ThreadRow[]>`INSERT INTO threads (id, user_id, title) VALUES (${id}, ${userId}, ${title}) RETURNING id, title, created_at, user_id`,
  );
  return toThread(rows[0]!);
}

/** Only the owner sees a thread: another user's thread is indistinguishable from a missing one. */
export async function findOwnedThread(sql: Sql, userId: string, id: string): Promise<Thread | undefined> {
  const rows = await timed('find thread', () => sql<ThreadRow[]>`SELECT id, title, created_at, user_id FROM threads WHERE id = ${id} AND user_id = ${userId}`);
  return rows[0] ? toThread(rows[0]) : undefined;
}

/** Any user's thread: only for fault `thread_leak`, which serves threads to non-owners. */
export async function findAnyThread(sql: Sql, id: string): Promise<Thread | undefined> {
  const rows = await timed('find thread (any owner)', () => sql<ThreadRow[]>`SELECT id, title, created_at, user_id FROM threads WHERE id = ${id}`);
  return rows[0] ? toThread(rows[0]) : undefined;
}

/** Deletes an owned thread; its messages and runs go with it (ON DELETE CASCADE). */
export async function deleteOwnedThread(sql: Sql, userId: string, id: string): Promise<boolean> {
  const rows = await timed('delete thread', () => sql`DELETE FROM threads WHERE id = ${id} AND user_id = ${userId} RETURNING id`);
  return rows.length > 0;
}

/** Oldest first; `seq` breaks ties between messages written in the same microsecond. */
export async function listMessages(sql: Sql, threadId: string): Promise<Message[]> {
  const rows = await timed(
    'list messages',
    () => sql<MessageRow[]>`SELECT id, role, content, created_at, run_id FROM messages WHERE thread_id = ${threadId} ORDER BY created_at, seq`,
  );
  return rows.map(toMessage);
}

export async function addMessage(sql: Sql, threadId: string, role: Message['role'], content: string, runId: string | null): Promise<Message> {
  const id = newId(); // outside the query thunk: a retried insert must not become a second message
  const rows = await timed(
    'add message',
    () => sql<MessageRow[]>`
      INSERT INTO messages (id, thread_id, role, content, run_id)
      VALUES (${id}, ${threadId}, ${role}, ${content}, ${runId})
      RETURNING id, role, content, created_at, run_id`,
  );
  return toMessage(rows[0]!);
}
