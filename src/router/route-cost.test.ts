/**
 * route() cost micro-benchmark (skipped unless ROUTER_BENCH=1; timing never fails a test):
 *
 *   ROUTER_BENCH=1 npx vitest run src/router/route-cost.test.ts
 *
 * Same setup as bench/micro's routing rows (scraped loads, 4000 decisions per batch, median of 15
 * batches), but with a fresh request per decision (50 session keys), built before the timing. Rows for the KV-aware profiles run twice: without token ids (the
 * gateway today) and with 1,024 prompt token ids plus an index of 8 backends, each holding a
 * different share of the prompt. Profiles not compiled (older code) are skipped, so the file
 * measures before/after a change with identical code.
 */
import { describe, expect, it } from 'vitest';
import { Router } from './framework.js';
import { KvBlockIndex, kvPrefixHashes } from './kvindex/index.js';
import { compileProfiles } from './profile.js';
import { makeContext, makeEndpoint, makeRequest, scrapedLoad } from './testing.js';
import type { EndpointView, RoutingContext } from './types.js';

const ITERS = 4000;
const BATCHES = 15;

/** Per batch: build ITERS fresh contexts (untimed), then time routing them. */
function timeIt(make: (i: number) => RoutingContext, route: (ctx: RoutingContext, i: number) => void): { median: number; best: number } {
  const batch = (): number => {
    const ctxs = Array.from({ length: ITERS }, (_, i) => make(i));
    const t0 = performance.now();
    for (let i = 0; i < ITERS; i++) route(ctxs[i]!, i);
    return ((performance.now() - t0) * 1000) / ITERS;
  };
  for (let i = 0; i < 3; i++) batch();
  const runs: number[] = [];
  for (let b = 0; b < BATCHES; b++) runs.push(batch());
  runs.sort((a, b) => a - b);
  return { median: runs[runs.length >> 1]!, best: runs[0]! };
}

function endpoints(n: number): EndpointView[] {
  return Array.from({ length: n }, (_, i) => makeEndpoint(`w${i}`, { load: scrapedLoad(i % 5, i % 3, (i % 10) / 10, { inFlight: i % 7 }) }));
}

describe.skipIf(process.env.ROUTER_BENCH !== '1')('route() cost', () => {
  it('prints µs per decision', () => {
    const router = new Router(compileProfiles(undefined));
    const rows: string[] = [];
    const tokens = Array.from({ length: 1024 }, (_, i) => (i * 7919) % 50_000);
    const prompt = 'You are terse. '.repeat(20);
    const index = new KvBlockIndex({ blockSize: 16, expectedBlocks: 1024 });
    for (let b = 0; b < 8; b++) {
      const held = Math.floor((64 * b) / 8);
      if (held > 0) index.blockStored(`w${b}`, { blockHashes: Array.from({ length: held }, (_, k) => BigInt(b * 1000 + k + 1)), parentBlockHash: null, tokenIds: tokens.slice(0, held * 16), blockSize: 16, loraId: null });
    }
    expect(kvPrefixHashes(tokens, 16).length).toBe(128);
    const plain = ['default', 'least_request', 'round_robin', 'power_of_two', 'consistent_hash'];
    const kv = ['kv_default', 'llmd_default', 'sglang_cache_aware', 'dynamo_kv', 'cluster_score'];
    // Plain profiles first, for both sizes: once the KV-aware plugins have run, the framework's
    // score()/pick() call sites see more plugin shapes (megamorphic), which would tax the rows
    // measured after them — a gateway routing with one profile never pays that.
    const only = process.env.ROUTER_BENCH_PROFILES?.split(',');
    const runs: [string, boolean][] = [...plain.map((p): [string, boolean] => [p, false]), ...kv.flatMap((p): [string, boolean][] => [[p, false], [p, true]])];
    for (const [p, withTokens] of runs) {
      if (!router.hasProfile(p) || (only !== undefined && !only.includes(p))) continue;
      for (const n of [8, 64]) {
        const eps = endpoints(n);
        const random = makeContext({ random: 7 }).random;
        const make = (k: number): RoutingContext => {
          const request = makeRequest({ requestId: `r${k}`, headers: { 'x-session-id': `s${k % 50}` }, promptText: prompt, ...(withTokens ? { tokenIds: tokens } : {}) });
          return withTokens ? { now: k, random, request, kvIndex: index } : { now: k, random, request };
        };
        const t = timeIt(make, (ctx, i) => {
          eps[i % n]!.load.inFlight = i % 11;
          router.route(p, ctx, eps);
        });
        rows.push(`${`${p}${withTokens ? ' +tokens' : ''}`.padEnd(28)} n=${String(n).padEnd(3)} median ${t.median.toFixed(2).padStart(7)} µs  best ${t.best.toFixed(2).padStart(7)} µs`);
      }
    }
    console.log(`route() cost (µs/decision; contexts built outside the timing, fresh per batch):\n${rows.join('\n')}`);
  });
});
