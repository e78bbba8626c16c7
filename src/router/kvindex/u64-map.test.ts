import { describe, expect, it } from 'vitest';
import { Rng } from '../../core/index.js';
import { U64Map } from './u64-map.js';

describe('U64Map', () => {
  it('get / set / delete / clear', () => {
    const m = new U64Map();
    expect(m.get(0, 0)).toBe(-1);
    m.set(0, 0, 5);
    m.set(0xffffffff, 0xffffffff, 0);
    m.set(1, 0, 7);
    expect([m.get(0, 0), m.get(0xffffffff, 0xffffffff), m.get(1, 0), m.get(0, 1)]).toEqual([5, 0, 7, -1]);
    m.set(0, 0, 6);
    expect(m.size).toBe(3);
    expect(m.delete(0, 0)).toBe(6);
    expect(m.delete(0, 0)).toBe(-1);
    expect(m.get(1, 0)).toBe(7);
    m.clear();
    expect([m.size, m.get(1, 0)]).toEqual([0, -1]);
  });

  it.each([1, 2, 3, 4, 5])('agrees with a Map under random churn (seed %i)', (seed) => {
    const rng = new Rng(seed);
    const m = new U64Map();
    const ref = new Map<string, number>();
    const bad: string[] = [];
    for (let i = 0; i < 20_000 && bad.length === 0; i++) {
      // Small key space, keys differing in hi only or lo only: long probe runs, wraparound, backward shifts.
      const hi = rng.int(2) === 0 ? rng.int(40) : rng.nextU32();
      const lo = rng.int(3) === 0 ? 0 : rng.int(60);
      const k = `${hi}:${lo}`;
      const op = rng.int(10);
      if (op < 5) {
        const v = rng.int(1000);
        m.set(hi, lo, v);
        ref.set(k, v);
      } else if (op < 9) {
        if (m.delete(hi, lo) !== (ref.get(k) ?? -1)) bad.push(`op ${i}: delete ${k}`);
        ref.delete(k);
      } else if (m.get(hi, lo) !== (ref.get(k) ?? -1)) bad.push(`op ${i}: get ${k}`);
      if (i % 2000 === 0) {
        for (const [key, v] of ref) {
          const [h, l] = key.split(':').map(Number);
          if (m.get(h!, l!) !== v) bad.push(`op ${i}: lost ${key}`);
        }
      }
    }
    expect(bad).toEqual([]);
    expect(m.size).toBe(ref.size);
  });
});
