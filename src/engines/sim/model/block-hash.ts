/**
 * Chained 64-bit block hashes over token ids, as vLLM's prefix cache uses them:
 *   h_i = H(h_{i-1}, tokens[i·bs .. (i+1)·bs))
 * so equal hashes mean equal prefixes. The function is our own (two 32-bit murmur-style
 * lanes with a cross-mixing finaliser); vLLM's exact hash (sha256 of a pickled tuple) is not
 * reproduced, and consumers of our KV events must not depend on it — they re-hash
 * `token_ids` with their own function, as llm-d does.
 */

export function hashBlock(parent: bigint | null, tokens: ArrayLike<number>, start: number, end: number): bigint {
  let hi: number;
  let lo: number;
  if (parent === null) {
    hi = 0x6a09e667;
    lo = 0xbb67ae85;
  } else {
    hi = Number(parent >> 32n) >>> 0;
    lo = Number(parent & 0xffffffffn) >>> 0;
  }
  for (let i = start; i < end; i++) {
    const t = tokens[i]! >>> 0;
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
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h;
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
