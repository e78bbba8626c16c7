import { describe, expect, it } from 'vitest';
import { createPlugin, makeContext, makeEndpoints, makeKvIndex, makeScored } from '../testing.js';
import type { RoutingContext } from '../types.js';
import { kvOverlapScorer } from './kv_overlap.js';

// Prompt of 16 tokens = 4 blocks of 4. The index says w0 holds 4 blocks, w1 2, w2 none.
const tokens = Array.from({ length: 18 }, (_, i) => 100 + i); // 18 tokens → 4 full blocks
const index = makeKvIndex(tokens, { w0: 4, w1: 2 });
const eps = makeEndpoints(3);

describe('kv_overlap', () => {
  it.each<[string, RoutingContext, number[]]>([
    ['held / prompt blocks', makeContext({ tokenIds: tokens, kvIndex: index }), [1, 0.5, 0]],
    ['a prompt that diverges after block 1', makeContext({ tokenIds: [...tokens.slice(0, 4), 0, 0, 0, 0], kvIndex: index }), [0.5, 0.5, 0]],
    ['a longer prompt: same blocks held, larger denominator', makeContext({ tokenIds: [...tokens.slice(0, 16), ...Array<number>(16).fill(7)], kvIndex: index }), [0.5, 0.25, 0]],
    ['another LoRA adapter never matches base-model blocks', makeContext({ tokenIds: tokens, loraId: 1, kvIndex: index }), [0, 0, 0]],
    ['no index → 0', makeContext({ tokenIds: tokens }), [0, 0, 0]],
    ['no token ids → 0', makeContext({ promptText: 'hello', kvIndex: index }), [0, 0, 0]],
    ['shorter than a block → 0', makeContext({ tokenIds: [100, 101], kvIndex: index }), [0, 0, 0]],
  ])('%s', (_name, ctx, expected) => {
    expect(createPlugin(kvOverlapScorer).score(ctx, eps)).toEqual(expected);
  });

  it('an endpoint the index has never heard of scores 0', () => {
    const s = createPlugin(kvOverlapScorer);
    expect(s.score(makeContext({ tokenIds: tokens, kvIndex: index }), [...makeEndpoints(4)].reverse())).toEqual([0, 0, 0.5, 1]);
  });

  it('explains the hit', () => {
    const s = createPlugin(kvOverlapScorer);
    const ctx = makeContext({ tokenIds: tokens, kvIndex: index });
    s.score(ctx, eps);
    const [w1] = makeScored([[eps[1]!, 0.5]]);
    expect(s.explain?.(ctx, w1!)).toBe('2/4 blocks cached');
  });
});
