/**
 * The README stays a page a newcomer reads (issue 15 §4): at most 15 KB, the commands `.ci/run`
 * and a fresh machine rely on named in it, and every relative link of README.md and docs/*.md
 * pointing at a file inside this repository (the contract used to be linked from outside it).
 * Anchors are not checked, only the files they are in.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const README = join(ROOT, 'README.md');
const README_MAX_BYTES = 15 * 1024;

const markdownFiles = (): string[] => [
  README,
  ...readdirSync(join(ROOT, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => join(ROOT, 'docs', name)),
];

/**
 * The targets of a Markdown file's inline links and images, `[text](target)` / `![alt](target)`,
 * outside code: fenced blocks and code spans are blanked first (a code span inside a link's
 * text, as in [`file.ts`](file.ts), leaves the link itself in place).
 */
function linkTargets(markdown: string): string[] {
  const prose = markdown
    .replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '')
    .replace(/(`+)[^`\n]+?\1/g, 'code');
  return [...prose.matchAll(/!?\[[^\]\n]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]!);
}

const isExternal = (target: string): boolean => /^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//');

/** Each relative link of `file` that does not name an existing file or folder inside the repository, with why. */
function brokenLinks(file: string, markdown = readFileSync(file, 'utf8')): string[] {
  const problems: string[] = [];
  for (const target of linkTargets(markdown)) {
    if (isExternal(target) || target.startsWith('#')) continue;
    const path = decodeURIComponent(target.replace(/[#?].*$/, ''));
    const resolved = resolve(dirname(file), path);
    const inside = relative(ROOT, resolved);
    if (inside === '..' || inside.startsWith(`..${sep}`) || isAbsolute(inside)) {
      problems.push(`${relative(ROOT, file)}: ${target} points outside the repository`);
    } else if (!existsSync(resolved)) {
      problems.push(`${relative(ROOT, file)}: ${target} does not exist (${inside})`);
    }
  }
  return problems;
}

describe('README.md', () => {
  it(`is at most ${README_MAX_BYTES} bytes: reference material lives in docs/`, () => {
    expect(statSync(README).size).toBeLessThanOrEqual(README_MAX_BYTES);
  });

  it('names the fresh-machine commands and the two test tiers `.ci/run` runs', () => {
    const readme = readFileSync(README, 'utf8');
    expect(readme).toContain('bash scripts/install-system-deps.sh && npm ci && npm run e2e');
    expect(readme).toContain('bash scripts/install-system-deps.sh && npm ci && npm test');
    expect(readme).toContain('`npm test`');
    expect(readme).toContain('`npm run test:slow`');
    const scripts = Object.keys((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts);
    expect(scripts).toEqual(expect.arrayContaining(['e2e', 'test', 'test:slow']));
  });
});

describe('relative links of README.md and docs/*.md', () => {
  it('finds the links of a page, outside code, with or without a code span as their text', () => {
    const page = [
      'See [`platform/README.md`](platform/README.md#faults) and ![graph](docs/architecture.svg).',
      '`[not](a-link.md)` and [web](https://vitest.dev), [here](#anchor)',
      '```',
      '[also not](inside-a-fence.md)',
      '```',
    ].join('\n');
    expect(linkTargets(page)).toEqual(['platform/README.md#faults', 'docs/architecture.svg', 'https://vitest.dev', '#anchor']);
  });

  it('tells a link out of the repository and a missing file from a good one', () => {
    const page = '[contract](../shared/platform-contract.md) [reports](docs/reports.md#verdicts) [gone](docs/nothing.md) [up](docs/../README.md)';
    expect(brokenLinks(README, page)).toEqual([
      'README.md: ../shared/platform-contract.md points outside the repository',
      `README.md: docs/nothing.md does not exist (${join('docs', 'nothing.md')})`,
    ]);
  });

  it('covers the README and every page of docs/', () => {
    const files = markdownFiles().map((file) => relative(ROOT, file));
    expect(files).toEqual(expect.arrayContaining(['README.md', join('docs', 'configuration.md'), join('docs', 'troubleshooting.md'), join('docs', 'reports.md')]));
  });

  it('resolve to files inside the repository', () => {
    expect(markdownFiles().flatMap((file) => brokenLinks(file))).toEqual([]);
  });
});
