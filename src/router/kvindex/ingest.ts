/**
 * Apply decoded vLLM KV-event batches (src/kvevents: either wire encoding decodes to the same
 * KvEventBatch) to a KvPrefixIndex. Pure: the glue that owns the ZMQ subscriber calls
 *
 *   onBatch: (batch) => applyKvEventBatch(index, backendId, batch)
 *   onGap:   (gap)   => { if (!gap.repaired) index.backendCleared(backendId); }   // lost events
 *   endpoint gone    => index.removeBackend(backendId)
 *
 * A vLLM instance with data parallelism publishes one stream per DP rank, each its own KV cache:
 * give each rank its own backend id (`batch.dataParallelRank`).
 */
import type { KvCacheEvent, KvEventBatch } from '../../kvevents/index.js';
import type { KvPrefixIndex } from './types.js';

export interface KvIngestOptions {
  /**
   * Which storage media to index (BlockStored/BlockRemoved `medium`; null = not reported, as older
   * vLLM). Default GPU and null: blocks offloaded to CPU/disk tiers are a different cache tier
   * with the same engine hashes, and indexing them in the same map would let a CPU-tier
   * BlockRemoved drop the GPU copy.
   */
  media?: readonly (string | null)[];
}

/** What one batch did (summed over its events). */
export interface KvIngestResult {
  /** Blocks indexed by BlockStored events. */
  stored: number;
  /** Blocks dropped by BlockRemoved events (unknown hashes are not counted). */
  removed: number;
  /** AllBlocksCleared events applied. */
  cleared: number;
  /** Events ignored for their medium. */
  ignored: number;
}

const DEFAULT_MEDIA: readonly (string | null)[] = ['GPU', null];

/** Apply one event for `backendId`; adds its effect to `acc`. */
export function applyKvEvent(index: KvPrefixIndex, backendId: string, ev: KvCacheEvent, acc: KvIngestResult, opts: KvIngestOptions = {}): void {
  const media = opts.media ?? DEFAULT_MEDIA;
  switch (ev.type) {
    case 'BlockStored':
      if (!media.includes(ev.medium)) acc.ignored++;
      else acc.stored += index.blockStored(backendId, ev);
      return;
    case 'BlockRemoved':
      if (!media.includes(ev.medium)) acc.ignored++;
      else acc.removed += index.blocksRemoved(backendId, ev.blockHashes);
      return;
    case 'AllBlocksCleared':
      index.backendCleared(backendId);
      acc.cleared++;
      return;
  }
}

/** Apply every event of a decoded batch, in order, for `backendId`. */
export function applyKvEventBatch(index: KvPrefixIndex, backendId: string, batch: KvEventBatch, opts: KvIngestOptions = {}): KvIngestResult {
  const acc: KvIngestResult = { stored: 0, removed: 0, cleared: 0, ignored: 0 };
  for (const ev of batch.events) applyKvEvent(index, backendId, ev, acc, opts);
  return acc;
}
