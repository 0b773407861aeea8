/**
 * HTTP budgets per class of endpoint (issue 14 §2): what a request waits for decides how long
 * it may take, so a dead health probe is a verdict in seconds while a login that hashes a
 * password keeps the time it needs.
 *
 * - health: the contract's health endpoints. No work behind them but the store checks that
 *   /health/ready and /api/health make, so their budget sits just above the slowest failure line
 *   the catalog gives them (a slow-but-answering store is measured as slow, not cut off).
 * - auth: the auth service's token endpoints. Login and test-auth hash a password or create a
 *   user (the catalog's 8 s failure line), so they get the general budget.
 * - api: everything else (threads, messages, tickets): BUDGET_HTTP_MS, as before.
 *
 * Paths are the contract's, relative to the component's base URL, so a deployment that serves
 * them under a prefix (STAGING_AUTH_URL=https://host/v1) classifies the same.
 */
import type { BudgetName } from './budgets.ts';

export type EndpointClass = 'health' | 'auth' | 'api';

/** The budget that bounds each class of endpoint. */
export const CLASS_BUDGETS: Readonly<Record<EndpointClass, BudgetName>> = { health: 'httpHealth', auth: 'httpAuth', api: 'httpRequest' };

const HEALTH_PATH = /^\/(health|health\/ready|api\/health|ws\/health)\/?$/;

/** A contract path's class; a query string or a path template (":id") classifies the same. */
export function endpointClass(path: string): EndpointClass {
  const bare = path.split('?')[0] ?? path;
  if (HEALTH_PATH.test(bare)) return 'health';
  if (bare.startsWith('/auth/')) return 'auth';
  return 'api';
}

/** The budget that bounds a request to this path. */
export function httpBudgetOf(path: string): BudgetName {
  return CLASS_BUDGETS[endpointClass(path)];
}

/** The request deadline for a path, from a set of budgets (HttpClientOptions.timeoutFor). */
export function httpBudgetFor(budgets: Readonly<Record<BudgetName, number>>): (path: string) => number {
  return (path) => budgets[httpBudgetOf(path)];
}

/** A client's deadlines: by class of endpoint, BUDGET_HTTP_MS for what no class claims. */
export function httpDeadlines(budgets: Readonly<Record<BudgetName, number>>): { defaultTimeoutMs: number; timeoutFor: (path: string) => number } {
  return { defaultTimeoutMs: budgets.httpRequest, timeoutFor: httpBudgetFor(budgets) };
}

/**
 * For each class budget, the highest catalog failure line among the endpoints of its class:
 * a budget at or below it would cut a slow answer off before the report could judge it slow.
 */
export function classFailLines(lines: { endpoints: ReadonlyArray<{ endpoint: string; failMs: number }>; defaultFailMs: number | undefined }): Partial<Record<BudgetName, number>> {
  const highest: Partial<Record<BudgetName, number>> = {};
  for (const { endpoint, failMs } of lines.endpoints) {
    const path = endpoint.slice(endpoint.indexOf(' ') + 1);
    const budget = CLASS_BUDGETS[endpointClass(path)];
    highest[budget] = Math.max(highest[budget] ?? 0, failMs);
  }
  // An endpoint the catalog does not list is judged by the default line, and is an api call.
  if (lines.defaultFailMs !== undefined) highest.httpRequest = Math.max(highest.httpRequest ?? 0, lines.defaultFailMs);
  return highest;
}
