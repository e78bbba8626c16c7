/**
 * The KV prefix index contract: what every implementation (the fast KvBlockIndex, the reference
 * ReferenceKvIndex) offers, with the exact semantics the shared contract suite and the
 * differential test check.
 */
import { SwitchyardError } from '../../core/index.js';
import type { BlockStored } from '../../kvevents/index.js';
import type { PrefixHashes } from './hash.js';

/** The BlockStored fields the index uses (a decoded BlockStored event is one). */
export type StoredBlocks = Pick<BlockStored, 'blockHashes' | 'parentBlockHash' | 'tokenIds' | 'blockSize' | 'loraId'>;

export interface KvIndexOptions {
  /** Token block size of our hashes; BlockStored events with another block_size are skipped. Default 16. */
  blockSize?: number;
  /**
   * Max indexed blocks (engine hashes) per backend; beyond it the least recently stored one is
   * evicted. Default 1_000_000. Infinity disables the cap.
   */
  maxBlocksPerBackend?: number;
  /** Expected distinct blocks (presizes the block table: avoids rehash pauses). Default 1024. */
  expectedBlocks?: number;
  /** Expected backends (presizes per-backend bitsets). Default 32. */
  expectedBackends?: number;
}

export interface KvBackendStats {
  id: string;
  /** Indexed blocks (engine hashes) of this backend. */
  blocks: number;
  /** Blocks evicted by the per-backend cap. */
  evictions: number;
  /** BlockStored events whose parent hash was unknown (chained from the root seed instead). */
  unknownParents: number;
  /** Stored blocks not indexed: wrong block_size, or fewer token ids than blocks · block_size. */
  skippedBlocks: number;
}

export interface KvIndexStats {
  /** Registered backends (every backend that sent an event and was not removed). */
  backends: number;
  /** Distinct blocks (our hashes) held by at least one backend. */
  blocks: number;
  /** Indexed (backend, engine hash) pairs: Σ backends' `blocks`. */
  entries: number;
  /** Estimated bytes held by the index (see README: how it is estimated). */
  estimatedBytes: number;
  /** estimatedBytes / entries: bytes per indexed block per backend (0 when empty). */
  bytesPerEntry: number;
  /** By backend id, sorted by id. */
  perBackend: KvBackendStats[];
}

/**
 * A prefix index over many backends' KV caches. Semantics (identical in every implementation):
 *
 * - Each backend has a map engine hash → our hash, ordered by recency of store.
 * - `blockStored`: our hash of block i = H(prev, tokenIds[i·bs .. (i+1)·bs)), prev starting at
 *   the parent's our hash (parent engine hash looked up in this backend's map; null parent →
 *   the root seed of loraId; unknown parent → the root seed, counted in `unknownParents`).
 *   Each block is upserted (an existing engine hash is re-pointed and becomes most recent);
 *   after each new block, the least recent blocks are evicted while over the cap. Blocks without
 *   a full token chunk, and whole events with another block size, are skipped (`skippedBlocks`).
 *   Returns the number of blocks indexed.
 * - `blocksRemoved`: drops the given engine hashes (unknown ones are ignored); returns how many.
 * - `backendCleared` (AllBlocksCleared, or an unrepaired event gap): drops all of the backend's
 *   blocks, keeps it registered. `removeBackend`: drops it entirely (unknown id: no-op).
 * - Any event registers its backend.
 * - `lookup(hashes)`: backend id → number of leading blocks of `hashes` the backend holds, for
 *   every backend holding at least the first one.
 */
export interface KvPrefixIndex {
  readonly blockSize: number;
  blockStored(backendId: string, ev: StoredBlocks): number;
  blocksRemoved(backendId: string, engineHashes: readonly bigint[]): number;
  backendCleared(backendId: string): void;
  removeBackend(backendId: string): void;
  lookup(hashes: PrefixHashes): Map<string, number>;
  stats(): KvIndexStats;
}

export const DEFAULT_BLOCK_SIZE = 16;
export const DEFAULT_MAX_BLOCKS_PER_BACKEND = 1_000_000;

/** Validated options (shared by the implementations). */
export function compileKvIndexOptions(opts: KvIndexOptions): Required<KvIndexOptions> {
  const blockSize = opts.blockSize ?? DEFAULT_BLOCK_SIZE;
  const cap = opts.maxBlocksPerBackend ?? DEFAULT_MAX_BLOCKS_PER_BACKEND;
  if (!Number.isInteger(blockSize) || blockSize <= 0) {
    throw new SwitchyardError('invalid_argument', `kvindex.blockSize: expected a positive integer, got ${blockSize}`, { param: 'blockSize' });
  }
  if (!(cap === Infinity || (Number.isInteger(cap) && cap >= 1))) {
    throw new SwitchyardError('invalid_argument', `kvindex.maxBlocksPerBackend: expected an integer ≥ 1 or Infinity, got ${cap}`, { param: 'maxBlocksPerBackend' });
  }
  return { blockSize, maxBlocksPerBackend: cap, expectedBlocks: Math.max(0, opts.expectedBlocks ?? 1024), expectedBackends: Math.max(1, opts.expectedBackends ?? 32) };
}
