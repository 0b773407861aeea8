/**
 * How the suite writes durations, sizes, counts and long text for people: the one place for
 * each, so a message, a ledger and a report say "1.2 s" the same way.
 */

/**
 * A duration. `message` (default), for errors and ledgers: `850 ms`, `1.2 s`, `30 s`.
 * `report`, one digit finer for tables of measured latencies: `5.2 ms`, `850 ms`, `1.23 s`, `12.3 s`.
 */
export function formatMs(ms: number, style: 'message' | 'report' = 'message'): string {
  if (!Number.isFinite(ms)) return String(ms);
  if (style === 'report') {
    if (ms >= 10_000) return `${(ms / 1000).toFixed(1)} s`;
    if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
    if (ms >= 10) return `${Math.round(ms)} ms`;
    return `${ms.toFixed(1)} ms`;
  }
  if (Math.abs(ms) < 1000) return `${Math.round(ms)} ms`;
  const s = (ms / 1000).toFixed(1);
  return `${s.endsWith('.0') ? s.slice(0, -2) : s} s`;
}

/** `formatMs(ms, 'report')`, as a function the reporter's renderers can pass around. */
export function formatReportMs(ms: number): string {
  return formatMs(ms, 'report');
}

/** `512 bytes`, `12.5 KiB`, `10.0 MiB`: sizes in messages people read. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

/** `1 event`, `3 events`. */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** Truncates text to `maxBytes` UTF-8 bytes, saying how much was cut. */
export function truncateText(text: string, maxBytes: number): string {
  const size = Buffer.byteLength(text, 'utf8');
  if (size <= maxBytes) return text;
  const head = Buffer.from(text, 'utf8').subarray(0, maxBytes).toString('utf8').replace(/\uFFFD+$/, '');
  return `${head}… (+${size - Buffer.byteLength(head, 'utf8')} bytes)`;
}
