import { describe, expect, it } from 'vitest';
import type { EndpointLoad } from '../types.js';
import { createPlugin, makeContext, makeEndpoint, makeScored } from '../testing.js';
import { cacheAwarePicker } from './cache_aware.js';

type Row = [string, [number, number, Partial<EndpointLoad>?][], string, RegExp];

describe('cache_aware', () => {
  // Each candidate: [score (match rate), inFlight, load overrides]. Defaults: threshold 0.3, abs 64, rel 1.5.
  it.each<Row>([
    ['balanced, best match above the threshold → best match', [[0.9, 10], [0.2, 0], [0, 0]], 'w0', /match 0\.90 > 0\.3/],
    ['balanced, best match at the threshold → most free KV', [[0.3, 0], [0, 0, { kvUsage: 0.2 }], [0, 0, { kvUsage: 0.6 }]], 'w1', /most free KV/],
    ['below threshold, KV usage unknown counts as 0.5', [[0, 0, { kvUsage: 0.7 }], [0, 0], [0, 0, { kvUsage: 0.6 }]], 'w1', /most free KV/],
    ['below threshold, equal KV → fewer in flight', [[0, 5, { kvUsage: 0.1 }], [0, 2, { kvUsage: 0.1 }], [0, 0, { kvUsage: 0.4 }]], 'w1', /most free KV/],
    ['imbalanced (diff 70 > 64 and 80 > 1.5·10) → least loaded, despite a perfect match', [[1, 80], [0, 10], [0, 30]], 'w1', /imbalanced 10\.\.80/],
    ['large absolute gap but ratio ≤ 1.5 → still balanced', [[1, 200], [0, 150], [0, 140]], 'w0', /match/],
    ['large ratio but gap ≤ 64 → still balanced', [[1, 60], [0, 0], [0, 1]], 'w0', /match/],
  ])('%s', (_name, cands, expected, note) => {
    const p = createPlugin(cacheAwarePicker);
    const scored = makeScored(cands.map(([s, inFlight, load], i) => [makeEndpoint(`w${i}`, { load: { inFlight, ...load } }), s]));
    const ctx = makeContext();
    expect(p.pick(ctx, scored)?.endpoint.id).toBe(expected);
    expect(p.explain?.(ctx, scored[0]!)).toMatch(note);
  });

  it('threshold and balance params are respected', () => {
    const p = createPlugin(cacheAwarePicker, { cacheThreshold: 0.95, balanceAbsThreshold: 5, balanceRelThreshold: 1 });
    const scored = makeScored([[makeEndpoint('a', { load: { inFlight: 7 } }), 0.9], [makeEndpoint('b', { load: { inFlight: 1, kvUsage: 0.9 } }), 0]]);
    expect(p.pick(makeContext(), scored)?.endpoint.id).toBe('b'); // 7 − 1 > 5 and 7 > 1·1
    const scored2 = makeScored([[makeEndpoint('a', { load: { kvUsage: 0.5 } }), 0.9], [makeEndpoint('b', { load: { kvUsage: 0.1 } }), 0]]);
    expect(p.pick(makeContext(), scored2)?.endpoint.id).toBe('b'); // 0.9 ≤ 0.95
  });

  it('breaks ties at random and returns undefined with no candidates', () => {
    const p = createPlugin(cacheAwarePicker);
    const scored = makeScored([['a', 0.8], ['b', 0.8]]);
    const seen = new Set<string>();
    for (let i = 0; i < 50; i++) seen.add(p.pick(makeContext({ random: i }), scored)!.endpoint.id);
    expect([...seen].sort()).toEqual(['a', 'b']);
    expect(p.pick(makeContext(), [])).toBeUndefined();
  });

  it.each([{ cacheThreshold: 1.5 }, { balanceRelThreshold: 0.5 }, { balanceAbsThreshold: -1 }])('rejects params %j', (params) => {
    expect(cacheAwarePicker.params.safeParse(params).success).toBe(false);
  });
});
