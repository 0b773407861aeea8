/**
 * scripts/e2e.ts shardingProblems: a shard runs phase 2 alone behind a phase-1 gate; every other
 * sharded selection would run phase-2 modules ungated and is refused with the two commands
 * that fix it. End to end: selftest/runs/vitest-surprises.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { parseArgs, shardingProblems } from '../../scripts/e2e.ts';

const problems = (argv: string[], gate?: string) => shardingProblems(parseArgs(argv), gate);

describe('npm run e2e --shard', () => {
  it('accepts a phase-2 shard behind a gate, an unsharded run and a merge', () => {
    expect(problems(['--project', 'phase2', '--shard', '2/3'], 'reports/phase1-gate.json')).toEqual([]);
    expect(problems(['--project=phase2', '--shard=2/3'], 'g.json')).toEqual([]);
    expect(problems([])).toEqual([]);
    expect(problems(['--merge-reports', '.vitest-reports'])).toEqual([]);
  });

  it('refuses a shard that holds phase 1 or lacks the gate, naming both commands of the gated run', () => {
    for (const [argv, gate] of [
      [['--shard', '1/3'], undefined],
      [['--shard', '1/3'], 'g.json'],
      [['--project', 'phase1', '--project', 'phase2', '--shard', '1/3'], 'g.json'],
      [['--project', 'phase1', '--shard', '1/3'], undefined],
      [['--project', 'phase2', '--shard', '1/3'], undefined],
    ] as const) {
      const [problem, ...rest] = problems([...argv], gate);
      expect(rest, argv.join(' ')).toEqual([]);
      expect(problem, argv.join(' ')).toContain('npm run e2e -- --project phase1\n');
      expect(problem, argv.join(' ')).toContain('npm run e2e -- --project phase2 --shard 1/3 --phase1-gate reports/phase1-gate.json');
    }
  });
});
