/**
 * The monitor's clock, start to start: iteration slots fall at start + k × every. An iteration
 * that runs past one or more slots skips them (the next iteration starts at the first slot
 * after it ended); nothing ever runs two at once or queues up to catch up.
 */

export interface NextSlot {
  /** Index of the slot the next iteration starts at. */
  slot: number;
  /** Slots that came due while the iteration ran, and are skipped. */
  skipped: number;
}

/**
 * The slot after an iteration that started at slot `slot` and ended at `endedAt` (ms, same
 * clock as `origin`). A slot due exactly when the iteration ended is not skipped.
 */
export function nextSlot(slot: number, origin: number, endedAt: number, everyMs: number): NextSlot {
  const firstFree = Math.ceil((endedAt - origin) / everyMs);
  const next = Math.max(slot + 1, firstFree);
  return { slot: next, skipped: next - slot - 1 };
}

/** When slot `slot` is due. */
export function slotTime(slot: number, origin: number, everyMs: number): number {
  return origin + slot * everyMs;
}
