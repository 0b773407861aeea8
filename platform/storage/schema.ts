import postgres from 'postgres';
import type { Logger } from '../util/log.ts';
import { randomSecret } from '../util/ids.ts';
import { capitalFacts } from './facts.ts';
import type { PostgresTarget } from '../stores/launcher.ts';

export interface ReadonlyLogin {
  user: string;
  password?: string;
}

function adminClient(url: string, database?: string): postgres.Sql {
  return postgres(url, { max: 1, connect_timeout: 5, onnotice: () => {}, ...(database ? { database } : {}) });
}

const tables = (schema: string): string => `
  CREATE TABLE ${schema}.users (
    id text PRIMARY KEY,
    email text NOT NULL UNIQUE,
    password_hash text,
    name text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now()
  );
  CREATE TABLE ${schema}.threads (
    id uuid PRIMARY KEY,
    user_id text NOT NULL REFERENCES ${schema}.users(id) ON DELETE CASCADE,
    title text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp()
  );
  CREATE INDEX threads_user_idx ON ${schema}.threads (user_id);
  CREATE TABLE ${schema}.messages (
    id uuid PRIMARY KEY,
    seq bigserial NOT NULL,
    thread_id uuid NOT NULL REFERENCES ${schema}.threads(id) ON DELETE CASCADE,
    role text NOT NULL CHECK (role IN ('user', 'assistant')),
    content text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    run_id uuid
  );
  CREATE INDEX messages_thread_idx ON ${schema}.messages (thread_id, seq);
  CREATE TABLE ${schema}.agent_runs (
    run_id uuid PRIMARY KEY,
    thread_id uuid NOT NULL REFERENCES ${schema}.threads(id) ON DELETE CASCADE,
    user_id text NOT NULL,
    status text NOT NULL,
    error_code text,
    started_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    finished_at timestamptz
  );
  CREATE TABLE ${schema}.facts (
    id serial PRIMARY KEY,
    subject text NOT NULL,
    relation text NOT NULL,
    object text NOT NULL,
    UNIQUE (subject, relation)
  );
`;

/**
 * Creates the platform's database objects. In our own cluster: database `stagecheck`, tables
 * in `public`, role `stagecheck_readonly`. In a shared server: everything inside a run-unique
 * schema plus a run-unique read-only role, so nothing existing is ever touched.
 */
export async function createSchema(target: PostgresTarget, log: Logger): Promise<ReadonlyLogin> {
  if (!target.external) {
    // Renaming initdb's empty `postgres` database is instant; CREATE DATABASE copies template1 (~150 ms).
    const bootstrap = adminClient(target.directUrl, 'template1');
    try {
      await bootstrap.unsafe(`ALTER DATABASE postgres RENAME TO "${target.database}"`);
    } finally {
      await bootstrap.end({ timeout: 1 });
    }
  }
  const sql = adminClient(target.directUrl);
  const schema = `"${target.schema}"`;
  try {
    if (target.external) await sql.unsafe(`CREATE SCHEMA ${schema}`);
    await sql.unsafe(tables(schema));
    await sql.unsafe(
      `INSERT INTO ${schema}.facts (subject, relation, object) SELECT * FROM unnest($1::text[], $2::text[], $3::text[])`,
      [capitalFacts.map(([country]) => country), capitalFacts.map(() => 'capital'), capitalFacts.map(([, capital]) => capital)],
    );
    return await createReadonlyRole(sql, target, log);
  } finally {
    await sql.end({ timeout: 1 });
  }
}

async function createReadonlyRole(sql: postgres.Sql, target: PostgresTarget, log: Logger): Promise<ReadonlyLogin> {
  const schema = `"${target.schema}"`;
  const user = target.external ? `${target.schema}_ro` : 'stagecheck_readonly';
  const password = target.external ? randomSecret(18) : undefined;
  try {
    // Trust auth in our own cluster needs no password; a shared server gets a random one.
    await sql.unsafe(`CREATE ROLE "${user}" LOGIN${password ? ` PASSWORD '${password}'` : ''}`);
    await sql.unsafe(`ALTER ROLE "${user}" SET default_transaction_read_only = on`);
    await sql.unsafe(`ALTER ROLE "${user}" SET search_path = ${schema}`);
    await sql.unsafe(`GRANT CONNECT ON DATABASE "${target.database}" TO "${user}"`);
    await sql.unsafe(`GRANT USAGE ON SCHEMA ${schema} TO "${user}"`);
    await sql.unsafe(`GRANT SELECT ON ALL TABLES IN SCHEMA ${schema} TO "${user}"`);
    return password ? { user, password } : { user };
  } catch (error) {
    if (!target.external) throw error;
    log.warn(`could not create a read-only role on the external database (${(error as Error).message}); the suite gets the platform's own login`);
    const url = new URL(target.directUrl);
    return { user: decodeURIComponent(url.username), password: decodeURIComponent(url.password) };
  }
}

/** Removes what createSchema made in a shared server; our own cluster is simply deleted. */
export async function dropSchema(target: PostgresTarget, readonly: ReadonlyLogin): Promise<void> {
  if (!target.external) return;
  const sql = adminClient(target.directUrl);
  try {
    await sql.unsafe(`DROP SCHEMA IF EXISTS "${target.schema}" CASCADE`);
    if (readonly.user === `${target.schema}_ro`) {
      await sql.unsafe(`REVOKE ALL ON DATABASE "${target.database}" FROM "${readonly.user}"`);
      await sql.unsafe(`DROP ROLE IF EXISTS "${readonly.user}"`);
    }
  } finally {
    await sql.end({ timeout: 1 });
  }
}
