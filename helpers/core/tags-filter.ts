/**
 * Checking `--tags-filter` expressions against the declared tags before Vitest starts
 * (Vitest's own grammar: tags or `*` patterns, `!`/`not`, `&&`/`and`, `||`/`or`, parentheses).
 */
/**
 * Checks `--tags-filter` expressions against the declared tags before Vitest starts: Vitest
 * itself reports an unknown tag only while collecting, once per test file with a stack
 * trace, after global setup has started the reference platform. Returns one problem per
 * broken expression. Grammar (Vitest's): tags or `*` patterns, `!`/`not`, `&&`/`and`,
 * `||`/`or`, parentheses.
 */
export function tagsFilterProblems(expressions: readonly string[], knownTags: readonly string[]): string[] {
  const problems: string[] = [];
  const known = `known tags: ${knownTags.join(', ')}`;
  for (const expression of expressions) {
    const syntax = tagExpressionSyntaxError(expression);
    if (syntax) {
      problems.push(`--tags-filter "${expression}" is not a tag expression: ${syntax} (combine tags with && || ! and parentheses, e.g. "p1 && redis")`);
      continue;
    }
    const unknown = tagWords(expression).filter((tag) => !knownTags.some((name) => matchesTag(tag, name)));
    if (unknown.length > 0) {
      const names = unknown.map((t) => `"${t}"`).join(', ');
      problems.push(`--tags-filter "${expression}": ${names} ${unknown.length === 1 ? 'matches' : 'match'} no declared tag, so no test could be selected; ${known}`);
    }
  }
  return problems;
}

type TagToken = '(' | ')' | '!' | '&&' | '||' | { tag: string };

function tokenizeTags(expression: string): TagToken[] | string {
  const tokens: TagToken[] = [];
  const pattern = /\s*(?:(\(|\)|!|&&|\|\|)|([^\s()!&|]+)|(\S))/gy;
  for (const match of expression.matchAll(pattern)) {
    const [, operator, word, stray] = match;
    if (stray !== undefined) return `"${stray}" on its own is not an operator (use && or ||)`;
    if (operator !== undefined) tokens.push(operator as TagToken);
    else if (word !== undefined) {
      const keyword = ({ and: '&&', or: '||', not: '!' } as Record<string, TagToken>)[word.toLowerCase()];
      tokens.push(keyword ?? { tag: word });
    }
  }
  return tokens;
}

function tagWords(expression: string): string[] {
  const tokens = tokenizeTags(expression);
  return typeof tokens === 'string' ? [] : tokens.flatMap((t) => (typeof t === 'object' ? [t.tag] : []));
}

/** Recursive descent over or → and → not → (group | tag); returns what is wrong, or undefined. */
function tagExpressionSyntaxError(expression: string): string | undefined {
  const tokens = tokenizeTags(expression);
  if (typeof tokens === 'string') return tokens;
  if (tokens.length === 0) return 'it is empty';
  let at = 0;
  const show = (token: TagToken | undefined) => (token === undefined ? 'the end' : typeof token === 'object' ? `"${token.tag}"` : `"${token}"`);
  const primary = (): string | undefined => {
    const token = tokens[at];
    if (token === '!') {
      at += 1;
      return primary();
    }
    if (token === '(') {
      at += 1;
      const inner = or();
      if (inner) return inner;
      if (tokens[at] !== ')') return `expected ")" but found ${show(tokens[at])}`;
      at += 1;
      return undefined;
    }
    if (typeof token === 'object') {
      at += 1;
      return undefined;
    }
    return `expected a tag but found ${show(token)}`;
  };
  const chain = (operator: '&&' | '||', operand: () => string | undefined) => (): string | undefined => {
    let problem = operand();
    while (!problem && tokens[at] === operator) {
      at += 1;
      problem = operand();
    }
    return problem;
  };
  const or = chain('||', chain('&&', primary));
  const problem = or();
  if (problem) return problem;
  return at < tokens.length ? `unexpected ${show(tokens[at])}` : undefined;
}

/** A `*` in a filter matches any run of characters, as in Vitest. */
function matchesTag(filterTag: string, name: string): boolean {
  if (!filterTag.includes('*')) return filterTag === name;
  const source = filterTag.split('*').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*');
  return new RegExp(`^${source}$`).test(name);
}
