import { timed, type Sql } from './database.ts';

export interface UserRow {
  id: string;
  email: string;
  password_hash: string | null;
  name: string;
}

export class EmailTakenError extends Error {
  constructor(email: string) {
    super(`email ${email} belongs to another user`);
    this.name = 'EmailTakenError';
  }
}

export async function findUserByEmail(sql: Sql, email: string): Promise<UserRow | undefined> {
  const rows = await timed('find user', () => sql<UserRow[]>`SELECT id, email, password_hash, name FROM users WHERE lower(email) = lower(${email})`);
  return rows[0];
}

export async function insertUser(sql: Sql, user: UserRow): Promise<void> {
  await timed('insert user', () => sql`INSERT INTO users (id, email, password_hash, name) VALUES (${user.id}, ${user.email}, ${user.password_hash}, ${user.name})`);
}

/** Test-auth users: created on first use, name/email refreshed afterwards. */
export async function upsertPasswordlessUser(sql: Sql, id: string, email: string, name: string): Promise<UserRow> {
  try {
    const rows = await timed(
      'upsert user',
      () => sql<UserRow[]>`
        INSERT INTO users (id, email, password_hash, name) VALUES (${id}, ${email}, NULL, ${name})
        ON CONFLICT (id) DO UPDATE SET email = EXCLUDED.email, name = EXCLUDED.name
        RETURNING id, email, password_hash, name`,
    );
    const row = rows[0];
    if (!row) throw new Error('upsert returned no row');
    return row;
  } catch (error) {
    if ((error as { code?: string }).code === '23505') throw new EmailTakenError(email);
    throw error;
  }
}
