/**
 * U64Map: an open-addressing hash map from a 64-bit key, given as two uint32 halves (hi, lo), to a
 * non-negative int32 value. One Int32Array, 3 words per slot [hi, lo, value + 1] (0 = empty), so
 * no per-entry objects, no BigInt and no GC pressure. Linear probing, max load 3/4, deletion by
 * backward shift (no tombstones: probe lengths stay short under churn).
 */

/** Home slot of a key. Keys may be small integers (tests) or differ only in hi, so mix both halves. */
export function mixSlot(hi: number, lo: number): number {
  let h = lo ^ Math.imul(hi, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 16), 0x9e3779b1);
  return h ^ (h >>> 15);
}

const MIN_CAPACITY = 8;

export class U64Map {
  private slots: Int32Array;
  private mask: number;
  size = 0;

  constructor(capacity = MIN_CAPACITY) {
    const cap = capacityFor(capacity);
    this.slots = new Int32Array(cap * 3);
    this.mask = cap - 1;
  }

  /** Bytes held by the table (for memory accounting). */
  get byteLength(): number {
    return this.slots.byteLength;
  }

  /** The value for (hi, lo), or -1. */
  get(hi: number, lo: number): number {
    const s = this.slots;
    const khi = hi | 0;
    const klo = lo | 0;
    let i = mixSlot(khi, klo) & this.mask;
    for (;;) {
      const p = i * 3;
      const v = s[p + 2]!;
      if (v === 0) return -1;
      if (s[p] === khi && s[p + 1] === klo) return v - 1;
      i = (i + 1) & this.mask;
    }
  }

  /** Insert or overwrite. `value` must be a non-negative int32. */
  set(hi: number, lo: number, value: number): void {
    if ((this.size + 1) * 4 > (this.mask + 1) * 3) this.rehash((this.mask + 1) * 2);
    const s = this.slots;
    const khi = hi | 0;
    const klo = lo | 0;
    let i = mixSlot(khi, klo) & this.mask;
    for (;;) {
      const p = i * 3;
      if (s[p + 2] === 0) {
        s[p] = khi;
        s[p + 1] = klo;
        s[p + 2] = value + 1;
        this.size++;
        return;
      }
      if (s[p] === khi && s[p + 1] === klo) {
        s[p + 2] = value + 1;
        return;
      }
      i = (i + 1) & this.mask;
    }
  }

  /** The value for (hi, lo) if present; else inserts (hi, lo) → `value` and returns -1. One probe. */
  getOrInsert(hi: number, lo: number, value: number): number {
    if ((this.size + 1) * 4 > (this.mask + 1) * 3) this.rehash((this.mask + 1) * 2);
    const s = this.slots;
    const khi = hi | 0;
    const klo = lo | 0;
    let i = mixSlot(khi, klo) & this.mask;
    for (;;) {
      const p = i * 3;
      const v = s[p + 2]!;
      if (v === 0) {
        s[p] = khi;
        s[p + 1] = klo;
        s[p + 2] = value + 1;
        this.size++;
        return -1;
      }
      if (s[p] === khi && s[p + 1] === klo) return v - 1;
      i = (i + 1) & this.mask;
    }
  }

  /** Remove (hi, lo); returns its value, or -1 when absent. */
  delete(hi: number, lo: number): number {
    const s = this.slots;
    const mask = this.mask;
    const khi = hi | 0;
    const klo = lo | 0;
    let i = mixSlot(khi, klo) & mask;
    for (;;) {
      const p = i * 3;
      const v = s[p + 2]!;
      if (v === 0) return -1;
      if (s[p] === khi && s[p + 1] === klo) break;
      i = (i + 1) & mask;
    }
    const old = s[i * 3 + 2]! - 1;
    // Backward shift: pull later entries of the probe run into the hole when their home allows it.
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      const q = j * 3;
      if (s[q + 2] === 0) break;
      const home = mixSlot(s[q]!, s[q + 1]!) & mask;
      // Entry j may move to hole i iff its home is not cyclically within (i, j].
      const stays = i <= j ? home > i && home <= j : home > i || home <= j;
      if (stays) continue;
      const p = i * 3;
      s[p] = s[q]!;
      s[p + 1] = s[q + 1]!;
      s[p + 2] = s[q + 2]!;
      i = j;
    }
    s[i * 3 + 2] = 0;
    this.size--;
    return old;
  }

  /** Remove everything and shrink back to `capacity`. */
  clear(capacity = MIN_CAPACITY): void {
    const cap = capacityFor(capacity);
    this.slots = new Int32Array(cap * 3);
    this.mask = cap - 1;
    this.size = 0;
  }

  private rehash(cap: number): void {
    const old = this.slots;
    this.slots = new Int32Array(cap * 3);
    this.mask = cap - 1;
    this.size = 0;
    for (let p = 0; p < old.length; p += 3) {
      if (old[p + 2] !== 0) this.set(old[p]!, old[p + 1]!, old[p + 2]! - 1);
    }
  }
}

/** Smallest power of two ≥ max(8, n / 0.75). */
export function capacityFor(n: number): number {
  let cap = MIN_CAPACITY;
  while (cap * 3 < n * 4) cap *= 2;
  return cap;
}
