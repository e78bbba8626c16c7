import { describe, expect, it } from 'vitest';
import { hitRateUpperBound, imbalance, percentiles, Samples, summarize } from './metrics.js';

/** A hand-made trace: [hash_ids, input_length]. */
const TRACE: [number[], number][] = [
  [[1, 2, 3], 1536], // A: nothing seen before → 0
  [[1, 2, 4], 1536], // B: [1], [1,2] seen → 1024
  [[5, 2, 3], 1000], // C: 5 is new; 2 was seen, but after 1, not after 5 → 0
  [[1, 2, 3, 7], 1800], // D: [1,2,3] seen → 1536 (whole blocks, < L − 1)
  [[1, 2, 3], 1536], // E: all seen, but the last prompt token is always computed → 1024 (bs 512)
  [[1, 2], 700], // F: 512 + 188 (partial) → 512 whole engine blocks
  [[1, 2, 3, 4], 1000], // G: only 2 blocks lie inside 1000 tokens: 512 + 488 → 512
];
const requests = TRACE.map(([ids, L]) => ({ hashIds: ids.map(String), inputLength: L }));
const TOTAL = 1536 + 1536 + 1000 + 1800 + 1536 + 700 + 1000;

describe('hitRateUpperBound (infinite cache)', () => {
  it('counts leading blocks whose prefix chain appeared earlier, cut to whole 512-token engine blocks', () => {
    const ub = hitRateUpperBound(requests);
    expect(ub.perRequest).toEqual([0, 1024, 0, 1536, 1024, 512, 512]);
    expect(ub.promptTokens).toBe(TOTAL);
    expect(ub.hittableTokens).toBe(4608);
    expect(ub.hitRate).toBeCloseTo(4608 / TOTAL, 12);
  });

  it('with 16-token engine blocks, partial trace blocks count down to 16 tokens', () => {
    const ub = hitRateUpperBound(requests, { engineBlockSize: 16 });
    expect(ub.perRequest).toEqual([0, 1024, 0, 1536, 1520, 688, 992]);
  });

  it('empty and single-request traces', () => {
    expect(hitRateUpperBound([]).hitRate).toBe(0);
    expect(hitRateUpperBound([{ hashIds: ['1'], inputLength: 512 }]).hitRate).toBe(0);
  });
});

describe('percentiles, imbalance, samples', () => {
  it('percentiles interpolate like core.percentile; NaN when empty', () => {
    expect(percentiles([4, 1, 3, 2, 5], [0, 50, 100])).toEqual([1, 3, 5]);
    expect(percentiles([1, 2], [50])).toEqual([1.5]);
    expect(percentiles([], [50])[0]).toBeNaN();
  });

  it('imbalance = max/mean over all workers, idle ones included', () => {
    expect(imbalance([5, 5, 5, 5])).toBe(1);
    expect(imbalance([8, 0, 0, 0])).toBe(4);
    expect(imbalance([3, 1])).toBe(1.5);
    expect(imbalance([0, 0])).toBe(1);
  });

  it('Samples grows past its initial capacity', () => {
    const s = new Samples();
    for (let i = 0; i < 5000; i++) s.push(i);
    expect(s.length).toBe(5000);
    expect(s.values()[4999]).toBe(4999);
  });
});

describe('summarize', () => {
  it('token-weighted hit rate, TTFT from arrival, throughput over first arrival → last finish', () => {
    const o = (worker: number, prompt: number, cached: number, arrival: number, first: number, finished: number) => ({ worker, promptTokens: prompt, outputTokens: 10, cachedTokens: cached, arrivalMs: arrival, firstTokenMs: first, finishedMs: finished, preemptions: 0 });
    const m = summarize({ requests: 3, rejected: 1, workers: 2, outcomes: [o(0, 1000, 500, 0, 100, 1000), o(1, 3000, 0, 500, 800, 2000)], itlMs: [10, 20, 30], decisionUs: [1, 2], upperBound: 0.5 });
    expect(m.hitRate).toBe(500 / 4000);
    expect(m.ttft.p50).toBe(200);
    expect(m.itl).toEqual({ p50: 20, p90: 28 });
    expect(m.throughputTokensPerS).toBe(10);
    expect(m).toMatchObject({ requests: 3, completed: 2, rejected: 1, imbalance: 1, hitRateUpperBound: 0.5, simulatedSeconds: 2 });
    expect(m.imbalanceTokens).toBeCloseTo(3010 / 2010, 12); // (prompt + output) per worker: 1010 and 3010
  });
});
