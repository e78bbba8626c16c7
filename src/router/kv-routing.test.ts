/**
 * KV-aware profiles through the public Router, on a tiny pure cache model (no timers): 4
 * endpoints, each caching at most 3 of 8 "documents" (LRU); every request is one document's 8
 * blocks plus a unique block. The engines' caches feed a KvBlockIndex through BlockStored /
 * BlockRemoved, as vLLM KV events would. Each tick ~3 requests arrive and every endpoint finishes
 * one. Hit rate = fraction of prompt blocks the chosen endpoint already held.
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../core/index.js';
import { Router } from './framework.js';
import { KvBlockIndex } from './kvindex/index.js';
import { compileProfiles } from './profile.js';
import { makeContext, makeEndpoint, makeRequest } from './testing.js';

const BS = 4;
const DOCS = 8;
const DOC_BLOCKS = 8;
const CACHE_DOCS = 3;

function docTokens(d: number, unique: number): number[] {
  const t = Array.from({ length: DOC_BLOCKS * BS }, (_, i) => d * 1000 + i);
  for (let i = 0; i < BS; i++) t.push(1_000_000 + unique * BS + i);
  return t;
}

function run(profile: string, ticks = 300, seed = 3): { hit: number; maxInFlight: number } {
  const router = new Router(compileProfiles(undefined));
  const index = new KvBlockIndex({ blockSize: BS });
  const eps = Array.from({ length: 4 }, (_, i) => makeEndpoint(`w${i}`));
  const caches = eps.map(() => new Map<number, true>());
  const rng = new Rng(seed);
  let hits = 0;
  let blocks = 0;
  let maxInFlight = 0;
  let id = 0;
  for (let t = 0; t < ticks; t++) {
    for (const e of eps) Object.assign(e.load, { running: e.load.inFlight, waiting: 0, kvUsage: (e.load.inFlight * 9) / 100, kvCapacityBlocks: 100, pendingPrefillTokens: 0, scrapedAt: t, inFlightAtScrape: e.load.inFlight });
    const arrivals = rng.int(7);
    for (let a = 0; a < arrivals; a++) {
      const d = Math.floor(rng.next() ** 2 * DOCS); // skewed popularity
      const tokens = docTokens(d, id);
      const request = makeRequest({ requestId: `r${id++}`, tokenIds: tokens, promptText: `document ${d} `.repeat(40) });
      const ctx = { ...makeContext({ now: t * 100, random: () => rng.next(), request }), kvIndex: index };
      const i = Number(router.route(profile, ctx, eps).endpoint!.id.slice(1));
      const cache = caches[i]!;
      if (cache.has(d)) hits += DOC_BLOCKS;
      blocks += DOC_BLOCKS + 1;
      cache.delete(d);
      cache.set(d, true);
      const hashes = (doc: number) => Array.from({ length: DOC_BLOCKS }, (_, k) => BigInt(i * 100_000 + doc * 100 + k + 1));
      index.blockStored(`w${i}`, { blockHashes: hashes(d), parentBlockHash: null, tokenIds: tokens.slice(0, DOC_BLOCKS * BS), blockSize: BS, loraId: null });
      if (cache.size > CACHE_DOCS) {
        const old = cache.keys().next().value!;
        cache.delete(old);
        index.blocksRemoved(`w${i}`, hashes(old));
      }
      eps[i]!.load.inFlight++;
    }
    for (const e of eps) {
      maxInFlight = Math.max(maxInFlight, e.load.inFlight);
      e.load.inFlight = Math.max(0, e.load.inFlight - 1);
    }
  }
  return { hit: hits / blocks, maxInFlight };
}

describe('KV-aware profiles (pure cache model)', () => {
  const baseline = run('round_robin');

  it('round_robin, for contrast, hits the cache only by luck', () => {
    expect(baseline.hit).toBeLessThan(0.55);
  });

  // Max in flight: SGLang's documented balance_abs_threshold (64) tolerates that much imbalance
  // before it falls back to the shortest queue, so its hot endpoint queues up to about that.
  // default weighs uncached prefill 16× (it minimises time to first token), so it tolerates a
  // slightly longer queue at the endpoint holding a hot document than kv_default / dynamo_kv.
  it.each<[string, number]>([
    ['default', 24],
    ['kv_default', 20],
    ['dynamo_kv', 20],
    ['llmd_default', 20],
    ['sglang_cache_aware', 64 + 8],
  ])('%s hits the cache far more often, with bounded queues', (profile, maxInFlight) => {
    const r = run(profile);
    expect(r.hit).toBeGreaterThan(baseline.hit + 0.15);
    expect(r.maxInFlight).toBeLessThan(maxInFlight);
  });

  it('default_v1 (no KV signal) is no better than chance, and is unaffected by token ids', () => {
    expect(run('default_v1').hit).toBeLessThan(baseline.hit + 0.1);
  });
});
