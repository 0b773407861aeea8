/**
 * The text a deployment means, whichever of the contract's forms it sent it in: a string, text
 * parts (`[{type:"text", text:{value}}]`, or `text` as a plain string), or a structured answer
 * (`{response: "..."}` and similar). Pure functions, no I/O.
 */
import { isPlainObject } from '../core/frames.ts';

/** Keys under which a structured answer carries its text, most specific first. */
const ANSWER_KEYS = ['response', 'final_response', 'answer', 'text', 'content', 'message', 'output', 'value'] as const;

/** The text parts' text, joined by newlines; undefined when `value` is not a list of text parts. */
function textOfParts(value: readonly unknown[]): string | undefined {
  const texts: string[] = [];
  for (const part of value) {
    if (typeof part === 'string') {
      texts.push(part);
      continue;
    }
    if (!isPlainObject(part)) return undefined;
    if (part.type !== undefined && part.type !== 'text') continue; // an image, a tool call: not text
    const text = part.text;
    if (typeof text === 'string') texts.push(text);
    else if (isPlainObject(text) && typeof text.value === 'string') texts.push(text.value);
    else return undefined;
  }
  return texts.join('\n');
}

/**
 * The text of a message's `content` or an answer: a string as is, text parts joined, a
 * structured answer's text field. `undefined` when no text can be read from it.
 */
export function textOf(value: unknown, depth = 0): string | undefined {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return textOfParts(value);
  if (isPlainObject(value) && depth < 3) {
    for (const key of ANSWER_KEYS) {
      const text = textOf(value[key], depth + 1);
      if (text !== undefined) return text;
    }
  }
  return undefined;
}

/** Markdown emphasis, list markers and runs of whitespace removed, lower-cased: for comparing wording. */
export function plainText(text: string): string {
  return text
    .replace(/[*_`#>]+/g, '')
    .replace(/^\s*([-+]|\d+\.)\s+/gm, '')
    .replace(/\s+/g, ' ')
    .trim()
    .toLowerCase();
}
