import { describe, expect, it } from 'vitest';
import type { EndpointLoad } from '../types.js';
import { createPlugin, makeContext, makeEndpoint, makeLoad } from '../testing.js';
import { estimatedQueue, queueDepthScorer } from './queue_depth.js';

describe('queue_depth', () => {
  it.each<[string, Partial<EndpointLoad>, number]>([
    ['never scraped → inFlight', { inFlight: 3 }, 3],
    ['scraped: waiting + running', { running: 4, waiting: 2, scrapedAt: 0 }, 6],
    ['plus what we sent since the scrape', { running: 4, waiting: 2, scrapedAt: 0, inFlight: 5, inFlightAtScrape: 2 }, 9],
    ['completions since the scrape are not subtracted', { running: 4, waiting: 2, scrapedAt: 0, inFlight: 0, inFlightAtScrape: 3 }, 6],
    ['a scrape missing a count is unknown: fall back to live in-flight', { running: 4, waiting: null, scrapedAt: 0, inFlight: 3 }, 3],
  ])('estimatedQueue: %s', (_name, load, q) => {
    expect(estimatedQueue(makeEndpoint('a', { load }).load)).toBe(q);
  });

  it.each<[string, number, number[], number[]]>([
    ['empty queue → 1', 8, [0], [1]],
    ['q = k → 0.5', 8, [8], [0.5]],
    ['q = 3k → 0.25', 8, [24], [0.25]],
    ['k = 2 is steeper', 2, [0, 2, 6], [1, 0.5, 0.25]],
    ['absolute: a score does not depend on the others', 8, [8, 100], [0.5, 1 / (1 + 100 / 8)]],
  ])('score: %s', (_name, k, queues, expected) => {
    const s = createPlugin(queueDepthScorer, { k });
    const eps = queues.map((q, i) => makeEndpoint(`w${i}`, { load: makeLoad({ inFlight: q }) }));
    const out = s.score(makeContext(), eps);
    out.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 12));
  });

  it.each<[string, number[], number[]]>([
    ['shortest 1, longest 0, linear between', [0, 5, 10], [1, 0.5, 0]],
    ['relative: only the spread matters', [100, 101], [1, 0]],
    ['all equal → 1', [3, 3, 3], [1, 1, 1]],
    ['one endpoint → 1', [7], [1]],
  ])('mode minmax (llm-d queue-scorer): %s', (_name, queues, expected) => {
    const s = createPlugin(queueDepthScorer, { mode: 'minmax' });
    const eps = queues.map((q, i) => makeEndpoint(`w${i}`, { load: makeLoad({ inFlight: q }) }));
    expect(s.score(makeContext(), eps)).toEqual(expected);
  });

  it.each([{ k: 0 }, { k: -1 }, { q: 1 }, { mode: 'relative' }])('rejects params %j', (params) => {
    expect(queueDepthScorer.params.safeParse(params).success).toBe(false);
  });
});
