/**
 * Whether each component was up or down in a run, for the history's `components` field and the
 * uptime in the trends (reporter/trends.ts). Pure: a report in, a verdict per component out.
 *
 * The rule (docs/reports.md, "Trends"):
 * - down: the run confirmed an outage of it (`outages`, fail fast), or a FAIL test blames it
 *   (failure.component) at a layer that says it could not be reached or would not serve: DNS,
 *   TCP or TLS, or an HTTP status / WebSocket handshake of 502, 503 or 504. A wrong answer (a
 *   500, bad content, out-of-order events) is a bug, not an outage, and a budget overrun is slow,
 *   not down: neither makes it down.
 * - up: not down, and the run measured it: a test that ran to a product verdict (PASS, FAIL,
 *   DEGRADED) carries its component tag, or a failure names it.
 * - absent: the run never reached it (filtered out, blocked, not configured): not measured, so
 *   it counts neither for nor against its uptime.
 */
import type { BusinessImpactReport, TestOut } from './schema.ts';
import { COMPONENTS, isComponent } from '../helpers/core/errors.ts';

export type ComponentState = 'up' | 'down';

/** Layers at which a failure means the component could not be reached at all. */
export const UNREACHABLE_LAYERS: ReadonlySet<string> = new Set(['dns', 'tcp', 'tls']);
/** Layers whose status code can say "not serving", and the codes that do. */
export const STATUS_LAYERS: ReadonlySet<string> = new Set(['http-status', 'ws-handshake']);
export const UNAVAILABLE_STATUSES: ReadonlySet<number> = new Set([502, 503, 504]);

/** The component a FAIL test's failure says is unavailable, if it says so. */
export function unavailableComponent(test: Pick<TestOut, 'verdict' | 'failure'>): string | undefined {
  const f = test.failure;
  if (test.verdict !== 'FAIL' || !f || f.harnessError) return undefined;
  if (UNREACHABLE_LAYERS.has(f.layer)) return f.component;
  if (STATUS_LAYERS.has(f.layer) && UNAVAILABLE_STATUSES.has(Number(f.code))) return f.component;
  return undefined;
}

const EXECUTED = new Set(['PASS', 'FAIL', 'DEGRADED']);

export function componentStates(report: Pick<BusinessImpactReport, 'tests' | 'outages'>): Record<string, ComponentState> {
  const down = new Set<string>((report.outages ?? []).map((o) => o.component));
  const measured = new Set<string>(down);
  for (const t of report.tests) {
    const blamed = unavailableComponent(t);
    if (blamed) down.add(blamed);
    if (t.failure && !t.failure.harnessError) measured.add(t.failure.component);
    if (EXECUTED.has(t.verdict)) for (const tag of t.tags) if (isComponent(tag)) measured.add(tag);
  }
  // The suite's own order first, then anything else a failure named.
  const order = [...COMPONENTS.filter((c) => measured.has(c)), ...[...measured].filter((c) => !isComponent(c)).sort()];
  return Object.fromEntries(order.map((c) => [c, down.has(c) ? 'down' : 'up']));
}
