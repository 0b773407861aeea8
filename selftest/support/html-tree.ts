/**
 * A small HTML reader for the project's own tests: the reporter's pages as a tree of elements
 * with their attributes, so a test can ask for `svg[data-trend]` and its points instead of
 * matching strings. It reads what the reporter writes (quoted attributes, HTML's void elements,
 * <style> and <script> bodies skipped), not arbitrary HTML; an unbalanced end tag throws.
 */

export interface HtmlNode {
  tag: string;
  attrs: Record<string, string>;
  children: HtmlNode[];
  /** The text directly inside, entities decoded. */
  text: string;
  parent: HtmlNode | null;
}

const VOID = new Set(['area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'source', 'track', 'wbr']);
const RAW = new Set(['style', 'script']);
const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" };
const decode = (text: string): string => text.replace(/&(amp|lt|gt|quot|#39);/g, (_, name: string) => ENTITIES[name] as string);

export function parseHtml(html: string): HtmlNode {
  const root: HtmlNode = { tag: '#root', attrs: {}, children: [], text: '', parent: null };
  let current = root;
  const tagPattern = /<!--[\s\S]*?-->|<!doctype[^>]*>|<(\/?)([a-zA-Z][\w-]*)((?:\s+[^\s=>/]+(?:="[^"]*")?)*)\s*(\/?)>/gi;
  let last = 0;
  for (let match = tagPattern.exec(html); match; match = tagPattern.exec(html)) {
    current.text += decode(html.slice(last, match.index));
    last = tagPattern.lastIndex;
    const [, closing, rawTag, rawAttrs, selfClosing] = match;
    if (!rawTag) continue; // a comment or the doctype
    const tag = rawTag.toLowerCase();
    if (closing) {
      if (current.tag !== tag) throw new Error(`</${tag}> closes <${current.tag}> at ${match.index}`);
      current = current.parent as HtmlNode;
      continue;
    }
    const attrs: Record<string, string> = {};
    for (const a of (rawAttrs ?? '').matchAll(/([^\s=>/]+)(?:="([^"]*)")?/g)) attrs[(a[1] as string).toLowerCase()] = decode(a[2] ?? '');
    const node: HtmlNode = { tag, attrs, children: [], text: '', parent: current };
    current.children.push(node);
    if (RAW.has(tag)) {
      const end = html.toLowerCase().indexOf(`</${tag}>`, last);
      if (end < 0) throw new Error(`<${tag}> is never closed`);
      node.text = html.slice(last, end);
      last = end + tag.length + 3;
      tagPattern.lastIndex = last;
      continue;
    }
    if (!selfClosing && !VOID.has(tag)) current = node;
  }
  if (current !== root) throw new Error(`<${current.tag}> is never closed`);
  return root;
}

/** Every element below `node` for which `test` holds, in document order. */
export function findAll(node: HtmlNode, test: (n: HtmlNode) => boolean): HtmlNode[] {
  const out: HtmlNode[] = [];
  const walk = (n: HtmlNode) => {
    for (const child of n.children) {
      if (test(child)) out.push(child);
      walk(child);
    }
  };
  walk(node);
  return out;
}

/** The text of `node` and everything below it. */
export function textOf(node: HtmlNode): string {
  return node.text + node.children.map(textOf).join('');
}
