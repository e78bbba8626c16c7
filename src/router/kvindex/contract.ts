/**
 * The KvPrefixIndex contract suite: every implementation's test file calls
 * `describeKvIndexContract` with a factory and must pass all of it. Test-only: not exported from
 * ./index.ts (it imports vitest). Steps and the T(...) token helper: ./steps.ts.
 */
import { describe, expect, it } from 'vitest';
import { kvPrefixHashes } from './hash.js';
import { applyStep, BS, T, type Step } from './steps.js';
import type { KvIndexOptions, KvIndexStats, KvPrefixIndex } from './types.js';

export type MakeKvIndex = (opts?: KvIndexOptions) => KvPrefixIndex;

interface Case {
  name: string;
  opts?: KvIndexOptions;
  steps: Step[];
  /** [prompt tokens, expected lookup, lora?] */
  lookups: [number[], Record<string, number>, number?][];
  stats?: Partial<Pick<KvIndexStats, 'backends' | 'blocks' | 'entries'>> & { perBackend?: Record<string, Partial<KvIndexStats['perBackend'][number]>> };
}

const chain = (backend: string, first: number, labels: number[]): Step => ({ store: backend, hashes: labels.map((_, i) => first + i), parent: null, tokens: T(...labels) });

/** 40 backends; backend i holds the first (i % 5) + 1 blocks of T(1..5); every third then loses block 2. */
function crowd(): Case {
  const steps: Step[] = [];
  const full: Record<string, number> = {};
  const cut: Record<string, number> = {};
  for (let i = 0; i < 40; i++) {
    const depth = (i % 5) + 1;
    steps.push(chain(`b${i}`, 1000 * i, [1, 2, 3, 4, 5].slice(0, depth)));
    full[`b${i}`] = depth;
    cut[`b${i}`] = i % 3 === 0 && depth >= 2 ? 1 : depth;
  }
  const removes: Step[] = [];
  for (let i = 0; i < 40; i += 3) if ((i % 5) + 1 >= 2) removes.push({ remove: `b${i}`, hashes: [1000 * i + 1] });
  return { name: '40 backends share a prefix to different depths, then some lose block 2', steps: [...steps, ...removes], lookups: [[T(1, 2, 3, 4, 5), cut], [T(1), Object.fromEntries(Object.keys(full).map((k) => [k, 1]))]], stats: { backends: 40, blocks: 5 } };
}

const CASES: Case[] = [
  {
    name: 'one chain: full, shorter, longer, divergent, unrelated and empty prompts',
    steps: [chain('b1', 11, [1, 2, 3])],
    lookups: [[T(1, 2, 3), { b1: 3 }], [T(1, 2), { b1: 2 }], [T(1, 2, 3, 4), { b1: 3 }], [T(1, 9, 3), { b1: 1 }], [T(9, 1), {}], [[], {}], [[...T(1, 2), 10, 11], { b1: 2 }]],
    stats: { backends: 1, blocks: 3, entries: 3 },
  },
  {
    name: 'a later event chains from its parent engine hash',
    steps: [chain('b1', 11, [1, 2]), { store: 'b1', hashes: [13], parent: 12, tokens: T(3) }],
    lookups: [[T(1, 2, 3), { b1: 3 }]],
  },
  {
    name: 'chaining is by content: different engine hashes, same prefix, same answer',
    steps: [chain('b1', 11, [1, 2, 3]), { store: 'b2', hashes: [21], parent: null, tokens: T(1) }, { store: 'b2', hashes: [22, 23], parent: 21, tokens: T(2, 3) }],
    lookups: [[T(1, 2, 3), { b1: 3, b2: 3 }]],
    stats: { blocks: 3, entries: 6 },
  },
  {
    name: 'unknown parent: chained from the root seed and counted',
    steps: [{ store: 'b1', hashes: [12, 13], parent: 999, tokens: T(2, 3) }],
    lookups: [[T(1, 2, 3), {}], [T(2, 3), { b1: 2 }]],
    stats: { perBackend: { b1: { unknownParents: 1, blocks: 2 } } },
  },
  {
    name: 'LoRA blocks are apart from base-model blocks with the same tokens',
    steps: [{ store: 'b1', hashes: [11], parent: null, tokens: T(1), lora: 7 }, { store: 'b2', hashes: [11], parent: null, tokens: T(1) }],
    lookups: [[T(1), { b2: 1 }], [T(1), { b1: 1 }, 7], [T(1), {}, 8]],
  },
  {
    name: 'remove cuts the prefix at the removed block; unknown hashes are ignored',
    steps: [chain('b1', 11, [1, 2, 3]), { remove: 'b1', hashes: [12, 55] }],
    lookups: [[T(1, 2, 3), { b1: 1 }], [T(3), {}]],
    stats: { blocks: 2, entries: 2 },
  },
  {
    name: 'AllBlocksCleared drops the backend’s blocks and keeps it registered',
    steps: [chain('b1', 11, [1, 2]), chain('b2', 21, [1]), { clear: 'b1' }],
    lookups: [[T(1, 2), { b2: 1 }]],
    stats: { backends: 2, blocks: 1, entries: 1, perBackend: { b1: { blocks: 0 } } },
  },
  {
    name: 'removeBackend drops only that backend; an unknown id is a no-op',
    steps: [chain('b1', 11, [1, 2]), chain('b2', 21, [1, 2]), { drop: 'b1' }, { drop: 'nope' }],
    lookups: [[T(1, 2), { b2: 2 }]],
    stats: { backends: 1, blocks: 2, entries: 2 },
  },
  {
    name: 'a removed and re-registered backend starts empty',
    steps: [chain('b1', 11, [1, 2]), { drop: 'b1' }, { store: 'b1', hashes: [31], parent: null, tokens: T(5) }],
    lookups: [[T(1, 2), {}], [T(5), { b1: 1 }]],
    stats: { backends: 1, blocks: 1, entries: 1 },
  },
  {
    name: 'backends at different depths; one holding later blocks but not the first',
    steps: [chain('b1', 11, [1, 2, 3, 4]), chain('b2', 21, [1, 2]), chain('b3', 31, [1, 2, 3]), { remove: 'b3', hashes: [31] }],
    lookups: [[T(1, 2, 3, 4), { b1: 4, b2: 2 }], [T(1, 2, 9), { b1: 2, b2: 2 }]],
  },
  crowd(),
  {
    name: 'three holders then one leaves (bitset back to inline)',
    steps: [chain('b1', 11, [1, 2]), chain('b2', 21, [1, 2]), chain('b3', 31, [1]), { remove: 'b1', hashes: [11] }, { drop: 'b3' }],
    lookups: [[T(1, 2), { b2: 2 }]],
    stats: { blocks: 2, entries: 3 },
  },
  {
    name: 'a block held through two engine hashes stays until both are removed',
    steps: [chain('b1', 11, [1]), chain('b1', 41, [1]), { remove: 'b1', hashes: [11] }],
    lookups: [[T(1), { b1: 1 }]],
    stats: { blocks: 1, entries: 1 },
  },
  {
    name: 'the second alias removed: gone',
    steps: [chain('b1', 11, [1]), chain('b1', 41, [1]), { remove: 'b1', hashes: [11, 41] }],
    lookups: [[T(1), {}]],
    stats: { blocks: 0, entries: 0 },
  },
  {
    name: 're-storing an engine hash with a now-known parent re-points it',
    steps: [{ store: 'b1', hashes: [12], parent: 11, tokens: T(2) }, chain('b1', 11, [1]), { store: 'b1', hashes: [12], parent: 11, tokens: T(2) }],
    lookups: [[T(1, 2), { b1: 2 }], [T(2), {}]],
    stats: { blocks: 2, entries: 2, perBackend: { b1: { unknownParents: 1 } } },
  },
  {
    name: 'cap: the least recently stored block is evicted; a re-store refreshes',
    opts: { maxBlocksPerBackend: 3 },
    steps: [chain('b1', 11, [1, 2, 3]), chain('b1', 11, [1]), { store: 'b1', hashes: [14], parent: 13, tokens: T(4) }],
    lookups: [[T(1, 2, 3, 4), { b1: 1 }], [T(1), { b1: 1 }]],
    stats: { entries: 3, perBackend: { b1: { evictions: 1, blocks: 3 } } },
  },
  {
    name: 'cap inside one event: the chain keeps hashing past evicted parents',
    opts: { maxBlocksPerBackend: 2 },
    steps: [chain('b1', 11, [1, 2, 3]), chain('b2', 21, [1])],
    lookups: [[T(1, 2, 3), { b2: 1 }]],
    stats: { blocks: 3, perBackend: { b1: { evictions: 1, blocks: 2 }, b2: { evictions: 0, blocks: 1 } } },
  },
  {
    name: 'a foreign block size and missing token chunks are skipped',
    steps: [{ store: 'b1', hashes: [11, 12], parent: null, tokens: T(1, 2), blockSize: 8 }, { store: 'b1', hashes: [21, 22], parent: null, tokens: [...T(1), 20, 21] }],
    lookups: [[T(1, 2), { b1: 1 }]],
    stats: { entries: 1, perBackend: { b1: { skippedBlocks: 3, blocks: 1 } } },
  },
  {
    name: 'extreme 64-bit engine hashes stay distinct and chain',
    steps: [
      { store: 'b1', hashes: [2n ** 64n - 1n, 0n, 2n ** 53n], parent: null, tokens: T(1, 2, 3) },
      { store: 'b1', hashes: [2n ** 53n + 1n], parent: 2n ** 53n, tokens: T(4) },
      { remove: 'b1', hashes: [2n ** 32n] },
    ],
    lookups: [[T(1, 2, 3, 4), { b1: 4 }]],
    stats: { entries: 4 },
  },
];

/** Register the contract suite for one implementation. */
export function describeKvIndexContract(name: string, make: MakeKvIndex): void {
  describe(`KvPrefixIndex contract: ${name}`, () => {
    it.each(CASES.map((c) => [c.name, c] as const))('%s', (_name, c) => {
      const idx = make({ blockSize: BS, ...c.opts });
      for (const s of c.steps) applyStep(idx, s);
      for (const [tokens, expected, lora] of c.lookups) {
        const got = Object.fromEntries(idx.lookup(kvPrefixHashes(tokens, BS, { loraId: lora ?? null })));
        expect(got, `lookup ${JSON.stringify(tokens)}${lora === undefined ? '' : ` lora ${lora}`}`).toEqual(expected);
      }
      const st = idx.stats();
      const { perBackend, ...totals } = c.stats ?? {};
      expect(st).toMatchObject(totals);
      for (const [id, want] of Object.entries(perBackend ?? {})) expect(st.perBackend.find((b) => b.id === id)).toMatchObject(want);
      expect(st.entries).toBe(st.perBackend.reduce((s, b) => s + b.blocks, 0));
    });

    it('blockStored and blocksRemoved return how many blocks they indexed / dropped', () => {
      const idx = make({ blockSize: BS });
      expect(applyStep(idx, chain('b1', 11, [1, 2, 3]))).toBe(3);
      expect(applyStep(idx, { store: 'b1', hashes: [21, 22], parent: null, tokens: T(1) })).toBe(1);
      expect(applyStep(idx, { store: 'b1', hashes: [31], parent: null, tokens: T(1), blockSize: 2 })).toBe(0);
      expect(applyStep(idx, { remove: 'b1', hashes: [11, 12, 99, 11] })).toBe(2);
      expect(applyStep(idx, { remove: 'fresh', hashes: [11] })).toBe(0);
      expect(idx.stats().backends).toBe(2);
    });

    it('stats: empty index, per-backend rows sorted by id, bytes per entry', () => {
      const idx = make({ blockSize: BS });
      expect(idx.stats()).toMatchObject({ backends: 0, blocks: 0, entries: 0, bytesPerEntry: 0, perBackend: [] });
      for (const id of ['zeta', 'alpha', 'mid']) applyStep(idx, chain(id, 11, [1, 2]));
      const st = idx.stats();
      expect(st.perBackend.map((b) => b.id)).toEqual(['alpha', 'mid', 'zeta']);
      expect(st.estimatedBytes).toBeGreaterThan(0);
      expect(st.bytesPerEntry).toBeCloseTo(st.estimatedBytes / 6, 9);
    });

    it('rejects bad options with invalid_argument', () => {
      expect(() => make({ blockSize: 0 })).toThrow(expect.objectContaining({ code: 'invalid_argument' }));
      expect(() => make({ maxBlocksPerBackend: 0.5 })).toThrow(expect.objectContaining({ code: 'invalid_argument' }));
      expect(make({ maxBlocksPerBackend: Infinity }).blockSize).toBe(16);
    });
  });
}
