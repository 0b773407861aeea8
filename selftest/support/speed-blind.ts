/**
 * The environment for a self-test whose subject is not speed: a whole-suite run that must PASS
 * behind nginx, against the staging profile, sharded, through a contract-variation proxy.
 *
 * On the shared 2-core machine a p95 of an endpoint that does nothing crosses 3 s when other
 * whole-suite runs load it (measured in CI: `GET /api/health` p95 3.03 s, a 4.06 s cold start).
 * That says nothing about what those self-tests check, and a verdict that depends on the
 * machine's load is a flaky test. So such a run judges latency by a catalog whose latency lines
 * are `FACTOR` times the shipped ones, with the budgets that must exceed them raised to match.
 * Everything else in the catalog is the shipped one; every check still runs and still asserts.
 *
 * The latency checks themselves are proven to fail by the runs that keep the shipped catalog:
 * the fault matrix (`pg_slow`), the reporter's DEGRADED run, the cold-start unit tests.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_CATALOG_PATH } from '../../helpers/core/kpi-thresholds.ts';
import { writeFileAtomically } from '../../helpers/core/atomic-file.ts';

/** How much slower than the shipped lines a run may be before these self-tests notice. */
export const FACTOR = 5;

type Json = Record<string, unknown>;

/** Every `*Ms` number of a latency line, multiplied. */
function scaled(line: Json): Json {
  return Object.fromEntries(Object.entries(line).map(([key, value]) => [key, key.endsWith('Ms') && typeof value === 'number' ? value * FACTOR : value]));
}

/** The shipped catalog with its latency KPIs and endpoint latency budgets scaled by FACTOR. */
export function speedBlindCatalog(shipped: Json): Json {
  const kpis = (shipped.kpis as Json[]).map((kpi) => (kpi.kind === 'latency' ? scaled(kpi) : kpi));
  const endpoints = shipped.endpointLatency as Json;
  const endpointLatency = { ...endpoints, default: scaled(endpoints.default as Json), endpoints: (endpoints.endpoints as Json[]).map(scaled) };
  return { ...shipped, kpis, endpointLatency };
}

let written: string | undefined;

/**
 * Writes the catalog once, named by a hash of its content, and returns its path. A Vitest worker
 * is ended without its exit handlers, so a file per process would pile up in the temp dir; one
 * file per catalog content is reused by every run and never grows in number.
 */
function catalogFile(): string {
  if (written) return written;
  const text = JSON.stringify(speedBlindCatalog(JSON.parse(readFileSync(DEFAULT_CATALOG_PATH, 'utf8')) as Json), null, 2);
  const file = join(tmpdir(), `stagecheck-speed-blind-${createHash('sha256').update(text).digest('hex').slice(0, 16)}.catalog.json`);
  if (!existsSync(file) || readFileSync(file, 'utf8') !== text) {
    // A run reading it never sees half a file.
    writeFileAtomically(file, text);
  }
  return (written = file);
}

/**
 * Env for a child run that is blind to the machine's speed: the scaled catalog, HTTP budgets
 * of every class and the database budget above its failure lines (config refuses a budget at or below them), and a
 * cold-start allowance scaled alike (4 s → 20 s).
 */
export function speedBlindEnv(): Record<string, string> {
  return {
    STAGECHECK_CATALOG: catalogFile(),
    BUDGET_HTTP_MS: String(30_000),
    BUDGET_HTTP_HEALTH_MS: String(30_000),
    BUDGET_HTTP_AUTH_MS: String(45_000),
    BUDGET_DB_QUERY_MS: String(30_000),
    BUDGET_COLD_START_MS: String(4_000 * FACTOR),
  };
}
