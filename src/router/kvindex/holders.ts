/**
 * HolderTable: our block hash → the multiset of backend slots holding that block, and the prefix
 * walk that answers lookups. The data structure behind KvBlockIndex (see README.md).
 *
 * Layout (no per-block objects, no BigInt):
 * - `slots`: open addressing, linear probing, 4 int32 per slot [hi, lo, a, b] (16 B):
 *     a > 0  inline: holders a − 1 and (b > 0 ? b − 1 : none) — most blocks have 1–2 holders;
 *     a < 0  bitset: holders are the set bits of bitset ~a, b = how many;
 *     a = 0  empty slot.
 *   Reads touch one cache line per probed block.
 * - `bits`: a pool of bitsets, `words` uint32 each (words · 32 ≥ backend slot capacity), used by
 *   blocks with 3 or more holders (shared system prompts); a bitset goes back to inline when the
 *   block drops to 2 holders.
 * - `aliases`: the rare case of one backend holding one block more than once (two engine hashes
 *   with the same tokens and parent, e.g. multimodal inputs or cache salts): extra counts by key.
 *
 * Lookup keeps the set of backends still matching every block so far ("alive"), as a bitset while
 * it is large and as a short list once it has ≤ 8 members; a backend's answer is the step at which
 * it dropped out. Cost per block: one probe plus O(words) (dense) or O(alive) (sparse), and the
 * walk stops at the first block no alive backend holds.
 */
import { capacityFor, mixSlot } from './u64-map.js';

const SPARSE_MAX = 8;

export class HolderTable {
  private slots: Int32Array;
  private mask: number;
  /** Distinct blocks held by at least one backend. */
  size = 0;
  private words: number;
  private bits: Uint32Array;
  private bigTop = 0;
  private readonly bigFree: number[] = [];
  private readonly aliases = new Map<string, number>();
  private alive: Uint32Array;
  private readonly sparse = new Int32Array(SPARSE_MAX);

  constructor(initialBlocks: number, backendCapacity: number) {
    const cap = capacityFor(initialBlocks);
    this.slots = new Int32Array(cap * 4);
    this.mask = cap - 1;
    this.words = Math.max(1, Math.ceil(backendCapacity / 32));
    this.bits = new Uint32Array(this.words * 16);
    this.alive = new Uint32Array(this.words);
  }

  /** Backend slots this table can hold (a multiple of 32). */
  get backendCapacity(): number {
    return this.words * 32;
  }

  /** Bytes held (table, bitset pool, scratch) plus a rough 100 B per alias map entry. */
  get byteLength(): number {
    return this.slots.byteLength + this.bits.byteLength + this.alive.byteLength + this.sparse.byteLength + this.aliases.size * 100;
  }

  /** Bitsets in use (blocks with ≥ 3 holders). */
  get bitsetsInUse(): number {
    return this.bigTop - this.bigFree.length;
  }

  /** Make room for backend slots [0, n). Re-lays the bitset pool when the word count grows. */
  ensureBackendCapacity(n: number): void {
    if (n <= this.words * 32) return;
    let w = this.words;
    while (w * 32 < n) w *= 2;
    const next = new Uint32Array((this.bits.length / this.words) * w);
    for (let big = 0; big < this.bigTop; big++) next.set(this.bits.subarray(big * this.words, (big + 1) * this.words), big * w);
    this.bits = next;
    this.words = w;
    this.alive = new Uint32Array(w);
  }

  /** Calls cb(hi, lo) (uint32 halves) for every block held by at least one backend. Do not modify the table meanwhile. */
  forEach(cb: (hi: number, lo: number) => void): void {
    const s = this.slots;
    for (let p = 0; p < s.length; p += 4) if (s[p + 2] !== 0) cb(s[p]! >>> 0, s[p + 1]! >>> 0);
  }

  /** Slot index of block (hi, lo), or -1. */
  find(hi: number, lo: number): number {
    const s = this.slots;
    const khi = hi | 0;
    const klo = lo | 0;
    let i = mixSlot(khi, klo) & this.mask;
    for (;;) {
      const p = i << 2;
      if (s[p + 2] === 0) return -1;
      if (s[p] === khi && s[p + 1] === klo) return i;
      i = (i + 1) & this.mask;
    }
  }

  /** Add one reference from backend slot `b` to block (hi, lo). */
  add(hi: number, lo: number, b: number): void {
    if ((this.size + 1) * 4 > (this.mask + 1) * 3) this.rehash((this.mask + 1) * 2);
    const s = this.slots;
    const khi = hi | 0;
    const klo = lo | 0;
    let i = mixSlot(khi, klo) & this.mask;
    for (;;) {
      const p = i << 2;
      const a = s[p + 2]!;
      if (a === 0) {
        s[p] = khi;
        s[p + 1] = klo;
        s[p + 2] = b + 1;
        s[p + 3] = 0;
        this.size++;
        return;
      }
      if (s[p] === khi && s[p + 1] === klo) {
        if (a > 0) {
          const c = s[p + 3]!;
          if (a - 1 === b || c - 1 === b) this.addAlias(khi, klo, b);
          else if (c === 0) s[p + 3] = b + 1;
          else {
            const big = this.allocBitset();
            const base = big * this.words;
            for (const x of [a - 1, c - 1, b]) this.bits[base + (x >>> 5)]! |= 1 << (x & 31);
            s[p + 2] = ~big;
            s[p + 3] = 3;
          }
        } else {
          const w = ~a * this.words + (b >>> 5);
          const m = 1 << (b & 31);
          if ((this.bits[w]! & m) !== 0) this.addAlias(khi, klo, b);
          else {
            this.bits[w]! |= m;
            s[p + 3]!++;
          }
        }
        return;
      }
      i = (i + 1) & this.mask;
    }
  }

  /** Drop one reference from backend slot `b` to block (hi, lo). False if `b` does not hold it. */
  remove(hi: number, lo: number, b: number): boolean {
    const i = this.find(hi, lo);
    if (i < 0) return false;
    const s = this.slots;
    const p = i << 2;
    const a = s[p + 2]!;
    if (this.aliases.size > 0 && this.dropAlias(s[p]!, s[p + 1]!, b)) return true;
    if (a > 0) {
      const c = s[p + 3]!;
      if (a - 1 === b) {
        if (c > 0) {
          s[p + 2] = c;
          s[p + 3] = 0;
        } else this.deleteSlot(i);
      } else if (c - 1 === b) s[p + 3] = 0;
      else return false;
      return true;
    }
    const big = ~a;
    const base = big * this.words;
    const m = 1 << (b & 31);
    if ((this.bits[base + (b >>> 5)]! & m) === 0) return false;
    this.bits[base + (b >>> 5)]! &= ~m;
    const left = s[p + 3]! - 1;
    if (left > 2) {
      s[p + 3] = left;
      return true;
    }
    // Back to inline: find the two remaining holders and free the bitset.
    let x = -1;
    let y = -1;
    for (let w = 0; w < this.words; w++) {
      let d = this.bits[base + w]!;
      while (d !== 0) {
        const t = d & -d;
        const k = (w << 5) + 31 - Math.clz32(t);
        if (x < 0) x = k;
        else y = k;
        d ^= t;
      }
      this.bits[base + w] = 0;
    }
    this.bigFree.push(big);
    s[p + 2] = x + 1;
    s[p + 3] = y + 1;
    return true;
  }

  /**
   * The prefix walk. For every backend slot holding block 0, sets out[slot] to the number of
   * leading blocks of `hashes` it holds. `out` must be zero and cover backendCapacity.
   */
  matchPrefix(hashes: Uint32Array, out: Int32Array): void {
    const n = hashes.length >>> 1;
    if (n === 0) return;
    const s = this.slots;
    const bits = this.bits;
    const words = this.words;
    const alive = this.alive;
    const sparse = this.sparse;
    let j = this.find(hashes[0]!, hashes[1]!);
    if (j < 0) return;
    let a = s[(j << 2) + 2]!;
    let nAlive: number;
    let dense = false;
    if (a > 0) {
      sparse[0] = a - 1;
      const c = s[(j << 2) + 3]!;
      if (c > 0) sparse[1] = c - 1;
      nAlive = c > 0 ? 2 : 1;
    } else {
      nAlive = s[(j << 2) + 3]!;
      const base = ~a * words;
      for (let w = 0; w < words; w++) alive[w] = bits[base + w]!;
      dense = nAlive > SPARSE_MAX;
      if (!dense) this.toSparse();
    }
    let k = 1;
    for (; k < n && nAlive > 0; k++) {
      j = this.find(hashes[2 * k]!, hashes[2 * k + 1]!);
      if (j < 0) break;
      const p = j << 2;
      a = s[p + 2]!;
      if (!dense) {
        // Keep the alive backends that hold block k; the others matched k blocks.
        let m = 0;
        const c = s[p + 3]!;
        const base = ~a * words;
        for (let t = 0; t < nAlive; t++) {
          const x = sparse[t]!;
          const holds = a > 0 ? a - 1 === x || c - 1 === x : (bits[base + (x >>> 5)]! & (1 << (x & 31))) !== 0;
          if (holds) sparse[m++] = x;
          else out[x] = k;
        }
        nAlive = m;
      } else if (a > 0) {
        // At most two survivors: the inline holders that are alive.
        const c = s[p + 3]!;
        let m = 0;
        if ((alive[(a - 1) >>> 5]! & (1 << ((a - 1) & 31))) !== 0) sparse[m++] = a - 1;
        if (c > 0 && (alive[(c - 1) >>> 5]! & (1 << ((c - 1) & 31))) !== 0) sparse[m++] = c - 1;
        flushBits(alive, words, out, k);
        nAlive = m;
        dense = false;
      } else {
        const base = ~a * words;
        for (let w = 0; w < words; w++) {
          const av = alive[w]!;
          if (av === 0) continue;
          const nv = av & bits[base + w]!;
          let d = av ^ nv;
          if (d === 0) continue;
          alive[w] = nv;
          while (d !== 0) {
            const t = d & -d;
            out[(w << 5) + 31 - Math.clz32(t)] = k;
            d ^= t;
            nAlive--;
          }
        }
        if (nAlive <= SPARSE_MAX) {
          this.toSparse();
          dense = false;
        }
      }
    }
    if (nAlive === 0) return;
    if (dense) flushBits(alive, words, out, k);
    else for (let t = 0; t < nAlive; t++) out[sparse[t]!] = k;
  }

  /** Move the alive bitset (≤ SPARSE_MAX members) to the sparse list. */
  private toSparse(): void {
    let m = 0;
    for (let w = 0; w < this.words; w++) {
      let d = this.alive[w]!;
      while (d !== 0) {
        const t = d & -d;
        this.sparse[m++] = (w << 5) + 31 - Math.clz32(t);
        d ^= t;
      }
      this.alive[w] = 0;
    }
  }

  private allocBitset(): number {
    const free = this.bigFree.pop();
    if (free !== undefined) return free;
    if ((this.bigTop + 1) * this.words > this.bits.length) {
      const next = new Uint32Array(this.bits.length * 2);
      next.set(this.bits);
      this.bits = next;
    }
    return this.bigTop++;
  }

  private addAlias(hi: number, lo: number, b: number): void {
    const key = `${b}:${hi}:${lo}`;
    this.aliases.set(key, (this.aliases.get(key) ?? 0) + 1);
  }

  private dropAlias(hi: number, lo: number, b: number): boolean {
    const key = `${b}:${hi}:${lo}`;
    const c = this.aliases.get(key);
    if (c === undefined) return false;
    if (c === 1) this.aliases.delete(key);
    else this.aliases.set(key, c - 1);
    return true;
  }

  private deleteSlot(i: number): void {
    const s = this.slots;
    const mask = this.mask;
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      const q = j << 2;
      if (s[q + 2] === 0) break;
      const home = mixSlot(s[q]!, s[q + 1]!) & mask;
      const stays = i <= j ? home > i && home <= j : home > i || home <= j;
      if (stays) continue;
      s.copyWithin(i << 2, q, q + 4);
      i = j;
    }
    s[(i << 2) + 2] = 0;
    this.size--;
  }

  private rehash(cap: number): void {
    const old = this.slots;
    const s = new Int32Array(cap * 4);
    const mask = cap - 1;
    for (let p = 0; p < old.length; p += 4) {
      if (old[p + 2] === 0) continue;
      let i = mixSlot(old[p]!, old[p + 1]!) & mask;
      while (s[(i << 2) + 2] !== 0) i = (i + 1) & mask;
      const q = i << 2;
      s[q] = old[p]!;
      s[q + 1] = old[p + 1]!;
      s[q + 2] = old[p + 2]!;
      s[q + 3] = old[p + 3]!;
    }
    this.slots = s;
    this.mask = mask;
  }
}

/** out[slot] = k for every set bit of `alive`, and clear it. */
function flushBits(alive: Uint32Array, words: number, out: Int32Array, k: number): void {
  for (let w = 0; w < words; w++) {
    let d = alive[w]!;
    while (d !== 0) {
      const t = d & -d;
      out[(w << 5) + 31 - Math.clz32(t)] = k;
      d ^= t;
    }
    alive[w] = 0;
  }
}
