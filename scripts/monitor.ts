/**
 * `npm run monitor -- --every 5m [--for 8h] [--iterations N] [--phases 1|1,2] [--keep 50] [--alert-after 2]`:
 * the suite as a staging health monitor (docs/monitoring.md).
 *
 * Every iteration is a whole `npm run e2e` run (phase 1, and phase 2 when phase 1 passes; or
 * phase 1 alone) in its own folder `reports/runs/<run-id>/`, appended to the shared history.
 * A cause failing --alert-after iterations in a row is POSTed once to STAGECHECK_ALERT_WEBHOOK,
 * and once more when it recovers (scripts/monitor/incidents.ts).
 *
 * Target: STAGING_BASE_URL (with the rest of the configuration, as for e2e), or, with none and
 * not in CI, the bundled reference platform, which the monitor starts ONCE for all iterations
 * and stops at the end. Under CI=true a missing STAGING_BASE_URL needs --local, as for e2e.
 *
 * Exit codes: 0 when it ends (--iterations, --for, Ctrl-C or SIGTERM), 2 for bad arguments or
 * configuration (one message naming the flag or variable) or a platform that would not start.
 * Ctrl-C: the running iteration gets SIGINT and cleans up (bounded), the platform is stopped,
 * nothing is left behind. Started as `node --import tsx` so that these handlers run (see e2e.ts).
 */
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { config as loadDotenv } from 'dotenv';
import { assertConfigValid, ConfigError } from '../helpers/core/config.ts';
import { redactUrl } from '../helpers/core/redact.ts';
import { startLocalPlatform, type LocalPlatform } from '../helpers/transport/local-platform.ts';
import { MonitorArgError, parseMonitorArgs, USAGE, type MonitorArgs } from './monitor/args.ts';
import { clock, durationText, shortPath } from './monitor/lines.ts';
import { iterationEnv, runMonitor, type MonitorHandle } from './monitor/loop.ts';
import { webhookFromEnv, WebhookConfigError, type Webhook } from './monitor/webhook.ts';
import { openIssue, openIssueSetting } from './open-issue.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** As the suite's global setup starts it (tests/global-setup.ts): a short heartbeat keeps local runs fast. */
const LOCAL_HEARTBEAT_S = '2';

const EXIT = { ok: 0, config: 2 } as const;

function out(line: string): void {
  process.stdout.write(`${line}\n`);
}
function err(line: string): void {
  process.stderr.write(`${line}\n`);
}

async function main(): Promise<number> {
  let args: MonitorArgs;
  try {
    args = parseMonitorArgs(process.argv.slice(2));
  } catch (error) {
    if (error instanceof MonitorArgError) {
      err(`stagecheck monitor: ${error.message}`);
      return EXIT.config;
    }
    throw error;
  }
  if (args.help) {
    out(USAGE);
    return EXIT.ok;
  }
  loadDotenv({ quiet: true, path: join(ROOT, '.env') });
  const env: Record<string, string | undefined> = { ...process.env, ...args.e2eEnv };
  let webhook: Webhook | undefined;
  try {
    webhook = webhookFromEnv(env);
    // The checks e2e makes before every run, made once before the first: a mistake is one message, not one per iteration.
    assertConfigValid(env);
  } catch (error) {
    if (error instanceof WebhookConfigError) {
      err(`stagecheck monitor: ${error.message}`);
      return EXIT.config;
    }
    if (error instanceof ConfigError) {
      err(error.message);
      return EXIT.config;
    }
    throw error;
  }

  // STAGECHECK_OPEN_ISSUE=true means --open-issue here too; a value that is not a boolean is exit 2.
  const openIssueEnv = openIssueSetting(env);
  if (openIssueEnv.problem) {
    err(openIssueEnv.problem);
    return EXIT.config;
  }
  if (openIssueEnv.wanted) args.openIssue = true;

  // Signals from here on end the monitor cleanly; repeated ones (npm relays the terminal's
  // Ctrl-C a moment after the terminal sent it) change nothing: every wait below is bounded.
  let handle: MonitorHandle | undefined;
  let stopRequested: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopRequested) return;
    stopRequested = signal;
    err(`${clock()}  ${signal}: stopping${handle ? ' (the running iteration, if any, is interrupted and cleans up)' : ''}`);
    handle?.stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const reportsRoot = resolve(ROOT, env.STAGECHECK_REPORT_DIR?.trim() || 'reports');
  let platform: LocalPlatform | undefined;
  let targetText: string;
  if (env.STAGING_BASE_URL?.trim()) {
    targetText = `target ${redactUrl(env.STAGING_BASE_URL.trim())} (STAGING_BASE_URL)`;
  } else {
    try {
      // Its own process group: a terminal's Ctrl-C stops it only after the interrupted iteration has cleaned up.
      platform = await startLocalPlatform({ args: ['--heartbeat-s', LOCAL_HEARTBEAT_S], detached: true });
    } catch (error) {
      err(`stagecheck monitor: ${(error as Error).message}`);
      return EXIT.config;
    }
    Object.assign(env, platform.env, { STAGING_WS_HEARTBEAT_S: LOCAL_HEARTBEAT_S, STAGECHECK_PLATFORM_PROFILE: env.PLATFORM_PROFILE || 'default' });
    targetText = `target: the bundled reference platform (${platform.env.STAGING_BASE_URL}), started once by the monitor for every iteration and stopped at the end (no STAGING_BASE_URL)`;
  }

  try {
    if (stopRequested) return EXIT.ok;
    out(startLine(args, webhook, reportsRoot, iterationEnv(env, reportsRoot), targetText));
    const { openIssue: fileIncidents, ...schedule } = args;
    handle = runMonitor({ ...schedule, env, reportsRoot, ...(webhook ? { webhook } : {}), ...(fileIncidents ? { openIssue: (file: string) => openIssue(file) } : {}), out, err });
    const result = await handle.done;
    const why = { iterations: `${result.iterations} iteration(s) done`, for: `--for ${durationText(args.forMs ?? 0)} is up`, interrupted: `${stopRequested ?? 'stop'} received` }[result.stoppedBy];
    out(`${clock()}  monitor stopped (${why}): ${result.iterations} iteration(s), ${result.skipped} start(s) skipped, ${result.alerts} alert(s), ${result.recoveries} recovery(ies)` +
      `${result.undelivered ? `, ${result.undelivered} not delivered` : ''}, ${result.openIncidents} incident(s) open`);
    return EXIT.ok;
  } finally {
    await platform?.stop();
  }
}

function startLine(args: MonitorArgs, webhook: Webhook | undefined, reportsRoot: string, env: Record<string, string | undefined>, target: string): string {
  const bound = [args.forMs !== undefined ? `for ${durationText(args.forMs)}` : '', args.iterations !== undefined ? `at most ${args.iterations} iteration(s)` : ''].filter(Boolean).join(', ') || 'until Ctrl-C';
  const phases = args.phases === '1' ? 'phase 1' : 'phase 1, then phase 2 when phase 1 passes';
  const history = env.STAGECHECK_HISTORY === 'off' ? 'history off' : env.STAGECHECK_HISTORY_URL?.trim() ? `history ${redactUrl(env.STAGECHECK_HISTORY_URL.trim())}` : `history ${shortPath(resolve(ROOT, env.STAGECHECK_HISTORY_FILE ?? ''))}`;
  const alerts = webhook ? `alerts to ${webhook.display}` : 'alerts printed only (STAGECHECK_ALERT_WEBHOOK not set)';
  return `${clock()}  stagecheck monitor: every ${durationText(args.everyMs)} start to start, ${bound}; ${phases}; alert after ${args.alertAfter} failing iteration(s) in a row, ${alerts}; ` +
    `reports in ${shortPath(join(reportsRoot, 'runs'))}/<run-id>/ (last ${args.keep} kept), ${history}; ${target}; Ctrl-C stops`;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    err(`stagecheck monitor: ${(error as Error)?.message ?? String(error)}`);
    process.exit(EXIT.config);
  },
);
