/**
 * An approximate prefix tree learned from routing decisions (the SGLang router's per-worker
 * approximate radix tree; llm-d's approximate prefix-cache index): "endpoint e was sent a prompt
 * starting with these blocks at time t". It predicts, without any engine events, which endpoint
 * probably still holds a prompt's leading blocks.
 *
 * A prompt is a chain of block keys where key_i identifies the whole prefix up to block i (a
 * chained hash), so the trie is stored flat: key → holders (endpoint id → last use). A prompt's
 * match for endpoint e is the number of leading keys e holds that were used within `ttlMs`.
 *
 * Bounds: per endpoint at most `maxBlocksPerEndpoint` keys, least recently used evicted first
 * (Map insertion order = last use: a refresh re-inserts); keys older than `ttlMs` count as absent
 * and are evicted from the old end whenever that endpoint is inserted into. Time is the caller's
 * clock (ctx.now), so it runs on a virtual clock.
 *
 * Keys: token blocks → the router's 64-bit chained block hash (kvindex), folded to 53 bits; text →
 * a chained two-lane hash over fixed-size character chunks, folded the same way. 53 bits: with N
 * distinct blocks, P(collision) ≈ N²/2^54 — harmless for a hint that is only ever a preference.
 */
import type { PrefixHashes } from './kvindex/index.js';

export interface ApproxTreeOptions {
  readonly ttlMs: number;
  readonly maxBlocksPerEndpoint: number;
}

const TWO32 = 4294967296;

export class ApproxPrefixTree {
  private readonly holders = new Map<number, Map<string, number>>();
  private readonly byEndpoint = new Map<string, Map<number, number>>();
  private alive = new Int32Array(16);

  constructor(private readonly opts: ApproxTreeOptions) {}

  /**
   * out[i] = leading keys of `keys` held by endpoints[i] and used after `now − ttlMs`.
   * Walks the keys while any endpoint still matches: O(Σ_k endpoints still matching at k).
   */
  match(keys: ArrayLike<number>, endpoints: readonly { readonly id: string }[], now: number, out: number[]): void {
    const n = endpoints.length;
    for (let i = 0; i < n; i++) out[i] = 0;
    if (keys.length === 0 || this.holders.size === 0) return;
    if (this.alive.length < n) this.alive = new Int32Array(Math.max(n, 2 * this.alive.length));
    const alive = this.alive;
    for (let i = 0; i < n; i++) alive[i] = i;
    let live = n;
    const cutoff = now - this.opts.ttlMs;
    for (let k = 0; k < keys.length && live > 0; k++) {
      const h = this.holders.get(keys[k]!);
      if (h === undefined) break;
      let w = 0;
      for (let j = 0; j < live; j++) {
        const i = alive[j]!;
        const t = h.get(endpoints[i]!.id);
        if (t !== undefined && t > cutoff) {
          out[i] = k + 1;
          alive[w++] = i;
        }
      }
      live = w;
    }
  }

  /** Record that `endpointId` was sent a prompt with these keys at `now`; then evict (cap, ttl). */
  insert(endpointId: string, keys: ArrayLike<number>, now: number): void {
    if (keys.length === 0) return;
    let lru = this.byEndpoint.get(endpointId);
    if (lru === undefined) this.byEndpoint.set(endpointId, (lru = new Map<number, number>()));
    for (let k = 0; k < keys.length; k++) {
      const key = keys[k]!;
      lru.delete(key);
      lru.set(key, now);
      let h = this.holders.get(key);
      if (h === undefined) this.holders.set(key, (h = new Map<string, number>()));
      h.set(endpointId, now);
    }
    const cutoff = now - this.opts.ttlMs;
    for (const [key, t] of lru) {
      if (lru.size <= this.opts.maxBlocksPerEndpoint && t > cutoff) break;
      lru.delete(key);
      this.drop(key, endpointId);
    }
  }

  /** Forget everything routed to `endpointId` (it is gone). */
  remove(endpointId: string): void {
    const lru = this.byEndpoint.get(endpointId);
    if (lru === undefined) return;
    for (const key of lru.keys()) this.drop(key, endpointId);
    this.byEndpoint.delete(endpointId);
  }

  /** Keys held for `endpointId` (expired ones included until evicted). */
  size(endpointId: string): number {
    return this.byEndpoint.get(endpointId)?.size ?? 0;
  }

  /** Distinct keys held by any endpoint. */
  get keys(): number {
    return this.holders.size;
  }

  private drop(key: number, endpointId: string): void {
    const h = this.holders.get(key);
    if (h === undefined) return;
    h.delete(endpointId);
    if (h.size === 0) this.holders.delete(key);
  }
}

/** Fold block i of [hi0, lo0, hi1, lo1, ...] to a 53-bit integer key. */
export function tokenBlockKeys(hashes: PrefixHashes, maxBlocks: number): Float64Array {
  const n = Math.min(hashes.length >>> 1, maxBlocks);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = (hashes[2 * i]! & 0x1fffff) * TWO32 + hashes[2 * i + 1]!;
  return out;
}

/**
 * Chained keys of the full `chunkChars`-character chunks of `text` (a trailing partial chunk is
 * not keyed, as engines do not cache a partial block): two 32-bit murmur-style lanes over the
 * UTF-16 code units, each chunk's state seeded by the previous chunk's.
 */
export function textBlockKeys(text: string, chunkChars: number, maxBlocks: number): Float64Array {
  const n = Math.min(Math.floor(text.length / chunkChars), maxBlocks);
  const out = new Float64Array(n);
  let a = 0x9747b28c;
  let b = 0x2545f491;
  for (let i = 0, c = 0; i < n; i++) {
    for (const end = c + chunkChars; c < end; c++) {
      const x = text.charCodeAt(c);
      a = Math.imul(a ^ x, 0xcc9e2d51);
      a = (a << 15) | (a >>> 17);
      b = Math.imul(b ^ a, 0x1b873593) + x;
      b = (b << 13) | (b >>> 19);
    }
    a = fmix32(a ^ chunkChars);
    b = fmix32(b + a);
    out[i] = (b & 0x1fffff) * TWO32 + (a >>> 0);
  }
  return out;
}

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h;
}
