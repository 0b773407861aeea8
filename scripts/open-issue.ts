/**
 * `npm run e2e -- --open-issue` (STAGECHECK_OPEN_ISSUE=true): after a FAIL run, files its
 * incident.md (reporter/incident.ts) as a GitHub issue through the GitHub CLI, when `gh` is
 * installed and signed in (`gh auth status` exits 0). Otherwise it prints ONE message saying why
 * not and which file to paste. It never changes the run's exit code, and every gh call is bounded
 * in time (a gh waiting on a network that never answers is killed).
 *
 * The issue's title is incident.md's first line (`# <title>`), its body the whole file. gh
 * chooses the repository as it always does: GH_REPO, else the git remote of the working directory.
 * A module of its own so that the monitor (scripts/monitor.ts) can file incidents too.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { ConfigError } from '../helpers/core/config.ts';
import { parseBoolean } from '../helpers/core/config-parsers.ts';
import { redactSecrets, SECRET_VARIABLES } from '../helpers/core/redact.ts';
import { INCIDENT_FILE } from '../reporter/incident.ts';
import type { ResultFile } from '../reporter/outputs.ts';

export const OPEN_ISSUE_VARIABLE = 'STAGECHECK_OPEN_ISSUE';

/** gh's bounds: signing-in status is local and quick; creating an issue is a round trip to GitHub. */
export const GH_TIMEOUTS_MS = { auth: 10_000, create: 30_000 } as const;
/** Output kept from one gh call: enough for a URL or an error line. */
const MAX_OUTPUT_CHARS = 64 * 1024;

/** Whether the run should file its incident; `problem`: the variable's value is not a boolean (exit 2). */
export function openIssueSetting(env: Record<string, string | undefined>): { wanted: boolean; problem?: string } {
  const problems: string[] = [];
  const raw = env[OPEN_ISSUE_VARIABLE];
  const wanted = parseBoolean(raw === '' ? undefined : raw, `${OPEN_ISSUE_VARIABLE} (--open-issue)`, problems);
  return problems.length ? { wanted: false, problem: new ConfigError(problems).message } : { wanted };
}

export type OpenIssueOutcome =
  | { status: 'filed'; url: string; message: string }
  | { status: 'not-installed' | 'not-signed-in' | 'failed' | 'no-incident'; message: string };

export interface OpenIssueOptions {
  env?: NodeJS.ProcessEnv;
  /** The GitHub CLI's command name or path. */
  gh?: string;
  timeoutsMs?: { auth: number; create: number };
  cwd?: string;
}

/** Files `incidentFile` as an issue, or says in one message why it did not. Never throws. */
export async function openIssue(incidentFile: string, options: OpenIssueOptions = {}): Promise<OpenIssueOutcome> {
  const env: NodeJS.ProcessEnv = { ...(options.env ?? process.env), GH_PROMPT_DISABLED: '1' };
  const gh = options.gh ?? 'gh';
  const timeouts = options.timeoutsMs ?? GH_TIMEOUTS_MS;
  const secrets = [...SECRET_VARIABLES, 'GH_TOKEN', 'GITHUB_TOKEN', 'GH_ENTERPRISE_TOKEN'].map((name) => env[name]).filter((v): v is string => Boolean(v));
  const say = (text: string) => redactSecrets(text, secrets);
  const paste = `paste ${incidentFile} into your issue tracker (its first line is the title)`;
  let title: string;
  try {
    title = titleOf(readFileSync(incidentFile, 'utf8'));
  } catch (error) {
    return { status: 'no-incident', message: say(`stagecheck: --open-issue: ${incidentFile} cannot be read (${(error as Error).message}); no issue was filed`) };
  }
  const auth = await run(gh, ['auth', 'status'], { env, timeoutMs: timeouts.auth, ...(options.cwd ? { cwd: options.cwd } : {}) });
  if (auth.missing) return { status: 'not-installed', message: say(`stagecheck: --open-issue: the GitHub CLI (gh) is not installed, so no issue was filed; ${paste}`) };
  if (auth.timedOut) return { status: 'failed', message: say(`stagecheck: --open-issue: \`gh auth status\` did not answer within ${seconds(timeouts.auth)}, so no issue was filed; ${paste}`) };
  if (auth.code !== 0) {
    const why = firstLine(auth.stderr || auth.stdout);
    return { status: 'not-signed-in', message: say(`stagecheck: --open-issue: gh is not signed in${why ? ` (gh auth status: ${why})` : ''}, so no issue was filed; run \`gh auth login\`, or ${paste}`) };
  }
  const create = await run(gh, ['issue', 'create', '--title', title, '--body-file', incidentFile], { env, timeoutMs: timeouts.create, ...(options.cwd ? { cwd: options.cwd } : {}) });
  if (create.timedOut) return { status: 'failed', message: say(`stagecheck: --open-issue: \`gh issue create\` did not finish within ${seconds(timeouts.create)}; it may or may not have filed the issue, check before you ${paste}`) };
  if (create.code !== 0 || create.missing) {
    const why = firstLine(create.stderr || create.stdout) || `exit ${create.code}`;
    return { status: 'failed', message: say(`stagecheck: --open-issue: gh issue create failed (${why}); ${paste}`) };
  }
  const url = create.stdout.split('\n').map((l) => l.trim()).filter(Boolean).at(-1) ?? '';
  return { status: 'filed', url, message: say(`stagecheck: incident filed: ${url || '(gh printed no URL)'}`) };
}

/**
 * After `npm run e2e`: files the incident of a FAIL run (the incident.md the reporter listed
 * among the run's files) and returns the one message to print; undefined when the run did not
 * fail (there is nothing to file, and nothing to say).
 */
export async function openIssueAfterRun(result: Pick<ResultFile, 'verdict' | 'files' | 'reportDir'> | undefined, options: OpenIssueOptions = {}): Promise<OpenIssueOutcome | undefined> {
  if (result?.verdict !== 'FAIL') return undefined;
  const file = result.files.find((f) => basename(f) === INCIDENT_FILE);
  if (!file) return { status: 'no-incident', message: `stagecheck: --open-issue: the run failed but wrote no ${INCIDENT_FILE} in ${result.reportDir} (see the reporter's message above); no issue was filed` };
  return openIssue(file, options);
}

/** The title from incident.md's first line (`# <title>`). */
export function titleOf(markdown: string): string {
  const first = markdown.split('\n', 1)[0]?.replace(/^#\s+/, '').trim();
  return first || 'stagecheck incident';
}

function firstLine(text: string): string {
  return text.split('\n').map((l) => l.trim()).find(Boolean) ?? '';
}

const seconds = (ms: number): string => `${Math.round(ms / 100) / 10} s`;

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The command does not exist (ENOENT) or cannot be run. */
  missing: boolean;
  timedOut: boolean;
}

/** Runs a command without a terminal (gh never prompts then), killed at `timeoutMs`. */
function run(command: string, args: string[], options: { env: NodeJS.ProcessEnv; timeoutMs: number; cwd?: string }): Promise<Ran> {
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let settled = false;
    const done = (ran: Omit<Ran, 'stdout' | 'stderr' | 'timedOut'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ...ran, stdout, stderr, timedOut });
    };
    const child = spawn(command, args, { env: options.env, stdio: ['ignore', 'pipe', 'pipe'], ...(options.cwd ? { cwd: options.cwd } : {}) });
    const keep = (current: string, chunk: string) => (current.length < MAX_OUTPUT_CHARS ? current + chunk.slice(0, MAX_OUTPUT_CHARS - current.length) : current);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout = keep(stdout, chunk)));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr = keep(stderr, chunk)));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs);
    child.once('error', (error: NodeJS.ErrnoException) => done({ code: null, missing: error.code === 'ENOENT' || error.code === 'EACCES' }));
    child.once('close', (code) => done({ code, missing: false }));
  });
}
