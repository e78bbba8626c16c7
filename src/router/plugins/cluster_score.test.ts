import { describe, expect, it } from 'vitest';
import type { EndpointView } from '../types.js';
import { createPlugin, makeContext, makeEndpoint, makeKvIndex, makeScored, scrapedLoad } from '../testing.js';
import { clusterScoreScorer } from './cluster_score.js';

const tokens = Array.from({ length: 16 }, (_, i) => 900 + i); // 4 blocks of 4
const index = makeKvIndex(tokens, { east: 4, west: 1 });
const cluster = (id: string, over: Parameters<typeof makeEndpoint>[1] = {}): EndpointView => makeEndpoint(id, over);

// One part at a time: weights put everything on the part under test.
const only = (part: string) => ({ weights: { cache: 0, session: 0, load: 0, latency: 0, [part]: 1 } });

describe('cluster_score', () => {
  it.each<[string, Record<string, unknown>, EndpointView[], Parameters<typeof makeContext>[0], number[]]>([
    ['cache: exact index fraction', only('cache'), [cluster('east'), cluster('west'), cluster('south')], { tokenIds: tokens, kvIndex: index }, [1, 0.25, 0]],
    ['cache: no index → 0 (until the tree learns)', only('cache'), [cluster('east'), cluster('west')], { tokenIds: tokens }, [0, 0]],
    ['session: no key → neutral 0.5', only('session'), [cluster('east'), cluster('west')], {}, [0.5, 0.5]],
    ['load: 1/(1 + q/(k·weight))', only('load'), [cluster('a', { load: scrapedLoad(8, 0) }), cluster('b', { load: scrapedLoad(8, 0), weight: 4 }), cluster('c')], {}, [0.5, 0.8, 1]],
    ['latency: 1/(1 + ms/50), missing or bad label → 0.5', only('latency'), [cluster('a', { labels: { latencyMs: '0' } }), cluster('b', { labels: { latencyMs: '50' } }), cluster('c', { labels: { latencyMs: '150' } }), cluster('d'), cluster('e', { labels: { latencyMs: 'fast' } }), cluster('f', { labels: { latencyMs: '-3' } })], {}, [1, 0.5, 0.25, 0.5, 0.5, 0.5]],
    ['latency: configurable label and scale', { ...only('latency'), latencyLabel: 'rtt', latencyHalfMs: 10 }, [cluster('a', { labels: { rtt: '10' } })], {}, [0.5]],
    ['seed weights: 0.35·cache + 0.25·session + 0.25·load + 0.15·latency', {}, [cluster('east', { labels: { latencyMs: '50' } }), cluster('west', { load: scrapedLoad(8, 0) })], { tokenIds: tokens, kvIndex: index }, [0.35 + 0.125 + 0.25 + 0.075, 0.35 * 0.25 + 0.125 + 0.125 + 0.075]],
    ['weights are normalised by their sum', { weights: { cache: 2, session: 0, load: 2, latency: 0 } }, [cluster('east'), cluster('west')], { tokenIds: tokens, kvIndex: index }, [1, 0.625]],
  ])('%s', (_name, params, eps, ctxOver, expected) => {
    const s = createPlugin(clusterScoreScorer, params);
    s.score(makeContext(ctxOver), eps).forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 12));
  });

  it('learns prefix locality and session pins from its own picks', () => {
    const s = createPlugin(clusterScoreScorer, { weights: { cache: 1, session: 1, load: 0, latency: 0 } });
    const eps = [cluster('east'), cluster('west')];
    const prompt = 'x'.repeat(256); // 4 chunks of 64 characters
    const first = makeContext({ promptText: prompt, headers: { 'x-session-id': 's1' }, now: 0 });
    expect(s.score(first, eps)).toEqual([0.25, 0.25]); // (0 + 0.5) / 2
    s.onPicked?.(first, eps[1]!);
    const again = makeContext({ promptText: prompt, headers: { 'x-session-id': 's1' }, now: 1000 });
    expect(s.score(again, eps)).toEqual([0, 1]); // cache: 0 / 1, session: 0 / 1
    expect(s.explain?.(again, makeScored([[eps[1]!, 1]])[0]!)).toBe('cache 1.00, session 1.00, load 1.00, latency 0.50');
    s.onEndpointGone?.('west');
    expect(s.score(again, eps)).toEqual([0.25, 0.25]);
  });

  it.each([{ weights: { cache: 0, session: 0, load: 0, latency: 0 } }, { weights: { cache: -1 } }, { weights: { speed: 1 } }, { k: 0 }, { latencyHalfMs: 0 }])('rejects params %j', (params) => {
    expect(clusterScoreScorer.params.safeParse(params).success).toBe(false);
  });
});
