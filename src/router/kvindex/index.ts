/**
 * kvindex: which backends hold a request's prompt prefix in their KV cache. Pure (no I/O, no
 * timers). Ingests vLLM KV events per backend, re-hashing each block's token ids with our own
 * chained hash; answers lookups with the number of leading prompt blocks each backend holds.
 * See README.md.
 */
export { kvPrefixHashes, prefixHashHex, prefixLength } from './hash.js';
export type { PrefixHashes, PrefixHashOptions } from './hash.js';
export { KvBlockIndex } from './kv-index.js';
export { ReferenceKvIndex } from './reference.js';
export { applyKvEvent, applyKvEventBatch } from './ingest.js';
export { DEFAULT_PREFIX_SUMMARY_FPR, DEFAULT_PREFIX_SUMMARY_MAX_BYTES, PREFIX_SUMMARY_HEADER_BYTES, PrefixSummary } from './prefix-summary.js';
export type { PrefixBlockSource, PrefixSummaryOptions } from './prefix-summary.js';
export type { KvIngestOptions, KvIngestResult } from './ingest.js';
export { DEFAULT_BLOCK_SIZE, DEFAULT_MAX_BLOCKS_PER_BACKEND } from './types.js';
export type { KvBackendStats, KvIndexOptions, KvIndexStats, KvPrefixIndex, StoredBlocks } from './types.js';
