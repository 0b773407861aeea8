/**
 * The history in PostgreSQL (STAGECHECK_HISTORY_URL): one row per finished run in the suite's
 * own schema, which the first append creates:
 *
 *   stagecheck.history_runs(id bigserial primary key, target text not null, at timestamptz not null,
 *                           run_id text, verdict text, entry jsonb not null), index on (target, at)
 *
 * `entry` is the whole history entry as the file store writes it; the other columns are copies
 * for people querying the table. Each append keeps the newest STAGECHECK_HISTORY_MAX_RUNS rows of
 * its target. A read creates nothing: before the first append there is simply no history.
 *
 * It never fails or holds up a run: one connection (max 1), connect bounded by CONNECT_TIMEOUT_S,
 * every operation by OPERATION_TIMEOUT_MS; what fails becomes a warning naming
 * STAGECHECK_HISTORY_URL without its password, and later operations of the same store are skipped
 * at once instead of waiting out the same timeout again.
 */
import type { Sql } from 'postgres';
import { messageOf } from '../helpers/core/errors.ts';
import { redactSecrets, redactUrl } from '../helpers/core/redact.ts';
import type { HistoryEntry } from './history.ts';
import { parseHistoryEntry, type HistoryStore } from './history-store-api.ts';

export const HISTORY_TABLE = 'stagecheck.history_runs';
const CONNECT_TIMEOUT_S = 5;
/** Connect plus the few statements of one read or append. */
const OPERATION_TIMEOUT_MS = 10_000;
/** Serialises the schema's creation between runs that append at the same moment. */
const SCHEMA_LOCK_KEY = 0x5743_4b48; // arbitrary, fixed
const SCHEMA_STATEMENTS = [
  'create schema if not exists stagecheck',
  `create table if not exists ${HISTORY_TABLE} (id bigserial primary key, target text not null, at timestamptz not null, run_id text, verdict text, entry jsonb not null)`,
  `create index if not exists history_runs_target_at on ${HISTORY_TABLE} (target, at)`,
];

export interface PostgresHistoryOptions {
  maxRuns: number;
  /** Bounds, for the project's own tests of a store that never answers. */
  connectTimeoutS?: number;
  operationTimeoutMs?: number;
}

export function openPostgresHistory(url: string, o: PostgresHistoryOptions): HistoryStore {
  return new PostgresHistoryStore(url, o.maxRuns, o.connectTimeoutS ?? CONNECT_TIMEOUT_S, o.operationTimeoutMs ?? OPERATION_TIMEOUT_MS);
}

class PostgresHistoryStore implements HistoryStore {
  readonly location: string;
  private warnings: string[] = [];
  private client?: Promise<Sql>;
  /** The first failure: later operations are skipped with it rather than waiting again. */
  private broken?: string;
  private schemaReady = false;

  constructor(
    private readonly url: string,
    private readonly maxRuns: number,
    private readonly connectTimeoutS: number,
    private readonly operationTimeoutMs: number,
  ) {
    this.location = redactUrl(url);
  }

  async read(target: string, limit = this.maxRuns): Promise<HistoryEntry[]> {
    if (limit <= 0) return [];
    const rows = await this.run('could not be read', async (sql) => {
      const [table] = await sql<{ present: boolean }[]>`select to_regclass(${HISTORY_TABLE}) is not null as present`;
      if (!table?.present) return [];
      return sql<{ entry: string }[]>`
        select entry::text as entry from stagecheck.history_runs
        where target = ${target} order by at desc, id desc limit ${limit}`;
    });
    if (!rows) return [];
    const entries: HistoryEntry[] = [];
    let malformed = 0;
    for (const row of [...rows].reverse()) {
      let entry: HistoryEntry | undefined;
      try {
        entry = parseHistoryEntry(JSON.parse(row.entry));
      } catch {
        entry = undefined;
      }
      if (entry) entries.push(entry);
      else malformed += 1;
    }
    if (malformed > 0) this.warnings.push(`history STAGECHECK_HISTORY_URL (${this.location}): ${malformed} malformed row(s) of ${HISTORY_TABLE} skipped`);
    return entries;
  }

  async append(entry: HistoryEntry): Promise<void> {
    await this.run('this run could not be written', async (sql) => {
      await this.ensureSchema(sql);
      // Sent as text and cast by the server: a parameter typed jsonb would be JSON-encoded once more.
      await sql`
        insert into stagecheck.history_runs (target, at, run_id, verdict, entry)
        values (${entry.target}, ${entry.at}::timestamptz, ${entry.runId}, ${entry.verdict}, ${JSON.stringify(entry)}::text::jsonb)`;
      await sql`
        delete from stagecheck.history_runs where id in (
          select id from stagecheck.history_runs where target = ${entry.target}
          order by at desc, id desc offset ${this.maxRuns})`;
    });
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (!client) return;
    try {
      await (await client).end({ timeout: 2 });
    } catch {
      // already gone
    }
  }

  drainWarnings(): string[] {
    const out = this.warnings;
    this.warnings = [];
    return out;
  }

  /** Created by the first append; concurrent first appends take turns under an advisory lock. */
  private async ensureSchema(sql: Sql): Promise<void> {
    if (this.schemaReady) return;
    await sql.begin(async (tx) => {
      await tx.unsafe(`select pg_advisory_xact_lock(${SCHEMA_LOCK_KEY})`);
      for (const statement of SCHEMA_STATEMENTS) await tx.unsafe(statement);
    });
    this.schemaReady = true;
  }

  /** One bounded operation; undefined (and a warning) when it failed or was skipped. */
  private async run<T>(what: string, operation: (sql: Sql) => Promise<T>): Promise<T | undefined> {
    const prefix = `history STAGECHECK_HISTORY_URL (${this.location}): ${what}`;
    if (this.broken) {
      this.warnings.push(`${prefix}: skipped after the earlier failure (${this.broken})`);
      return undefined;
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${this.operationTimeoutMs} ms`)), this.operationTimeoutMs);
    });
    const work = this.connect().then(operation);
    work.catch(() => undefined);
    try {
      return await Promise.race([work, timeout]);
    } catch (error) {
      this.broken = redactSecrets(messageOf(error), [this.password()]);
      this.warnings.push(`${prefix}: ${this.broken}`);
      // A hung connection must not keep the process alive.
      const client = this.client;
      this.client = undefined;
      void client?.then((sql) => sql.end({ timeout: 0 })).catch(() => undefined);
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }

  /** postgres.js is loaded only when a PostgreSQL history is configured. */
  private connect(): Promise<Sql> {
    this.client ??= import('postgres').then(({ default: postgres }) => postgres(this.url, {
      max: 1,
      connect_timeout: this.connectTimeoutS,
      idle_timeout: 5,
      max_lifetime: null,
      prepare: false,
      fetch_types: false,
      // "schema already exists, skipping" and the like would go to the console.
      onnotice: () => {},
      connection: { application_name: 'stagecheck-history' },
    }));
    return this.client;
  }

  private password(): string {
    try {
      return decodeURIComponent(new URL(this.url).password);
    } catch {
      return '';
    }
  }
}
