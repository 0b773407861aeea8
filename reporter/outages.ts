/**
 * Components the run found down, from what the tests recorded (pure): the `down` and `back`
 * events the workers' fail-fast watches logged (helpers/transport/component-watch.ts), and the
 * failures an outage cut short (their evidence carries the outage). One outage per component
 * and down period: several workers confirming the same outage at nearly the same moment are one.
 */
import type { ComponentEvent } from '../helpers/core/meta.ts';

export interface Outage {
  component: string;
  /** When the failure that raised the suspicion happened. */
  since: string;
  confirmedAt: string;
  /** Layer and code, e.g. `tcp ECONNREFUSED`. */
  cause: string;
  lastGoodAt: string | null;
  /** When a probe found it answering again; null when it stayed down to the end of the run. */
  backAt: string | null;
  /** Tests that failed at once, or were cut short, because of it. */
  testsCutShort: number;
}

/** What a cut-short failure's evidence says about its outage (DownState, in part). */
export interface CutShort {
  component: string;
  since: number;
  confirmedAt?: number;
  layer?: string;
  code?: string | number;
  lastGoodAt?: number;
}

const iso = (epochMs: number): string => new Date(epochMs).toISOString();

export function summarizeOutages(logged: readonly ComponentEvent[], cutShort: readonly CutShort[]): Outage[] {
  // Every cut-short failure carries its outage too: a worker's `down` event is drained only when
  // its next test ends, and the confirming worker may have had none left.
  const fromFailures: ComponentEvent[] = cutShort.flatMap((f) =>
    f.confirmedAt === undefined
      ? []
      : [{ component: f.component as ComponentEvent['component'], kind: 'down' as const, at: f.confirmedAt, since: f.since, cause: `${f.layer ?? 'unknown'}${f.code === undefined ? '' : ` ${f.code}`}`, ...(f.lastGoodAt === undefined ? {} : { lastGoodAt: f.lastGoodAt }) }],
  );
  const events = [...logged, ...fromFailures];
  const outages: (Omit<Outage, 'since' | 'confirmedAt' | 'backAt' | 'lastGoodAt'> & { since: number; confirmedAt: number; backAt?: number; lastGoodAt?: number })[] = [];
  const sorted = [...events].sort((a, b) => a.at - b.at);
  for (const event of sorted) {
    const open = outages.find((o) => o.component === event.component && o.backAt === undefined);
    if (event.kind === 'down') {
      if (open) continue; // another worker confirmed the same outage
      outages.push({
        component: event.component,
        since: event.since ?? event.at,
        confirmedAt: event.at,
        cause: event.cause ?? 'unknown',
        ...(event.lastGoodAt === undefined ? {} : { lastGoodAt: event.lastGoodAt }),
        testsCutShort: 0,
      });
    } else if (open) {
      open.backAt = event.at;
    }
  }
  for (const failure of cutShort) {
    const outage = outages.find((o) => o.component === failure.component && failure.since >= o.since - 1_000 && (o.backAt === undefined || failure.since <= o.backAt));
    if (outage) outage.testsCutShort += 1;
  }
  return outages.map((o) => ({
    component: o.component,
    since: iso(o.since),
    confirmedAt: iso(o.confirmedAt),
    cause: o.cause,
    lastGoodAt: o.lastGoodAt === undefined ? null : iso(o.lastGoodAt),
    backAt: o.backAt === undefined ? null : iso(o.backAt),
    testsCutShort: o.testsCutShort,
  }));
}

/** One line per outage, for the terminal and Markdown: `backend down since 12:00:01 UTC (tcp ECONNREFUSED), back at …; 37 tests failed at once`. */
export function describeOutage(o: Outage): string {
  const clock = (text: string): string => `${text.slice(11, 19)} UTC`;
  const lastGood = o.lastGoodAt ? `, last good answer ${clock(o.lastGoodAt)}` : '';
  const end = o.backAt ? `back at ${clock(o.backAt)}, used again` : 'still down at the end of the run';
  return `${o.component} down since ${clock(o.since)} (${o.cause}, confirmed ${clock(o.confirmedAt)}${lastGood}); ${end}; ${o.testsCutShort} test${o.testsCutShort === 1 ? '' : 's'} failed at once with this cause`;
}
