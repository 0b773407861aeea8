/**
 * A small, safe arithmetic evaluator (no eval): + - * / and parentheses over integers and
 * decimals, with the usual precedence and unary minus.
 */
export class ArithmeticError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ArithmeticError';
  }
}

type Token = { kind: 'number'; value: number } | { kind: 'op'; value: string };

function tokenize(expression: string): Token[] {
  const tokens: Token[] = [];
  const pattern = /\s*(?:(\d+(?:\.\d+)?|\.\d+)|([-+*/()]))/y;
  let index = 0;
  while (index < expression.length) {
    if (/^\s*$/.test(expression.slice(index))) break;
    pattern.lastIndex = index;
    const match = pattern.exec(expression);
    if (!match) throw new ArithmeticError(`unexpected character "${expression.slice(index).trim()[0]}"`);
    if (match[1] !== undefined) tokens.push({ kind: 'number', value: Number(match[1]) });
    else tokens.push({ kind: 'op', value: match[2] ?? '' });
    index = pattern.lastIndex;
  }
  return tokens;
}

export interface Evaluation {
  value: number;
  operations: number;
}

export function evaluate(expression: string): Evaluation {
  const tokens = tokenize(expression);
  let position = 0;
  let operations = 0;
  const peek = (): Token | undefined => tokens[position];
  const isOp = (token: Token | undefined, ...ops: string[]): boolean => token?.kind === 'op' && ops.includes(token.value);

  const parseFactor = (): number => {
    const token = peek();
    if (!token) throw new ArithmeticError('expression ends too early');
    if (isOp(token, '-', '+')) {
      position++;
      const operand = parseFactor();
      return token.value === '-' ? -operand : operand;
    }
    if (isOp(token, '(')) {
      position++;
      const inner = parseSum();
      if (!isOp(peek(), ')')) throw new ArithmeticError('missing closing parenthesis');
      position++;
      return inner;
    }
    if (token.kind === 'number') {
      position++;
      return token.value;
    }
    throw new ArithmeticError(`unexpected "${token.value}"`);
  };
  const parseProduct = (): number => {
    let value = parseFactor();
    while (isOp(peek(), '*', '/')) {
      const op = peek()?.value;
      position++;
      const right = parseFactor();
      operations++;
      if (op === '/' && right === 0) throw new ArithmeticError('division by zero');
      value = op === '*' ? value * right : value / right;
    }
    return value;
  };
  const parseSum = (): number => {
    let value = parseProduct();
    while (isOp(peek(), '+', '-')) {
      const op = peek()?.value;
      position++;
      const right = parseProduct();
      operations++;
      value = op === '+' ? value + right : value - right;
    }
    return value;
  };

  const value = parseSum();
  if (position !== tokens.length) throw new ArithmeticError(`unexpected "${tokens[position]?.value}"`);
  if (!Number.isFinite(value)) throw new ArithmeticError('result is not a finite number');
  return { value, operations };
}

/** 0.1 + 0.2 reads as 0.3, integers stay integers. */
export function formatNumber(value: number): string {
  if (Number.isInteger(value)) return String(value);
  return String(Number.parseFloat(value.toPrecision(12)));
}
