import { describe, expect, it } from 'vitest';
import { hashBlockInto, kvPrefixHashes, prefixHashHex, prefixLength, rootSeedInto, splitU64Into } from './hash.js';

const toks = Array.from({ length: 40 }, (_, i) => (i * 7919 + 13) % 50000);
const hex = (h: Uint32Array): string[] => Array.from({ length: prefixLength(h) }, (_, i) => prefixHashHex(h, i));

describe('kvPrefixHashes', () => {
  it('matches the simulated engine’s hashBlock chain (pinned vector)', () => {
    // Values of hashFullBlocks(toks, 16) from src/engines/sim/model/block-hash.ts.
    expect(hex(kvPrefixHashes(toks, 16))).toEqual(['f17dc45c7e69047d', '2a578a98866f9beb']);
  });

  it.each<[string, number[], number, Parameters<typeof kvPrefixHashes>[2], number]>([
    ['full blocks only', toks, 16, {}, 2],
    ['exact multiple', toks.slice(0, 32), 16, {}, 2],
    ['shorter than a block', toks.slice(0, 15), 16, {}, 0],
    ['maxBlocks caps', toks, 4, { maxBlocks: 3 }, 3],
    ['empty prompt', [], 16, {}, 0],
  ])('%s', (_name, tokens, bs, opts, blocks) => {
    expect(prefixLength(kvPrefixHashes(tokens, bs, opts))).toBe(blocks);
  });

  it('is a chain: block i depends on every earlier token, prefixes share hashes', () => {
    const a = hex(kvPrefixHashes(toks, 4));
    const b = hex(kvPrefixHashes([...toks.slice(0, 20), 1, ...toks.slice(21)], 4));
    expect(b.slice(0, 5)).toEqual(a.slice(0, 5));
    for (let i = 5; i < a.length; i++) expect(b[i]).not.toBe(a[i]);
    expect(hex(kvPrefixHashes(toks.slice(0, 24), 4))).toEqual(a.slice(0, 6));
  });

  it('chains by hashBlockInto from the root seed; LoRA ids change the root', () => {
    const out = new Uint32Array(4);
    rootSeedInto(null, out, 0);
    hashBlockInto(out[0]!, out[1]!, toks, 0, 4, out, 2);
    expect(Array.from(kvPrefixHashes(toks.slice(0, 4), 4))).toEqual([out[2], out[3]]);
    const roots = new Set([null, 0, 1, 2, 2 ** 32, 2 ** 32 + 1].map((l) => hex(kvPrefixHashes(toks.slice(0, 4), 4, { loraId: l }))[0]));
    expect(roots.size).toBe(6);
  });

  it('rejects a bad block size', () => {
    expect(() => kvPrefixHashes(toks, 0)).toThrow(RangeError);
  });

  it('no collisions among 50k random 4-token blocks, nor between single-token changes', () => {
    const seen = new Map<string, string>();
    const clashes: string[] = [];
    let x = 1;
    const out = new Uint32Array(2);
    const t = [0, 0, 0, 0];
    for (let i = 0; i < 50_000; i++) {
      // Half random blocks, half one-token edits of block [1, 2, 3, 4] (the hash must see every token).
      if (i % 2 === 0) for (let k = 0; k < 4; k++) t[k] = (x = (Math.imul(x, 1103515245) + 12345) >>> 0) % 1000;
      else {
        t.splice(0, 4, 1, 2, 3, 4);
        t[i % 4] = i;
      }
      hashBlockInto(0x6a09e667, 0xbb67ae85, t, 0, 4, out, 0);
      const h = `${out[0]}:${out[1]}`;
      const tk = t.join(',');
      const prev = seen.get(h);
      if (prev !== undefined && prev !== tk) clashes.push(`${prev} vs ${tk}`);
      seen.set(h, tk);
    }
    expect(clashes).toEqual([]);
  });
});

describe('splitU64Into (modulo 2^64)', () => {
  it.each<[bigint, number, number]>([
    [0n, 0, 0],
    [1n, 0, 1],
    [2n ** 32n - 1n, 0, 0xffffffff],
    [2n ** 32n, 1, 0],
    [2n ** 53n - 1n, 0x1fffff, 0xffffffff],
    [2n ** 53n, 0x200000, 0],
    [2n ** 64n - 1n, 0xffffffff, 0xffffffff],
    [0xdeadbeefcafebaben, 0xdeadbeef, 0xcafebabe],
    [-1n, 0xffffffff, 0xffffffff],
    [2n ** 64n + 5n, 0, 5],
  ])('%s', (h, hi, lo) => {
    const out = new Uint32Array(2);
    splitU64Into(h, out, 0);
    expect([out[0], out[1]]).toEqual([hi, lo]);
  });
});
