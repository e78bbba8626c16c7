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

  describe("two-layer cluster KV view: clusterKv 'exact' vs 'summary'", () => {
    /** A cluster layer that sees only the KV view (cluster_score also learns from its own picks). */
    const profiles = { kv_only: { scorers: [{ type: 'kv_overlap', weight: 1 }], picker: { type: 'max_score' } } };
    const P = [1, 2, 3, 4, 5, 6, 7, 8];
    const Q = [11, 12, 13, 14, 15, 16, 17, 18];
    const row = (timestamp: number, hashIds: number[]): TraceRow => ({ timestamp, input_length: hashIds.length * BLOCK, output_length: 4, hash_ids: hashIds });
    const twoLayer = (rows: TraceRow[], clusterKv: 'exact' | 'summary') => {
      const decisions: DecisionEvent[] = [];
      const sim = new FleetSimulator({ trace: toRequests(rows), workers: 4, clusters: 2, clusterPolicy: 'kv_only', policy: 'kv_default', profiles, clusterKv, onDecision: (e) => decisions.push(e) });
      const r = sim.run();
      const cluster = (i: number): string => decisions[i]!.clusterDecision!.endpoint!.id;
      return { sim, r, decisions, cluster };
    };

    it.each(['exact', 'summary'] as const)('%s: a repeated prefix goes to the cluster holding it', (mode) => {
      // Repeats 3 s later: the summaries have been rebuilt since the first requests were cached.
      const { r, decisions, cluster } = twoLayer([row(0, [...P, 100]), row(200, [...Q, 200]), row(3000, [...P, 101]), row(3200, [...Q, 201])], mode);
      expect(r.metrics.completed).toBe(4);
      expect(cluster(2)).toBe(cluster(0));
      expect(cluster(3)).toBe(cluster(1));
      expect(decisions[2]!.clusterDecision!.reason).toContain('8/9 blocks cached');
      expect(decisions[2]!.workerId).toBe(decisions[0]!.workerId);
      expect(r.outcomes[2]!.cachedTokens).toBe(8 * BLOCK);
      expect(r.clusterSummaries === undefined).toBe(mode === 'exact');
    });

    it('summary: a prefix cached just now is not seen by the cluster layer until the next rebuild (virtual clock)', () => {
      // Rebuilds at t = 0, 1000, 2000 ms; r0 (t = 0) is prefilled and cached within a few hundred ms.
      const rows = [row(0, [...P, 100]), row(900, [...P, 101]), row(1100, [...P, 102])];
      const exact = twoLayer(rows, 'exact');
      const summary = twoLayer(rows, 'summary');
      expect(summary.sim.config.summaryRefreshMs).toBe(1000);
      // Exact: r1 at 900 ms already sees r0's cluster.
      expect(exact.decisions[1]!.clusterDecision!.reason).toContain('8/9 blocks cached');
      expect(exact.cluster(1)).toBe(exact.cluster(0));
      // Summary: at 900 ms the cluster layer still has the t = 0 summaries (empty): no cluster holds anything...
      expect(summary.decisions[1]!.clusterDecision!.scores.map((s) => s.total)).toEqual([0, 0]);
      expect(summary.decisions[1]!.clusterDecision!.reason).not.toContain('blocks cached');
      // ...while the worker layer (exact index) already sees r0's blocks.
      const w0 = summary.decisions[0]!.workerId!;
      if (summary.cluster(1) === summary.cluster(0)) expect(summary.decisions[1]!.workerId).toBe(w0);
      // After the rebuild at 1000 ms, r2 (1100 ms) sees the prefix in r0's cluster.
      expect(summary.decisions[2]!.clusterDecision!.reason).toContain('8/9 blocks cached');
      expect(summary.cluster(2)).toBe(summary.cluster(0));
      const stats = summary.r.clusterSummaries!;
      expect(stats).toMatchObject({ refreshMs: 1000 });
      expect(stats.ticks).toBeGreaterThanOrEqual(2);
      expect(stats.sent).toBeGreaterThanOrEqual(1);
      expect(stats.sampleShiftMax).toBe(0); // a few blocks: every block is a checkpoint
    });

    it('summaryRefreshMs: a slower refresh keeps the summaries stale longer', () => {
      const rows = [row(0, [...P, 100]), row(1100, [...P, 101])];
      const decisions: DecisionEvent[] = [];
      new FleetSimulator({ trace: toRequests(rows), workers: 4, clusters: 2, clusterPolicy: 'kv_only', policy: 'kv_default', profiles, clusterKv: 'summary', summaryRefreshMs: 2000, onDecision: (e) => decisions.push(e) }).run();
      expect(decisions[1]!.clusterDecision!.scores.map((s) => s.total)).toEqual([0, 0]);
    });

    it("exact (explicit) gives the same results as the default", () => {
      const base = { trace: shared.slice(0, 60), workers: 4, clusters: 2, clusterPolicy: 'cluster_score', policy: 'kv_default', kvCapacityTokens: TIGHT } as const;
      const a = simulateFleet(base);
      const b = simulateFleet({ ...base, clusterKv: 'exact' });
      expect(withoutTiming(b.metrics)).toEqual(withoutTiming(a.metrics));
      expect(b.outcomes).toEqual(a.outcomes);
      expect(b.events).toBe(a.events);
      expect(a.clusterSummaries).toBeUndefined();
      expect(b.clusterSummaries).toBeUndefined();
      expect(a.config.clusterKv).toBe('exact');
    });

    it('rejects clusterKv without a cluster policy, an unknown mode, and summaryRefreshMs outside summary mode', () => {
      const base = { trace: shared.slice(0, 5), workers: 4, policy: 'kv_default' };
      expect(() => new FleetSimulator({ ...base, clusterKv: 'summary' })).toThrow(expect.objectContaining({ param: 'cluster-kv', message: expect.stringContaining('needs a cluster policy') }));
      expect(() => new FleetSimulator({ ...base, clusters: 2, clusterPolicy: 'cluster_score', clusterKv: 'fuzzy' as 'exact' })).toThrow(expect.objectContaining({ param: 'cluster-kv' }));
      expect(() => new FleetSimulator({ ...base, clusters: 2, clusterPolicy: 'cluster_score', clusterKv: 'summary', kvIndex: false })).toThrow(expect.objectContaining({ param: 'cluster-kv' }));
      expect(() => new FleetSimulator({ ...base, clusters: 2, clusterPolicy: 'cluster_score', summaryRefreshMs: 500 })).toThrow(expect.objectContaining({ param: 'summary-refresh' }));
      expect(() => new FleetSimulator({ ...base, clusters: 2, clusterPolicy: 'cluster_score', clusterKv: 'summary', summaryRefreshMs: 0 })).toThrow(expect.objectContaining({ param: 'summary-refresh' }));
    });
  });
});
