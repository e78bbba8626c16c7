import { describe, expect, it } from 'vitest';
import type { EndpointLoad, EndpointView } from '../types.js';
import { createPlugin, makeContext, makeEndpoint, makeKvIndex, makeScored, scrapedLoad } from '../testing.js';
import { prefillCostPicker } from './prefill_cost.js';

// 16 prompt tokens = 4 blocks of 4 (the index's block size); w0 holds all 4, w1 holds 2, w2 none.
const tokens = Array.from({ length: 16 }, (_, i) => 500 + i);
const index = makeKvIndex(tokens, { w0: 4, w1: 2 });
const ctx = (over: Parameters<typeof makeContext>[0] = {}) => makeContext({ tokenIds: tokens, kvIndex: index, ...over });
const ep = (i: number, load: Partial<EndpointLoad> = {}, weightFactor = 1): EndpointView => makeEndpoint(`w${i}`, { load, weightFactor });
const idle = scrapedLoad(0, 0);

describe('prefill_cost', () => {
  // cost = w·(queued + uncached)/4 + decode + ⌈16/4⌉ + 1; idle: w0 5, w1 7, w2 9 (uncached 0 / 8 / 16 tokens).
  it.each<[string, EndpointView[], Record<string, unknown>, string, string]>([
    ['idle: the most cached endpoint', [ep(0, idle), ep(1, idle), ep(2, idle)], {}, 'w0', 'prefill_cost 5.0 blocks (4/4 cached)'],
    ['queued prefill (pendingPrefillTokens) outweighs the cache', [ep(0, scrapedLoad(0, 2, null, { pendingPrefillTokens: 400 })), ep(1, idle), ep(2, idle)], {}, 'w1', 'prefill_cost 7.0 blocks (2/4 cached)'],
    ['no pending count: waiting · meanPromptTokens', [ep(0, scrapedLoad(0, 1)), ep(1, idle)], { meanPromptTokens: 4 }, 'w0', 'prefill_cost 6.0 blocks (4/4 cached)'],
    ['decode load from kvUsage · kvCapacityBlocks', [ep(0, scrapedLoad(0, 0, 0.5, { kvCapacityBlocks: 100 })), ep(1, scrapedLoad(0, 0, 0.01, { kvCapacityBlocks: 100 }))], {}, 'w1', 'prefill_cost 8.0 blocks (2/4 cached)'],
    ['decode load from running · meanPromptTokens/bs when capacity is unknown', [ep(0, scrapedLoad(4, 0, 0.5)), ep(1, scrapedLoad(1, 0, 0.9)), ep(2, scrapedLoad(2, 0))], { meanPromptTokens: 4 }, 'w1', 'prefill_cost 8.0 blocks (2/4 cached)'],
    ['overlapWeight 0: the cache does not count, decode load decides', [ep(0, scrapedLoad(2, 0)), ep(1, scrapedLoad(1, 0)), ep(2, scrapedLoad(0, 0))], { overlapWeight: 0, meanPromptTokens: 4 }, 'w2', 'prefill_cost 5.0 blocks (0/4 cached)'],
    ['overlapWeight 2 doubles the prefill term', [ep(0, scrapedLoad(0, 0, null, { pendingPrefillTokens: 20 })), ep(1, idle)], { overlapWeight: 2 }, 'w1', 'prefill_cost 9.0 blocks (2/4 cached)'],
    ['never scraped: inFlight · meanPromptTokens for both terms', [ep(0, { inFlight: 1 }), ep(1, {})], { meanPromptTokens: 4 }, 'w0', 'prefill_cost 7.0 blocks (4/4 cached)'],
    ['slow start divides by weightFactor (5 / 0.5 = 10 > 7)', [ep(0, idle, 0.5), ep(1, idle)], {}, 'w1', 'prefill_cost 7.0 blocks (2/4 cached)'],
  ])('%s', (_name, eps, params, expected, note) => {
    const p = createPlugin(prefillCostPicker, params);
    const c = ctx();
    const picked = p.pick(c, makeScored(eps.map((e) => [e, 0])));
    expect(picked?.endpoint.id).toBe(expected);
    expect(p.explain?.(c, picked!)).toBe(note);
  });

  it('without an index or token ids the load alone decides (uncached = T for everyone)', () => {
    const p = createPlugin(prefillCostPicker, { meanPromptTokens: 4 });
    const eps = [ep(0, scrapedLoad(2, 0)), ep(1, scrapedLoad(0, 1))];
    expect(p.pick(makeContext({ tokenIds: tokens }), makeScored(eps.map((e) => [e, 0])))?.endpoint.id).toBe('w1');
    expect(p.pick(makeContext(), makeScored(eps.map((e) => [e, 0])))?.endpoint.id).toBe('w1');
  });

  it('counts what it sent since the last scrape, so requests between scrapes spread out', () => {
    const p = createPlugin(prefillCostPicker);
    const eps = [0, 1, 2].map((i) => ep(i, scrapedLoad(0, 0, null, { scrapedAt: 1000 })));
    const picks: string[] = [];
    for (let k = 0; k < 6; k++) {
      const c = makeContext({ tokenIds: tokens, random: k });
      const e = p.pick(c, makeScored(eps.map((x) => [x, 0])))!.endpoint;
      p.onPicked?.(c, e);
      picks.push(e.id);
    }
    expect(picks.filter((x) => x === 'w0').length).toBe(2);
    expect(picks.filter((x) => x === 'w1').length).toBe(2);
    // A new scrape resets the tally (the scrape now shows the work).
    for (const e of eps) e.load.scrapedAt = 2000;
    const c = makeContext({ tokenIds: tokens, kvIndex: index });
    expect(p.pick(c, makeScored(eps.map((x) => [x, 0])))!.endpoint.id).toBe('w0');
  });

  it('temperature > 0 samples ∝ exp(−(cost/min − 1)/τ), seeded by ctx.random', () => {
    const p = createPlugin(prefillCostPicker, { temperature: 1 });
    const eps = makeScored([ep(0, idle), ep(1, idle), ep(2, idle)].map((e) => [e, 0])); // costs 5, 7, 9
    const counts = [0, 0, 0];
    const c = ctx({ random: 42 });
    for (let k = 0; k < 6000; k++) counts[Number(p.pick(c, eps)!.endpoint.id.slice(1))]!++;
    const w = [0, 0.4, 0.8].map((x) => Math.exp(-x));
    const sum = w.reduce((a, b) => a + b, 0);
    counts.forEach((n, i) => expect(n / 6000).toBeCloseTo(w[i]! / sum, 1));
    expect(p.explain?.(c, eps[0]!)).toMatch(/softmax tau=1/);
  });

  it('ties break at random; no candidates → undefined', () => {
    const p = createPlugin(prefillCostPicker);
    const eps = makeScored([ep(0, idle), ep(1, idle)].map((e) => [e, 0]));
    const seen = new Set<string>();
    for (let k = 0; k < 40; k++) seen.add(p.pick(makeContext({ random: k }), eps)!.endpoint.id);
    expect(seen.size).toBe(2);
    expect(p.pick(ctx(), [])).toBeUndefined();
  });

  it.each([{ overlapWeight: -1 }, { temperature: -0.1 }, { meanPromptTokens: 0 }, { weight: 1 }])('rejects params %j', (params) => {
    expect(prefillCostPicker.params.safeParse(params).success).toBe(false);
  });
});
