import { describe, expect, it } from 'vitest';
import { createPlugin, makeContext, makeEndpoints } from '../testing.js';
import { leastRequestScorer } from './least_request.js';

describe('least_request', () => {
  it.each<[string, number[], number[]]>([
    ['all idle → all 1', [0, 0, 0], [1, 1, 1]],
    ['idle vs busy', [0, 1, 3], [1, 1 / 2, 1 / 4]],
    ['least loaded scores 1 even when busy', [10, 20, 11], [1, 11 / 21, 11 / 12]],
    ['scale-free: loads ×10 keep the ordering and roughly the ratios', [10, 30], [1, 11 / 31]],
    ['all equal and busy → all 1', [7, 7], [1, 1]],
    ['single endpoint', [5], [1]],
    ['empty', [], []],
  ])('%s', (_name, inFlight, expected) => {
    const s = createPlugin(leastRequestScorer);
    const out = s.score(makeContext(), makeEndpoints(inFlight.length, inFlight));
    expect(out).toHaveLength(expected.length);
    out.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 12));
  });
});
