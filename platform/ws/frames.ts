import { isoNow } from '../util/time.ts';

/** Server frames are flat JSON: `{type, ...fields, timestamp, correlation_id?}`. */
export function frame(type: string, fields: Record<string, unknown> = {}): string {
  const { correlation_id, ...rest } = fields;
  return JSON.stringify({ type, ...rest, timestamp: isoNow(), ...(correlation_id ? { correlation_id } : {}) });
}

export const CLOSE = {
  NORMAL: 1000,
  GOING_AWAY: 1001,
  UNSUPPORTED_DATA: 1003,
  POLICY_VIOLATION: 1008,
  INTERNAL_ERROR: 1011,
} as const;

/** Close reasons are limited to 123 bytes by the protocol. */
export function closeReason(text: string): string {
  let reason = text;
  while (Buffer.byteLength(reason) > 123) reason = reason.slice(0, -1);
  return reason;
}
