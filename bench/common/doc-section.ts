/** Rewrite one `## …` section of docs/benchmarks.md, leaving the other sections untouched. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

export const BENCHMARKS_DOC = 'docs/benchmarks.md';

const DOC_INTRO = [
  '# Benchmarks',
  '',
  'Numbers in this file come from the `npm run bench:*` scripts, run on the development machine named in each section: a small, shared, noisy 2-core VM. Treat absolute numbers as rough; compare ratios between rows of the same run, not across runs or machines. Each section is rewritten by its script with `--write`.',
  '',
].join('\n');

/**
 * Replace the section whose first line (`## Title`) matches `section`'s first line, up to the next
 * `## ` heading, or append it; create the file with an intro when missing.
 */
export function writeSection(path: string, section: string): void {
  const title = section.split('\n', 1)[0]!.trim();
  const current = existsSync(path) ? readFileSync(path, 'utf8') : DOC_INTRO;
  const lines = current.split('\n');
  const start = lines.findIndex((l) => l.trim() === title);
  let next: string;
  if (start < 0) {
    next = `${current.replace(/\n*$/, '\n\n')}${section}`;
  } else {
    let end = lines.findIndex((l, i) => i > start && /^## /.test(l));
    if (end < 0) end = lines.length;
    const before = lines.slice(0, start).join('\n');
    const after = lines.slice(end).join('\n');
    next = `${before.replace(/\n*$/, '\n\n')}${section.replace(/\n*$/, '\n')}${after ? `\n${after}` : ''}`;
  }
  writeFileSync(path, next.endsWith('\n') ? next : `${next}\n`);
}
