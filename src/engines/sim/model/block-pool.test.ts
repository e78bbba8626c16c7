import { describe, expect, it } from 'vitest';
import { Rng } from '../../../core/index.js';
import { hashBlock, hashFullBlocks } from './block-hash.js';
import { BlockPool } from './block-pool.js';

describe('hashBlock', () => {
  it('is chained: equal prefixes give equal hashes, a changed token changes every later hash', () => {
    const a = Array.from({ length: 64 }, (_, i) => i);
    const b = a.slice();
    b[20] = 999;
    const ha = hashFullBlocks(a, 16);
    const hb = hashFullBlocks(b, 16);
    expect(ha).toHaveLength(4);
    expect(hb[0]).toBe(ha[0]);
    expect(hb[1]).not.toBe(ha[1]);
    expect(hb[2]).not.toBe(ha[2]);
    expect(hashBlock(ha[0]!, a, 16, 32)).toBe(ha[1]);
  });
  it('produces unsigned 64-bit values with no collisions on 100k random blocks', () => {
    const rng = new Rng(7);
    const seen = new Set<bigint>();
    const toks = new Array<number>(16).fill(0);
    let outOfRange = 0;
    for (let i = 0; i < 100_000; i++) {
      for (let t = 0; t < 16; t++) toks[t] = rng.int(100_000);
      const h = hashBlock(null, toks, 0, 16);
      if (h < 0n || h >= 1n << 64n) outOfRange++;
      seen.add(h);
    }
    expect(outOfRange).toBe(0);
    expect(seen.size).toBe(100_000);
  });
});

describe('BlockPool', () => {
  it('evicts least-recently-freed blocks first and reports BlockRemoved for cached hashes', () => {
    const pool = new BlockPool(4);
    const a: number[] = [];
    pool.allocate(4, a);
    expect(pool.numFree).toBe(0);
    expect(pool.usage()).toBe(1);
    const toks = Array.from({ length: 64 }, (_, i) => i + 1);
    const hashes = hashFullBlocks(toks, 16);
    pool.cacheBlocks(a, hashes, toks, null, 16);
    const stored = pool.drainEvents();
    expect(stored).toEqual([{ type: 'BlockStored', blockHashes: hashes, parentBlockHash: null, tokenIds: toks, blockSize: 16, loraId: null, medium: 'GPU', loraName: null }]);
    // Free tail-first: block a[3] becomes LRU head, then a[2], ...
    pool.free([...a].reverse());
    expect(pool.numFree).toBe(4);
    expect(pool.usage()).toBe(0);
    expect(pool.numCached).toBe(4);
    const b: number[] = [];
    pool.allocate(1, b);
    expect(b).toEqual([a[3]]);
    expect(pool.drainEvents()).toEqual([{ type: 'BlockRemoved', blockHashes: [hashes[3]], medium: 'GPU' }]);
    expect(pool.lookup(hashes[0]!)).toBe(a[0]);
    expect(pool.lookup(hashes[3]!)).toBeUndefined();
  });

  it('touching a free cached block removes it from the free queue; canAllocate accounts for that', () => {
    const pool = new BlockPool(2);
    const a: number[] = [];
    pool.allocate(2, a);
    const toks = Array.from({ length: 32 }, (_, i) => i);
    pool.cacheBlocks(a, hashFullBlocks(toks, 16), toks, null, 16);
    pool.free(a);
    expect(pool.canAllocate(2, [])).toBe(true);
    expect(pool.canAllocate(2, [a[0]!])).toBe(false);
    expect(pool.canAllocate(1, [a[0]!])).toBe(true);
    pool.touch([a[0]!]);
    expect(pool.numFree).toBe(1);
    pool.touch([a[0]!]); // a second reference
    pool.free([a[0]!]);
    expect(pool.numFree).toBe(1);
    pool.free([a[0]!]);
    expect(pool.numFree).toBe(2);
    expect(() => pool.free([a[0]!])).toThrow(/freed twice/);
  });

  it('does not register or report a duplicate copy of an already-cached hash', () => {
    const pool = new BlockPool(4);
    const toks = Array.from({ length: 16 }, (_, i) => i);
    const h = hashFullBlocks(toks, 16);
    const a: number[] = [];
    const b: number[] = [];
    pool.allocate(1, a);
    pool.allocate(1, b);
    pool.cacheBlocks(a, h, toks, null, 16);
    pool.cacheBlocks(b, h, toks, null, 16);
    expect(pool.drainEvents().filter((e) => e.type === 'BlockStored')).toHaveLength(1);
    expect(pool.lookup(h[0]!)).toBe(a[0]);
  });

  it('keeps its invariants under a random workload (free + referenced = total; cached hashes unique)', () => {
    const rng = new Rng(11);
    const pool = new BlockPool(64);
    const owned: number[][] = [];
    let storedMinusRemoved = 0;
    for (let step = 0; step < 5000; step++) {
      const r = rng.next();
      if (r < 0.5) {
        const n = 1 + rng.int(8);
        if (pool.canAllocate(n, [])) {
          const ids: number[] = [];
          pool.allocate(n, ids);
          const toks = Array.from({ length: n * 16 }, () => rng.int(50));
          pool.cacheBlocks(ids, hashFullBlocks(toks, 16), toks, null, 16);
          owned.push(ids);
        }
      } else if (owned.length > 0) {
        const ids = owned.splice(rng.int(owned.length), 1)[0]!;
        pool.free(ids.reverse());
      }
      for (const e of pool.drainEvents()) {
        if (e.type === 'BlockStored') storedMinusRemoved += e.blockHashes.length;
        if (e.type === 'BlockRemoved') storedMinusRemoved -= e.blockHashes.length;
      }
      const referenced = owned.reduce((s, o) => s + o.length, 0);
      expect(pool.numFree + referenced).toBe(64);
      expect(storedMinusRemoved).toBe(pool.numCached);
    }
  });
});
