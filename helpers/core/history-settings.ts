/**
 * Where the run history is kept and how much of it (reporter/history-store.ts), read from the
 * environment and checked once for helpers/core/config.ts (exit 2 before any test) and again
 * where the store opens (a merge run or a script that never went through the config check).
 *
 * - STAGECHECK_HISTORY_URL: a postgres:// or postgresql:// URL keeps the history in PostgreSQL
 *   (schema `stagecheck`). It may never name the deployment's own database
 *   (STAGING_DATABASE_URL): the suite writes there nothing, ever.
 * - STAGECHECK_HISTORY_MAX_RUNS: how many runs are kept (default 1000), a positive whole number.
 */
import { userInfo } from 'node:os';
import { parsePositiveInt, parseUrl, type UrlRule } from './config-parsers.ts';
import { redactUrl } from './redact.ts';

export const HISTORY_URL_VARIABLE = 'STAGECHECK_HISTORY_URL';
export const HISTORY_MAX_RUNS_VARIABLE = 'STAGECHECK_HISTORY_MAX_RUNS';
/** About three days of a monitor every 5 minutes, or years of daily runs: a trend's worth, bounded on disk. */
export const DEFAULT_HISTORY_MAX_RUNS = 1000;

const HISTORY_URL_RULE: UrlRule = { protocols: ['postgres:', 'postgresql:'], example: 'postgres://user:password@host:5432/stagecheck_history' };

export interface HistorySettings {
  /** The PostgreSQL history, when STAGECHECK_HISTORY_URL is set and usable. */
  url?: URL;
  maxRuns: number;
  /** Each names its variable; empty when the settings are usable. */
  problems: string[];
}

type Env = Record<string, string | undefined>;

export function readHistorySettings(env: Env): HistorySettings {
  const problems: string[] = [];
  const value = (name: string): string | undefined => {
    const raw = env[name];
    return raw === undefined || raw.trim() === '' ? undefined : raw.trim();
  };
  const maxRuns = parsePositiveInt(value(HISTORY_MAX_RUNS_VARIABLE), HISTORY_MAX_RUNS_VARIABLE, DEFAULT_HISTORY_MAX_RUNS, problems);
  const url = parseUrl(value(HISTORY_URL_VARIABLE), HISTORY_URL_VARIABLE, HISTORY_URL_RULE, problems);
  if (!url) return { maxRuns, problems };
  let deployment: URL | undefined;
  try {
    const raw = value('STAGING_DATABASE_URL');
    deployment = raw === undefined ? undefined : new URL(raw);
  } catch {
    // config.ts names an unparsable STAGING_DATABASE_URL on its own
  }
  if (deployment && namesSameDatabase(url, deployment, env)) {
    problems.push(
      `${HISTORY_URL_VARIABLE} (${redactUrl(url)}) names the database of STAGING_DATABASE_URL (${redactUrl(deployment)}): ` +
        'the suite never writes to the deployment\'s database; give the history a database of its own (same server is fine)',
    );
    return { maxRuns, problems };
  }
  return { url, maxRuns, problems };
}

/** The same server and database, as libpq resolves them: loopback names are one host, 5432 and the user name's database by default. */
export function namesSameDatabase(a: URL, b: URL, env: Env = process.env): boolean {
  return hostOf(a) === hostOf(b) && portOf(a) === portOf(b) && databaseOf(a, env) === databaseOf(b, env);
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '::1', '[::1]', '']);

function hostOf(url: URL): string {
  const host = url.hostname.toLowerCase();
  // No host means libpq's default: the local server, which is loopback here too.
  return LOOPBACK.has(host) || /^127\./.test(host) ? 'loopback' : host.replace(/\.$/, '');
}

function portOf(url: URL): number {
  return url.port ? Number(url.port) : 5432;
}

/**
 * As postgres.js (and libpq) resolve it: the URL's database, else PGDATABASE, else the user name,
 * which is the URL's, else PGUSER, else the operating system's user.
 */
function databaseOf(url: URL, env: Env): string {
  const path = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (path) return path;
  if (env.PGDATABASE) return env.PGDATABASE;
  if (url.username) return decodeURIComponent(url.username);
  return env.PGUSERNAME || env.PGUSER || safeOsUser();
}

function safeOsUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'postgres';
  }
}
