/**
 * The JSON the webhook receives (documented with an example in docs/monitoring.md). One body
 * per alert (causes newly confirmed by an iteration) and one per recovery (open causes gone in
 * an iteration). `text` is a one-line summary for chat services that show only that field.
 * Nothing in it is a secret: causes carry the reporter's already redacted errors, and the
 * webhook URL is never part of it.
 */
import type { FunctionAtRisk, IterationOutcome, TierAtRisk } from './causes.ts';
import type { OpenIncident, RecoveredIncident } from './incidents.ts';

export const ALERT_SCHEMA = 'stagecheck.monitor-alert';

export interface AlertContext {
  iteration: number;
  runId: string;
  /** The iteration's start (ISO 8601). */
  at: string;
  /** The target as the history keys it (`local` or the host). */
  target: string;
  /** Absolute path of the iteration's HTML report. */
  report: string;
  outcome: IterationOutcome;
  /** Incidents still open after this iteration. */
  openIncidents: number;
}

/** A cause as the webhook gets it: the incident without its bookkeeping (the checks it waits on). */
type BodyCause = Omit<OpenIncident, 'checks'> & Partial<Pick<RecoveredIncident, 'recoveredAt' | 'recoveredIteration'>>;

export interface AlertBody {
  schema: typeof ALERT_SCHEMA;
  v: 1;
  kind: 'alert' | 'recovery';
  text: string;
  target: string;
  verdict: string;
  reason: string;
  iteration: number;
  runId: string;
  at: string;
  firstFailedAt: string;
  causes: BodyCause[];
  openIncidents: number;
  tiersAtRisk: TierAtRisk[];
  functionsAtRisk: FunctionAtRisk[];
  report: string;
}

function bodyCause(incident: OpenIncident | RecoveredIncident): BodyCause {
  const { checks: _checks, ...rest } = incident;
  return rest;
}

function earliest(incidents: readonly { firstFailedAt: string }[]): string {
  return incidents.map((i) => i.firstFailedAt).sort()[0] ?? '';
}

function base(kind: AlertBody['kind'], context: AlertContext, incidents: readonly (OpenIncident | RecoveredIncident)[], text: string): AlertBody {
  return {
    schema: ALERT_SCHEMA,
    v: 1,
    kind,
    text,
    target: context.target,
    verdict: context.outcome.verdict,
    reason: context.outcome.reason,
    iteration: context.iteration,
    runId: context.runId,
    at: context.at,
    firstFailedAt: earliest(incidents),
    causes: incidents.map(bodyCause),
    openIncidents: context.openIncidents,
    tiersAtRisk: context.outcome.tiersAtRisk,
    functionsAtRisk: context.outcome.functionsAtRisk,
    report: context.report,
  };
}

function titles(incidents: readonly { title: string }[]): string {
  const shown = incidents.slice(0, 3).map((i) => i.title).join(', ');
  return incidents.length > 3 ? `${shown} and ${incidents.length - 3} more` : shown;
}

export function alertBody(context: AlertContext, incidents: readonly OpenIncident[]): AlertBody {
  const tiers = context.outcome.tiersAtRisk.map((t) => `${t.name} (${t.protects})`).join(', ');
  const text = `stagecheck ${context.outcome.verdict} on ${context.target}: ${titles(incidents)}, failing since ${earliest(incidents)}` +
    `${tiers ? `; at risk: ${tiers}` : ''} (iteration ${context.iteration}, ${context.report})`;
  return base('alert', context, incidents, text);
}

export function recoveryBody(context: AlertContext, incidents: readonly RecoveredIncident[]): AlertBody {
  const text = `stagecheck recovered on ${context.target}: ${titles(incidents)}, failing since ${earliest(incidents)}, ` +
    `now ${context.outcome.verdict} (iteration ${context.iteration}${context.openIncidents ? `; ${context.openIncidents} incident(s) still open` : ''})`;
  return base('recovery', context, incidents, text);
}
