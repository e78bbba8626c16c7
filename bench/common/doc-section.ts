/** Rewrite one `## …` section of docs/benchmarks.md, leaving the other sections untouched. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

export const BENCHMARKS_DOC = 'docs/benchmarks.md';

const HEADER = [
  '# Benchmarks',
  '',
  'Numbers from the `npm run bench:*` scripts on this project\'s development machine: a shared, noisy',
  '2-core VM. Compare ratios and medians measured in the same run, not absolute values across runs.',
  '',
].join('\n');

/** Replace the section starting with `title` (up to the next `## `), or append it. */
export function writeSection(title: string, body: string, file = BENCHMARKS_DOC): void {
  const doc = existsSync(file) ? readFileSync(file, 'utf8') : HEADER;
  const section = `${title}\n\n${body.trim()}\n`;
  const start = doc.indexOf(`${title}\n`);
  let next: string;
  if (start < 0) {
    next = `${doc.trimEnd()}\n\n${section}`;
  } else {
    const after = doc.indexOf('\n## ', start + title.length);
    next = doc.slice(0, start) + section + (after < 0 ? '' : `\n${doc.slice(after + 1)}`);
  }
  writeFileSync(file, next.endsWith('\n') ? next : `${next}\n`);
}
