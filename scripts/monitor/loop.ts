/**
 * The monitor's loop, as a module: scripts/monitor.ts runs it from the command line, and the
 * self-test runs it in-process with real e2e iterations and a `beforeIteration(n)` hook (a
 * fault switched on before iteration 4 starts, not raced against it).
 *
 * Each iteration: wait for its slot (start to start, scripts/monitor/schedule.ts), run e2e in
 * its own folder (scripts/monitor/iteration.ts), read its business-impact.json, step the
 * incident state machine (scripts/monitor/incidents.ts), POST what it decided to the webhook,
 * print one line, delete folders beyond --keep. Nothing is kept per iteration: the state
 * machine's bounded maps and a few counters are all that lives from one to the next.
 */
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { generateRunId } from '../../helpers/core/config.ts';
import { isLoopback, targetKey } from '../../reporter/history.ts';
import { INCIDENT_FILE } from '../../reporter/incident.ts';
import { OPEN_ISSUE_VARIABLE } from '../open-issue.ts';
import { alertBody, recoveryBody, type AlertBody, type AlertContext } from './alert-body.ts';
import type { MonitorArgs } from './args.ts';
import { noReportOutcome, outcomeOf, type IterationOutcome } from './causes.ts';
import { pruneRunFolders } from './folders.ts';
import { initialState, nextState, type IncidentState } from './incidents.ts';
import { startIteration, type RunningIteration } from './iteration.ts';
import { clock, iterationLine, skipLine } from './lines.ts';
import { nextSlot, slotTime } from './schedule.ts';
import { deliver, WEBHOOK_VARIABLE, type DeliveryOptions, type Webhook } from './webhook.ts';

/** The schedule and alert rule as the command line gives them (args.ts), and what runs the iterations. */
export interface MonitorSettings extends Pick<MonitorArgs, 'everyMs' | 'forMs' | 'iterations' | 'phases' | 'keep' | 'alertAfter'> {
  /** The environment every iteration starts from, target included (the webhook is removed from it). */
  env: Record<string, string | undefined>;
  /** Reports root: iterations go to `<root>/runs/<run-id>/`, the default history to `<root>/history.jsonl`. */
  reportsRoot: string;
  webhook?: Webhook;
  delivery?: DeliveryOptions;
  out: (line: string) => void;
  err: (line: string) => void;
  /**
   * At each alert, files the alerting iteration's incident.md (scripts/open-issue.ts) and returns
   * the one line to print; unset: no issue is filed (--open-issue not given).
   */
  openIssue?: (incidentFile: string) => Promise<{ message: string }>;
  /** Awaited before iteration n (1-based) starts. */
  beforeIteration?: (iteration: number) => Promise<void> | void;
  /** Told after each iteration, once its line is printed. */
  onIteration?: (summary: IterationSummary) => void;
  iterationTimeoutMs?: number;
  graceMs?: number;
}

export interface SentAlert {
  kind: AlertBody['kind'];
  causes: number;
  delivered: boolean;
}

export interface IterationSummary {
  iteration: number;
  /** When it started (ISO 8601): the time its alert bodies and history entry carry. */
  at: string;
  runId: string;
  folder: string;
  verdict: IterationOutcome['verdict'];
  exitCode: number;
  durationMs: number;
  alerts: SentAlert[];
}

export type StopReason = 'iterations' | 'for' | 'interrupted';

export interface MonitorResult {
  iterations: number;
  skipped: number;
  alerts: number;
  recoveries: number;
  undelivered: number;
  openIncidents: number;
  stoppedBy: StopReason;
}

export interface MonitorHandle {
  done: Promise<MonitorResult>;
  /** Ends the monitor: the running iteration gets SIGINT (it cleans up), no further one starts. */
  stop(): void;
}

/** The history every iteration shares: what the environment names, else `<root>/history.jsonl`. */
export function iterationEnv(env: Record<string, string | undefined>, reportsRoot: string): Record<string, string | undefined> {
  const out = { ...env };
  // The suite has no use for the webhook, and a secret it does not have cannot leak from it.
  delete out[WEBHOOK_VARIABLE];
  // An incident is filed once, at its alert, by the monitor: an iteration filing its own would file one per failing iteration.
  delete out[OPEN_ISSUE_VARIABLE];
  if (!out.STAGECHECK_HISTORY_FILE?.trim() && !out.STAGECHECK_HISTORY_URL?.trim()) out.STAGECHECK_HISTORY_FILE = join(reportsRoot, 'history.jsonl');
  return out;
}

export function runMonitor(settings: MonitorSettings): MonitorHandle {
  let stopping = false;
  let wake: (() => void) | undefined;
  let running: RunningIteration | undefined;
  const stop = (): void => {
    stopping = true;
    wake?.();
    running?.interrupt();
  };
  const sleepUntil = (time: number): Promise<void> =>
    new Promise((done) => {
      const timer = setTimeout(done, Math.max(0, time - performance.now()));
      wake = () => {
        clearTimeout(timer);
        done();
      };
    });

  const done = (async (): Promise<MonitorResult> => {
    const runsDir = resolve(settings.reportsRoot, 'runs');
    const env = iterationEnv(settings.env, settings.reportsRoot);
    const origin = performance.now();
    const deadline = settings.forMs === undefined ? Infinity : origin + settings.forMs;
    const result: MonitorResult = { iterations: 0, skipped: 0, alerts: 0, recoveries: 0, undelivered: 0, openIncidents: 0, stoppedBy: 'interrupted' };
    let state: IncidentState = initialState();
    let slot = 0;
    for (;;) {
      await sleepUntil(slotTime(slot, origin, settings.everyMs));
      if (!stopping) await settings.beforeIteration?.(result.iterations + 1);
      if (stopping) break;

      const iteration = (result.iterations += 1);
      const startedAt = new Date();
      const runId = generateRunId(startedAt);
      const folder = join(runsDir, runId);
      running = startIteration({ runId, reportDir: folder, phases: settings.phases, env, ...(settings.iterationTimeoutMs ? { timeoutMs: settings.iterationTimeoutMs } : {}), ...(settings.graceMs ? { graceMs: settings.graceMs } : {}) });
      const run = await running.done;
      running = undefined;

      const outcome = run.report ? outcomeOf(run.report) : noReportOutcome(run.exitCode, run.interrupted ? 'interrupted' : run.tail.split('\n').at(-1) ?? '');
      // An interrupted iteration's result is not the target's: it changes no incident.
      const step = nextState(state, { iteration, at: startedAt.toISOString(), exitCode: run.interrupted ? 2 : outcome.exitCode, causes: outcome.causes, observed: outcome.observed }, { alertAfter: settings.alertAfter });
      state = step.state;
      const context: AlertContext = {
        iteration,
        runId,
        at: startedAt.toISOString(),
        target: run.report ? targetKey(run.report.target.baseUrl, isLoopback(run.report.target.baseUrl)) : 'unknown',
        report: join(folder, 'index.html'),
        outcome,
        openIncidents: state.open.size,
      };
      const bodies: AlertBody[] = [];
      if (step.alerted.length) bodies.push(alertBody(context, step.alerted));
      if (step.recovered.length) bodies.push(recoveryBody(context, step.recovered));
      const alerts: SentAlert[] = [];
      for (const body of bodies) alerts.push(await send(body, folder, settings));
      if (step.alerted.length && settings.openIssue) settings.out((await settings.openIssue(join(folder, INCIDENT_FILE))).message);
      result.alerts += alerts.filter((a) => a.kind === 'alert').length;
      result.recoveries += alerts.filter((a) => a.kind === 'recovery').length;
      if (settings.webhook) result.undelivered += alerts.filter((a) => !a.delivered).length;
      result.openIncidents = state.open.size;

      settings.out(iterationLine({ at: startedAt, iteration, outcome: run.interrupted ? { ...outcome, verdict: 'NO VERDICT', exitCode: 2, reason: 'interrupted' } : outcome, durationMs: run.durationMs, alerts: alertsText(alerts, settings.webhook), folder }));
      if (step.inconclusive && state.inconclusiveStreak === settings.alertAfter && !run.interrupted) {
        settings.err(`${clock()}  ${state.inconclusiveStreak} iterations in a row ended without a product verdict (exit 2): the monitor cannot tell whether the target works; open incidents stay as they were. Last: ${outcome.reason}`);
      }
      pruneRunFolders(runsDir, settings.keep);
      settings.onIteration?.({ iteration, at: startedAt.toISOString(), runId, folder, verdict: outcome.verdict, exitCode: outcome.exitCode, durationMs: run.durationMs, alerts });
      if (stopping) break;
      if (settings.iterations !== undefined && result.iterations >= settings.iterations) {
        result.stoppedBy = 'iterations';
        break;
      }

      const next = nextSlot(slot, origin, performance.now(), settings.everyMs);
      if (slotTime(next.slot, origin, settings.everyMs) >= deadline) {
        result.stoppedBy = 'for';
        break;
      }
      if (next.skipped > 0) {
        result.skipped += next.skipped;
        settings.out(skipLine(new Date(), iteration, next.skipped, run.durationMs, settings.everyMs));
      }
      slot = next.slot;
    }
    return result;
  })();
  return { done, stop };
}

/** Writes the body beside the iteration's reports (alert.json, recovery.json) and POSTs it. */
async function send(body: AlertBody, folder: string, settings: MonitorSettings): Promise<SentAlert> {
  try {
    writeFileSync(join(folder, `${body.kind}.json`), `${JSON.stringify(body, null, 2)}\n`);
  } catch {
    // the folder is gone (deleted by hand): the webhook still gets it
  }
  if (!settings.webhook) return { kind: body.kind, causes: body.causes.length, delivered: false };
  const delivery = await deliver(settings.webhook, body, settings.delivery);
  if (!delivery.ok) {
    settings.err(`${clock()}  ${body.kind} of iteration ${body.iteration} not delivered to ${settings.webhook.display} after ${delivery.attempts} attempt(s): ${delivery.error ?? 'failed'} (the body is in ${join(folder, `${body.kind}.json`)})`);
  }
  return { kind: body.kind, causes: body.causes.length, delivered: delivery.ok };
}

function alertsText(alerts: readonly SentAlert[], webhook: Webhook | undefined): string {
  if (alerts.length === 0) return 'no alert';
  return alerts
    .map((a) => {
      const what = `${a.kind} (${a.causes} cause${a.causes === 1 ? '' : 's'})`;
      if (!webhook) return `${what} not sent: no ${WEBHOOK_VARIABLE}`;
      return a.delivered ? `${what} sent` : `${what} NOT delivered`;
    })
    .join(', ');
}
