/** BucketRing (the memory backend's counter) against a naive model: a map of bucket → count, summed and walked in full. */
import { describe, expect, it } from 'vitest';
import { BucketRing, bucketOf, bucketStart } from './window.js';

/** The maths of window.ts done the slow, obvious way. */
class Naive {
  readonly counts = new Map<number, number>();
  head: number;
  constructor(readonly B: number, head: number) {
    this.head = head;
  }
  advance(cur: number): void {
    this.head = Math.max(this.head, cur);
    for (const i of this.counts.keys()) if (i < this.head - this.B) this.counts.delete(i);
  }
  add(i: number, delta: number): void {
    this.counts.set(i, Math.max(0, (this.counts.get(i) ?? 0) + delta));
  }
  get sum(): number {
    return [...this.counts.values()].reduce((s, x) => s + x, 0);
  }
  newest(): number | undefined {
    const full = [...this.counts].filter(([, c]) => c > 0).map(([i]) => i);
    return full.length > 0 ? Math.max(...full) : undefined;
  }
  /** Earliest t > now at which the buckets still counted then, plus amount, fit. The use only changes where a bucket starts: try each start. */
  retryAfterMs(amount: number, limit: number, now: number, W: number): number {
    for (let k = bucketOf(now, W, this.B) + 1; ; k++) {
      const t = bucketStart(k, W, this.B);
      const oldest = k - this.B;
      const use = [...this.counts].filter(([i]) => i >= oldest).reduce((s, [, c]) => s + c, 0);
      if (use + amount <= limit) return t - now;
    }
  }
}

describe('BucketRing', () => {
  it('numbers buckets so that any B consecutive ones span exactly W ms, also when W/B is not whole', () => {
    for (const [W, B] of [[1000, 7], [60_000, 240], [1000, 60], [5, 5]] as const) {
      for (const i of [0, 1, 6, 123_457, -3]) expect(bucketStart(i + B, W, B) - bucketStart(i, W, B)).toBe(W);
      for (const t of [0, 1, 141, 142, 143, 999, 1_767_225_600_123]) {
        const i = bucketOf(t, W, B);
        expect(bucketStart(i, W, B)).toBeLessThanOrEqual(t);
        expect(bucketStart(i + 1, W, B)).toBeGreaterThan(t);
      }
    }
  });

  it('agrees with the naive model on sums, newest bucket and retry times over random charges, settlements and idle spells', () => {
    let x = 3;
    const rand = (): number => (x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (const [W, B] of [[1000, 10], [1000, 7], [600, 60], [1000, 1]] as const) {
      let now = 50_000;
      const ring = new BucketRing(B, bucketOf(now, W, B));
      const naive = new Naive(B, bucketOf(now, W, B));
      const limit = 500;
      for (let n = 0; n < 2000; n++) {
        now += rand() < 0.01 ? Math.floor(rand() * 2 * W) : Math.floor(rand() * (W / B) * 0.7);
        const cur = bucketOf(now, W, B);
        ring.advance(cur);
        naive.advance(cur);
        const r = rand();
        if (r < 0.6) { // charge the current bucket (0 tokens now and then)
          const a = rand() < 0.05 ? 0 : 1 + Math.floor(rand() * 40);
          ring.add(cur, a);
          naive.add(cur, a);
        } else { // settle into some held bucket: a refund, or an overcharge (also into a bucket never charged)
          const i = cur - Math.floor(rand() * (B + 1));
          const delta = Math.floor(rand() * 60) - 40;
          if (ring.holds(i)) {
            ring.add(i, delta);
            naive.add(i, delta);
          }
        }
        expect(ring.sum).toBe(naive.sum);
        expect(ring.newest()).toBe(naive.newest());
        const amount = 1 + Math.floor(rand() * limit);
        if (ring.sum + amount > limit) expect(ring.retryAfterMs(amount, limit, now, W), `step ${n}, ${B} buckets`).toBe(naive.retryAfterMs(amount, limit, now, W));
      }
    }
  });
});
