/**
 * The cluster layer of two-layer routing (pick a cluster from coarse signals, then a worker in it
 * with the worker profile), shared by the gateway and the fleet simulator: a cluster's aggregate
 * load, and its view of the workers' KV index.
 */
import type { PrefixSummary } from './kvindex/index.js';
import type { EndpointLoad, KvOverlapIndex } from './types.js';

/**
 * The cluster layer's view of the workers' KV index (KvOverlapIndex, keyed by cluster id): a
 * cluster holds as many leading blocks of a prompt as its best worker does, since the request
 * will go to one worker inside it. One lookup in the worker index per call, no allocation.
 */
export class ClusterKvView implements KvOverlapIndex {
  readonly blockSize: number;
  private readonly slots: ReadonlyMap<string, number>;
  private readonly out: Int32Array;

  constructor(
    private readonly index: KvOverlapIndex,
    private readonly clusters: readonly { readonly id: string; readonly workerIds: readonly string[] }[],
  ) {
    this.blockSize = index.blockSize;
    this.slots = new Map(clusters.map((c, i) => [c.id, i]));
    this.out = new Int32Array(clusters.length);
  }

  lookupSlots(hashes: Uint32Array): ArrayLike<number> {
    const held = this.index.lookupSlots(hashes);
    const out = this.out;
    for (let c = 0; c < this.clusters.length; c++) {
      let best = 0;
      for (const w of this.clusters[c]!.workerIds) {
        const s = this.index.slotOf(w);
        const h = s < 0 ? 0 : (held[s] ?? 0);
        if (h > best) best = h;
      }
      out[c] = best;
    }
    return out;
  }

  slotOf(backendId: string): number {
    return this.slots.get(backendId) ?? -1;
  }
}

/** The clusters' latest prefix summaries (reported by their agents), by cluster name. */
export interface ClusterPrefixSummaries {
  /** The cluster's summary, or undefined when there is none (no agent report). */
  summary(cluster: string): PrefixSummary | undefined;
}

/** Where the cluster layer's KV signal came from: agents' summaries, the exact index, both (per cluster), or neither. */
export type ClusterKvSource = 'summary' | 'exact' | 'summary+exact' | 'none';

export interface SummaryMember {
  /** The cluster's id in the cluster layer (its view's endpoint id). */
  readonly id: string;
  /** Its summary; absent: use `exact` for it (when given), else it holds nothing. */
  readonly summary?: PrefixSummary | undefined;
  readonly workerIds: readonly string[];
}

/**
 * The cluster layer's KV view from agents' prefix summaries (KvOverlapIndex, keyed by cluster
 * id): a cluster holds `summary.heldBlocks(prompt)` leading blocks (a lower bound at checkpoint
 * granularity, see PrefixSummary). Clusters without a summary read from `exact` (the workers'
 * index, through a ClusterKvView) when it is given, else hold nothing. Summaries must use
 * `blockSize`. No allocation per lookup.
 */
export class ClusterSummaryView implements KvOverlapIndex {
  readonly blockSize: number;
  readonly source: ClusterKvSource;
  private readonly slots: ReadonlyMap<string, number>;
  private readonly out: Int32Array;
  private readonly fallback: ClusterKvView | undefined;
  private lastBlocks = -1;

  constructor(
    blockSize: number,
    private readonly members: readonly SummaryMember[],
    exact?: KvOverlapIndex,
  ) {
    this.blockSize = blockSize;
    this.slots = new Map(members.map((c, i) => [c.id, i]));
    this.out = new Int32Array(members.length);
    const summarised = members.filter((m) => m.summary !== undefined).length;
    const fromExact = exact !== undefined && summarised < members.length;
    this.fallback = fromExact ? new ClusterKvView(exact, members) : undefined;
    this.source = summarised > 0 ? (fromExact ? 'summary+exact' : 'summary') : fromExact ? 'exact' : 'none';
  }

  lookupSlots(hashes: Uint32Array): ArrayLike<number> {
    const fb = this.fallback?.lookupSlots(hashes);
    const out = this.out;
    for (let c = 0; c < this.members.length; c++) {
      const s = this.members[c]!.summary;
      out[c] = s !== undefined ? s.heldBlocks(hashes) : (fb?.[c] ?? 0);
    }
    this.lastBlocks = hashes.length >>> 1;
    return out;
  }

  slotOf(backendId: string): number {
    return this.slots.get(backendId) ?? -1;
  }

  /** What the last lookup found for a cluster: held and prompt blocks (undefined before any lookup). */
  lastHeld(clusterId: string): { held: number; blocks: number } | undefined {
    const s = this.slots.get(clusterId);
    return s === undefined || this.lastBlocks < 0 ? undefined : { held: this.out[s]!, blocks: this.lastBlocks };
  }
}

/**
 * A cluster's load for the cluster layer: the sum of its workers' loads (KV usage: the mean, so
 * kvUsage × kvCapacityBlocks = Σ blocks in use when every worker has the same capacity; the
 * scraped fields are null when no worker was scraped). Written into `into` (no allocation).
 */
export function aggregateLoads(loads: Iterable<EndpointLoad>, into: EndpointLoad): EndpointLoad {
  let inFlight = 0;
  let running = 0;
  let waiting = 0;
  let kv = 0;
  let pending = 0;
  let capacity = 0;
  let sampled = 0;
  let scrapedAt: number | null = null;
  let atScrape = 0;
  for (const l of loads) {
    inFlight += l.inFlight;
    atScrape += l.inFlightAtScrape;
    if (l.running !== null && l.waiting !== null) {
      running += l.running;
      waiting += l.waiting;
      kv += l.kvUsage ?? 0;
      pending += l.pendingPrefillTokens ?? 0;
      capacity += l.kvCapacityBlocks ?? 0;
      sampled++;
      scrapedAt = scrapedAt === null || (l.scrapedAt ?? 0) < scrapedAt ? l.scrapedAt : scrapedAt;
    }
  }
  into.inFlight = inFlight;
  into.inFlightAtScrape = atScrape;
  into.running = sampled > 0 ? running : null;
  into.waiting = sampled > 0 ? waiting : null;
  into.kvUsage = sampled > 0 ? kv / sampled : null;
  into.scrapedAt = sampled > 0 ? scrapedAt : null;
  into.pendingPrefillTokens = sampled > 0 ? pending : null;
  into.kvCapacityBlocks = sampled > 0 ? capacity : null;
  return into;
}

/** An empty load to aggregate into. */
export function emptyLoad(): EndpointLoad {
  return { inFlight: 0, running: null, waiting: null, kvUsage: null, scrapedAt: null, inFlightAtScrape: 0, pendingPrefillTokens: null, kvCapacityBlocks: null };
}
