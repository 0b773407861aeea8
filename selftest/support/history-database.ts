/**
 * A database of its own for a PostgreSQL history (STAGECHECK_HISTORY_URL), created in the
 * private PostgreSQL server a reference platform started for a self-test: the same server as
 * the platform's database (STAGING_DATABASE_URL), another database, as a team would set it up.
 *
 * The platform's server trusts loopback connections (initdb -A trust), so its superuser
 * `postgres` can create the database. The history URL carries a password anyway (never asked
 * for): the sentinel proves it never reaches output.
 */
import postgres from 'postgres';

export const HISTORY_PASSWORD = 'sentinel-history-pw';

export interface HistoryRow {
  id: string;
  target: string;
  at: Date;
  run_id: string | null;
  verdict: string | null;
  entry: unknown;
}

export interface HistoryDatabase {
  /** postgres://postgres:<sentinel>@127.0.0.1:<port>/<name>. */
  url: string;
  rows(): Promise<HistoryRow[]>;
  /** Whether a schema exists in another database of the same server (the deployment's, say). */
  schemaExists(database: string, schema: string): Promise<boolean>;
  close(): Promise<void>;
}

function connect(base: URL, database: string) {
  const url = new URL(base.href);
  url.username = 'postgres';
  url.password = '';
  url.pathname = `/${database}`;
  return postgres(url.href, { max: 1, connect_timeout: 5, idle_timeout: 5, onnotice: () => {} });
}

export async function createHistoryDatabase(stagingDatabaseUrl: string, name = 'stagecheck_history'): Promise<HistoryDatabase> {
  const server = new URL(stagingDatabaseUrl);
  // From the platform's own database: its server has no `postgres` database, and a connection to
  // template1 would stop CREATE DATABASE from copying it.
  const admin = connect(server, decodeURIComponent(server.pathname.slice(1)));
  try {
    await admin.unsafe(`create database ${name}`);
  } finally {
    await admin.end({ timeout: 2 });
  }
  const history = connect(server, name);
  const url = new URL(server.href);
  url.username = 'postgres';
  url.password = HISTORY_PASSWORD;
  url.pathname = `/${name}`;
  return {
    url: url.href,
    rows: async () => {
      const [table] = await history<{ present: boolean }[]>`select to_regclass('stagecheck.history_runs') is not null as present`;
      if (!table?.present) return [];
      return [...(await history<HistoryRow[]>`select id::text, target, at, run_id, verdict, entry from stagecheck.history_runs order by id`)];
    },
    schemaExists: async (database, schema) => {
      const other = connect(server, database);
      try {
        const [row] = await other<{ n: number }[]>`select count(*)::int as n from pg_namespace where nspname = ${schema}`;
        return (row?.n ?? 0) > 0;
      } finally {
        await other.end({ timeout: 2 });
      }
    },
    close: () => history.end({ timeout: 2 }),
  };
}
