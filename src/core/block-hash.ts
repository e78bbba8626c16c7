/**
 * The chained 64-bit block hash over token ids shared by the simulated engine (its prefix cache
 * and KV events) and the router's KV index: h_i = H(h_{i-1}, tokens[i·bs .. (i+1)·bs)), two
 * 32-bit murmur-style lanes with a cross-mixing finaliser. Our own function: vLLM's hash (sha256
 * of a pickled tuple) is not reproduced, and consumers re-hash token_ids as llm-d does.
 */

/** The root of a chain (no parent, base model). */
export const BLOCK_HASH_ROOT_HI = 0x6a09e667;
export const BLOCK_HASH_ROOT_LO = 0xbb67ae85;

/**
 * H(parent, tokens[start .. end)) → out[o] = hi, out[o + 1] = lo. `parentHi`/`parentLo` are the
 * parent's halves, or a root seed (`rootSeedInto`). Token ids are taken modulo 2^32.
 */
export function hashBlockInto(parentHi: number, parentLo: number, tokens: ArrayLike<number>, start: number, end: number, out: Uint32Array, o: number): void {
  let hi = parentHi | 0;
  let lo = parentLo | 0;
  for (let i = start; i < end; i++) {
    const t = tokens[i]! | 0; // as the engine's `>>> 0`: Math.imul and ^ take int32 either way
    let k = Math.imul(t, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    lo ^= k;
    lo = (lo << 13) | (lo >>> 19);
    lo = (Math.imul(lo, 5) + 0xe6546b64) | 0;
    hi ^= Math.imul(t ^ lo, 0x85ebca6b);
    hi = (hi << 17) | (hi >>> 15);
    hi = (Math.imul(hi, 5) + 0x52dce729) | 0;
  }
  const len = end - start;
  lo ^= len;
  hi ^= len;
  lo = (lo + hi) | 0;
  hi = (hi + lo) | 0;
  lo = fmix32(lo);
  hi = fmix32(hi);
  lo = (lo + hi) | 0;
  hi = (hi + lo) | 0;
  out[o] = hi >>> 0;
  out[o + 1] = lo >>> 0;
}

/** murmur3's 32-bit finaliser. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h;
}
