/**
 * The relations a set of budgets must keep (pure; config validation uses them): with each
 * other, as the contract orders them, and with the KPI thresholds they are meant to measure.
 */

/** Which budget must strictly exceed which KPI threshold, when the names differ. */
export const DEFAULT_BUDGET_KPI_LINKS: Readonly<Record<string, string>> = {
  dbProbe: 'dbResponseP95',
};

/**
 * Consistency checks for configured budgets (pure; used by config validation). Returns one
 * readable problem per broken rule, [] when the set is consistent. Only rules whose keys are
 * present are checked, so partial records are fine.
 *
 * - every budget is a finite number > 0;
 * - wsReceive > agentRun (the contract: the WS receive budget must exceed the agent budget);
 * - agentRunLargest >= agentRun;
 * - stall < agentRun (otherwise a stall can never be told apart from a run over budget);
 * - httpHealth > coldStart (a health probe that is the run's first request waits out the cold start);
 * - every budget is strictly above its own KPI threshold: `kpiThresholds` is keyed by budget
 *   name (e.g. `{ dbProbe: 3000 }`), or by KPI name mapped through `links` (budget → KPI key,
 *   default `{ dbProbe: 'dbResponseP95' }`). A probe whose budget is at or below the KPI target
 *   cannot measure the KPI: every slow sample would be cut off instead of measured.
 */
export function validateBudgets(
  budgets: Record<string, number>,
  kpiThresholds: Record<string, number>,
  links: Readonly<Record<string, string>> = DEFAULT_BUDGET_KPI_LINKS,
  /** How a budget is named in a problem; config passes its env variable names. */
  label: (key: string) => string = (key) => `budget '${key}'`,
): string[] {
  const problems: string[] = [];
  const named = (key: string, value: number) => `${label(key)} (${value} ms)`;
  const valid = (key: string): number | undefined => {
    const v = budgets[key];
    return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : undefined;
  };

  for (const [key, value] of Object.entries(budgets)) {
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
      problems.push(`${label(key)} must be a finite number of ms > 0, got ${String(value)}`);
    }
  }

  const wsReceive = valid('wsReceive');
  const agentRun = valid('agentRun');
  const agentRunLargest = valid('agentRunLargest');
  const stall = valid('stall');
  const httpHealth = valid('httpHealth');
  const coldStart = valid('coldStart');
  if (httpHealth !== undefined && coldStart !== undefined && httpHealth <= coldStart) {
    problems.push(`${named('httpHealth', httpHealth)} must be greater than ${named('coldStart', coldStart)}: a health probe that is the run's first request waits out the cold start`);
  }
  if (wsReceive !== undefined && agentRun !== undefined && wsReceive <= agentRun) {
    problems.push(
      `${named('wsReceive', wsReceive)} must be greater than ${named('agentRun', agentRun)}: the contract requires the WS receive budget to exceed the agent budget`,
    );
  }
  if (agentRunLargest !== undefined && agentRun !== undefined && agentRunLargest < agentRun) {
    problems.push(`${named('agentRunLargest', agentRunLargest)} must not be below ${named('agentRun', agentRun)}`);
  }
  if (stall !== undefined && agentRun !== undefined && stall >= agentRun) {
    problems.push(
      `${named('stall', stall)} must be less than ${named('agentRun', agentRun)}, or a stall can never be detected before the run budget ends`,
    );
  }

  for (const key of Object.keys(budgets)) {
    const value = valid(key);
    if (value === undefined) continue;
    const kpiKey = key in kpiThresholds ? key : links[key];
    if (kpiKey === undefined) continue;
    const threshold = kpiThresholds[kpiKey];
    if (typeof threshold !== 'number' || !Number.isFinite(threshold)) continue;
    if (value <= threshold) {
      problems.push(
        `${named(key, value)} must be greater than its KPI threshold '${kpiKey}' (${threshold} ms): a probe cut off at the threshold cannot measure the KPI`,
      );
    }
  }
  return problems;
}
