/**
 * `npm run monitor`'s command line (scripts/monitor/args.ts): durations with units, defaults,
 * and one message naming the flag for every mistake; the schedule's skip rule
 * (scripts/monitor/schedule.ts) and the run folders kept (scripts/monitor/folders.ts).
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MonitorArgError, parseDuration, parseMonitorArgs } from '../../scripts/monitor/args.ts';
import { pruneRunFolders } from '../../scripts/monitor/folders.ts';
import { nextSlot } from '../../scripts/monitor/schedule.ts';

function problem(argv: string[]): string {
  try {
    parseMonitorArgs(argv);
  } catch (error) {
    expect(error).toBeInstanceOf(MonitorArgError);
    return (error as Error).message;
  }
  throw new Error(`accepted: ${argv.join(' ')}`);
}

describe('monitor arguments', () => {
  it('reads durations with their unit', () => {
    expect(parseDuration('500ms', '--for')).toBe(500);
    expect(parseDuration('2s', '--every')).toBe(2000);
    expect(parseDuration('1.5m', '--every')).toBe(90_000);
    expect(parseDuration('8h', '--for')).toBe(28_800_000);
  });

  it('has defaults: both phases, keep 50, alert after 2, no bound', () => {
    expect(parseMonitorArgs(['--every', '5m'])).toEqual({ everyMs: 300_000, phases: '1,2', keep: 50, alertAfter: 2, e2eEnv: {}, openIssue: false, help: false });
  });

  it('reads every option, with a space or an equals sign, and e2e\'s target options', () => {
    expect(parseMonitorArgs(['--every=2s', '--for', '8h', '--iterations', '10', '--phases', '1', '--keep=5', '--alert-after', '3', '--local', '--allow-production', '--open-issue'])).toEqual({
      everyMs: 2000,
      forMs: 28_800_000,
      iterations: 10,
      phases: '1',
      keep: 5,
      alertAfter: 3,
      e2eEnv: { STAGECHECK_TARGET: 'local', STAGECHECK_ALLOW_PRODUCTION: 'true' },
      openIssue: true,
      help: false,
    });
    expect(parseMonitorArgs(['--every', '1m', '--target', 'staging']).e2eEnv).toEqual({ STAGECHECK_TARGET: 'staging' });
  });

  it('names the flag of every mistake', () => {
    expect(problem([])).toMatch(/^--every is required/);
    expect(problem(['--every', '5'])).toMatch(/^--every "5" is not a duration/);
    expect(problem(['--every', '0s'])).toMatch(/^--every "0s" must be longer than zero/);
    expect(problem(['--every', '500ms'])).toMatch(/^--every "500ms" must be at least 1s/);
    expect(problem(['--every'])).toMatch(/^--every needs a value/);
    expect(problem(['--every', '--for', '1h'])).toMatch(/^--every needs a value/);
    expect(problem(['--every', '5m', '--for', 'soon'])).toMatch(/^--for "soon" is not a duration/);
    expect(problem(['--every', '5m', '--phases', '2'])).toMatch(/^--phases "2" must be 1 .* or 1,2/);
    expect(problem(['--every', '5m', '--keep', '0'])).toMatch(/^--keep "0" must be a whole number of at least 1/);
    expect(problem(['--every', '5m', '--alert-after', 'two'])).toMatch(/^--alert-after "two" must be a whole number/);
    expect(problem(['--every', '5m', '--iterations', '1.5'])).toMatch(/^--iterations "1.5"/);
    expect(problem(['--every', '5m', '--evry', '1m'])).toMatch(/^unknown option --evry: did you mean --every\?/);
    expect(problem(['--every', '5m', '--alert'])).toMatch(/^unknown option --alert: did you mean --alert-after\?/);
    expect(problem(['--every', '5m', '--project', 'phase1'])).toMatch(/^unknown option --project \(/);
    expect(problem(['--every', '5m', 'now'])).toMatch(/^unexpected argument "now"/);
    expect(problem(['--every', '5m', '--every', '1m'])).toMatch(/^--every is given twice/);
    expect(problem(['--every', '5m', '--target', 'prod'])).toMatch(/^--target "prod" must be local or staging/);
    expect(problem(['--every', '5m', '--local', '--target', 'staging'])).toMatch(/contradict/);
  });

  it('--help needs nothing else', () => {
    expect(parseMonitorArgs(['--help']).help).toBe(true);
  });
});

describe('monitor schedule: start to start, skipping starts that come due during an iteration', () => {
  it('starts at the next slot when the iteration ended within its period', () => {
    expect(nextSlot(0, 0, 1500, 2000)).toEqual({ slot: 1, skipped: 0 });
    expect(nextSlot(3, 0, 6000, 2000)).toEqual({ slot: 4, skipped: 0 });
  });
  it('skips every slot that came due while it ran', () => {
    expect(nextSlot(0, 0, 6100, 2000)).toEqual({ slot: 4, skipped: 3 });
    expect(nextSlot(2, 1000, 9000.5, 2000)).toEqual({ slot: 5, skipped: 2 });
  });
});

describe('monitor run folders (--keep)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'stagecheck-monitor-folders-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps the newest N run folders and never touches anything else', () => {
    const runs = ['20261201000001-aaaaaa', '20261201000003-cccccc', '20261201000002-bbbbbb', '20261201000004-dddddd'];
    for (const name of runs) {
      mkdirSync(join(dir, name));
      writeFileSync(join(dir, name, 'index.html'), '<html></html>');
    }
    mkdirSync(join(dir, 'my-notes'));
    writeFileSync(join(dir, '20261201000000-ffffff'), 'a file named like a run');
    expect(pruneRunFolders(dir, 2)).toEqual(['20261201000001-aaaaaa', '20261201000002-bbbbbb']);
    expect(readdirSync(dir).sort()).toEqual(['20261201000000-ffffff', '20261201000003-cccccc', '20261201000004-dddddd', 'my-notes']);
    expect(pruneRunFolders(dir, 2)).toEqual([]);
    expect(pruneRunFolders(join(dir, 'missing'), 2)).toEqual([]);
  });
});
