/** End-to-end fleet simulations on small synthetic traces (each runs in well under a second). */
import { describe, expect, it } from 'vitest';
import type { KvEventBatch } from '../kvevents/index.js';
import type { DecisionEvent, KvEventSink } from './config.js';
import type { SimulationMetrics } from './metrics.js';
import { FleetSimulator, simulateFleet } from './simulator.js';
import { sharedPrefixRows, toRequests, uniformRows } from './test-traces.js';

const BLOCK = 512;
const shared = toRequests(sharedPrefixRows(160, { groups: 8, prefixBlocks: 8, suffixBlocks: 2, intervalMs: 200 }));
/** Per worker: room for about 2 of the 8 shared prefixes (plus the running request). */
const TIGHT = 24 * BLOCK;

function withoutTiming(m: SimulationMetrics): Omit<SimulationMetrics, 'decisionP99Us'> {
  const { decisionP99Us: _ignored, ...rest } = m;
  return rest;
}

describe('fleet simulation', () => {
  it('is deterministic: same trace and options → same metrics and per-request outcomes', () => {
    const run = () => simulateFleet({ trace: shared, workers: 4, policy: 'default', kvCapacityTokens: TIGHT, seed: 3 });
    const a = run();
    const b = run();
    expect(withoutTiming(b.metrics)).toEqual(withoutTiming(a.metrics));
    expect(b.outcomes).toEqual(a.outcomes);
    expect(b.events).toBe(a.events);
    expect(a.metrics.decisionP99Us).toBeGreaterThan(0);
  });

  it('completes every request with exactly output_length tokens (ignore_eos), on the worker it was routed to', () => {
    const trace = toRequests(uniformRows(48, { blocks: 3, output: 17, intervalMs: 50 }));
    const routed = new Map<number, string | null>();
    const r = simulateFleet({ trace, workers: 3, policy: 'power_of_two', onDecision: (e: DecisionEvent) => routed.set(e.request.index, e.workerId) });
    expect(r.metrics).toMatchObject({ requests: 48, completed: 48, rejected: 0 });
    expect(r.outcomes.map((o) => o.index)).toEqual(trace.map((t) => t.index));
    for (const o of r.outcomes) {
      expect(o).toMatchObject({ finishReason: 'length', outputTokens: 17, promptTokens: 3 * BLOCK });
      expect(routed.get(o.index)).toBe(o.workerId);
      expect(o.firstTokenMs!).toBeGreaterThan(o.arrivalMs);
    }
    expect(r.metrics.ttft.p50).toBeGreaterThan(0);
    expect(r.metrics.itl.p50).toBeGreaterThan(0);
    expect(r.metrics.throughputTokensPerS).toBeGreaterThan(0);
  });

  it('round_robin spreads a uniform trace evenly (imbalance 1)', () => {
    const r = simulateFleet({ trace: toRequests(uniformRows(64)), workers: 4, policy: 'round_robin' });
    expect(r.metrics.imbalance).toBe(1);
    expect(r.workers.map((w) => w.requests)).toEqual([16, 16, 16, 16]);
    expect(r.metrics.hitRate).toBe(0); // nothing is shared
    expect(r.metrics.hitRateUpperBound).toBe(0);
  });

  it('with shared prefixes and tight KV, prefix-keyed consistent_hash beats round_robin on hit rate', () => {
    const rr = simulateFleet({ trace: shared, workers: 4, policy: 'round_robin', kvCapacityTokens: TIGHT });
    const ch = simulateFleet({ trace: shared, workers: 4, policy: 'consistent_hash', kvCapacityTokens: TIGHT });
    expect(ch.metrics.hitRateUpperBound).toBe(rr.metrics.hitRateUpperBound);
    expect(ch.metrics.hitRate).toBeGreaterThan(rr.metrics.hitRate + 0.1);
    for (const m of [rr.metrics, ch.metrics]) {
      expect(m.hitRate).toBeGreaterThanOrEqual(0);
      expect(m.hitRate).toBeLessThanOrEqual(m.hitRateUpperBound);
    }
  });

  it('meets the upper bound with one worker, an unbounded cache and non-overlapping requests', () => {
    const trace = toRequests(sharedPrefixRows(60, { intervalMs: 10_000 }));
    const r = simulateFleet({ trace, workers: 1, policy: 'round_robin', kvCapacityTokens: 10_000_000 });
    expect(r.metrics.hitRateUpperBound).toBeGreaterThan(0.5);
    expect(r.metrics.hitRate).toBeCloseTo(r.metrics.hitRateUpperBound, 12);
    expect(r.outcomes.map((o) => o.cachedTokens)).toEqual(r.upperBound.perRequest);
  });

  it('delivers each engine’s KV events to the sink: replaying them reproduces every worker’s cache', () => {
    const held = new Map<string, Set<bigint>>();
    let stored = 0;
    const sink: KvEventSink = {
      onKvEvents(workerId: string, batch: KvEventBatch) {
        const set = held.get(workerId) ?? new Set<bigint>();
        held.set(workerId, set);
        for (const ev of batch.events) {
          if (ev.type === 'BlockStored') {
            expect(ev.blockSize).toBe(BLOCK);
            expect(ev.tokenIds).toHaveLength(ev.blockHashes.length * BLOCK);
            stored += ev.blockHashes.length;
            for (const h of ev.blockHashes) set.add(h);
          } else if (ev.type === 'BlockRemoved') for (const h of ev.blockHashes) set.delete(h);
        }
      },
    };
    const sim = new FleetSimulator({ trace: shared.slice(0, 80), workers: 3, policy: 'round_robin', kvCapacityTokens: TIGHT, kvEventSink: sink });
    const r = sim.run();
    expect(stored).toBeGreaterThan(0);
    expect(r.workers.some((w) => w.evictions > 0)).toBe(true);
    for (const w of sim.workers) expect(held.get(w.id)?.size ?? 0).toBe(w.core.pool.numCached);
  });

  it('rejects (and counts) a request that cannot fit a worker’s KV cache; the rest complete', () => {
    const rows = uniformRows(6, { blocks: 2 });
    rows[3] = { ...rows[3]!, input_length: 20 * BLOCK, hash_ids: Array.from({ length: 20 }, (_, k) => 1000 + k) };
    const r = simulateFleet({ trace: toRequests(rows), workers: 2, policy: 'least_request', kvCapacityTokens: 8 * BLOCK });
    expect(r.metrics).toMatchObject({ requests: 6, completed: 5, rejected: 1 });
    expect(r.rejections).toEqual([{ index: 3, workerId: expect.stringMatching(/^c0\/w\d$/), reason: expect.stringContaining("this engine's KV cache holds 4096 tokens") }]);
  });

  it('two-layer routing: the cluster policy picks a cluster, the worker policy a worker inside it', () => {
    const decisions: DecisionEvent[] = [];
    const r = simulateFleet({ trace: shared.slice(0, 40), workers: 4, clusters: 2, clusterPolicy: 'round_robin', policy: 'least_request', onDecision: (e) => decisions.push(e) });
    expect(r.workers.map((w) => w.id)).toEqual(['c0/w0', 'c0/w1', 'c1/w0', 'c1/w1']);
    expect(r.metrics.completed).toBe(40);
    for (const d of decisions) expect(d.workerId!.startsWith(`${d.clusterDecision!.endpoint!.id}/`)).toBe(true);
    expect(decisions.map((d) => d.clusterDecision!.endpoint!.id).slice(0, 4)).toEqual(['c0', 'c1', 'c0', 'c1']);
  });

  it('profiles from config, periodic load scrapes, and option errors', () => {
    const profiles = { prefix64: { picker: { type: 'consistent_hash', params: { promptChars: 64 } } } };
    const r = simulateFleet({ trace: shared.slice(0, 40), workers: 2, policy: 'prefix64', profiles, scrapeIntervalMs: 500 });
    expect(r.metrics.completed).toBe(40);
    expect(() => simulateFleet({ trace: shared, workers: 2, policy: 'nope' })).toThrow(/unknown routing profile 'nope' for --policy; known: .*consistent_hash.*round_robin/);
    expect(() => simulateFleet({ trace: shared, workers: 2, policy: 'round_robin', clusterPolicy: 'round_robin' })).toThrow('needs at least 2 clusters');
    expect(() => simulateFleet({ trace: shared, workers: 2, clusters: 3, policy: 'round_robin' })).toThrow('clusters (at most one per worker)');
    expect(() => simulateFleet({ trace: shared, workers: 2, policy: 'round_robin', kvCapacityTokens: 100 })).toThrow('KV capacity must hold at least one block (512 tokens)');
  });

  it('runAsync yields to the event loop and stops when aborted', async () => {
    const trace = shared.slice(0, 20);
    const done = await new FleetSimulator({ trace, workers: 2, policy: 'round_robin' }).runAsync({ yieldEvery: 50 });
    expect(done?.metrics.completed).toBe(20);
    const ac = new AbortController();
    ac.abort();
    expect(await new FleetSimulator({ trace, workers: 2, policy: 'round_robin' }).runAsync({ signal: ac.signal })).toBeUndefined();
  });
});
