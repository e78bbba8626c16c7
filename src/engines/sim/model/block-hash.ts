/**
 * Chained 64-bit block hashes over token ids, as vLLM's prefix cache uses them:
 *   h_i = H(h_{i-1}, tokens[i·bs .. (i+1)·bs))
 * so equal hashes mean equal prefixes. The function is our own (two 32-bit murmur-style
 * lanes with a cross-mixing finaliser); vLLM's exact hash (sha256 of a pickled tuple) is not
 * reproduced, and consumers of our KV events must not depend on it — they re-hash
 * `token_ids` with their own function, as llm-d does. The function itself lives in core
 * (`hashBlockInto`), shared with the router's KV index.
 */
import { BLOCK_HASH_ROOT_HI, BLOCK_HASH_ROOT_LO, hashBlockInto } from '../../../core/index.js';


const scratch = new Uint32Array(2);

export function hashBlock(parent: bigint | null, tokens: ArrayLike<number>, start: number, end: number): bigint {
  const hi = parent === null ? BLOCK_HASH_ROOT_HI : Number(parent >> 32n) >>> 0;
  const lo = parent === null ? BLOCK_HASH_ROOT_LO : Number(parent & 0xffffffffn) >>> 0;
  hashBlockInto(hi, lo, tokens, start, end, scratch, 0);
  return (BigInt(scratch[0]!) << 32n) | BigInt(scratch[1]!);
}

/** Hashes of every full block of `tokens` (the last partial block is not hashed). */
export function hashFullBlocks(tokens: ArrayLike<number>, blockSize: number, parent: bigint | null = null): bigint[] {
  const out: bigint[] = [];
  let prev = parent;
  for (let s = 0; s + blockSize <= tokens.length; s += blockSize) {
    prev = hashBlock(prev, tokens, s, s + blockSize);
    out.push(prev);
  }
  return out;
}
