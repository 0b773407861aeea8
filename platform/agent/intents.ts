import { ArithmeticError, evaluate } from './arithmetic.ts';

export type Intent =
  | { kind: 'arithmetic'; expression: string }
  | { kind: 'capital'; country: string }
  | { kind: 'previous_question' }
  | { kind: 'unknown' };

const previousQuestion = /\b(previous|last|earlier|prior)\s+(question|message)\b|\bwhat\s+did\s+i\s+(just\s+)?(ask|say)\b/i;
const capitalOf = /\bcapital(?:\s+city)?\s+of\s+(?:the\s+)?([\p{L}][\p{L} .'-]*?)\s*[?.!]*\s*$/iu;
const expressionLike = /[-(]*\s*(?:\d+(?:\.\d+)?|\.\d+)(?:\s*[-+*/()]\s*[-(]*\s*(?:\d+(?:\.\d+)?|\.\d+)?\s*\)*)+/;

/** Finds an arithmetic expression with at least one operator, normalising × ÷ and "x" between numbers. */
function findExpression(text: string): string | undefined {
  const normalised = text
    .replace(/[×]/g, '*')
    .replace(/[÷]/g, '/')
    .replace(/(\d)\s*x\s*(?=[\d(])/gi, '$1 * ')
    .replace(/\b(plus)\b/gi, '+')
    .replace(/\b(minus)\b/gi, '-')
    .replace(/\b(times|multiplied by)\b/gi, '*')
    .replace(/\b(divided by)\b/gi, '/');
  const match = expressionLike.exec(normalised);
  if (!match) return undefined;
  const candidate = match[0].trim();
  try {
    return evaluate(candidate).operations > 0 ? candidate : undefined;
  } catch (error) {
    // 1/0 is still arithmetic (the agent says it cannot divide by zero); garbage is not.
    return error instanceof ArithmeticError && error.message === 'division by zero' ? candidate : undefined;
  }
}

/** Deterministic routing of a request to what the agent knows how to answer. */
export function classify(text: string): Intent {
  if (previousQuestion.test(text)) return { kind: 'previous_question' };
  const capital = capitalOf.exec(text);
  if (capital?.[1]) return { kind: 'capital', country: capital[1].trim() };
  const expression = findExpression(text);
  if (expression) return { kind: 'arithmetic', expression };
  return { kind: 'unknown' };
}
