import { classify, type Intent } from './intents.ts';

export interface Step {
  intent: Intent;
  /** The part of the request this step answers. */
  text: string;
}

/** Where a compound request splits: "…? …", "…; …", "… and (also) …", "… also …". */
const SEPARATOR = /\?\s+(?=\S)|;\s*|,?\s+and\s+(?:also\s+)?|,?\s+also\s+/i;

/**
 * The steps of a request, as an LLM agent would plan them: one for a simple request, one per
 * recognised part for a compound one ("What is 17 * 3 and what is the capital of France?").
 * A split that leaves fewer than two recognised parts is no split ("the capital of Trinidad and
 * Tobago" stays one question).
 */
export function planSteps(text: string): Step[] {
  const whole: Step[] = [{ intent: classify(text), text }];
  const pieces = text.split(SEPARATOR).map((piece) => piece.trim()).filter(Boolean);
  if (pieces.length < 2) return whole;
  const known = pieces.map((piece) => ({ intent: classify(piece), text: piece })).filter((step) => step.intent.kind !== 'unknown');
  return known.length >= 2 ? known : whole;
}
