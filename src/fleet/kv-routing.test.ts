/**
 * KV-aware routing in the fleet simulator: the fleet's KvBlockIndex (fed by the engines' KV
 * events) agrees with what the router hashes for a request, prefill_cost's load fields are
 * filled, and on a small trace with heavy prefix sharing and tight KV capacity the KV-aware
 * profile beats round_robin. Each simulation runs in well under a second.
 */
import { describe, expect, it } from 'vitest';
import { defaultRegistry, KvBlockIndex, promptPrefixHashes, routerTesting, type Decision, type RoutingContext, type Scorer } from '../router/index.js';
import type { DecisionEvent } from './config.js';
import type { SimulationMetrics } from './metrics.js';
import { ClusterKvView } from '../router/index.js';
import { SimRouteRequest } from './routing.js';
import { FleetSimulator, simulateFleet } from './simulator.js';
import { chatRows, sharedPrefixRows, toRequests, type TraceRow } from './test-traces.js';
import { promptTokens } from './tokens.js';

const BLOCK = 512;
/** 8 long shared prefixes (8 blocks) + 2 own blocks, a request every 100 ms. */
const shared = toRequests(sharedPrefixRows(160, { groups: 8, prefixBlocks: 8, suffixBlocks: 2, intervalMs: 100, seed: 7 }));
/** Per worker: room for about 2 of the 8 shared prefixes (plus the running requests). */
const TIGHT = 24 * BLOCK;

const withoutTiming = (m: SimulationMetrics): Omit<SimulationMetrics, 'decisionP99Us'> => {
  const { decisionP99Us: _ignored, ...rest } = m;
  return rest;
};

describe('fleet KV index and KV-aware routing', () => {
  it('kv_overlap sees the blocks a worker just cached: the index hashes like the router and matches the engine', () => {
    // r0: 3 full blocks + a partial one; r1 (after r0 finished): the same 4 blocks, full, + 1.
    const rows: TraceRow[] = [
      { timestamp: 0, input_length: 4 * BLOCK - 100, output_length: 4, hash_ids: [11, 12, 13, 14] },
      { timestamp: 30_000, input_length: 5 * BLOCK - 100, output_length: 4, hash_ids: [11, 12, 13, 14, 15] },
    ];
    const trace = toRequests(rows);
    let scored: number[] = [];
    let held: ReadonlyMap<string, number> = new Map();
    const decisions: DecisionEvent[] = [];
    const sim: FleetSimulator = new FleetSimulator({
      trace,
      workers: 4,
      policy: 'kv_default',
      onDecision: (e) => {
        decisions.push(e);
        if (e.request.index !== 1) return;
        // What the router sees at r1's decision, recomputed from outside with the same inputs.
        const request = new SimRouteRequest('probe', sim.config.model, promptTokens(e.request, { traceBlockSize: BLOCK, seed: 0 }), e.request);
        const index = sim.kvIndex!;
        held = index.lookup(promptPrefixHashes(request, index.blockSize));
        const ctx: RoutingContext = { now: e.nowMs, random: () => 0.5, request, kvIndex: index };
        const kvOverlap = routerTesting.createPlugin(defaultRegistry.get('kv_overlap')!) as Scorer;
        scored = kvOverlap.score(ctx, sim.workers.map((w) => w.view));
      },
    });
    expect(sim.kvIndex).toBeInstanceOf(KvBlockIndex);
    expect(sim.kvIndex!.blockSize).toBe(sim.config.engine.blockSize);
    const r = sim.run();
    const first = decisions[0]!.workerId!;
    const i = sim.workers.findIndex((w) => w.id === first);
    // r0's three full prompt blocks (its 4th block was completed by unique output tokens).
    expect([...held]).toEqual([[first, 3]]);
    expect(scored).toEqual(sim.workers.map((_, k) => (k === i ? 3 / 4 : 0)));
    expect(decisions[1]!.workerId).toBe(first);
    expect(decisions[1]!.decision.reason).toContain('3/4 blocks cached');
    expect(r.outcomes[1]!.cachedTokens).toBe(3 * BLOCK); // the engine's own prefix cache agrees
    // The index mirrors every engine's cache exactly.
    const perBackend = new Map(sim.kvIndex!.stats().perBackend.map((b) => [b.id, b.blocks]));
    for (const w of sim.workers) expect(perBackend.get(w.id) ?? 0).toBe(w.core.pool.numCached);
  });

  it('fills pendingPrefillTokens and kvCapacityBlocks in every EndpointLoad from the engine', () => {
    const rows: TraceRow[] = [
      { timestamp: 0, input_length: 16 * BLOCK, output_length: 2, hash_ids: Array.from({ length: 16 }, (_, k) => k) },
      { timestamp: 1, input_length: 2 * BLOCK, output_length: 2, hash_ids: [100, 101] },
    ];
    const seen: { pending: number | null | undefined; capacity: number | null | undefined }[] = [];
    const sim = new FleetSimulator({
      trace: toRequests(rows),
      workers: 1,
      policy: 'dynamo_kv',
      kvCapacityTokens: 64 * BLOCK,
      onDecision: (e: DecisionEvent) => seen.push({ pending: e.decision.endpoint!.load.pendingPrefillTokens, capacity: e.decision.endpoint!.load.kvCapacityBlocks }),
    });
    sim.run();
    expect(seen[0]).toEqual({ pending: 0, capacity: 64 });
    // 1 ms later the first prefill chunk is still running: all of r0's prompt is pending.
    expect(seen[1]!.capacity).toBe(64);
    expect(seen[1]!.pending).toBeGreaterThan(0);
    expect(seen[1]!.pending).toBeLessThanOrEqual(16 * BLOCK);
  });

  it('with heavy prefix sharing and tight KV, kv_default hits far more than round_robin and has lower TTFT p90; deterministic', () => {
    const run = (policy: string) => simulateFleet({ trace: shared, workers: 4, policy, kvCapacityTokens: TIGHT, seed: 1 });
    const rr = run('round_robin');
    const kv = run('kv_default');
    const again = run('kv_default');
    expect(withoutTiming(again.metrics)).toEqual(withoutTiming(kv.metrics));
    expect(again.outcomes).toEqual(kv.outcomes);
    expect(kv.metrics.hitRateUpperBound).toBe(rr.metrics.hitRateUpperBound);
    expect(kv.metrics.hitRate).toBeGreaterThan(rr.metrics.hitRate + 0.2);
    expect(kv.metrics.hitRate).toBeLessThanOrEqual(kv.metrics.hitRateUpperBound);
    expect(kv.metrics.ttft.p90).toBeLessThan(0.8 * rr.metrics.ttft.p90);
    expect(kv.metrics.completed).toBe(shared.length);
  });

  it.each(['default', 'kv_default', 'round_robin', 'least_request', 'sglang_cache_aware', 'llmd_default', 'dynamo_kv', 'cluster_score'])('profile %s runs on a multi-turn chat trace', (policy) => {
    const trace = toRequests(chatRows({ sessions: 12, systemPrompts: 3, turns: [2, 4], sessionGapMs: 200, thinkMs: 1000 }));
    expect(trace.every((t) => t.sessionId !== undefined)).toBe(true);
    const r = simulateFleet({ trace, workers: 3, policy, kvCapacityTokens: TIGHT });
    expect(r.metrics).toMatchObject({ requests: trace.length, completed: trace.length, rejected: 0 });
    expect(r.metrics.hitRate).toBeLessThanOrEqual(r.metrics.hitRateUpperBound);
  });

  it('two-layer routing: cluster_score picks the cluster holding the prefix (ClusterKvView), kv_default the worker', () => {
    const decisions: DecisionEvent[] = [];
    const trace = shared.slice(0, 60);
    const r = simulateFleet({ trace, workers: 4, clusters: 2, clusterPolicy: 'cluster_score', policy: 'kv_default', kvCapacityTokens: TIGHT, onDecision: (e) => decisions.push(e) });
    expect(r.metrics.completed).toBe(60);
    for (const d of decisions) expect(d.workerId!.startsWith(`${d.clusterDecision!.endpoint!.id}/`)).toBe(true);
    expect(r.metrics.hitRate).toBeGreaterThan(0.3);
  });

  it('ClusterKvView: a cluster holds what its best worker holds', () => {
    const index = new KvBlockIndex({ blockSize: 2 });
    const tokens = [1, 2, 3, 4, 5, 6];
    index.blockStored('c1/w0', { blockHashes: [1n, 2n], parentBlockHash: null, tokenIds: tokens.slice(0, 4), blockSize: 2, loraId: null });
    index.blockStored('c1/w1', { blockHashes: [1n, 2n, 3n], parentBlockHash: null, tokenIds: tokens, blockSize: 2, loraId: null });
    index.blockStored('c0/w0', { blockHashes: [1n], parentBlockHash: null, tokenIds: tokens.slice(0, 2), blockSize: 2, loraId: null });
    const view = new ClusterKvView(index, [
      { id: 'c0', workerIds: ['c0/w0', 'c0/w1'] },
      { id: 'c1', workerIds: ['c1/w0', 'c1/w1'] },
    ]);
    const request = new SimRouteRequest('q', 'm', [...tokens, 7], { index: 0, line: 1, timestampMs: 0, inputLength: 7, outputLength: 1, hashIds: [] });
    const out = view.lookupSlots(promptPrefixHashes(request, 2));
    expect(view.blockSize).toBe(2);
    expect([out[view.slotOf('c0')], out[view.slotOf('c1')]]).toEqual([1, 3]);
    expect(view.slotOf('c9')).toBe(-1);
  });

  it('kvIndex: false runs without an index (KV-aware plugins then see no cached blocks)', () => {
    const sim = new FleetSimulator({ trace: shared.slice(0, 30), workers: 2, policy: 'kv_default', kvIndex: false });
    expect(sim.kvIndex).toBeUndefined();
    const d: Decision[] = [];
    const r = new FleetSimulator({ trace: shared.slice(0, 30), workers: 2, policy: 'kv_default', kvIndex: false, onDecision: (e) => d.push(e.decision) }).run();
    expect(r.metrics.completed).toBe(30);
    expect(d.every((x) => !x.reason.includes('blocks cached'))).toBe(true);
  });
});
