import { describe, expect, it } from 'vitest';
import { unifiedDiff } from './diff.js';

describe('unifiedDiff', () => {
  it.each([
    ['identical', 'a\nb\n', 'a\nb\n', ['  a', '  b']],
    ['created', '', 'a\nb\n', ['+ a', '+ b']],
    ['deleted', 'a\n', '', ['- a']],
    ['changed line: deletion first', 'a\nb\nc\n', 'a\nB\nc\n', ['  a', '- b', '+ B', '  c']],
    ['insertion in the middle', 'a\nc\n', 'a\nb\nc\n', ['  a', '+ b', '  c']],
  ])('%s', (_name, before, after, body) => {
    expect(unifiedDiff(before, after, { from: 'old', to: 'new' })).toBe(['--- old', '+++ new', ...body].join('\n') + '\n');
  });
});
