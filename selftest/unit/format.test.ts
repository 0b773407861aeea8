import { describe, expect, it } from 'vitest';
import { formatBytes, formatMs, plural, truncateText } from '../../helpers/core/format.ts';

describe('formatMs', () => {
  it('prints ms below a second and trimmed seconds above', () => {
    expect(formatMs(850.4)).toBe('850 ms');
    expect(formatMs(29_800)).toBe('29.8 s');
    expect(formatMs(30_000)).toBe('30 s');
    expect(formatMs(1_049)).toBe('1 s');
  });

  it('prints one digit more in the report style, for tables of measured latencies', () => {
    expect(formatMs(5.24, 'report')).toBe('5.2 ms');
    expect(formatMs(850.4, 'report')).toBe('850 ms');
    expect(formatMs(1_234, 'report')).toBe('1.23 s');
    expect(formatMs(12_345, 'report')).toBe('12.3 s');
  });
});

describe('formatBytes, plural, truncateText', () => {
  it('say sizes, counts and cut text the same way everywhere', () => {
    expect(formatBytes(512)).toBe('512 bytes');
    expect(formatBytes(10 * 1024 * 1024)).toBe('10.0 MiB');
    expect(plural(1, 'event')).toBe('1 event');
    expect(plural(3, 'event')).toBe('3 events');
    expect(truncateText('abcdef', 3)).toBe('abc… (+3 bytes)');
  });
});
