import { describe, expect, it } from 'vitest';
import { createPlugin, makeContext, makeEndpoint } from '../testing.js';
import { labelMatchFilter } from './label_match.js';

const eps = [
  makeEndpoint('a', { labels: { region: 'eu', gpu: 'h100' } }),
  makeEndpoint('b', { labels: { region: 'eu', gpu: 'a100' } }),
  makeEndpoint('c', { labels: { region: 'us', gpu: 'h100' } }),
  makeEndpoint('d', { labels: {} }),
];

describe('label_match', () => {
  it.each<[string, Record<string, string>, string[]]>([
    ['empty match keeps all', {}, ['a', 'b', 'c', 'd']],
    ['one label', { region: 'eu' }, ['a', 'b']],
    ['all labels must match', { region: 'eu', gpu: 'h100' }, ['a']],
    ['missing label does not match', { zone: 'z1' }, []],
    ['values are case-sensitive', { region: 'EU' }, []],
  ])('%s', (_name, match, expected) => {
    const f = createPlugin(labelMatchFilter, { match });
    expect(f.filter(makeContext(), eps).map((e) => e.id)).toEqual(expected);
  });

  it.each([{ match: { a: 1 } }, { match: 'eu' }, { prefer: {} }])('rejects params %j', (params) => {
    expect(labelMatchFilter.params.safeParse(params).success).toBe(false);
  });
});
