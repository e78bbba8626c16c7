/**
 * Cost of route() on the hot path (no debug). Always runs a generous sanity bound (catches
 * accidental O(n²) work or per-call ring rebuilds, not small regressions). For numbers:
 *
 *   ROUTER_BENCH=1 npx vitest run src/router/route-cost.test.ts
 */
import { describe, expect, it } from 'vitest';
import { Router } from './framework.js';
import { compileProfiles } from './profile.js';
import { makeContext, makeEndpoint, scrapedLoad } from './testing.js';

const router = new Router(
  compileProfiles({ three: { scorers: [{ type: 'queue_depth', weight: 2 }, { type: 'kv_usage' }, { type: 'least_request' }] } }),
);

/** Best-of and median µs per route() over `trials` batches. */
function measure(profile: string, n: number, trials = 15, iters = 4000): { best: number; median: number } {
  const eps = Array.from({ length: n }, (_, i) => makeEndpoint(`w${i}`, { load: scrapedLoad(i % 5, i % 3, (i % 10) / 10, { inFlight: i % 7 }) }));
  const ctx = makeContext({ headers: { 'x-session-id': 'abc' }, random: 7 });
  for (let i = 0; i < 20_000; i++) router.route(profile, ctx, eps);
  const runs: number[] = [];
  for (let t = 0; t < trials; t++) {
    const t0 = performance.now();
    for (let i = 0; i < iters; i++) {
      eps[i % n]!.load.inFlight = i % 11;
      router.route(profile, ctx, eps);
    }
    runs.push(((performance.now() - t0) * 1000) / iters);
  }
  runs.sort((a, b) => a - b);
  return { best: runs[0]!, median: runs[runs.length >> 1]! };
}

describe('route() cost', () => {
  it('8 endpoints × 3 scorers stays far below 50 µs (sanity bound; target < 5 µs)', () => {
    expect(measure('three', 8, 5, 2000).median).toBeLessThan(50);
  });

  it.skipIf(process.env.ROUTER_BENCH === undefined)('prints a table', () => {
    const rows: string[] = [];
    for (const n of [8, 64]) {
      for (const p of ['three', 'default', 'least_request', 'round_robin', 'random', 'power_of_two', 'consistent_hash']) {
        const { best, median } = measure(p, n);
        rows.push(`${p.padEnd(16)} n=${String(n).padEnd(3)} best ${best.toFixed(2)} µs  median ${median.toFixed(2)} µs`);
      }
    }
    console.log(rows.join('\n'));
  });
});
