import { describe, expect, it } from 'vitest';
import { createPlugin, makeContext, makeEndpoint } from '../testing.js';
import { kvUsageScorer } from './kv_usage.js';

describe('kv_usage', () => {
  it.each<[string, number | null, number]>([
    ['empty cache → 1', 0, 1],
    ['30% used → 0.7', 0.3, 0.7],
    ['full → 0', 1, 0],
    ['unknown → neutral 0.5', null, 0.5],
    ['NaN → neutral 0.5', NaN, 0.5],
    ['bad scrape > 1 → 0', 1.7, 0],
    ['bad scrape < 0 → 1', -0.2, 1],
  ])('%s', (_name, kvUsage, expected) => {
    const s = createPlugin(kvUsageScorer);
    expect(s.score(makeContext(), [makeEndpoint('a', { load: { kvUsage } })])[0]).toBeCloseTo(expected, 12);
  });
});
