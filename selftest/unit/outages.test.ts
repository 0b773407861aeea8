/** reporter/outages.ts: the components a run found down, one outage per down period. */
import { describe, expect, it } from 'vitest';
import type { ComponentEvent } from '../../helpers/core/meta.ts';
import { describeOutage, summarizeOutages } from '../../reporter/outages.ts';

const T = Date.parse('2026-12-01T10:00:00.000Z');

describe('summarizeOutages', () => {
  it('makes one outage of several workers confirming it, counts the tests it cut short, and closes it when the component is back', () => {
    const events: ComponentEvent[] = [
      { component: 'backend', kind: 'down', at: T + 5_000, since: T + 2_500, cause: 'http-status HEADERS_TIMEOUT', lastGoodAt: T },
      { component: 'backend', kind: 'down', at: T + 5_200, since: T + 2_700, cause: 'http-status HEADERS_TIMEOUT' },
      { component: 'backend', kind: 'back', at: T + 30_000 },
      { component: 'auth', kind: 'down', at: T + 6_000, since: T + 6_000, cause: 'tcp ECONNREFUSED' },
    ];
    const cutShort = [
      { component: 'backend', since: T + 2_500 },
      { component: 'backend', since: T + 2_700 },
      { component: 'auth', since: T + 6_000 },
      { component: 'backend', since: T + 40_000 }, // a later outage nobody logged: not this one's
    ];
    expect(summarizeOutages(events, cutShort)).toEqual([
      {
        component: 'backend',
        since: '2026-12-01T10:00:02.500Z',
        confirmedAt: '2026-12-01T10:00:05.000Z',
        cause: 'http-status HEADERS_TIMEOUT',
        lastGoodAt: '2026-12-01T10:00:00.000Z',
        backAt: '2026-12-01T10:00:30.000Z',
        testsCutShort: 2,
      },
      { component: 'auth', since: '2026-12-01T10:00:06.000Z', confirmedAt: '2026-12-01T10:00:06.000Z', cause: 'tcp ECONNREFUSED', lastGoodAt: null, backAt: null, testsCutShort: 1 },
    ]);
  });

  it('opens a second outage when the component goes down again after it was back', () => {
    const events: ComponentEvent[] = [
      { component: 'backend', kind: 'down', at: T, since: T, cause: 'tcp ECONNRESET' },
      { component: 'backend', kind: 'back', at: T + 10_000 },
      { component: 'backend', kind: 'down', at: T + 20_000, since: T + 19_000, cause: 'tcp ECONNREFUSED' },
    ];
    expect(summarizeOutages(events, []).map((o) => [o.cause, o.backAt !== null])).toEqual([
      ['tcp ECONNRESET', true],
      ['tcp ECONNREFUSED', false],
    ]);
  });

  it("knows an outage from the failures it cut short when no worker's event reached the report", () => {
    const [outage] = summarizeOutages([], [
      { component: 'backend', since: T + 1_000, confirmedAt: T + 6_000, layer: 'http-status', code: 'HEADERS_TIMEOUT', lastGoodAt: T },
      { component: 'backend', since: T + 1_000, confirmedAt: T + 6_000, layer: 'http-status', code: 'HEADERS_TIMEOUT', lastGoodAt: T },
    ]);
    expect(outage).toEqual({
      component: 'backend',
      since: '2026-12-01T10:00:01.000Z',
      confirmedAt: '2026-12-01T10:00:06.000Z',
      cause: 'http-status HEADERS_TIMEOUT',
      lastGoodAt: '2026-12-01T10:00:00.000Z',
      backAt: null,
      testsCutShort: 2,
    });
  });

  it('is empty for a run where nothing went down', () => {
    expect(summarizeOutages([], [])).toEqual([]);
  });
});

describe('describeOutage', () => {
  it('says what went down, why, since when, whether it came back, and how many tests it cut short', () => {
    const [backend, auth] = summarizeOutages(
      [
        { component: 'backend', kind: 'down', at: T + 5_000, since: T + 2_500, cause: 'tcp ECONNREFUSED', lastGoodAt: T },
        { component: 'backend', kind: 'back', at: T + 30_000 },
        { component: 'auth', kind: 'down', at: T + 6_000, since: T + 6_000, cause: 'dns ENOTFOUND' },
      ],
      [{ component: 'auth', since: T + 6_000 }],
    );
    expect(describeOutage(backend!)).toBe('backend down since 10:00:02 UTC (tcp ECONNREFUSED, confirmed 10:00:05 UTC, last good answer 10:00:00 UTC); back at 10:00:30 UTC, used again; 0 tests failed at once with this cause');
    expect(describeOutage(auth!)).toBe('auth down since 10:00:06 UTC (dns ENOTFOUND, confirmed 10:00:06 UTC); still down at the end of the run; 1 test failed at once with this cause');
  });
});
