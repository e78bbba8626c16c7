/** KvBlockIndex: the shared contract, plus its slot API and memory accounting. */
import { describe, expect, it } from 'vitest';
import { describeKvIndexContract } from './contract.js';
import { applyStep, BS, T } from './steps.js';
import { kvPrefixHashes } from './hash.js';
import { KvBlockIndex } from './kv-index.js';

describeKvIndexContract('KvBlockIndex', (opts) => new KvBlockIndex(opts));
describeKvIndexContract('KvBlockIndex (tiny presized tables: every growth path)', (opts) => new KvBlockIndex({ expectedBlocks: 0, expectedBackends: 1, ...opts }));

describe('KvBlockIndex', () => {
  it('lookupSlots agrees with lookup; slotOf / backendAt map slots to ids; slots are reused', () => {
    const idx = new KvBlockIndex({ blockSize: BS, expectedBackends: 1 });
    for (let i = 0; i < 100; i++) applyStep(idx, { store: `w${i}`, hashes: [1, 2, 3].slice(0, (i % 3) + 1), parent: null, tokens: T(1, 2, 3).slice(0, ((i % 3) + 1) * BS) });
    const h = kvPrefixHashes(T(1, 2, 3), BS);
    const slots = idx.lookupSlots(h);
    for (const [id, k] of idx.lookup(h)) expect(slots[idx.slotOf(id)]).toBe(k);
    expect(idx.lookup(h).size).toBe(100);
    expect(idx.slotOf('nope')).toBe(-1);
    const s7 = idx.slotOf('w7');
    expect(idx.backendAt(s7)).toBe('w7');
    idx.removeBackend('w7');
    expect(idx.backendAt(s7)).toBeUndefined();
    expect(idx.lookupSlots(h)[s7]).toBe(0);
    applyStep(idx, { store: 'new', hashes: [9], parent: null, tokens: T(1) });
    expect(idx.slotOf('new')).toBe(s7);
    expect(idx.lookup(h).get('new')).toBe(1);
  });

  it('lookupSlots reuses its result array (no allocation per lookup)', () => {
    const idx = new KvBlockIndex({ blockSize: BS });
    applyStep(idx, { store: 'a', hashes: [1], parent: null, tokens: T(1) });
    const h = kvPrefixHashes(T(1), BS);
    expect(idx.lookupSlots(h)).toBe(idx.lookupSlots(kvPrefixHashes(T(2), BS)));
  });

  it('memory is accounted from the typed arrays it holds, and shrinks back when backends clear', () => {
    const idx = new KvBlockIndex({ blockSize: BS });
    const empty = idx.stats().estimatedBytes;
    for (let b = 0; b < 8; b++) {
      for (let i = 0; i < 1000; i++) applyStep(idx, { store: `b${b}`, hashes: [b * 10_000 + i], parent: null, tokens: T(i % 500 + 1) });
    }
    const st = idx.stats();
    expect(st).toMatchObject({ backends: 8, entries: 8000, blocks: 500 });
    expect(st.bytesPerEntry).toBeGreaterThan(30);
    expect(st.bytesPerEntry).toBeLessThan(200);
    for (let b = 0; b < 8; b++) idx.backendCleared(`b${b}`);
    // Engine maps shrink; the block table and entry pool keep their capacity for reuse.
    expect(idx.stats().estimatedBytes).toBeLessThan(st.estimatedBytes);
    expect(idx.stats().estimatedBytes).toBeGreaterThan(empty);
  });
});
