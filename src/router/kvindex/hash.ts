/**
 * The router's own chained block hash (the llm-d approach): engines' block hashes are opaque and
 * differ between engines and versions (vLLM: sha256 of a pickled tuple, or a builtin hash), so the
 * index re-hashes each block's token_ids with one function the router controls and that the
 * request side can compute from the prompt's token ids:
 *
 *   h_0 = H(root(loraId), tokens[0 .. bs)),   h_i = H(h_{i-1}, tokens[i·bs .. (i+1)·bs))
 *
 * Equal hashes mean equal prefixes (up to collisions). The algorithm matches the simulated
 * engine's `hashBlock` (two 32-bit murmur-style lanes, cross-mixed finaliser), so for the sim our
 * hash of a block equals the engine's; nothing depends on that.
 *
 * A hash is two uint32 halves (hi, lo), kept unboxed: a prompt's hashes are one `Uint32Array`
 * [hi0, lo0, hi1, lo1, ...] (`PrefixHashes`), and no BigInt is created on the lookup path.
 *
 * Collisions. The 64-bit state is updated by a bijection per token, so distinct prefixes collide
 * like random 64-bit values: with N distinct blocks indexed, P(any collision) ≈ N²/2^65
 * (2M blocks: ~1e-7; 100M: ~3e-4). A 53-bit safe integer would be cheaper to key but give
 * ≈ N²/2^54 (2M: ~2e-4, 100M: ~0.3) — too high, hence two halves. The hash is not
 * cryptographic: a client can craft prompts that collide with another prefix. The index is a
 * routing hint (a collision only routes a request to a worst-case cold backend), never an
 * access-control or correctness boundary, so that is acceptable.
 */

/** Our hashes of a prompt's leading full blocks: [hi0, lo0, hi1, lo1, ...] (2 entries per block). */
export type PrefixHashes = Uint32Array;

import { BLOCK_HASH_ROOT_HI as ROOT_HI, BLOCK_HASH_ROOT_LO as ROOT_LO, fmix32, hashBlockInto } from '../../core/index.js';

export { hashBlockInto };

/**
 * The chain's root for a LoRA adapter (null: the base model). vLLM keys LoRA blocks apart from
 * base-model blocks with the same tokens; mixing lora_id into the root does the same here.
 * Writes [hi, lo] to out[o], out[o + 1].
 */
export function rootSeedInto(loraId: number | null, out: Uint32Array, o: number): void {
  if (loraId === null) {
    out[o] = ROOT_HI;
    out[o + 1] = ROOT_LO;
    return;
  }
  const x = Math.trunc(loraId);
  // Split a safe integer into 32-bit halves (lora ids are small, but do not alias 2^32 + k with k).
  const lo = fmix32((x | 0) ^ ROOT_LO);
  const hi = fmix32((Math.floor(x / 4294967296) | 0) ^ ROOT_HI ^ lo);
  out[o] = hi >>> 0;
  out[o + 1] = (lo + 0x3c6ef372) >>> 0;
}


export interface PrefixHashOptions {
  /** The request's LoRA adapter id as the engine reports it in BlockStored.lora_id. Default null. */
  loraId?: number | null;
  /** Hash at most this many leading blocks (long prompts: the tail rarely decides routing). */
  maxBlocks?: number;
}

/**
 * Our hashes of every full block of a request's prompt (a trailing partial block is not hashed,
 * as engines do not cache it). Pass them to `lookup`.
 */
export function kvPrefixHashes(tokenIds: ArrayLike<number>, blockSize: number, opts: PrefixHashOptions = {}): PrefixHashes {
  if (!Number.isInteger(blockSize) || blockSize <= 0) throw new RangeError(`blockSize must be a positive integer, got ${blockSize}`);
  const n = Math.min(Math.floor(tokenIds.length / blockSize), opts.maxBlocks ?? Infinity);
  const out = new Uint32Array(2 * Math.max(0, n));
  const seed = new Uint32Array(2);
  rootSeedInto(opts.loraId ?? null, seed, 0);
  let hi = seed[0]!;
  let lo = seed[1]!;
  for (let i = 0; i < n; i++) {
    hashBlockInto(hi, lo, tokenIds, i * blockSize, (i + 1) * blockSize, out, 2 * i);
    hi = out[2 * i]!;
    lo = out[2 * i + 1]!;
  }
  return out;
}

/** Number of blocks in a PrefixHashes array. */
export function prefixLength(hashes: PrefixHashes): number {
  return hashes.length >>> 1;
}

/** Block i's hash as 16 hex digits (logs, debug output, test messages). */
export function prefixHashHex(hashes: PrefixHashes, i: number): string {
  return hashes[2 * i]!.toString(16).padStart(8, '0') + hashes[2 * i + 1]!.toString(16).padStart(8, '0');
}

// A BigUint64Array store wraps modulo 2^64 and reads back as two uint32 words without allocating
// (BigInt shifts and masks allocate: ~10x slower). Word order follows the platform's endianness.
const u64 = new BigUint64Array(1);
const words = new Uint32Array(u64.buffer);
const HI = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0;
const LO = 1 - HI;

/** Split a uint64 (bigint, as decoded from KV events; taken modulo 2^64) into halves: out[o] = hi, out[o + 1] = lo. */
export function splitU64Into(h: bigint, out: Uint32Array, o: number): void {
  u64[0] = h;
  out[o] = words[HI]!;
  out[o + 1] = words[LO]!;
}
