import { describe, expect, it } from 'vitest';
import { percentile, rate, summarize } from '../../helpers/core/stats.ts';

describe('percentile (nearest rank)', () => {
  const twenty = Array.from({ length: 20 }, (_, i) => i + 1); // 1..20

  it('returns the value at rank ceil(p/100 * n)', () => {
    expect(percentile(twenty, 95)).toBe(19);
    expect(percentile(twenty, 50)).toBe(10);
    expect(percentile(twenty, 5)).toBe(1);
    expect(percentile(twenty, 96)).toBe(20);
  });

  it('returns the maximum for p95 of ten samples and p100', () => {
    const ten = [5, 1, 9, 3, 7, 2, 8, 4, 10, 6];
    expect(percentile(ten, 95)).toBe(10);
    expect(percentile(ten, 100)).toBe(10);
    expect(percentile(ten, 90)).toBe(9);
  });

  it('returns the minimum for p0 and always a measured sample', () => {
    expect(percentile([30, 10, 20], 0)).toBe(10);
    expect(percentile([1.5, 2.5], 50)).toBe(1.5);
  });

  it('does not reorder the caller’s array', () => {
    const values = [3, 1, 2];
    percentile(values, 50);
    expect(values).toEqual([3, 1, 2]);
  });

  it('rejects an empty list, p out of range and non-finite samples', () => {
    expect(() => percentile([], 50)).toThrow(RangeError);
    expect(() => percentile([1], 101)).toThrow(RangeError);
    expect(() => percentile([1], -1)).toThrow(RangeError);
    expect(() => percentile([1, Number.NaN], 50)).toThrow(RangeError);
  });
});

describe('summarize', () => {
  it('reports count, min, p50, p95, max and mean', () => {
    expect(summarize([4, 1, 3, 2])).toEqual({ count: 4, min: 1, p50: 2, p95: 4, max: 4, mean: 2.5 });
  });

  it('reports an empty list as count 0 with null statistics', () => {
    expect(summarize([])).toEqual({ count: 0, min: null, p50: null, p95: null, max: null, mean: null });
  });

  it('rejects non-finite samples', () => {
    expect(() => summarize([1, Number.POSITIVE_INFINITY])).toThrow(RangeError);
  });
});

describe('rate', () => {
  it('formats successes over total with one decimal', () => {
    expect(rate(19, 20)).toEqual({ successes: 19, total: 20, ratio: 0.95, text: '19/20 = 95.0%' });
    expect(rate(10, 10).text).toBe('10/10 = 100.0%');
    expect(rate(0, 10).text).toBe('0/10 = 0.0%');
    expect(rate(29, 100).text).toBe('29/100 = 29.0%');
  });

  it('rounds down so an imperfect rate never reads 100%', () => {
    expect(rate(1999, 2000).text).toBe('1999/2000 = 99.9%');
    expect(rate(2, 3).text).toBe('2/3 = 66.6%');
  });

  it('reports 0/0 as n/a with a null ratio', () => {
    expect(rate(0, 0)).toEqual({ successes: 0, total: 0, ratio: null, text: '0/0 = n/a' });
  });

  it('rejects impossible counts', () => {
    expect(() => rate(3, 2)).toThrow(RangeError);
    expect(() => rate(-1, 2)).toThrow(RangeError);
    expect(() => rate(1.5, 2)).toThrow(RangeError);
  });
});
