import { describe, expect, it } from 'vitest';
import type { EndpointLoad } from '../types.js';
import { createPlugin, makeContext, makeEndpoint, makeScored } from '../testing.js';
import { liveLoad, powerOfTwoPicker } from './power_of_two.js';

type Spec = [id: string, load: Partial<EndpointLoad>, weightFactor?: number, score?: number];

function cands(specs: Spec[]) {
  return makeScored(specs.map(([id, load, wf, score]) => [makeEndpoint(id, { load, weightFactor: wf ?? 1 }), score ?? 1]));
}

describe('power_of_two', () => {
  // random: first draw picks i = floor(r·n), second j = floor(r·(n−1)), shifted past i.
  it.each<[string, Spec[], number[], string | undefined, string]>([
    ['lower inFlight of the two samples wins', [['a', { inFlight: 5 }], ['b', { inFlight: 1 }], ['c', { inFlight: 0 }]], [0, 0], 'b', 'power_of_two (load 1 vs 5)'],
    ['only the two samples count (c is idle but not sampled)', [['a', { inFlight: 5 }], ['b', { inFlight: 3 }], ['c', { inFlight: 0 }]], [0.4, 0.9], 'c', 'power_of_two (load 0 vs 3)'],
    ['waiting counts once scraped', [['a', { inFlight: 1, waiting: 9, scrapedAt: 0 }], ['b', { inFlight: 4 }]], [0, 0], 'b', 'power_of_two (load 4 vs 10)'],
    ['equal load → higher score', [['a', { inFlight: 2 }, 1, 0.2], ['b', { inFlight: 2 }, 1, 0.8]], [0, 0], 'b', 'power_of_two (load 2 vs 2)'],
    ['slow start: (0+1)/0.25 = 4 > (2+1)/1 = 3', [['a', { inFlight: 0 }, 0.25], ['b', { inFlight: 2 }]], [0, 0], 'b', 'power_of_two (load 2 vs 0)'],
    ['slow start: (0+1)/0.5 = 2 < (2+1)/1 = 3', [['a', { inFlight: 0 }, 0.5], ['b', { inFlight: 2 }]], [0, 0], 'a', 'power_of_two (load 0 vs 2)'],
    ['one candidate', [['a', { inFlight: 9 }]], [0.5], 'a', 'power_of_two (only candidate)'],
    ['none', [], [0.5], undefined, 'power_of_two (only candidate)'],
  ])('%s', (_name, specs, random, expected, reason) => {
    const p = createPlugin(powerOfTwoPicker);
    const c = cands(specs);
    const picked = p.pick(makeContext({ random }), c);
    expect(picked?.endpoint.id).toBe(expected);
    expect(p.explain?.(makeContext(), c[0] ?? makeScored([['x', 0]])[0]!)).toBe(reason);
  });

  it('always samples two distinct candidates', () => {
    const p = createPlugin(powerOfTwoPicker);
    const c = cands([['a', { inFlight: 1 }], ['b', { inFlight: 0 }]]);
    for (const r of [0, 0.3, 0.5, 0.7, 0.9999]) expect(p.pick(makeContext({ random: [r] }), c)?.endpoint.id).toBe('b');
  });

  it('liveLoad = inFlight + waiting (if scraped)', () => {
    expect(liveLoad(makeEndpoint('a', { load: { inFlight: 2 } }))).toBe(2);
    expect(liveLoad(makeEndpoint('a', { load: { inFlight: 2, waiting: 3 } }))).toBe(5);
  });
});
