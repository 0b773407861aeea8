/**
 * A/B of phase 1 between a base commit and this checkout, against one running platform:
 *
 *   npx tsx bench/ab.ts --base HEAD~1                    # fast platform, 8 pairs
 *   npx tsx bench/ab.ts --base 3dbdd27 --staging --runs 12   # staging-like (think 450 ms, +50 ms)
 *
 * On two noisy cores a lever of 20–80 ms is seen only in interleaved pairs: each round runs both
 * sides back to back, the order alternating, and the result is the median of the per-pair
 * differences (with how many pairs agree), beside each side's median wall split. The base is a
 * detached worktree in a temp dir with a hard-linked copy of `node_modules` (its compiled twins
 * and Vitest's module cache are its own after the first run, which is a warm-up and not counted);
 * it is removed at the end. Uncommitted changes here are part of "this checkout".
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { formatMs, spread } from './stats.ts';
import { cleanEnv, ROOT, startLatencyProxy, startPlatform } from './targets.ts';
import { runVitest, splitWall } from './vitest-run.ts';

const { values } = parseArgs({
  options: {
    base: { type: 'string' },
    runs: { type: 'string', default: '8' },
    staging: { type: 'boolean', default: false },
    'think-ms': { type: 'string', default: '450' },
    'latency-ms': { type: 'string', default: '50' },
  },
});
if (!values.base) {
  process.stderr.write('bench/ab.ts: --base <commit> is required (the side to compare this checkout with)\n');
  process.exit(2);
}
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1) {
  process.stderr.write(`bench/ab.ts: --runs must be a positive integer, got ${values.runs}\n`);
  process.exit(2);
}

const PARTS = ['wall', 'boot', 'to first test', 'test span', 'exit'] as const;
type Sample = Record<(typeof PARTS)[number], number>;

const temp = mkdtempSync(join(tmpdir(), 'stagecheck-ab-'));
const baseDir = join(temp, 'base');
const git = (...args: string[]): string => execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim();
const baseCommit = git('rev-parse', '--short', values.base);
git('worktree', 'add', '--detach', '--quiet', baseDir, baseCommit);
execFileSync('cp', ['-al', join(ROOT, 'node_modules'), join(baseDir, 'node_modules')]);

const sides = [
  { name: `base ${baseCommit}`, dir: baseDir, samples: [] as Sample[] },
  { name: 'this checkout', dir: ROOT, samples: [] as Sample[] },
];
const platform = await startPlatform({ args: values.staging ? ['--think-ms', values['think-ms']!] : [] });
const proxy = values.staging ? await startLatencyProxy(platform.env, Number(values['latency-ms'])) : undefined;
const env = proxy?.env ?? platform.env;
let n = 0;
try {
  for (let round = -1; round < runs; round++) {
    for (const side of round % 2 === 0 ? sides : [...sides].reverse()) {
      const run = await runVitest(['--project', 'phase1'], cleanEnv({ ...env, STAGECHECK_RUN_ID: `ab-${process.pid}-${(n += 1)}` }), { cwd: side.dir });
      const split = splitWall(run);
      if (run.exitCode !== 0 || !split) throw new Error(`${side.name}: phase 1 exited ${run.exitCode} (${run.passed}/${run.total} passed)\n${run.stderr.slice(-2000)}`);
      const sample: Sample = { wall: run.wallMs, boot: split.bootMs, 'to first test': split.toFirstTestMs, 'test span': split.testSpanMs, exit: split.exitMs };
      process.stdout.write(`${round < 0 ? 'warm-up' : `round ${round + 1}/${runs}`} ${side.name}: ${PARTS.map((p) => formatMs(sample[p])).join(' / ')}\n`);
      if (round >= 0) side.samples.push(sample);
    }
  }
} finally {
  await proxy?.stop();
  await platform.stop();
  git('worktree', 'remove', '--force', baseDir);
  rmSync(temp, { recursive: true, force: true });
}

const [base, here] = sides as [(typeof sides)[0], (typeof sides)[0]];
process.stdout.write(`\nphase 1, ${values.staging ? `staging-like (think ${values['think-ms']} ms, +${values['latency-ms']} ms)` : 'fast platform'}, ${runs} interleaved pairs; medians of ${PARTS.join(' / ')}\n`);
for (const side of sides) process.stdout.write(`  ${side.name.padEnd(16)} ${PARTS.map((p) => formatMs(spread(side.samples.map((s) => s[p])).median)).join(' / ')}\n`);
const diffs = here.samples.map((s, i) => s.wall - base.samples[i]!.wall);
const faster = diffs.filter((d) => d < 0).length;
process.stdout.write(`  wall, this checkout − base, per pair: median ${Math.round(spread(diffs).median!)} ms (${faster} of ${diffs.length} pairs faster; ${diffs.map((d) => Math.round(d)).join(' ')})\n`);
