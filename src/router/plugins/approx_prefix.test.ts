import { describe, expect, it } from 'vitest';
import { createPlugin, makeContext, makeEndpoints, makeScored } from '../testing.js';
import type { RoutingContext } from '../types.js';
import { approxPrefixScorer } from './approx_prefix.js';

const eps = makeEndpoints(3);
const text = (s: string, now = 0): RoutingContext => makeContext({ promptText: s, now });
const toks = (ids: number[], now = 0): RoutingContext => makeContext({ tokenIds: ids, now });
const A = 'a'.repeat(8);
const B = 'b'.repeat(8);

describe('approx_prefix', () => {
  // params: chunkChars 4 / blockSize 2, ttl 1m. Each row: picks [ctx, endpoint index], then a query.
  it.each<[string, [RoutingContext, number][], RoutingContext, number[], Record<string, unknown>?]>([
    ['nothing routed yet → 0', [], text(A + B), [0, 0, 0]],
    ['text: matched chunks / prompt chunks', [[text(A), 1]], text(A + B), [0, 0.5, 0]],
    ['text: the full prompt sent before → 1', [[text(A + B), 2]], text(A + B), [0, 0, 1]],
    ['text: longest prefix per endpoint', [[text(A), 0], [text(A + B), 1]], text(A + B + A), [1 / 3, 2 / 3, 0]],
    ['text: a different first chunk matches nothing', [[text(A + B), 0]], text(B + B), [0, 0, 0]],
    ['text: trailing partial chunk is not keyed', [[text(A), 0]], text(A + 'xy'), [1, 0, 0]],
    ['prompt shorter than a chunk → 0', [[text(A), 0]], text('aa'), [0, 0, 0]],
    ['no prompt at all → 0', [[text(A), 0]], makeContext(), [0, 0, 0]],
    ['tokens (auto): blocks of blockSize tokens', [[toks([1, 2, 3, 4]), 2]], toks([1, 2, 3, 4, 5, 6]), [0, 0, 2 / 3]],
    ['auto: token and text requests do not match each other', [[toks([97, 97, 97, 97]), 0]], text(A), [0, 0, 0]],
    ['source text ignores token ids', [[text(A), 0]], makeContext({ promptText: A, tokenIds: [9, 9] }), [1, 0, 0], { source: 'text' }],
    ['expired after ttl', [[text(A, 0), 0]], text(A, 60_000), [0, 0, 0]],
    ['maxBlocks caps the keys (and the denominator)', [[text(A), 0]], text(A + B), [1, 0, 0], { maxBlocks: 2 }],
  ])('%s', (_name, picks, query, expected, params = {}) => {
    const s = createPlugin(approxPrefixScorer, { chunkChars: 4, blockSize: 2, ttl: '1m', ...params });
    for (const [ctx, i] of picks) {
      s.score(ctx, eps);
      s.onPicked?.(ctx, eps[i]!);
    }
    s.score(query, eps).forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 12));
  });

  it('onEndpointGone forgets what was routed there', () => {
    const s = createPlugin(approxPrefixScorer, { chunkChars: 4 });
    s.onPicked?.(text(A), eps[0]!);
    s.onEndpointGone?.('w0');
    expect(s.score(text(A), eps)).toEqual([0, 0, 0]);
  });

  it('explains the match', () => {
    const s = createPlugin(approxPrefixScorer, { chunkChars: 4 });
    s.onPicked?.(text(A), eps[1]!);
    s.score(text(A + B), eps);
    expect(s.explain?.(text(A + B), makeScored([[eps[1]!, 0.5]])[0]!)).toBe('~2/4 blocks routed here before');
  });

  it.each([{ source: 'tokens2' }, { chunkChars: 0 }, { ttl: 'soon' }, { maxBlocksPerEndpoint: 0 }])('rejects params %j', (p) => {
    expect(approxPrefixScorer.params.safeParse(p).success).toBe(false);
  });
});
