import { describe, expect, it } from 'vitest';
import { ApproxPrefixTree, textBlockKeys, tokenBlockKeys } from './approx-tree.js';
import { kvPrefixHashes } from './kvindex/index.js';

const eps = ['a', 'b', 'c'].map((id) => ({ id }));
const match = (t: ApproxPrefixTree, keys: number[], now: number): number[] => {
  const out: number[] = [];
  t.match(keys, eps, now, out);
  return out;
};

describe('ApproxPrefixTree', () => {
  // Each row: inserts [endpoint, keys, time] in order, then the match of `query` at `at`.
  it.each<[string, [string, number[], number][], number[], number, number[], { ttlMs?: number; cap?: number }?]>([
    ['empty tree → 0', [], [1, 2, 3], 0, [0, 0, 0]],
    ['full match', [['a', [1, 2, 3], 0]], [1, 2, 3], 1, [3, 0, 0]],
    ['leading keys only: a gap stops the match', [['a', [1, 3], 0]], [1, 2, 3], 1, [1, 0, 0]],
    ['a longer stored prompt matches the shorter query', [['b', [1, 2, 3, 4], 0]], [1, 2], 1, [0, 2, 0]],
    ['several endpoints, different depths', [['a', [1], 0], ['b', [1, 2], 0], ['c', [9], 0]], [1, 2, 3], 1, [1, 2, 0]],
    ['expired after ttl', [['a', [1, 2], 0]], [1, 2], 1000, [0, 0, 0], { ttlMs: 1000 }],
    ['refreshed by a later insert', [['a', [1, 2], 0], ['a', [1], 900]], [1, 2], 1000, [1, 0, 0], { ttlMs: 1000 }],
    ['cap evicts the least recently used keys', [['a', [1, 2], 0], ['a', [3], 1]], [1, 2], 2, [0, 0, 0], { cap: 2 }],
    ['cap: a refreshed key survives', [['a', [1, 2], 0], ['a', [1], 1], ['a', [3], 2]], [1], 3, [1, 0, 0], { cap: 2 }],
  ])('%s', (_name, inserts, query, at, expected, o = {}) => {
    const t = new ApproxPrefixTree({ ttlMs: o.ttlMs ?? 60_000, maxBlocksPerEndpoint: o.cap ?? 100 });
    for (const [id, keys, now] of inserts) t.insert(id, keys, now);
    expect(match(t, query, at)).toEqual(expected);
  });

  it('remove forgets an endpoint and frees keys nobody else holds', () => {
    const t = new ApproxPrefixTree({ ttlMs: 60_000, maxBlocksPerEndpoint: 100 });
    t.insert('a', [1, 2], 0);
    t.insert('b', [1], 0);
    t.remove('a');
    expect(match(t, [1, 2], 1)).toEqual([0, 1, 0]);
    expect(t.keys).toBe(1);
    expect(t.size('a')).toBe(0);
  });
});

describe('block keys', () => {
  it('text: chained per full chunk; equal prefixes share leading keys', () => {
    const a = textBlockKeys('0123456789abcdefXYZ', 4, 100);
    const b = textBlockKeys('0123456789abQQQQ', 4, 100);
    expect(a.length).toBe(4); // 19 chars → 4 full chunks
    expect([...a.slice(0, 3)]).toEqual([...b.slice(0, 3)]);
    expect(a[3]).not.toBe(b[3]);
    expect(new Set(a).size).toBe(4);
    expect(textBlockKeys('0123', 4, 100)[0]).toBe(a[0]);
    expect(textBlockKeys('xxxx0123', 4, 100)[1]).not.toBe(a[0]); // position-dependent (chained)
    expect(textBlockKeys('0123456789', 4, 1).length).toBe(1); // maxBlocks
  });

  it('tokens: one 53-bit key per block hash, capped at maxBlocks', () => {
    const h = kvPrefixHashes(Array.from({ length: 64 }, (_, i) => i), 16);
    const k = tokenBlockKeys(h, 3);
    expect(k.length).toBe(3);
    for (const x of k) expect(Number.isSafeInteger(x)).toBe(true);
    expect(k[0]).toBe((h[0]! & 0x1fffff) * 2 ** 32 + h[1]!);
  });
});
