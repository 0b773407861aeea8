/**
 * The command line of `npm run monitor`: how often, for how long, which phases, how many
 * folders to keep, when to alert, and the target options it hands to every e2e run.
 * A mistake is one message naming the flag (exit 2 in scripts/monitor.ts), never a stack trace.
 */
import { withinOneEdit } from '../../helpers/core/config-parsers.ts';

export const PHASES = ['1', '1,2'] as const;
export type Phases = (typeof PHASES)[number];

export interface MonitorArgs {
  /** Start to start, ms. */
  everyMs: number;
  /** The whole monitor's bound, ms; unset: until Ctrl-C. */
  forMs?: number;
  /** Stop after this many executed iterations; unset: no count bound. */
  iterations?: number;
  phases: Phases;
  /** Run folders kept under <reports>/runs/. */
  keep: number;
  /** Alert when a cause fails this many iterations in a row. */
  alertAfter: number;
  /** e2e's target options, passed to every iteration as the environment e2e reads them from. */
  e2eEnv: Record<string, string>;
  /** File the alerting iteration's incident.md through gh at each alert (never per failing iteration). */
  openIssue: boolean;
  help: boolean;
}

export const DEFAULTS = { phases: '1,2' as Phases, keep: 50, alertAfter: 2 };
/** Shorter would start iterations faster than a phase-1 run can end: every start would be skipped. */
export const MIN_EVERY_MS = 1000;

export class MonitorArgError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MonitorArgError';
    this.stack = message;
  }
}

export const USAGE = `usage: npm run monitor -- --every 5m [--for 8h] [--iterations N] [--phases 1|1,2] [--keep 50] [--alert-after 2]
                            [--local | --target local|staging] [--allow-production] [--open-issue]

  --every D          how often an iteration starts, start to start (e.g. 30s, 5m, 1h; at least 1s);
                     a start that comes due while an iteration still runs is skipped, and said so
  --for D            stop after this long (no iteration starts later; the running one finishes)
  --iterations N     stop after N iterations have run (skipped starts do not count)
  --phases P         1: phase 1 only; 1,2 (default): phase 1, then phase 2 when phase 1 passes
  --keep N           report folders kept under reports/runs/ (default 50; older ones are deleted)
  --alert-after N    alert when a cause fails N iterations in a row (default 2); once more when it recovers
  --local, --target, --allow-production   as for npm run e2e
  --open-issue       at each alert (not each failing iteration), file that iteration's incident.md through gh

Alerts go to the webhook STAGECHECK_ALERT_WEBHOOK (POST JSON). Without STAGING_BASE_URL the monitor
starts the bundled reference platform once and tests it every iteration. Ctrl-C stops it cleanly.
See docs/monitoring.md.`;

const VALUED = ['--every', '--for', '--iterations', '--phases', '--keep', '--alert-after', '--target'];
const FLAGS = ['--local', '--allow-production', '--open-issue', '--help'];

/** `500ms`, `30s`, `5m`, `8h` (decimals allowed) in ms; anything else names the flag. */
export function parseDuration(text: string, flag: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text.trim());
  if (!match) throw new MonitorArgError(`${flag} "${text}" is not a duration: give a number with its unit, e.g. 30s, 5m or 8h`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] as 'ms' | 's' | 'm' | 'h'];
  const ms = Math.round(Number(match[1]) * unit);
  if (ms <= 0) throw new MonitorArgError(`${flag} "${text}" must be longer than zero`);
  return ms;
}

function positiveInt(text: string, flag: string): number {
  if (!/^\d+$/.test(text.trim()) || Number(text) < 1) throw new MonitorArgError(`${flag} "${text}" must be a whole number of at least 1`);
  return Number(text);
}

export function parseMonitorArgs(argv: readonly string[]): MonitorArgs {
  const raw = new Map<string, string>();
  const e2eEnv: Record<string, string> = {};
  let help = false;
  let openIssue = false;
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i] as string;
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    if (FLAGS.includes(name)) {
      if (eq > 0) throw new MonitorArgError(`${name} takes no value`);
      if (name === '--help') help = true;
      if (name === '--local') e2eEnv.STAGECHECK_TARGET = 'local';
      if (name === '--allow-production') e2eEnv.STAGECHECK_ALLOW_PRODUCTION = 'true';
      if (name === '--open-issue') openIssue = true;
      continue;
    }
    if (name === '-h') {
      help = true;
      continue;
    }
    if (!VALUED.includes(name)) throw new MonitorArgError(unknownOption(arg));
    let value: string | undefined;
    if (eq > 0) value = arg.slice(eq + 1);
    else {
      value = argv[i + 1];
      if (value !== undefined && !value.startsWith('--')) i += 1;
      else value = undefined;
    }
    if (value === undefined || value.trim() === '') throw new MonitorArgError(`${name} needs a value (npm run monitor -- --help)`);
    if (raw.has(name)) throw new MonitorArgError(`${name} is given twice`);
    raw.set(name, value);
  }
  if (help) return { everyMs: 0, phases: DEFAULTS.phases, keep: DEFAULTS.keep, alertAfter: DEFAULTS.alertAfter, e2eEnv, openIssue, help };

  const every = raw.get('--every');
  if (every === undefined) throw new MonitorArgError('--every is required: how often an iteration starts, e.g. --every 5m');
  const everyMs = parseDuration(every, '--every');
  if (everyMs < MIN_EVERY_MS) throw new MonitorArgError(`--every "${every}" must be at least 1s`);
  const phases = raw.get('--phases') ?? DEFAULTS.phases;
  if (!(PHASES as readonly string[]).includes(phases)) throw new MonitorArgError(`--phases "${phases}" must be 1 (phase 1 only) or 1,2 (phase 1, then phase 2 when it passes)`);
  const target = raw.get('--target');
  if (target !== undefined) {
    if (target !== 'local' && target !== 'staging') throw new MonitorArgError(`--target "${target}" must be local or staging`);
    if (e2eEnv.STAGECHECK_TARGET && e2eEnv.STAGECHECK_TARGET !== target) throw new MonitorArgError('--local and --target staging contradict each other: give one');
    e2eEnv.STAGECHECK_TARGET = target;
  }
  const forText = raw.get('--for');
  const iterations = raw.get('--iterations');
  return {
    everyMs,
    ...(forText !== undefined ? { forMs: parseDuration(forText, '--for') } : {}),
    ...(iterations !== undefined ? { iterations: positiveInt(iterations, '--iterations') } : {}),
    phases: phases as Phases,
    keep: raw.has('--keep') ? positiveInt(raw.get('--keep') as string, '--keep') : DEFAULTS.keep,
    alertAfter: raw.has('--alert-after') ? positiveInt(raw.get('--alert-after') as string, '--alert-after') : DEFAULTS.alertAfter,
    e2eEnv,
    openIssue,
    help,
  };
}

function unknownOption(arg: string): string {
  const name = arg.split('=')[0] as string;
  const meant = [...VALUED, ...FLAGS].find((own) => withinOneEdit(name, own) || (name.length >= 5 && own.startsWith(name)));
  if (meant) return `unknown option ${name}: did you mean ${meant}? (npm run monitor -- --help)`;
  if (!name.startsWith('-')) return `unexpected argument "${arg}": the monitor takes only options (npm run monitor -- --help)`;
  return `unknown option ${name} (npm run monitor -- --help lists the monitor's options)`;
}
