/**
 * Generated sections of the docs: a writer (npm run fault-matrix --write-docs, bench --write-docs)
 * replaces what stands between `<!-- name:start -->` and `<!-- name:end -->` in one docs/ file,
 * leaving the hand-written text around it as it is.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** docs/<name> in this repository. */
export const docsFile = (name: string): string => fileURLToPath(new URL(`../docs/${name}`, import.meta.url));

export const sectionMarkers = (section: string) => ({ start: `<!-- ${section}:start -->`, end: `<!-- ${section}:end -->` });

/** The text between the section's markers (without them); throws when the file has no such section. */
export function readGeneratedSection(file: string, section: string): string {
  const text = readFileSync(file, 'utf8');
  const { start, end } = sectionMarkers(section);
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  if (from < 0 || to < from) throw new Error(`${file} has no ${start} … ${end} section`);
  return text.slice(from + start.length, to);
}

/** Replaces the section's content with `markdown`; throws when the file has no such section. */
export function writeGeneratedSection(file: string, section: string, markdown: string): void {
  const text = readFileSync(file, 'utf8');
  const { start, end } = sectionMarkers(section);
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  if (from < 0 || to < from) throw new Error(`${file} has no ${start} … ${end} section to replace`);
  writeFileSync(file, `${text.slice(0, from + start.length)}\n${markdown.trim()}\n${text.slice(to)}`);
}
