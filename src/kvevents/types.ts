/**
 * vLLM KV-cache events, as published by vLLM's ZmqEventPublisher (vllm/distributed/kv_events.py).
 *
 * Wire: ZMQ PUB, three frames per message: [topic, 8-byte big-endian sequence number, msgpack(KVEventBatch)].
 * Hashes are unsigned 64-bit integers and are carried as bigint here.
 *
 * Two encodings exist in the wild (both selectable and both decoded):
 * - 'array': msgspec array_like + tag (older vLLM):
 *     batch = [ts, [event, ...], data_parallel_rank?]
 *     event = ["BlockStored", block_hashes, parent_block_hash, token_ids, block_size, lora_id, medium]
 *             ["BlockRemoved", block_hashes, medium]
 *             ["AllBlocksCleared"]
 * - 'map': msgspec tagged struct with a "type" key (current vLLM):
 *     batch = {ts, events: [...], data_parallel_rank?}
 *     event = {type: "BlockStored", block_hashes, parent_block_hash, token_ids, block_size, lora_id, medium, lora_name}
 */

export interface BlockStored {
  type: 'BlockStored';
  blockHashes: bigint[];
  parentBlockHash: bigint | null;
  /** Token ids of all blocks in blockHashes, concatenated (blockSize per block). */
  tokenIds: number[];
  blockSize: number;
  loraId: number | null;
  medium: string | null;
  loraName?: string | null;
}

export interface BlockRemoved {
  type: 'BlockRemoved';
  blockHashes: bigint[];
  medium: string | null;
}

export interface AllBlocksCleared {
  type: 'AllBlocksCleared';
}

export type KvCacheEvent = BlockStored | BlockRemoved | AllBlocksCleared;

export interface KvEventBatch {
  /** Seconds since the Unix epoch (float), as vLLM's time.time(). */
  ts: number;
  events: KvCacheEvent[];
  dataParallelRank?: number | null;
}

export type KvEventEncoding = 'array' | 'map';

/** vLLM's replay end-of-stream marker: sequence -1 (as signed 8-byte big-endian) with an empty payload. */
export const REPLAY_END_SEQ = -1n;

/** Default medium string vLLM uses for GPU-resident blocks. */
export const MEDIUM_GPU = 'GPU';
