import { timed, type Sql } from './database.ts';

export async function recordRunStart(sql: Sql, runId: string, threadId: string, userId: string): Promise<void> {
  await timed('start run', () => sql`INSERT INTO agent_runs (run_id, thread_id, user_id, status) VALUES (${runId}, ${threadId}, ${userId}, 'running')`);
}

export async function recordRunEnd(sql: Sql, runId: string, status: 'success' | 'error', errorCode: string | null = null): Promise<void> {
  await timed('finish run', () => sql`UPDATE agent_runs SET status = ${status}, error_code = ${errorCode}, finished_at = clock_timestamp() WHERE run_id = ${runId}`);
}
