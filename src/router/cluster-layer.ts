/**
 * The cluster layer of two-layer routing (pick a cluster from coarse signals, then a worker in it
 * with the worker profile), shared by the gateway and the fleet simulator: a cluster's aggregate
 * load, and its view of the workers' KV index.
 */
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
