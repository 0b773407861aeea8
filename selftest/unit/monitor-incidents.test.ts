/**
 * The monitor's alert rule (scripts/monitor/incidents.ts) over scripted iteration outcomes: an
 * alert at the N-th failing iteration in a row and never again while the incident is open, one
 * recovery, one incident per cause, INCONCLUSIVE iterations and blocked checks changing nothing.
 */
import { describe, expect, it } from 'vitest';
import type { Cause } from '../../scripts/monitor/causes.ts';
import { CHECKS_PER_CAUSE, initialState, MAX_TRACKED, nextState, type IncidentState, type Observation, type Step } from '../../scripts/monitor/incidents.ts';

function cause(key: string, checks: string[] = [`test:${key}`]): Cause {
  return { key, kind: 'tests', title: key, message: `${key} failed`, component: key.split('|')[1] ?? 'redis', layer: 'tcp', code: '', tests: checks.length, examples: [], tiers: ['p1'], checks };
}

const REDIS = cause('tests|redis|budget|COMMAND_TIMEOUT', ['test:ready', 'test:redis-probe']);
const AUTH = cause('tests|auth|http-status|503', ['test:login']);
const ALL_CHECKS = new Set(['test:ready', 'test:redis-probe', 'test:login', 'test:health']);

type Script = Array<{ exitCode: number; causes?: Cause[]; observed?: ReadonlySet<string> }>;

/** Runs the script; returns each iteration's step. */
function play(script: Script, alertAfter = 2): Step[] {
  let state: IncidentState = initialState();
  return script.map((entry, i) => {
    const observation: Observation = { iteration: i + 1, at: `2026-12-01T00:0${i}:00.000Z`, exitCode: entry.exitCode, causes: entry.causes ?? [], observed: entry.observed ?? ALL_CHECKS };
    const step = nextState(state, observation, { alertAfter });
    state = step.state;
    return step;
  });
}

const pass = { exitCode: 0 };
const fail = (...causes: Cause[]) => ({ exitCode: 1, causes });
const inconclusive = { exitCode: 2 };
const alertsAt = (steps: Step[]) => steps.flatMap((s, i) => (s.alerted.length ? [i + 1] : []));
const recoveriesAt = (steps: Step[]) => steps.flatMap((s, i) => (s.recovered.length ? [i + 1] : []));

describe('monitor incidents', () => {
  it('alerts once at the second failing iteration in a row and recovers once (fault on at 4, off at 7)', () => {
    const steps = play([pass, pass, pass, fail(REDIS, AUTH), fail(REDIS, AUTH), fail(REDIS, AUTH), pass, pass, pass, pass]);
    expect(alertsAt(steps)).toEqual([5]);
    expect(recoveriesAt(steps)).toEqual([7]);
    // One alert names both causes of the outage, each with when it first failed.
    expect(steps[4]!.alerted.map((i) => [i.key, i.firstFailedIteration, i.firstFailedAt, i.failingIterations])).toEqual([
      [REDIS.key, 4, '2026-12-01T00:03:00.000Z', 2],
      [AUTH.key, 4, '2026-12-01T00:03:00.000Z', 2],
    ]);
    expect(steps[6]!.recovered.map((i) => [i.key, i.alertedIteration, i.recoveredIteration, i.failingIterations])).toEqual([
      [REDIS.key, 5, 7, 3],
      [AUTH.key, 5, 7, 3],
    ]);
    expect(steps[9]!.state.open.size + steps[9]!.state.pending.size).toBe(0);
  });

  it('does not alert on a single failing iteration (a blip)', () => {
    const steps = play([pass, fail(REDIS), pass, fail(REDIS), pass]);
    expect(alertsAt(steps)).toEqual([]);
    expect(recoveriesAt(steps)).toEqual([]);
  });

  it('never alerts twice for an incident that stays open', () => {
    const steps = play([fail(REDIS), ...Array.from({ length: 60 }, () => fail(REDIS)), pass]);
    expect(alertsAt(steps)).toEqual([2]);
    expect(recoveriesAt(steps)).toEqual([62]);
    expect(steps[61]!.recovered[0]!.failingIterations).toBe(61);
  });

  it('follows --alert-after: 1 alerts at the first failure, 3 at the third', () => {
    expect(alertsAt(play([pass, fail(REDIS), fail(REDIS), fail(REDIS), pass], 1))).toEqual([2]);
    expect(alertsAt(play([pass, fail(REDIS), fail(REDIS), fail(REDIS), pass], 3))).toEqual([4]);
    expect(alertsAt(play([pass, fail(REDIS), fail(REDIS), pass, fail(REDIS), fail(REDIS)], 3))).toEqual([]);
  });

  it('keeps causes apart: a second cause gets its own alert, recoveries of one iteration are one', () => {
    const steps = play([fail(REDIS), fail(REDIS), fail(REDIS, AUTH), fail(REDIS, AUTH), pass]);
    expect(steps.map((s) => s.alerted.map((i) => i.key))).toEqual([[], [REDIS.key], [], [AUTH.key], []]);
    expect(steps[4]!.recovered.map((i) => i.key)).toEqual([REDIS.key, AUTH.key]);
  });

  it('recovers one cause while another stays open', () => {
    const steps = play([fail(REDIS, AUTH), fail(REDIS, AUTH), fail(AUTH), fail(AUTH), pass]);
    expect(steps[2]!.recovered.map((i) => i.key)).toEqual([REDIS.key]);
    expect(steps[2]!.state.open.has(AUTH.key)).toBe(true);
    expect(steps[4]!.recovered.map((i) => i.key)).toEqual([AUTH.key]);
    expect(alertsAt(steps)).toEqual([2]);
  });

  it('an INCONCLUSIVE iteration changes nothing: it neither breaks nor extends a streak, nor recovers, and is counted', () => {
    const streak = play([fail(REDIS), inconclusive, fail(REDIS), pass]);
    expect(alertsAt(streak)).toEqual([3]);
    expect(streak[1]!.inconclusive).toBe(true);
    expect(streak[1]!.state.inconclusiveStreak).toBe(1);
    const open = play([fail(REDIS), fail(REDIS), inconclusive, inconclusive, fail(REDIS), pass]);
    expect(alertsAt(open)).toEqual([2]);
    expect(recoveriesAt(open)).toEqual([6]);
    expect(open[3]!.state.open.has(REDIS.key)).toBe(true);
    expect(open[3]!.state.inconclusiveStreak).toBe(2);
    expect(open[4]!.state.inconclusiveStreak).toBe(0);
  });

  it('a cause whose checks did not run (phase 2 blocked, a filter) is neither failing nor recovered', () => {
    const blocked = new Set(['test:health']);
    const steps = play([fail(AUTH), fail(AUTH), { exitCode: 1, causes: [REDIS], observed: blocked }, { exitCode: 0, observed: blocked }, pass]);
    expect(recoveriesAt(steps)).toEqual([5]);
    // A pending streak is kept across an iteration that could not see it.
    const pending = play([fail(AUTH), { exitCode: 0, observed: blocked }, fail(AUTH)]);
    expect(alertsAt(pending)).toEqual([3]);
  });

  it('stays bounded: at most MAX_TRACKED causes and CHECKS_PER_CAUSE checks each', () => {
    const many = Array.from({ length: MAX_TRACKED + 50 }, (_, i) => cause(`tests|c${i}|tcp|`, Array.from({ length: 40 }, (_, j) => `t${i}-${j}`)));
    const steps = play([fail(...many), fail(...many), fail(...many)]);
    const state = steps[2]!.state;
    expect(state.open.size + state.pending.size).toBeLessThanOrEqual(MAX_TRACKED);
    for (const incident of state.open.values()) expect(incident.checks.length).toBeLessThanOrEqual(CHECKS_PER_CAUSE);
  });
});
